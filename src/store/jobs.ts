import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Insertable, Selectable } from 'kysely';
import { StoreError } from './errors.ts';
import { checkInteger } from './executor.ts';
import type { Executor } from './executor.ts';
import { toJson } from './schema.ts';
import type { JobStatus, JobsTable } from './schema.ts';

import type { JobRecord, JobStore } from '../core/index.ts';

export type { JobRecord, JobStore };

export const DEFAULT_MAX_ATTEMPTS = 3;
/** One day: a lease or a retry delay longer than this is a bug in the caller. */
const MAX_MS = 86_400_000;
/** Error texts are cut so a huge stack cannot bloat the queue table. */
const MAX_ERROR_LENGTH = 4000;

export interface NewJob {
  readonly kind: string;
  readonly payload: unknown;
  readonly singletonKey?: string;
  readonly maxAttempts?: number;
}

/** A checked jobs row with a new id, for enqueue and for ingest's single statement. */
export function newJobRow(job: NewJob): Insertable<JobsTable> {
  if (job.kind.length === 0) throw new StoreError('STORE_BAD_INPUT', 'job kind is empty', { hint: 'name the kind of work, e.g. scan-batch' });
  const maxAttempts = job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  checkInteger(maxAttempts, 'maxAttempts', 1, 1000);
  return { id: `job_${randomUUID()}`, kind: job.kind, payload: toJson(job.payload), max_attempts: maxAttempts, singleton_key: job.singletonKey ?? null };
}

function toJob(row: Selectable<JobsTable>): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    lockedBy: row.locked_by,
    lockedUntil: row.locked_until,
    lastError: row.last_error,
    result: row.result,
    createdAt: row.created_at,
  };
}

function checkWorker(workerId: string): void {
  if (workerId.length === 0 || workerId.length > 200) {
    throw new StoreError('STORE_BAD_INPUT', 'worker id must be 1-200 characters', { hint: 'name the worker, e.g. host:pid:n' });
  }
}

function interval(ms: number): ReturnType<typeof sql> {
  return sql`(${ms}::double precision * interval '1 millisecond')`;
}

/** The job queue on the service database (`FOR UPDATE SKIP LOCKED` on PostgreSQL). */
export class DbJobStore implements JobStore {
  constructor(private readonly db: Executor) {}

  /**
   * Adds a job. With a `singletonKey` the key is unique over all jobs ever enqueued: enqueueing
   * the same key again returns the existing job's id with `created: false`, whatever its state.
   */
  async enqueue(job: NewJob): Promise<{ id: string; created: boolean }> {
    const row = await this.db.insertInto('jobs').values(newJobRow(job))
      .onConflict((oc) => oc.column('singleton_key').doNothing()).returning('id').executeTakeFirst();
    if (row !== undefined) return { id: row.id, created: true };
    return { id: await this.idOf(job.singletonKey ?? ''), created: false };
  }

  /** The id of the job enqueued under `singletonKey`. */
  async idOf(singletonKey: string): Promise<string> {
    return (await this.db.selectFrom('jobs').select('id').where('singleton_key', '=', singletonKey).executeTakeFirstOrThrow()).id;
  }

  /**
   * Atomically takes up to `limit` runnable jobs of `kinds`, oldest first: queued ones whose
   * `run_after` has come, and active ones whose lease ran out (a dead worker's). Each becomes
   * active under `workerId` until now + `leaseMs`, with one more attempt counted. An expired job
   * that has no attempts left is marked failed instead of being handed out again.
   */
  async claim(kinds: readonly string[], workerId: string, leaseMs: number, limit: number): Promise<JobRecord[]> {
    checkWorker(workerId);
    checkInteger(leaseMs, 'leaseMs', 1, MAX_MS);
    checkInteger(limit, 'limit', 1, 1000);
    if (kinds.length === 0) return [];
    const kindList = [...kinds];
    await sql`
      update jobs set status = 'failed', locked_by = null, locked_until = null, updated_at = now(),
        last_error = coalesce(last_error || '; ', '') || 'lease expired after the last attempt'
      where status = 'active' and locked_until < now() and attempts >= max_attempts and kind = any(${kindList}::text[])`.execute(this.db);
    const res = await sql<Selectable<JobsTable>>`
      with next as (
        select id from jobs
        where kind = any(${kindList}::text[])
          and ((status = 'queued' and run_after <= now()) or (status = 'active' and locked_until < now()))
        order by created_at, id
        limit ${limit}
        for update skip locked)
      update jobs set status = 'active', attempts = jobs.attempts + 1, locked_by = ${workerId},
        locked_until = now() + ${interval(leaseMs)}, updated_at = now()
      from next where jobs.id = next.id
      returning jobs.*`.execute(this.db);
    return res.rows.map(toJob).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
  }

  /**
   * Takes back every active job at once, lease or not: to queued (runnable now), or failed when it
   * has used its attempts. Only for a database this process holds alone (the embedded one, locked
   * by pid): there an active job at start-up can only be a dead process's, and waiting out its
   * lease would leave the job, and whatever waits on it, stuck for that long. Returns how many.
   */
  async requeueAbandoned(): Promise<number> {
    const res = await sql`
      update jobs set status = case when attempts >= max_attempts then 'failed' else 'queued' end,
        run_after = now(), locked_by = null, locked_until = null, updated_at = now(),
        last_error = coalesce(last_error || '; ', '') || 'abandoned by a process that stopped'
      where status = 'active'`.execute(this.db);
    return Number(res.numAffectedRows ?? 0n);
  }

  /** Extends the lease to now + `leaseMs`; false when the job is no longer this worker's. */
  async heartbeat(id: string, workerId: string, leaseMs: number): Promise<boolean> {
    checkInteger(leaseMs, 'leaseMs', 1, MAX_MS);
    const res = await this.db.updateTable('jobs').set({ locked_until: sql<Date>`now() + ${interval(leaseMs)}`, updated_at: sql<Date>`now()` })
      .where('id', '=', id).where('status', '=', 'active').where('locked_by', '=', workerId).executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** Marks the job done with its result; false when the job is no longer this worker's. */
  async complete(id: string, workerId: string, result: unknown): Promise<boolean> {
    const res = await this.db.updateTable('jobs').set({
      status: 'done', result: toJson(result ?? null), locked_by: null, locked_until: null, updated_at: sql<Date>`now()`,
    }).where('id', '=', id).where('status', '=', 'active').where('locked_by', '=', workerId).executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /**
   * Records a failed attempt: back to queued, runnable again after `retryAfterMs`, or failed for
   * good when it has used `maxAttempts`. False when the job is no longer this worker's.
   */
  async fail(id: string, workerId: string, error: string, retryAfterMs: number): Promise<boolean> {
    checkInteger(retryAfterMs, 'retryAfterMs', 0, MAX_MS);
    const res = await this.db.updateTable('jobs').set({
      status: sql<JobStatus>`case when attempts >= max_attempts then 'failed' else 'queued' end`,
      run_after: sql<Date>`now() + ${interval(retryAfterMs)}`,
      last_error: error.slice(0, MAX_ERROR_LENGTH),
      locked_by: null,
      locked_until: null,
      updated_at: sql<Date>`now()`,
    }).where('id', '=', id).where('status', '=', 'active').where('locked_by', '=', workerId).executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toJob(row);
  }

  /** How many jobs are in each state. */
  async counts(): Promise<Record<'queued' | 'active' | 'done' | 'failed', number>> {
    const rows = await this.db.selectFrom('jobs').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
    const out = { queued: 0, active: 0, done: 0, failed: 0 };
    for (const r of rows) out[r.status] = r.n;
    return out;
  }
}
