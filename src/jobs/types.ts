/**
 * The jobs contract: `JobQueue` is what the app codes against; `JobStore` (in core, so that
 * src/store can implement it without importing jobs) is the durable table the in-process pool
 * runs over — src/store on PGlite/PostgreSQL, and `MemoryJobStore` here.
 */
import type { JobRecord, JobStatus, JobStore } from '../core/index.ts';

export type { JobRecord, JobStatus, JobStore };

export type JobCounts = Record<JobStatus, number>;

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
