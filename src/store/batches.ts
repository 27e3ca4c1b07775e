import { sql } from 'kysely';
import type { RawBuilder, Selectable } from 'kysely';
import { StoreError, sqlState, translateWriteError, UNIQUE_VIOLATION } from './errors.ts';
import { checkHex64, checkInteger, checkLimit, chunks, inTransaction } from './executor.ts';
import type { Executor } from './executor.ts';
import type { NewSource } from './datasets.ts';
import { DbJobStore, newJobRow, type NewJob } from './jobs.ts';
import type { BatchStatus, BatchesTable, SampleStatus, SamplesTable } from './schema.ts';

export interface NewBatch {
  readonly id: string;
  readonly datasetId: string;
  readonly sourceId: string;
  readonly contributorId: string;
  /** The client's key for a retried upload; unique over all batches when set. */
  readonly idempotencyKey?: string | null;
  readonly format: string;
  /** SHA-256 of the uploaded file. */
  readonly fileSha256: string;
  /** SHA-256 naming the encrypted vault object that holds the file. */
  readonly blobSha256: string;
  /** Merkle root over the batch's sorted sample ids. */
  readonly sampleRoot: string;
  readonly status?: BatchStatus;
  readonly logIndex?: number | null;
}

export interface BatchRecord {
  readonly id: string;
  readonly datasetId: string;
  readonly sourceId: string;
  readonly contributorId: string;
  readonly idempotencyKey: string | null;
  readonly format: string;
  readonly fileSha256: string;
  readonly blobSha256: string;
  readonly sampleCount: number;
  readonly sampleRoot: string;
  readonly status: BatchStatus;
  readonly logIndex: number | null;
  readonly error: string | null;
  readonly createdAt: Date;
}

/** A sample as ingested: ids and label only; its content stays in the vault (batch blob + row). */
export interface NewSample {
  /** sha256 over (contentId, label). */
  readonly id: string;
  readonly rowIndex: number;
  readonly externalId?: string | null;
  readonly label: string;
  readonly contentId: string;
  /** The sample this one relabels. */
  readonly parentId?: string | null;
}

export interface SampleRecord {
  readonly datasetId: string;
  readonly id: string;
  readonly batchId: string;
  readonly rowIndex: number;
  readonly externalId: string | null;
  readonly label: string;
  readonly contentId: string;
  readonly parentId: string | null;
  readonly status: SampleStatus;
  readonly createdAt: Date;
}

/** What `insertWithSamples` stored. */
export interface BatchInsertResult {
  readonly batch: BatchRecord;
  /** Samples new to the dataset. */
  readonly inserted: number;
  /** Samples the dataset already had (same id, from an earlier batch or earlier in this one). */
  readonly duplicates: number;
}

export interface SamplePage {
  readonly samples: SampleRecord[];
  /** Pass as `after` for the next page; null on the last page. */
  readonly next: string | null;
}

const MAX_ROW_INDEX = 2 ** 31 - 1;

function toBatch(row: Selectable<BatchesTable>): BatchRecord {
  return {
    id: row.id,
    datasetId: row.dataset_id,
    sourceId: row.source_id,
    contributorId: row.contributor_id,
    idempotencyKey: row.idempotency_key,
    format: row.format,
    fileSha256: row.file_sha256,
    blobSha256: row.blob_sha256,
    sampleCount: row.sample_count,
    sampleRoot: row.sample_root,
    status: row.status,
    logIndex: row.log_index,
    error: row.error,
    createdAt: row.created_at,
  };
}

function toSample(row: Selectable<SamplesTable>): SampleRecord {
  return {
    datasetId: row.dataset_id,
    id: row.id,
    batchId: row.batch_id,
    rowIndex: row.row_index,
    externalId: row.external_id,
    label: row.label,
    contentId: row.content_id,
    parentId: row.parent_id,
    status: row.status,
    createdAt: row.created_at,
  };
}

function checkSample(s: NewSample, i: number): void {
  checkHex64(s.id, `sample ${i}: id`);
  checkHex64(s.contentId, `sample ${i}: contentId`);
  if (s.parentId !== undefined && s.parentId !== null) checkHex64(s.parentId, `sample ${i}: parentId`);
  checkInteger(s.rowIndex, `sample ${i}: rowIndex`, 0, MAX_ROW_INDEX);
}

/**
 * checkSample for every sample, with the two digests of all rows checked by one pattern over their
 * concatenation (a regex per digest was 0.6 ms of each 1,000-sample ingest); a failure re-checks
 * row by row to name the bad one.
 */
