import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { silentLogger } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import { JobsError } from './errors.ts';
import { checkMaxAttempts, checkSingletonKey, describeError, jsonCopy } from './input.ts';
import { Runner } from './runner.ts';
import type { Backend, Claim } from './runner.ts';
import type { EnqueueOptions, Enqueued, IdleOptions, JobCounts, JobHandler, JobInfo, JobQueue, JobRecord, JobStore, StopOptions, WorkOptions } from './types.ts';

export interface WorkerPoolOptions {
  /** The durable job table (src/store's on PGlite/PostgreSQL, or `MemoryJobStore`). */
  readonly store: JobStore;
  /** Lease length; a crashed worker's jobs run again this long after its last heartbeat (default 30 s). */
  readonly leaseMs?: number;
  /** Heartbeats per lease (default 3), so two can be missed before the lease is lost. */
  readonly heartbeatsPerLease?: number;
  /** Idle poll interval (default 250 ms); an enqueue through this queue wakes its workers at once. */
  readonly pollMs?: number;
  /** Retry backoff: the n-th failure waits retryBaseMs · 2^(n−1), at most retryMaxMs (defaults 1 s, 5 min). */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** When set, enqueue and work reject other kinds with JOBS_UNKNOWN_KIND. */
  readonly kinds?: readonly string[];
  readonly logger?: Logger;
}

interface PoolClaim extends Claim {
  /** The fencing token the job was claimed under: unique per claim, so a reclaim by this same
   *  process is never mistaken for its earlier, lost lease. */
  readonly token: string;
  readonly claimedAt: number;
}

/** The default JobQueue: handlers run in this process, jobs live in a durable JobStore. */
export function createWorkerPool(options: WorkerPoolOptions): JobQueue {
  const leaseMs = positive(options.leaseMs ?? 30_000, 'leaseMs');
  const heartbeatMs = leaseMs / positive(options.heartbeatsPerLease ?? 3, 'heartbeatsPerLease');
  const retryBaseMs = positive(options.retryBaseMs ?? 1000, 'retryBaseMs');
  const retryMaxMs = positive(options.retryMaxMs ?? 300_000, 'retryMaxMs');
  const logger = options.logger ?? silentLogger;
  const { store } = options;
  const workerPrefix = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  let claims = 0;

  const backend: Backend<PoolClaim> = {
    async claim(kind, limit) {
      const token = `${workerPrefix}:${++claims}`;
      const claimedAt = Date.now();
      const records = await store.claim([kind], token, leaseMs, limit);
      const runnable: PoolClaim[] = [];
      for (const record of records) {
        // A job whose worker died on every attempt comes back through lease expiry with its
        // attempts already spent; it fails here instead of crashing workers forever.
        if (record.attempts > record.maxAttempts) {
          await store.fail(record.id, token, `lease expired on each of ${record.maxAttempts} attempts`, 0);
          continue;
        }
        runnable.push({ id: record.id, kind: record.kind, payload: record.payload, attempt: record.attempts, token, claimedAt });
      }
      return runnable;
    },
    hold(claim, lost) {
      return holdLease(store, claim, leaseMs, heartbeatMs, lost, logger);
    },
    complete: (claim, result) => store.complete(claim.id, claim.token, result),
    fail: (claim, error) => store.fail(claim.id, claim.token, error, Math.min(retryMaxMs, retryBaseMs * 2 ** (claim.attempt - 1))),
    counts: () => unavailableOnError(() => store.counts()),
  };
  const runner = new Runner(backend, { pollMs: positive(options.pollMs ?? 250, 'pollMs'), logger, kinds: options.kinds });

  return {
    async enqueue(kind: string, payload: unknown, opts: EnqueueOptions = {}): Promise<Enqueued> {
      runner.assertStarted();
      const job = {
        kind: runner.checkKind(kind),
        payload: jsonCopy(payload, 'the job payload'),
        maxAttempts: checkMaxAttempts(opts.maxAttempts),
        ...withKey(checkSingletonKey(opts.singletonKey)),
      };
      const enqueued = await unavailableOnError(() => store.enqueue(job));
      runner.wake(job.kind);
      return enqueued;
    },
    work(kind: string, handler: JobHandler, opts: WorkOptions): void {
      runner.register(kind, handler, opts.concurrency);
    },
    async start(): Promise<void> {
      runner.start();
    },
    async stop(opts: StopOptions = {}): Promise<void> {
      await runner.stop(opts.graceful ?? true);
    },
    async get(id: string): Promise<JobInfo | undefined> {
      runner.assertStarted();
      const record = await unavailableOnError(() => store.get(id));
      return record === undefined ? undefined : toInfo(record);
    },
    async counts(): Promise<JobCounts> {
      runner.assertStarted();
      return backend.counts();
    },
    idle(opts: IdleOptions = {}): Promise<void> {
      return runner.idle(opts.timeoutMs ?? 30_000);
    },
  };
}

/**
 * Heartbeats every `heartbeatMs` while the handler runs. The lease counts as lost when the store
 * says so, or when it would have run out since the last renewal that the store confirmed (the
 * store may be unreachable; someone else may then already hold the job).
 */
function holdLease(store: JobStore, claim: PoolClaim, leaseMs: number, heartbeatMs: number, lost: (why: string) => void, logger: Logger): () => void {
  let expires = claim.claimedAt + leaseMs;
  let held = true;
  const drop = (why: string): void => {
    if (!held) return;
    held = false;
    clearInterval(timer);
    lost(why);
  };
  const beat = async (): Promise<void> => {
    if (Date.now() >= expires) return drop('the lease ran out before a heartbeat renewed it');
    const sentAt = Date.now();
    try {
      if (!(await store.heartbeat(claim.id, claim.token, leaseMs))) return drop('the store no longer holds it for this worker');
      expires = sentAt + leaseMs;
    } catch (err) {
      logger.warn('jobs: heartbeat failed', { id: claim.id, error: describeError(err) });
    }
  };
  const timer = setInterval(() => void beat(), heartbeatMs);
  return () => {
    held = false;
    clearInterval(timer);
  };
}

/** A store failure the caller cannot fix by changing the call becomes JOBS_UNAVAILABLE. */
async function unavailableOnError<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof JobsError) throw err;
    throw new JobsError('JOBS_UNAVAILABLE', `the job store failed: ${describeError(err)}`, {
      hint: 'check that the database is reachable', cause: err,
    });
  }
}

function toInfo(record: JobRecord): JobInfo {
  return {
    id: record.id, kind: record.kind, payload: record.payload, status: record.status, attempts: record.attempts,
    maxAttempts: record.maxAttempts, result: record.status === 'done' ? record.result : null, lastError: record.lastError, createdAt: record.createdAt,
  };
}

function withKey(singletonKey: string | undefined): { singletonKey?: string } {
  return singletonKey === undefined ? {} : { singletonKey };
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new JobsError('JOBS_BAD_INPUT', `${name} must be a positive number, got ${value}`);
  }
  return value;
}
