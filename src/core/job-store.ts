/**
 * The durable job table's contract, shared by the two modules that meet at it without importing
 * each other: `store` implements it on the database, `jobs` runs its worker pool over it.
 */

/** Where a job is in its life. */
export type JobStatus = 'queued' | 'active' | 'done' | 'failed';

/** One row of the durable job table. */
export interface JobRecord {
  id: string;
  kind: string;
  payload: unknown;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  lockedBy: string | null;
  lockedUntil: Date | null;
  lastError: string | null;
  result: unknown;
  createdAt: Date;
}

/** The durable queue table under the in-process pool. `workerId` is the lease's fencing token. */
export interface JobStore {
  /** Inserts a job; with a singletonKey already used, returns that job's id and `created: false`. */
  enqueue(job: { kind: string; payload: unknown; singletonKey?: string; maxAttempts?: number }): Promise<{ id: string; created: boolean }>;
  /** Atomically leases up to `limit` runnable jobs (queued and due, or active with an expired lease), oldest first. */
  claim(kinds: readonly string[], workerId: string, leaseMs: number, limit: number): Promise<JobRecord[]>;
  /** Extends the lease; false when the lease was lost. */
  heartbeat(id: string, workerId: string, leaseMs: number): Promise<boolean>;
  /** Records the result; false (and nothing written) unless `workerId` still holds the lease. */
  complete(id: string, workerId: string, result: unknown): Promise<boolean>;
  /** Back to queued after `retryAfterMs`, or failed once attempts reach maxAttempts; false unless the lease is held. */
  fail(id: string, workerId: string, error: string, retryAfterMs: number): Promise<boolean>;
  get(id: string): Promise<JobRecord | undefined>;
  counts(): Promise<Record<'queued' | 'active' | 'done' | 'failed', number>>;
}
