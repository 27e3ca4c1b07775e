/**
 * The jobs contract: `JobQueue` is what the app codes against; `JobStore` is the durable table the
 * in-process pool runs over (implemented by src/store on PGlite/PostgreSQL and by
 * `MemoryJobStore` here). The store shape is shared with src/store structurally — keep both equal.
 */

export type JobStatus = 'queued' | 'active' | 'done' | 'failed';

export type JobCounts = Record<JobStatus, number>;

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

export interface EnqueueOptions {
  /** Names one job: enqueueing the same key again returns the first job (`created: false`). Prefix it with the kind. */
  readonly singletonKey?: string;
  /** Runs in all, the first included (default 3). */
  readonly maxAttempts?: number;
}

export interface Enqueued {
  readonly id: string;
  /** False when a job with the same singletonKey already existed; `id` is that job's. */
  readonly created: boolean;
}

/** What a handler receives. `signal` aborts when the lease is lost or the queue stops without grace. */
export interface JobContext {
  readonly id: string;
  readonly kind: string;
  readonly payload: unknown;
  /** 1 on the first run. */
  readonly attempt: number;
  readonly signal: AbortSignal;
}

/** Returns the job's result (JSON; `undefined` is stored as null). Throwing fails this attempt. */
export type JobHandler = (job: JobContext) => unknown;

export interface WorkOptions {
  /** Handlers of this kind running at once in this process (≥ 1). */
  readonly concurrency: number;
}

export interface StopOptions {
  /**
   * true (default): stop claiming and wait for running handlers to finish and record their outcome.
   * false: abort their signals and return at once; their jobs stay leased until the lease expires,
   * then run again elsewhere, as after a crash.
   */
  readonly graceful?: boolean;
}

export interface IdleOptions {
  /** Give up with JOBS_TIMEOUT after this long (default 30 s). */
  readonly timeoutMs?: number;
}

/** A job as the app sees it. */
export interface JobInfo {
  readonly id: string;
  readonly kind: string;
  readonly payload: unknown;
  readonly status: JobStatus;
  /** Runs started so far. */
  readonly attempts: number;
  readonly maxAttempts: number;
  /** The handler's return value once `done`, else null. */
  readonly result: unknown;
  readonly lastError: string | null;
  readonly createdAt: Date;
}

/** Background work: the app enqueues, workers (this process or others) run handlers by kind. */
export interface JobQueue {
  enqueue(kind: string, payload: unknown, options?: EnqueueOptions): Promise<Enqueued>;
  /** Registers the handler for `kind` in this process (once per kind; before or after start). */
  work(kind: string, handler: JobHandler, options: WorkOptions): void;
  start(): Promise<void>;
  stop(options?: StopOptions): Promise<void>;
  get(id: string): Promise<JobInfo | undefined>;
  counts(): Promise<JobCounts>;
  /** Resolves when no job of any kind is queued or active and no handler runs here (tests, drains). */
  idle(options?: IdleOptions): Promise<void>;
}