function checkSamples(samples: readonly NewSample[]): void {
  const digests = samples.every((x) => x.id.length === 64 && x.contentId.length === 64 && (x.parentId === undefined || x.parentId === null))
    && HEX_RUN.test(samples.map((x) => x.id).join('')) && HEX_RUN.test(samples.map((x) => x.contentId).join(''));
  if (!digests) samples.forEach(checkSample);
  else samples.forEach((x, i) => checkInteger(x.rowIndex, `sample ${i}: rowIndex`, 0, MAX_ROW_INDEX));
}

const HEX_RUN = /^[0-9a-f]*$/;

/**
 * Checked hex digests, decoded into one buffer of 32 bytes each: sent as one bytea, half the bytes
 * of their text and no array literal to quote (here) and parse (in the database).
 */
function packDigests(digests: readonly string[]): Buffer {
  const out = Buffer.allocUnsafe(32 * digests.length);
  digests.forEach((d, i) => out.write(d, 32 * i, 32, 'hex'));
  return out;
}

/** Batches: one uploaded file each, with its samples. */
export class BatchRepo {
  constructor(private readonly db: Executor) {}

  /**
   * Stores a batch and its samples, all or nothing (a failing sample leaves no batch). Samples go
   * in through `unnest` (about 20× faster than a row each). A sample the dataset already has is
   * kept where it was first seen and counted in `duplicates`; its row in this batch's file is still
   * part of the batch.
   */
  async insertWithSamples(batch: NewBatch, samples: readonly NewSample[]): Promise<BatchInsertResult> {
    const { jobId: _, ...stored } = await this.#insert(batch, samples, undefined, undefined);
    return stored;
  }

  /**
   * Ingest's write: the batch's source (made when new), the batch, its samples and its scan job,
   * all or nothing. Up to 5,000 samples this is one statement, one round trip: under load every
   * round trip of a transaction holds the embedded database's single session while it waits its
   * turn on the event loop, so the five of the old transaction (source, batch, samples, job,
   * commit) kept it idle and held.
   */
  async ingest(input: { source: NewSource; batch: NewBatch; samples: readonly NewSample[]; job: NewJob }): Promise<BatchInsertResult & { jobId: string }> {
    if (input.source.id !== input.batch.sourceId || input.source.datasetId !== input.batch.datasetId) {
      throw new StoreError('STORE_BAD_INPUT', 'the batch names another source or dataset than the one given', { hint: 'pass the batch\'s own source' });
    }
    return this.#insert(input.batch, input.samples, input.source, input.job);
  }

