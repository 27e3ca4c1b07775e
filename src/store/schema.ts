import type { ColumnType, Generated } from 'kysely';
import { StoreError } from './errors.ts';

/**
 * The tables as kysely sees them (docs/store.md describes each and why). jsonb columns are written
 * as JSON text (`toJson`) and read back parsed: the pg driver would turn a JS array into a
 * PostgreSQL array literal, not JSON. bigint columns are read as checked safe integers.
 */
type Json = ColumnType<unknown, string, string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type BatchStatus = 'received' | 'scanning' | 'scanned' | 'failed';
export type SampleStatus = 'pending' | 'accepted' | 'quarantined' | 'rejected';
export type ReviewStatus = 'open' | 'decided';
export type DecisionAction = 'approve' | 'reject' | 'relabel';
export type JobStatus = 'queued' | 'active' | 'done' | 'failed';

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  checksum: string;
  applied_at: CreatedAt;
}

export interface DatasetsTable {
  id: string;
  name: string;
  label_set: Json;
  schema: Json;
  settings: Json;
  created_at: CreatedAt;
  created_by: string;
}

export interface SourcesTable {
  id: string;
  dataset_id: string;
  name: string;
  created_at: CreatedAt;
}

export interface BatchesTable {
  id: string;
  dataset_id: string;
  source_id: string;
  contributor_id: string;
  idempotency_key: string | null;
  format: string;
  file_sha256: string;
  blob_sha256: string;
  sample_count: number;
  sample_root: string;
  status: BatchStatus;
  log_index: number | null;
  error: string | null;
  created_at: CreatedAt;
}

export interface SamplesTable {
  dataset_id: string;
  id: string;
  batch_id: string;
  row_index: number;
  external_id: string | null;
  label: string;
  content_id: string;
  parent_id: string | null;
  status: ColumnType<SampleStatus, SampleStatus | undefined, SampleStatus>;
  created_at: CreatedAt;
}

export interface ScansTable {
  id: string;
  dataset_id: string;
  batch_id: string;
  job_id: string | null;
  report_sha256: string;
  stats: Json;
  log_index: number | null;
  created_at: CreatedAt;
}

export interface FindingsTable {
  id: Generated<number>;
  scan_id: string;
  dataset_id: string;
  sample_id: string;
  detector: string;
  code: string;
  score: number;
  severity: string;
  message: string;
  evidence: Json;
}

export interface ReviewTasksTable {
  id: string;
  dataset_id: string;
  sample_id: string;
  severity: string;
  severity_rank: number;
  score: number;
  status: ColumnType<ReviewStatus, ReviewStatus | undefined, ReviewStatus>;
  required_approvals: number;
  created_at: CreatedAt;
  decided_at: NullableTimestamp;
}

export interface DecisionsTable {
  id: string;
  task_id: string;
  reviewer_id: string;
  action: DecisionAction;
  new_label: string | null;
  reason: string | null;
  log_index: number | null;
  created_at: CreatedAt;
}

export interface SnapshotsTable {
  id: string;
  dataset_id: string;
  parent_id: string | null;
  created_by: string;
  sample_count: number;
  sample_root: string;
  envelope_sha256: string;
  log_index: number | null;
  created_at: CreatedAt;
}

export interface JobsTable {
  id: string;
  kind: string;
  payload: Json;
  status: ColumnType<JobStatus, JobStatus | undefined, JobStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  max_attempts: number;
  run_after: ColumnType<Date, Date | string | undefined, Date | string>;
  locked_by: string | null;
  locked_until: NullableTimestamp;
  last_error: string | null;
  result: ColumnType<unknown, string | null | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  singleton_key: string | null;
}

export interface AccessPrincipalsTable {
  id: string;
  name: string;
  kind: 'user' | 'service';
  created_at: Timestamp;
  disabled: boolean;
}

export interface AccessTokensTable {
  ord: Generated<number>;
  id: string;
  principal_id: string;
  name: string;
  created_at: Timestamp;
  created_by: string;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
  secret_sha256: string;
}

export interface AccessPasswordsTable {
  principal_id: string;
  hash: string;
  set_at: Timestamp;
}

export interface AccessGrantsTable {
  ord: Generated<number>;
  principal_id: string;
  role: string;
  dataset_id: string | null;
  granted_at: Timestamp;
  granted_by: string | null;
}

export interface AccessEventsTable {
  seq: number;
  kind: string;
  at: Timestamp;
  body: Json;
}

export interface Database {
  schema_migrations: SchemaMigrationsTable;
  datasets: DatasetsTable;
  sources: SourcesTable;
  batches: BatchesTable;
  samples: SamplesTable;
  scans: ScansTable;
  findings: FindingsTable;
  review_tasks: ReviewTasksTable;
  decisions: DecisionsTable;
  snapshots: SnapshotsTable;
  jobs: JobsTable;
  access_principals: AccessPrincipalsTable;
  access_tokens: AccessTokensTable;
  access_passwords: AccessPasswordsTable;
  access_grants: AccessGrantsTable;
  access_events: AccessEventsTable;
}

/** A jsonb value as written: JSON text (undefined is refused, it has no JSON form). */
export function toJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new StoreError('STORE_BAD_INPUT', 'a JSON field is undefined or a function', { hint: 'pass null or a JSON value' });
  }
  return text;
}
