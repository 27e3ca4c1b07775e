import { createHash } from 'node:crypto';
import PgBoss from 'pg-boss';
import { silentLogger } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import { JobsError } from './errors.ts';
import { checkMaxAttempts, checkSingletonKey, describeError, jsonCopy } from './input.ts';
import { Runner } from './runner.ts';
import type { Backend, Claim } from './runner.ts';
import type { EnqueueOptions, Enqueued, IdleOptions, JobCounts, JobHandler, JobInfo, JobQueue, JobStatus, StopOptions, WorkOptions } from './types.ts';

export interface PgBossQueueOptions {
  /** postgres://user@host:port/database — the service's PostgreSQL. */
  readonly url: string;
  /** Schema pg-boss creates and owns (default `pgboss`). */
  readonly schema?: string;
  /** pg-boss expireIn: a handler's lease. It is not renewed: a longer run is aborted and retried (default 900 s). */
  readonly leaseSeconds?: number;
  /** pg-boss retryDelay with retryBackoff: retry n waits d·2^(n−1) to d·2^n seconds (default 1). */
  readonly retryDelaySeconds?: number;
  /** How often expired leases are failed over to a retry (pg-boss maintenance; default 30 s). */
  readonly maintenanceIntervalSeconds?: number;
  /** Idle poll per kind; pg-boss's floor is 0.5 s, which is also our default for latency. */
  readonly pollingIntervalSeconds?: number;
  /** Connections in this process's pool (default 10). */
  readonly maxConnections?: number;
  /** When set, enqueue and work reject other kinds with JOBS_UNKNOWN_KIND. */
  readonly kinds?: readonly string[];
  readonly logger?: Logger;
}

interface BossClaim extends Claim {
  /** pg-boss raises retry_count on every fetch after the first: with started_on it fences this lease. */
  readonly retryCount: number;
  readonly startedOn: Date;
  /** When the lease runs out locally (measured from before the fetch, so never late). */
  readonly expiresAt: number;
}

interface Wrapped {
  readonly payload: unknown;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,49}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * JobQueue on pg-boss 10 (PostgreSQL): any number of processes on any number of machines share
 * the work. Leasing (fetch … FOR UPDATE SKIP LOCKED), retry with backoff, expiry of dead workers'
 * leases and singleton ids are pg-boss's; we add a fence so a worker whose lease ran out cannot
 * complete or fail the job that a newer lease now runs.
 */
