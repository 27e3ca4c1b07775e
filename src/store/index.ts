export { openStore } from './store.ts';
export type { Store, StoreOptions, Repositories } from './store.ts';
export { StoreError } from './errors.ts';
export type { StoreErrorCode } from './errors.ts';
export { PgliteDialect } from './pglite-dialect.ts';
export { migrate, migrationChecksum } from './migrations.ts';
export type { Migration, MigrationReport } from './migrations.ts';
export { MIGRATIONS } from './service-schema.ts';
export type { Database, BatchStatus, SampleStatus, ReviewStatus, DecisionAction, JobStatus } from './schema.ts';
export { DatasetRepo, SourceRepo } from './datasets.ts';
export type { NewDataset, DatasetRecord, NewSource, SourceRecord, SourceStats } from './datasets.ts';
export { BatchRepo, SampleRepo } from './batches.ts';
export type { NewBatch, BatchRecord, NewSample, SampleRecord, BatchInsertResult, SamplePage } from './batches.ts';
export { ScanRepo } from './findings.ts';
export type { NewScan, ScanRecord, NewFinding, FindingRecord } from './findings.ts';
export { ReviewRepo } from './reviews.ts';
export type { NewReviewTask, ReviewTaskRecord, ReviewPage, NewDecision, DecisionRecord } from './reviews.ts';
export { SnapshotRepo } from './snapshots.ts';
export type { NewSnapshot, SnapshotRecord } from './snapshots.ts';
export { DbJobStore, DEFAULT_MAX_ATTEMPTS } from './jobs.ts';
export type { JobStore, JobRecord, NewJob } from './jobs.ts';
export { DbAccessStore } from './access-store.ts';
export type {
  AccessRole, AccessPrincipal, AccessGrant, AccessTokenRecord, AccessPasswordRecord, AccessEventBody, AccessEventKind,
  AccessEvent, AccessGrantFilter, AccessEventQuery, AccessGrantKey, DbAccessReader, DbAccessTx,
} from './access-store.ts';
