import type { Migration } from './migrations.ts';

const HEX64 = `'^[0-9a-f]{64}$'`;
const SEVERITY = `('info', 'low', 'medium', 'high', 'critical')`;

/**
 * The service schema, version by version. Never edit a shipped migration (its checksum is recorded
 * in every database it ran on); add the next one. docs/store.md explains each table.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'service schema',
    statements: [
      `create table datasets (
        id text primary key,
        name text not null,
        label_set jsonb not null,
        schema jsonb not null,
        settings jsonb not null,
        created_at timestamptz not null default now(),
        created_by text not null)`,
      `create table sources (
        id text primary key,
        dataset_id text not null references datasets (id),
        name text not null,
        created_at timestamptz not null default now(),
        unique (dataset_id, name))`,
      `create table batches (
        id text primary key,
        dataset_id text not null references datasets (id),
        source_id text not null references sources (id),
        contributor_id text not null,
        idempotency_key text unique,
        format text not null,
        file_sha256 text not null check (file_sha256 ~ ${HEX64}),
        blob_sha256 text not null check (blob_sha256 ~ ${HEX64}),
        sample_count integer not null check (sample_count >= 0),
        sample_root text not null,
        status text not null check (status in ('received', 'scanning', 'scanned', 'failed')),
        log_index bigint check (log_index >= 0),
        error text,
        created_at timestamptz not null default now(),
        unique (id, dataset_id))`,
      `create index batches_by_dataset on batches (dataset_id, created_at)`,
      // No content column: content lives encrypted in the vault, found by batch blob + row_index.
      // This is the bulk-insert table, so its checks are cheap ones (the repository checks the hex
      // form) and one composite foreign key stands for both dataset and batch: each foreign key
      // costs a lookup per row, the larger part of a 1,000-row insert on PGlite.
      `create table samples (
        dataset_id text not null,
        id text not null check (octet_length(id) = 64),
        batch_id text not null,
        row_index integer not null check (row_index >= 0),
        external_id text,
        label text not null,
        content_id text not null check (octet_length(content_id) = 64),
        parent_id text check (octet_length(parent_id) = 64),
        status text not null default 'pending' check (status in ('pending', 'accepted', 'quarantined', 'rejected')),
        created_at timestamptz not null default now(),
        primary key (dataset_id, id),
        foreign key (batch_id, dataset_id) references batches (id, dataset_id))`,
      // One original per row; a relabel is a new sample on the same row with parent_id set.
      `create unique index samples_batch_row on samples (batch_id, row_index) where parent_id is null`,
      `create index samples_by_status on samples (dataset_id, status, id)`,
      `create table scans (
        id text primary key,
        dataset_id text not null references datasets (id),
        batch_id text not null references batches (id),
        job_id text unique,
        report_sha256 text not null check (report_sha256 ~ ${HEX64}),
        stats jsonb not null,
        created_at timestamptz not null default now())`,
      `create table findings (
        id bigserial primary key,
        scan_id text not null references scans (id),
        dataset_id text not null,
        sample_id text not null,
        detector text not null,
        code text not null,
        score real not null check (score >= 0 and score <= 1),
        severity text not null check (severity in ${SEVERITY}),
        message text not null,
        evidence jsonb not null,
        foreign key (dataset_id, sample_id) references samples (dataset_id, id))`,
      // A review task shows its sample's findings, strongest first.
      `create index findings_by_sample on findings (dataset_id, sample_id, score desc)`,
      `create index findings_by_scan on findings (scan_id)`,
      // severity_rank and score order the queue; score is double precision so that a cursor's
      // score compares exactly (a real read back as a JS number would not).
      `create table review_tasks (
        id text primary key,
        dataset_id text not null,
        sample_id text not null,
        severity text not null check (severity in ${SEVERITY}),
        severity_rank smallint not null,
        score double precision not null check (score >= 0 and score <= 1),
        status text not null default 'open' check (status in ('open', 'decided')),
        required_approvals smallint not null check (required_approvals between 1 and 10),
        created_at timestamptz not null default now(),
        decided_at timestamptz,
        check ((status = 'decided') = (decided_at is not null)),
        foreign key (dataset_id, sample_id) references samples (dataset_id, id))`,
      `create index review_queue on review_tasks (dataset_id, severity_rank desc, score desc, id desc) where status = 'open'`,
      `create unique index review_one_open_task on review_tasks (dataset_id, sample_id) where status = 'open'`,
      `create table decisions (
        id text primary key,
        task_id text not null references review_tasks (id),
        reviewer_id text not null,
        action text not null check (action in ('approve', 'reject', 'relabel')),
        new_label text,
        reason text,
        log_index bigint check (log_index >= 0),
        created_at timestamptz not null default now(),
        unique (task_id, reviewer_id),
        check ((action = 'relabel') = (new_label is not null)))`,
      `create table snapshots (
        id text primary key,
        dataset_id text not null references datasets (id),
        parent_id text references snapshots (id),
        created_by text not null,
        sample_count integer not null check (sample_count >= 0),
        sample_root text not null,
        envelope_sha256 text not null check (envelope_sha256 ~ ${HEX64}),
        log_index bigint check (log_index >= 0),
        created_at timestamptz not null default now())`,
      `create index snapshots_by_dataset on snapshots (dataset_id, created_at)`,
      `create table jobs (
        id text primary key,
        kind text not null,
        payload jsonb not null,
        status text not null default 'queued' check (status in ('queued', 'active', 'done', 'failed')),
        attempts integer not null default 0 check (attempts >= 0),
        max_attempts integer not null check (max_attempts >= 1),
        run_after timestamptz not null default now(),
        locked_by text,
        locked_until timestamptz,
        last_error text,
        result jsonb,
        created_at timestamptz not null default clock_timestamp(),
        updated_at timestamptz not null default clock_timestamp(),
        singleton_key text unique,
        check ((status = 'active') = (locked_by is not null and locked_until is not null)))`,
      // Claiming scans only runnable jobs: queued ones and active ones whose lease may have run out.
      `create index jobs_runnable on jobs (created_at, id) where status in ('queued', 'active')`,
      `create table access_principals (
        id text primary key,
        name text not null unique,
        kind text not null check (kind in ('user', 'service')),
        created_at timestamptz not null,
        disabled boolean not null)`,
      `create table access_tokens (
        ord bigint generated always as identity,
        id text primary key,
        principal_id text not null references access_principals (id),
        name text not null,
        created_at timestamptz not null,
        created_by text not null,
        expires_at timestamptz not null,
        revoked_at timestamptz,
        last_used_at timestamptz,
        secret_sha256 text not null check (secret_sha256 ~ ${HEX64}))`,
      `create index access_tokens_by_principal on access_tokens (principal_id, ord)`,
      `create table access_passwords (
        principal_id text primary key references access_principals (id),
        hash text not null,
        set_at timestamptz not null)`,
      `create table access_grants (
        ord bigint generated always as identity primary key,
        principal_id text not null references access_principals (id),
        role text not null,
        dataset_id text,
        granted_at timestamptz not null,
        granted_by text)`,
      // One grant per principal × role × scope; coalesce makes the global scope (null) one value
      // (dataset ids are never empty) on every PostgreSQL version.
      `create unique index access_grants_unique on access_grants (principal_id, role, (coalesce(dataset_id, '')))`,
      // seq is assigned max + 1 inside the SERIALIZABLE transaction, not from a sequence: a sequence
      // hands out numbers at insert time, so a reader could see 6 commit before 5 and skip 5 forever.
      `create table access_events (
        seq bigint primary key check (seq >= 1),
        kind text not null,
        at timestamptz not null,
        body jsonb not null)`,
    ],
  },
  {
    version: 2,
    name: 'scan log index',
    // The scan's provenance entry is appended after its findings commit; the index is kept so that
    // a sample's provenance can prove the scan without searching the log.
    statements: [`alter table scans add column log_index bigint`],
  },
  {
    version: 3,
    name: 'cheaper sample inserts',
    // Measured on PGlite (npm run bench:store): a 1,000-sample insert spent 40 % of its time in the
    // foreign key's per-row check of samples → batches, and 20 % keeping samples_by_status for rows
    // that are all 'pending'. The key becomes one check per statement over the inserted rows, with
    // the two ways around it closed instead of checked: a sample's batch never changes, and a batch
    // that has samples is never deleted or re-keyed (batches are history; nothing deletes them).
    // The status index keeps only the rows that left 'pending' (the ones pages and snapshots read).
    statements: [
      `alter table samples drop constraint samples_batch_id_dataset_id_fkey`,
      // One primary-key lookup per distinct batch (one, for an ingest): a plan that cannot go
      // stale as batches grows (plpgsql keeps a session's plans; a join's could stay a seq scan).
      `create function samples_check_batch() returns trigger language plpgsql as $fn$
      declare
        r record;
      begin
        for r in select distinct batch_id, dataset_id from new_samples loop
          if not exists (select 1 from batches b where b.id = r.batch_id and b.dataset_id = r.dataset_id) then
            raise foreign_key_violation using message = 'insert or update on table "samples" violates foreign key constraint "samples_batch"',
              detail = 'batch ' || r.batch_id || ' is not in dataset ' || r.dataset_id;
          end if;
        end loop;
        return null;
      end $fn$`,
      `create trigger samples_batch after insert on samples referencing new table as new_samples
        for each statement execute function samples_check_batch()`,
      `create function samples_keep_batch() returns trigger language plpgsql as $fn$
      begin
        raise foreign_key_violation using message = 'a sample''s batch and dataset cannot change',
          detail = 'add a new sample (a relabel) instead';
      end $fn$`,
      `create trigger samples_batch_fixed before update of batch_id, dataset_id on samples for each row
        when (old.batch_id is distinct from new.batch_id or old.dataset_id is distinct from new.dataset_id)
        execute function samples_keep_batch()`,
      `create function batches_keep_samples() returns trigger language plpgsql as $fn$
      begin
        if tg_op = 'UPDATE' and new.id = old.id and new.dataset_id = old.dataset_id then
          return new;
        end if;
        if exists (select 1 from samples s where s.batch_id = old.id) then
          raise foreign_key_violation using message = 'batch ' || old.id || ' has samples: it cannot be deleted or re-keyed',
            detail = 'batches are history; mark a bad batch failed instead';
        end if;
        return case when tg_op = 'DELETE' then old else new end;
      end $fn$`,
      `create trigger batches_keep_samples before delete or update of id, dataset_id on batches for each row
        execute function batches_keep_samples()`,
      `drop index samples_by_status`,
      `create index samples_by_status on samples (dataset_id, status, id) where status <> 'pending'`,
      // ANALYZE samples 3,000 rows instead of 30,000: 23 ms instead of 205 ms at 300,000 samples on
      // PGlite, where it runs inline (no autovacuum) and holds the one session. The few-valued
      // columns the planner needs (dataset, status, label) are described as well by 3,000; the ids
      // are hashes, all distinct either way.
      ...['dataset_id', 'id', 'batch_id', 'row_index', 'external_id', 'label', 'content_id', 'parent_id', 'status', 'created_at']
        .map((column) => `alter table samples alter column ${column} set statistics 10`),
    ],
  },
  {
    version: 4,
    name: 'byte-order identifiers',
    // Identifiers (hex digests, b_/s_/j_ ids, dataset names) compare byte by byte: under the
    // database's default collation (C.UTF-8 on Debian's PostgreSQL 15) every index comparison is a
    // strcoll call. Measured on PostgreSQL 15: a 1,000-sample insert 8.6–9.6 → 6.5–7.1 ms, 1,000
    // primary-key probes 6.7 → 4.2 ms. The order of ASCII ids is the same under both, so cursors
    // and pages do not move. PGlite's databases are already "C"; there the rewrite changes nothing.
    // The two column triggers of migration 3 pin their columns' types: dropped and made again.
    statements: [
      `drop trigger samples_batch_fixed on samples`,
      `drop trigger batches_keep_samples on batches`,
      ...Object.entries({
      datasets: ['id'],
      sources: ['id', 'dataset_id'],
      batches: ['id', 'dataset_id', 'source_id', 'idempotency_key'],
      samples: ['dataset_id', 'id', 'batch_id', 'content_id', 'parent_id'],
      scans: ['id', 'dataset_id', 'batch_id', 'job_id'],
      findings: ['scan_id', 'dataset_id', 'sample_id'],
      review_tasks: ['id', 'dataset_id', 'sample_id'],
      decisions: ['id', 'task_id', 'reviewer_id'],
      snapshots: ['id', 'dataset_id', 'parent_id'],
      jobs: ['id', 'singleton_key'],
      }).map(([table, columns]) => `alter table ${table} ${columns.map((c) => `alter column ${c} type text collate "C"`).join(', ')}`),
      `create trigger samples_batch_fixed before update of batch_id, dataset_id on samples for each row
        when (old.batch_id is distinct from new.batch_id or old.dataset_id is distinct from new.dataset_id)
        execute function samples_keep_batch()`,
      `create trigger batches_keep_samples before delete or update of id, dataset_id on batches for each row
        execute function batches_keep_samples()`,
    ],
  },
];