export function createPgBossQueue(options: PgBossQueueOptions): JobQueue {
  const schema = options.schema ?? 'pgboss';
  if (!SCHEMA.test(schema)) {
    throw new JobsError('JOBS_BAD_INPUT', `bad pg-boss schema name "${schema}"`, { hint: 'use lowercase letters, digits and "_" (at most 50)' });
  }
  const leaseSeconds = wholeSeconds(options.leaseSeconds ?? 900, 'leaseSeconds', 1, 86_399);
  const retryDelay = wholeSeconds(options.retryDelaySeconds ?? 1, 'retryDelaySeconds', 1, 86_400);
  const pollingSeconds = options.pollingIntervalSeconds ?? 0.5;
  if (!(pollingSeconds >= 0.5)) {
    throw new JobsError('JOBS_BAD_INPUT', `pollingIntervalSeconds must be at least 0.5, got ${pollingSeconds}`, {
      hint: 'pg-boss refuses faster polling; an enqueue in the same process wakes its workers at once anyway',
    });
  }
  const logger = options.logger ?? silentLogger;
  const where = describeServer(options.url);
  const boss = new PgBoss({
    connectionString: options.url,
    schema,
    application_name: 'trainguard-jobs',
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5000,
    supervise: true,
    maintenanceIntervalSeconds: wholeSeconds(options.maintenanceIntervalSeconds ?? 30, 'maintenanceIntervalSeconds', 1, 3600),
    schedule: false,
  } as PgBoss.ConstructorOptions);
  // pg-boss reports background failures (maintenance, a lost connection) as events; unhandled, they would crash the process.
  boss.on('error', (err) => logger.warn('jobs: pg-boss error', { error: describeError(err) }));
  const sql = statements(schema);
  const queues = new Map<string, Promise<void>>();

  async function query(text: string, values: unknown[]): Promise<Array<Record<string, unknown>>> {
    const result = await boss.getDb().executeSql(text, values);
    return result.rows as Array<Record<string, unknown>>;
  }

  /** Creates the kind's pg-boss queue once per process; concurrent creators share one attempt. */
  function ensureQueue(kind: string): Promise<void> {
    let created = queues.get(kind);
    if (created === undefined) {
      created = createQueue(kind);
      queues.set(kind, created);
      created.catch(() => queues.delete(kind));
    }
    return created;
  }

  async function createQueue(kind: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await boss.createQueue(kind, { name: kind, policy: 'standard', retryBackoff: true, retryDelay, expireInSeconds: leaseSeconds });
        return;
      } catch (err) {
        // Two processes creating the same queue (a partition) at once can deadlock in PostgreSQL;
        // the loser retries and then finds the queue there.
        if ((err as { code?: unknown }).code !== '40P01' || attempt === 3) throw err;
      }
    }
  }

  const backend: Backend<BossClaim> = {
    async claim(kind, limit) {
      const claimedAt = Date.now();
      const jobs = await boss.fetch<Wrapped>(kind, { batchSize: limit, includeMetadata: true });
      return jobs.map((job) => ({
        id: job.id, kind, payload: job.data.payload, attempt: job.retryCount + 1, retryCount: job.retryCount, startedOn: job.startedOn,
        expiresAt: claimedAt + job.expireInSeconds * 1000,
      }));
    },
    hold(claim, lost) {
      // pg-boss has no heartbeat: the lease is expireIn from the fetch. Abort the handler when it ends.
      const timer = setTimeout(() => lost(`the ${leaseSeconds} s lease ran out`), Math.max(0, claim.expiresAt - Date.now()));
      return () => clearTimeout(timer);
    },
    async complete(claim, result) {
      if (Date.now() >= claim.expiresAt) return false;
      const rows = await query(sql.complete, [claim.kind, claim.id, claim.retryCount, claim.startedOn, JSON.stringify(result)]);
      return rows.length === 1;
    },
    async fail(claim, error) {
      if (Date.now() >= claim.expiresAt) return false;
      const rows = await query(sql.fail, [claim.kind, claim.id, claim.retryCount, claim.startedOn, error]);
      return rows.length === 1;
    },
    async counts() {
      const counts: JobCounts = { queued: 0, active: 0, done: 0, failed: 0 };
      for (const row of await query(sql.counts, [])) counts[statusOf(String(row.state))] += Number(row.n);
      return counts;
    },
  };
  const runner = new Runner(backend, { pollMs: pollingSeconds * 1000, logger, kinds: options.kinds });

  async function unavailableOnError<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof JobsError) throw err;
      throw new JobsError('JOBS_UNAVAILABLE', `PostgreSQL at ${where} failed for the job queue: ${describeError(err)}`, {
        hint: 'check that PostgreSQL is running and the URL, user and database are right', cause: err,
      });
    }
  }

  return {
    async enqueue(kind: string, payload: unknown, opts: EnqueueOptions = {}): Promise<Enqueued> {
      runner.assertStarted();
      const name = runner.checkKind(kind);
      const data: Wrapped = { payload: jsonCopy(payload, 'the job payload') };
      const maxAttempts = checkMaxAttempts(opts.maxAttempts);
      const key = checkSingletonKey(opts.singletonKey);
      const enqueued = await unavailableOnError(async () => {
        await ensureQueue(name);
        const send = { retryLimit: maxAttempts - 1, retryBackoff: true, retryDelay, expireInSeconds: leaseSeconds };
        if (key === undefined) {
          const id = await boss.send(name, data, send);
          if (id === null) throw new Error(`pg-boss refused a job for queue "${name}"`);
          return { id, created: true };
        }
        // A singleton job's id is derived from its key, so the primary key dedups across every
        // process; an archived job with that id still counts (pg-boss's own singletonKey only
        // dedups while a job is queued or active).
        const id = singletonId(name, key);
        if ((await query(sql.archived, [name, id])).length > 0) return { id, created: false };
        return { id, created: (await boss.send(name, data, { ...send, id })) !== null };
      });
      runner.wake(name);
      return enqueued;
    },
    work(kind: string, handler: JobHandler, opts: WorkOptions): void {
      runner.register(kind, handler, opts.concurrency);
    },
    async start(): Promise<void> {
      if (runner.started) return;
      runner.assertNotFinished();
      await unavailableOnError(() => boss.start());
      runner.start();
    },
    async stop(opts: StopOptions = {}): Promise<void> {
      const wasStarted = runner.started;
      await runner.stop(opts.graceful ?? true);
      // Nothing of ours is in pg-boss's own work-in-progress, so its stop only closes the pool.
      if (wasStarted) await boss.stop({ graceful: false, close: true });
    },
    async get(id: string): Promise<JobInfo | undefined> {
      runner.assertStarted();
      if (!UUID.test(id)) return undefined;
      const rows = await unavailableOnError(() => query(sql.get, [id]));
      return rows[0] === undefined ? undefined : toInfo(rows[0]);
    },
    async counts(): Promise<JobCounts> {
      runner.assertStarted();
      return unavailableOnError(() => backend.counts());
    },
    idle(opts: IdleOptions = {}): Promise<void> {
      return runner.idle(opts.timeoutMs ?? 30_000);
    },
  };
}

