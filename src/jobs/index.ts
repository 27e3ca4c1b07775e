export { createWorkerPool } from './pool.ts';
export type { WorkerPoolOptions } from './pool.ts';
export { createPgBossQueue } from './pg-boss-queue.ts';
export type { PgBossQueueOptions } from './pg-boss-queue.ts';
export { MemoryJobStore } from './memory-store.ts';
export type { MemoryJobStoreOptions } from './memory-store.ts';
export { JobsError } from './errors.ts';
export type { JobsErrorCode } from './errors.ts';
export type {
  EnqueueOptions, Enqueued, IdleOptions, JobContext, JobCounts, JobHandler, JobInfo, JobQueue, JobRecord, JobStatus, JobStore,
  StopOptions, WorkOptions,
} from './types.ts';