  async #insert(batch: NewBatch, samples: readonly NewSample[], source: NewSource | undefined, job: NewJob | undefined): Promise<BatchInsertResult & { jobId: string }> {
    checkHex64(batch.fileSha256, 'fileSha256');
    checkHex64(batch.blobSha256, 'blobSha256');
    checkSamples(samples);
    const jobRow = job === undefined ? undefined : newJobRow(job);
    // A sample twice in one upload is stored once (its first row), like one the dataset already has.
    const seen = new Set<string>();
    const unique = samples.filter((x) => {
      if (seen.has(x.id)) return false;
      seen.add(x.id);
      return true;
    });
    const [first = [], ...rest] = chunks(unique);
    const write = async (db: Executor, existing: ExistingSamples): Promise<BatchInsertResult & { jobId: string }> => {
      const { rows } = await sql<Selectable<BatchesTable> & { inserted: number; job_id: string | null }>`
        with ${source === undefined ? sql`` : sql`source as (
          insert into sources (id, dataset_id, name) values (${source.id}, ${source.datasetId}, ${source.name})
          on conflict (dataset_id, name) do nothing),`}
        batch as (
          insert into batches (id, dataset_id, source_id, contributor_id, idempotency_key, format, file_sha256, blob_sha256, sample_count, sample_root, status, log_index)
          values (${batch.id}, ${batch.datasetId}, ${batch.sourceId}, ${batch.contributorId}, ${batch.idempotencyKey ?? null}, ${batch.format},
            ${batch.fileSha256}, ${batch.blobSha256}, ${samples.length}, ${batch.sampleRoot}, ${batch.status ?? 'received'}, ${batch.logIndex ?? null})
          returning *),
        sample as (${samplesInsert(batch, first, existing)} returning 1)
        ${jobRow === undefined ? sql`` : sql`, job as (
          insert into jobs (id, kind, payload, max_attempts, singleton_key)
          values (${jobRow.id}, ${jobRow.kind}, ${jobRow.payload}, ${jobRow.max_attempts}, ${jobRow.singleton_key})
          on conflict (singleton_key) do nothing returning id)`}
        select batch.*, (select count(*) from sample)::int as inserted, ${jobRow === undefined ? sql`null` : sql`(select id from job)`} as job_id from batch`.execute(db);
      const { inserted: firstInserted, job_id: jobId, ...row } = rows[0] as (typeof rows)[number];
      let inserted = firstInserted;
      for (const part of rest) inserted += Number((await sql`${samplesInsert(batch, part, existing)}`.execute(db)).numAffectedRows ?? 0n);
      // A job already enqueued under the key (a batch id is new, so only ever a stray one) is the batch's job.
      const key = jobRow?.singleton_key;
      const id = jobId ?? (typeof key === 'string' ? await new DbJobStore(db).idOf(key) : '');
      return { batch: toBatch(row), inserted, duplicates: samples.length - inserted, jobId: id };
    };
    const attempt = (existing: ExistingSamples): Promise<BatchInsertResult & { jobId: string }> =>
      rest.length === 0 ? write(this.db, existing) : inTransaction(this.db, (tx) => write(tx, existing));
    try {
      // Inside a caller's transaction a failed statement would abort it: no second try there.
      if (this.db.isTransaction) return await attempt('skip');
      try {
        return await attempt('none');
      } catch (err) {
        // The dataset already has one of these samples (or another transaction stored it just now):
        // the whole statement rolled back; again, leaving the existing ones alone.
        if (sqlState(err) !== UNIQUE_VIOLATION || (err as { constraint?: unknown }).constraint !== 'samples_pkey') throw err;
        return await attempt('skip');
      }
    } catch (err) {
      return translateWriteError(err, `batch ${batch.id}`);
    }
  }

  async get(id: string): Promise<BatchRecord | undefined> {
    const row = await this.db.selectFrom('batches').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toBatch(row);
  }

  /** The batch a client uploaded with this idempotency key, so a retried upload returns it. */
  async byIdempotencyKey(key: string): Promise<BatchRecord | undefined> {
    const row = await this.db.selectFrom('batches').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
    return row === undefined ? undefined : toBatch(row);
  }

  /** A dataset's batches, newest first. */
  async list(datasetId: string, limit = 100): Promise<BatchRecord[]> {
    checkLimit(limit);
    const rows = await this.db.selectFrom('batches').selectAll().where('dataset_id', '=', datasetId)
      .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toBatch);
  }

  /** Moves a batch to `status` (with the error text when it failed, the log index once logged). */
  async setStatus(id: string, status: BatchStatus, extra: { readonly error?: string | null; readonly logIndex?: number | null } = {}): Promise<BatchRecord> {
    const row = await this.db.updateTable('batches').set({
      status,
      ...(extra.error === undefined ? {} : { error: extra.error }),
      ...(extra.logIndex === undefined ? {} : { log_index: extra.logIndex }),
    }).where('id', '=', id).returningAll().executeTakeFirst();
    if (row === undefined) throw new StoreError('STORE_NOT_FOUND', `no batch ${id}`, { hint: 'list the dataset\'s batches to see their ids' });
    return toBatch(row);
  }
}

/**
 * What the insert of a run of samples expects of the dataset: 'none' — no sample of the run is
 * stored yet, so a plain insert (a stored one fails the statement on samples_pkey); 'skip' — some
 * may be, and those are left as they are (ON CONFLICT DO NOTHING).
 */
type ExistingSamples = 'none' | 'skip';

/**
 * The insert of a run of a batch's samples. Ingest tries 'none' first: new data is the common case,
 * and a plain insert of 1,000 rows is the cheapest there is. A primary-key probe per row first
 * (LEFT JOIN LATERAL … LIMIT 1) was 3–4 ms more per 1,000 rows on PostgreSQL 15, and ON CONFLICT's
 * speculative insertion (an extra index pass and WAL record per row) 7 ms more; the latter runs
 * only for a batch that repeats stored samples, after the plain insert failed (npm run bench:store
 * measures both cases).
 */