/** SQL on pg-boss 10's job table (pinned 10.4.x): the fenced settle statements and the readers. */
function statements(schema: string): Record<'complete' | 'fail' | 'get' | 'counts' | 'archived', string> {
  const fence = `name = $1 AND id = $2 AND state = 'active' AND retry_count = $3 AND date_trunc('milliseconds', started_on) = $4`;
  const lastError = `COALESCE(output->'error', output->'value'->'message')`;
  const columns = 'id, name, data, state, retry_count, retry_limit, started_on, output, created_on';
  return {
    complete: `
      UPDATE ${schema}.job SET state = 'completed', completed_on = now(),
        output = jsonb_build_object('result', $5::jsonb, 'error', ${lastError})
      WHERE ${fence} RETURNING id`,
    // pg-boss's own retry rule (failJobs in its plans.js), applied only under our fence.
    fail: `
      UPDATE ${schema}.job SET
        state = (CASE WHEN retry_count < retry_limit THEN 'retry' ELSE 'failed' END)::${schema}.job_state,
        completed_on = CASE WHEN retry_count < retry_limit THEN NULL ELSE now() END,
        start_after = CASE
          WHEN retry_count >= retry_limit THEN start_after
          WHEN NOT retry_backoff THEN now() + retry_delay * interval '1 second'
          ELSE now() + retry_delay * 2 ^ LEAST(16, retry_count + 1) / 2 * (1 + random()) * interval '1 second'
        END,
        output = jsonb_build_object('error', $5::text)
      WHERE ${fence} RETURNING id`,
    get: `
      SELECT ${columns} FROM ${schema}.job WHERE id = $1
      UNION ALL SELECT ${columns} FROM ${schema}.archive WHERE id = $1
      LIMIT 1`,
    counts: `
      SELECT state::text AS state, count(*) AS n FROM (
        SELECT state FROM ${schema}.job UNION ALL SELECT state FROM ${schema}.archive
      ) AS jobs GROUP BY state`,
    archived: `SELECT 1 FROM ${schema}.archive WHERE name = $1 AND id = $2`,
  };
}

function statusOf(state: string): JobStatus {
  switch (state) {
    case 'created':
    case 'retry':
      return 'queued';
    case 'active':
      return 'active';
    case 'completed':
      return 'done';
    default:
      return 'failed';
  }
}

function toInfo(row: Record<string, unknown>): JobInfo {
  const status = statusOf(String(row.state));
  const output = (row.output ?? {}) as { result?: unknown; error?: unknown; value?: { message?: unknown } };
  const lastError = output.error ?? output.value?.message ?? null;
  return {
    id: String(row.id),
    kind: String(row.name),
    payload: (row.data as Wrapped | null)?.payload ?? null,
    status,
    attempts: row.started_on === null ? 0 : Number(row.retry_count) + 1,
    maxAttempts: Number(row.retry_limit) + 1,
    result: status === 'done' ? output.result ?? null : null,
    lastError: typeof lastError === 'string' ? lastError : null,
    createdAt: row.created_on as Date,
  };
}

/** A UUID (version 8: custom) from SHA-256 of kind and key, so every process derives the same id. */
function singletonId(kind: string, key: string): string {
  const bytes = createHash('sha256').update(`trainguard-job\0${kind}\0${key}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** host:port for messages — never the user's password. */
function describeServer(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port === '' ? '5432' : parsed.port}`;
  } catch {
    throw new JobsError('JOBS_BAD_INPUT', 'the PostgreSQL URL for the job queue is not a valid URL', {
      hint: 'use postgres://user@host:5432/database',
    });
  }
}

function wholeSeconds(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new JobsError('JOBS_BAD_INPUT', `${name} must be a whole number of seconds from ${min} to ${max}, got ${value}`);
  }
  return value;
}
