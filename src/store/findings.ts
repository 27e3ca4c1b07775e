import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import type { Severity } from '../core/index.ts';
import { translateWriteError } from './errors.ts';
import { checkHex64, chunks, inTransaction } from './executor.ts';
import type { Executor } from './executor.ts';
import { toJson } from './schema.ts';
import type { FindingsTable, ScansTable } from './schema.ts';

export interface NewScan {
  readonly id: string;
  readonly datasetId: string;
  readonly batchId: string;
  /** The job that ran the scan; unique, so a retried job cannot record its scan twice. */
  readonly jobId?: string | null;
  /** SHA-256 of the stored scan report. */
  readonly reportSha256: string;
  readonly stats: unknown;
}

export interface ScanRecord {
  readonly id: string;
  readonly datasetId: string;
  readonly batchId: string;
  readonly jobId: string | null;
  readonly reportSha256: string;
  readonly stats: unknown;
  /** The scan's provenance entry, once appended. */
  readonly logIndex: number | null;
  readonly createdAt: Date;
}

/** A finding as stored: one detector's verdict on one sample of a scan. */
export interface NewFinding {
  readonly sampleId: string;
  readonly detector: string;
  readonly code: string;
  readonly score: number;
  readonly severity: Severity;
  readonly message: string;
  readonly evidence: Readonly<Record<string, unknown>>;
}

export interface FindingRecord extends NewFinding {
  readonly id: number;
  readonly scanId: string;
  readonly datasetId: string;
}

function toScan(row: Selectable<ScansTable>): ScanRecord {
  return {
    id: row.id,
    datasetId: row.dataset_id,
    batchId: row.batch_id,
    jobId: row.job_id,
    reportSha256: row.report_sha256,
    stats: row.stats,
    logIndex: row.log_index === null ? null : Number(row.log_index),
    createdAt: row.created_at,
  };
}

function toFinding(row: Selectable<FindingsTable>): FindingRecord {
  return {
    id: row.id,
    scanId: row.scan_id,
    datasetId: row.dataset_id,
    sampleId: row.sample_id,
    detector: row.detector,
    code: row.code,
    score: row.score,
    severity: row.severity as Severity,
    message: row.message,
    evidence: row.evidence as Record<string, unknown>,
  };
}

/** Scans of batches and their findings. */
export class ScanRepo {
  constructor(private readonly db: Executor) {}

  /**
   * Records a scan and all its findings in one transaction (bulk `unnest` inserts).
   * STORE_CONFLICT when the scan id or its job id is already recorded.
   */
  async record(scan: NewScan, findings: readonly NewFinding[]): Promise<ScanRecord> {
    checkHex64(scan.reportSha256, 'reportSha256');
    try {
      return await inTransaction(this.db, async (tx) => {
        const row = await tx.insertInto('scans').values({
          id: scan.id,
          dataset_id: scan.datasetId,
          batch_id: scan.batchId,
          job_id: scan.jobId ?? null,
          report_sha256: scan.reportSha256,
          stats: toJson(scan.stats),
        }).returningAll().executeTakeFirstOrThrow();
        for (const part of chunks(findings)) await insertFindings(tx, scan, part);
        return toScan(row);
      });
    } catch (err) {
      return translateWriteError(err, `scan ${scan.id}`);
    }
  }

  async get(id: string): Promise<ScanRecord | undefined> {
    const row = await this.db.selectFrom('scans').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toScan(row);
  }

  /** The scan a job recorded, so a job that restarts after a crash can tell it already did. */
  async byJob(jobId: string): Promise<ScanRecord | undefined> {
    const row = await this.db.selectFrom('scans').selectAll().where('job_id', '=', jobId).executeTakeFirst();
    return row === undefined ? undefined : toScan(row);
  }

  /** A batch's scans, oldest first. */
  async ofBatch(batchId: string): Promise<ScanRecord[]> {
    const rows = await this.db.selectFrom('scans').selectAll().where('batch_id', '=', batchId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toScan);
  }

  async setLogIndex(scanId: string, logIndex: number): Promise<void> {
    await this.db.updateTable('scans').set({ log_index: logIndex }).where('id', '=', scanId).execute();
  }

  /** A sample's findings over all scans, strongest first. */
  async findingsForSample(datasetId: string, sampleId: string): Promise<FindingRecord[]> {
    const rows = await this.db.selectFrom('findings').selectAll()
      .where('dataset_id', '=', datasetId).where('sample_id', '=', sampleId)
      .orderBy('score', 'desc').orderBy('id').execute();
    return rows.map(toFinding);
  }

  /** A scan's findings in insertion order. */
  async findingsOfScan(scanId: string): Promise<FindingRecord[]> {
    const rows = await this.db.selectFrom('findings').selectAll().where('scan_id', '=', scanId).orderBy('id').execute();
    return rows.map(toFinding);
  }
}

async function insertFindings(tx: Executor, scan: NewScan, part: readonly NewFinding[]): Promise<void> {
  await sql`
    insert into findings (scan_id, dataset_id, sample_id, detector, code, score, severity, message, evidence)
    select ${scan.id}, ${scan.datasetId}, u.sample_id, u.detector, u.code, u.score, u.severity, u.message, u.evidence::jsonb
    from unnest(${part.map((f) => f.sampleId)}::text[], ${part.map((f) => f.detector)}::text[],
                ${part.map((f) => f.code)}::text[], ${part.map((f) => f.score)}::real[],
                ${part.map((f) => f.severity)}::text[], ${part.map((f) => f.message)}::text[],
                ${part.map((f) => toJson(f.evidence))}::text[])
      as u (sample_id, detector, code, score, severity, message, evidence)`.execute(tx);
}