function samplesInsert(batch: NewBatch, part: readonly NewSample[], existing: ExistingSamples): RawBuilder<unknown> {
  // Row n's id and content id are bytes 32(n−1)+1 … 32n of their packed digests.
  const rows = sql`unnest(${part.map((s) => s.rowIndex)}::int[], ${part.map((s) => s.externalId ?? null)}::text[],
                ${part.map((s) => s.label)}::text[], ${part.map((s) => s.parentId ?? null)}::text[])
      with ordinality as u (row_index, external_id, label, parent_id, n)`;
  const digest = (packed: Buffer): RawBuilder<unknown> => sql`encode(substr(${packed}::bytea, (32 * u.n - 31)::int, 32), 'hex')`;
  const into = sql`insert into samples (dataset_id, id, batch_id, row_index, external_id, label, content_id, parent_id)
    select ${batch.datasetId}, ${digest(packDigests(part.map((s) => s.id)))}, ${batch.id}, u.row_index, u.external_id, u.label,
      ${digest(packDigests(part.map((s) => s.contentId)))}, u.parent_id from ${rows}`;
  return existing === 'none' ? into : sql`${into} on conflict (dataset_id, id) do nothing`;
}

/** Samples: page by status, change status. */
export class SampleRepo {
  constructor(private readonly db: Executor) {}

  /**
   * A relabel: the sample `newId` (the same content under `newLabel`) on the same batch row, with
   * `parentId` = the old sample, accepted; the old sample becomes rejected. When the dataset
   * already has `newId` it is accepted as it is. Run it inside a transaction.
   */
  async relabel(datasetId: string, sampleId: string, newId: string, newLabel: string): Promise<SampleRecord> {
    checkHex64(newId, 'new sample id');
    const old = await this.get(datasetId, sampleId);
    if (old === undefined) throw new StoreError('STORE_NOT_FOUND', `no sample ${sampleId} in dataset ${datasetId}`);
    await this.db.insertInto('samples').values({
      dataset_id: datasetId, id: newId, batch_id: old.batchId, row_index: old.rowIndex, external_id: old.externalId,
      label: newLabel, content_id: old.contentId, parent_id: old.id, status: 'accepted',
    }).onConflict((oc) => oc.columns(['dataset_id', 'id']).doUpdateSet({ status: 'accepted' })).execute();
    await this.setStatus(datasetId, [sampleId], 'rejected');
    return (await this.get(datasetId, newId)) as SampleRecord;
  }

  async get(datasetId: string, id: string): Promise<SampleRecord | undefined> {
    const row = await this.db.selectFrom('samples').selectAll().where('dataset_id', '=', datasetId).where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toSample(row);
  }

  /** A page of a dataset's samples by id, optionally of one status; `after` is the previous page's `next`. */
  async page(datasetId: string, options: { readonly status?: SampleStatus; readonly after?: string; readonly limit: number }): Promise<SamplePage> {
    checkLimit(options.limit);
    let q = this.db.selectFrom('samples').selectAll().where('dataset_id', '=', datasetId);
    if (options.status !== undefined) q = q.where('status', '=', options.status);
    if (options.after !== undefined) q = q.where('id', '>', options.after);
    const rows = await q.orderBy('id').limit(options.limit + 1).execute();
    const more = rows.length > options.limit;
    const samples = rows.slice(0, options.limit).map(toSample);
    return { samples, next: more ? (samples.at(-1)?.id ?? null) : null };
  }

  /** A batch's samples stored from its file, in row order. */
  async ofBatch(batchId: string): Promise<SampleRecord[]> {
    const rows = await this.db.selectFrom('samples').selectAll().where('batch_id', '=', batchId).orderBy('row_index').execute();
    return rows.map(toSample);
  }

  /** Sets the status of the given samples of a dataset; returns how many exist and were set. */
  async setStatus(datasetId: string, ids: readonly string[], status: SampleStatus): Promise<number> {
    if (ids.length === 0) return 0;
    return inTransaction(this.db, async (tx) => {
      let changed = 0;
      for (const part of chunks(ids)) {
        const res = await tx.updateTable('samples').set({ status })
          .where('dataset_id', '=', datasetId).where(sql<boolean>`id = any(${part}::text[])`).executeTakeFirst();
        changed += Number(res.numUpdatedRows);
      }
      return changed;
    });
  }

  /** How many samples of a dataset are in each status. */
  async countByStatus(datasetId: string): Promise<Record<SampleStatus, number>> {
    const rows = await this.db.selectFrom('samples').select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('dataset_id', '=', datasetId).groupBy('status').execute();
    const out = { pending: 0, accepted: 0, quarantined: 0, rejected: 0 };
    for (const r of rows) out[r.status] = r.n;
    return out;
  }
}
