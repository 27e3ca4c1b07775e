/**
 * The service's use cases over its parts: the database (store), the encrypted vault, access
 * control, the provenance log and background jobs. Each use case checks access first and writes
 * its provenance entry; none of the parts is reached around it.
 *
 * Ingest, all or nothing: the upload is parsed and content-addressed, encrypted into the vault
 * (content-addressed, so a retry re-puts nothing), logged with the batch's idempotency key (a retry
 * appends nothing), and only then the batch, its samples and its scan job are committed in one
 * database transaction. A crash between steps leaves at most an unreferenced vault object or a
 * logged batch that a retry with the same idempotency key completes (without a key, the entry of a
 * failed attempt stays in the log, referring to no stored batch) — never a batch that is stored
 * but not logged.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { zipSync } from 'fflate';
import { rolesWith, type AccessControl, type Principal } from '../access/index.ts';
import type { Config } from '../config/index.ts';
import { canonicalJson, sha256Hex, TrainGuardError, type Severity, severityRank } from '../core/index.ts';
import { parquetRows, readDataset, sampleId, type Dataset } from '../data/index.ts';
import type { JobContext, JobCounts, JobQueue } from '../jobs/index.ts';
import { buildSampleSet } from '../ledger/index.ts';
import { parseTable, serializeTable, type RawTable, type TableFormat } from '../redteam/index.ts';
import type { Store, BatchRecord, SampleRecord, SnapshotRecord, SourceStats } from '../store/index.ts';
import type { Vault } from '../vault/index.ts';
import type { EntryInput } from './ledger.ts';
import { BATCH_FORMATS, isBatchFormat, readBatch, sampleContent, samplePng, withBatchOnDisk, withFileOnDisk, type SampleContent } from './batch-files.ts';
import { proveEntry, showKey, verifyReceiptFile } from './ledger.ts';
import { scanFileInChild } from './scan-process.ts';
import { parseUpload } from './upload-parse.ts';
import { parseUploadOffThread } from './upload-parse-thread.ts';
import { ServiceError } from './service-errors.ts';
import type { ScanReport } from '../scan/index.ts';
import { createSnapshot } from './snapshot.ts';

export { ServiceError, type ServiceErrorCode } from './service-errors.ts';

/** A dataset's gate: which findings quarantine a sample, and when two reviewers must agree. */
export interface DatasetSettings {
  /** A sample whose strongest finding scores at least this is quarantined for review. */
  readonly quarantineScore: number;
  /** Findings of this severity or worse need two approvals from two different reviewers. */
  readonly twoPersonSeverity: Severity;
}

export const DEFAULT_DATASET_SETTINGS: DatasetSettings = { quarantineScore: 0.5, twoPersonSeverity: 'high' };

export const BATCH_LIMITS = {
  /** Bytes of one uploaded batch file. */
  maxBytes: 64 * 1024 * 1024,
  /** Samples in one batch. */
  maxSamples: 100_000,
} as const;

const SCAN_JOB = 'scan-batch';

export interface ServiceParts {
  readonly store: Store;
  readonly vault: Vault;
  readonly access: AccessControl;
  readonly queue: JobQueue;
  /** Appends provenance entries durably (the home's log). */
  readonly record: (entries: readonly EntryInput[]) => Promise<{ indices: number[] }>;
  /** The scan configuration (detectors, seed, limits). */
  readonly config: Config;
  /** Signing and storing releases: the log's key and directory, and where snapshot manifests live. */
  readonly releases: { readonly keyPath: string; readonly logDir: string; readonly dir: string };
}

export interface ReleaseResult {
  readonly snapshotId: string;
  readonly sampleCount: number;
  readonly sampleRoot: string;
  readonly logIndex: number;
  /** The release file's SHA-256: its vault name and the signed subject's digest. */
  readonly fileSha256: string;
}

export interface IngestRequest {
  readonly datasetId: string;
  readonly source: string;
  readonly format: string;
  readonly bytes: Uint8Array;
  /** The client's key for this upload: a retry with the same key returns the same batch. */
  readonly idempotencyKey?: string;
}

export interface IngestResult {
  readonly batch: BatchRecord;
  /** True when this request was a retry of an upload already ingested. */
  readonly replayed: boolean;
  readonly inserted: number;
  readonly duplicates: number;
  readonly jobId: string;
}

export type ReviewAction = 'approve' | 'reject' | 'relabel';

export interface DecisionRequest {
  readonly action: ReviewAction;
  /** Required for relabel: one of the dataset's labels, other than the sample's. */
  readonly newLabel?: string;
  /** Why; required. Logged only as its SHA-256 (it may name people). */
  readonly reason: string;
}

export interface DecisionResult {
  /** Whether this decision settled the task (enough agreeing reviewers). */
  readonly settled: boolean;
  /** Agreeing decisions so far, and how many the task needs. */
  readonly agreeing: number;
  readonly required: number;
  readonly logIndex: number;
  /** The sample now in the dataset: the same one (approve), none (reject) or the relabelled one. */
  readonly sampleId: string | null;
}

export class Service {
  constructor(readonly parts: ServiceParts) {}

  /** Creates a dataset (dataset:create); logged. */
  async createDataset(actor: Principal, input: { id: string; name: string; labels: readonly string[]; settings?: Partial<DatasetSettings> }): Promise<void> {
    const { store, access, record } = this.parts;
    await access.assertAllowed(actor, 'dataset:create');
    const settings = { ...DEFAULT_DATASET_SETTINGS, ...input.settings };
    if (!(settings.quarantineScore >= 0 && settings.quarantineScore <= 1)) {
      throw new ServiceError('SERVICE_BAD_INPUT', `quarantineScore must be in [0, 1], got ${settings.quarantineScore}`, { hint: 'for example 0.5' });
    }
    if ((await store.datasets.get(input.id)) !== undefined) {
      throw new ServiceError('SERVICE_CONFLICT', `dataset ${input.id} exists`, { hint: 'choose another id' });
    }
    const { indices } = await record([{ kind: 'dataset', body: { dataset: input.id, labels: [...input.labels], settings, actor: actor.id }, idempotencyKey: `dataset-${input.id}` }]);
    await store.datasets.create({ id: input.id, name: input.name, labelSet: input.labels, schema: {}, settings: { ...settings, logIndex: indices[0] }, createdBy: actor.id });
  }

  /** Ingests one batch (batch:push on the dataset); see the module comment for the order of steps. */
  async ingest(actor: Principal, request: IngestRequest): Promise<IngestResult> {
    const { store, vault, access, record } = this.parts;
    await access.assertAllowed(actor, 'batch:push', request.datasetId);
    if (!isBatchFormat(request.format)) throw new ServiceError('SERVICE_BAD_INPUT', `unknown format "${request.format}"`, { hint: `one of ${Object.keys(BATCH_FORMATS).join(', ')}` });
    if (request.bytes.length > BATCH_LIMITS.maxBytes) {
      throw new ServiceError('SERVICE_TOO_LARGE', `batch is ${request.bytes.length} bytes, over ${BATCH_LIMITS.maxBytes}`, { hint: 'split it into smaller batches' });
    }
    // The two lookups and a text upload's parse (on the parse thread) at once: on the embedded
    // database the lookups queue behind other uploads' writes (one session), and the parse need not
    // wait for them. A replay or an unknown dataset wastes one parse. Parquet and archives, parsed
    // here through files, wait for the lookups.
    const parsing = ['csv', 'tsv', 'jsonl'].includes(request.format) ? parseUploadOffThread(request.bytes, request.format) : undefined;
    parsing?.catch(() => undefined); // observed below, unless a lookup settles the request first
    const [dataset, earlier] = await Promise.all([
      store.datasets.get(request.datasetId),
      request.idempotencyKey === undefined ? undefined : store.batches.byIdempotencyKey(request.idempotencyKey),
    ]);
    if (dataset === undefined) throw new ServiceError('SERVICE_NOT_FOUND', `no dataset ${request.datasetId}`, { hint: 'create it first' });
    if (earlier !== undefined) {
      if (earlier.fileSha256 !== sha256Hex(request.bytes) || earlier.datasetId !== request.datasetId) {
        throw new ServiceError('SERVICE_CONFLICT', `idempotency key ${request.idempotencyKey} was used for another upload`, { hint: 'use a new key for new data' });
      }
      return this.#replay(earlier);
    }
    const parsed = await (parsing ?? parseUpload(request.bytes, request.format));
    if (parsed.n === 0) throw new ServiceError('SERVICE_BAD_INPUT', 'the batch has no samples', { hint: 'send at least one row' });
    if (parsed.skipped > 0) {
      // All or nothing: a stored sample is its batch's row, so a batch with unreadable rows is refused whole.
      const first = parsed.firstSkipped;
      throw new ServiceError('SERVICE_BAD_INPUT', `the batch has ${parsed.skipped} unreadable rows; the first: ${first?.message ?? ''}${first?.line === undefined ? '' : ` (line ${first.line})`}${first?.path === undefined ? '' : ` (${first.path})`}`, { hint: 'fix or drop those rows and push the batch again' });
    }
    if (parsed.n > BATCH_LIMITS.maxSamples) throw new ServiceError('SERVICE_TOO_LARGE', `batch has ${parsed.n} samples, over ${BATCH_LIMITS.maxSamples}`, { hint: 'split it into smaller batches' });
    const { labels, sampleRoot } = parsed;
    const unknown = [...new Set(labels)].filter((l) => !dataset.labelSet.includes(l));
    if (dataset.labelSet.length > 0 && unknown.length > 0) {
      throw new ServiceError('SERVICE_BAD_INPUT', `labels not in the dataset's label set: ${unknown.slice(0, 5).join(', ')}`, { hint: `labels: ${dataset.labelSet.join(', ')}` });
    }

    const put = await vault.put(request.bytes, { dataset: request.datasetId, kind: 'batch' });
    const batchId = `b_${(request.idempotencyKey === undefined ? randomBytes(12).toString('hex') : sha256Hex(`${request.datasetId}\n${request.idempotencyKey}`).slice(0, 24))}`;
    const sourceId = `s_${sha256Hex(`${request.datasetId}\n${request.source}`).slice(0, 24)}`;
    const { indices } = await record([{
      kind: 'batch',
      body: { batch: batchId, dataset: request.datasetId, source: sourceId, contributor: actor.id, sampleRoot, sampleCount: parsed.n, fileSha256: put.sha256, ciphertextSha256: put.ciphertextSha256 },
      idempotencyKey: `batch-${batchId}`,
    }]);
    const logIndex = indices[0] as number;
    try {
      // Source, batch, samples and scan job in one statement: all or nothing, and the job commits
      // with the batch, so the queue's workers find it however the process dies afterwards.
      const stored = await store.batches.ingest({
        source: { id: sourceId, datasetId: request.datasetId, name: request.source },
        batch: { id: batchId, datasetId: request.datasetId, sourceId, contributorId: actor.id, idempotencyKey: request.idempotencyKey ?? null, format: request.format, fileSha256: put.sha256, blobSha256: put.sha256, sampleRoot, logIndex },
        samples: parsed.ids.map((id, i) => ({ id, rowIndex: i, externalId: parsed.externalIds[i] ?? null, label: labels[i] as string, contentId: parsed.contentIds[i] as string })),
        job: { kind: SCAN_JOB, payload: { batchId }, singletonKey: `${SCAN_JOB}:${batchId}` },
      });
      return { batch: stored.batch, replayed: false, inserted: stored.inserted, duplicates: stored.duplicates, jobId: stored.jobId };
    } catch (err) {
      // Two requests with one key at once: both passed the lookup above and the other one's batch
      // committed first. That batch (same id, same bytes, same log entry) is this upload's: a replay.
      const raced = request.idempotencyKey !== undefined && err instanceof TrainGuardError && err.code === 'STORE_CONFLICT'
        ? await store.batches.byIdempotencyKey(request.idempotencyKey) : undefined;
      if (raced === undefined || raced.fileSha256 !== put.sha256 || raced.datasetId !== request.datasetId) throw err;
      return this.#replay(raced);
    }
  }

  /** An upload already stored: its batch again, and its scan job made sure of (a no-op when it exists). */
  async #replay(batch: BatchRecord): Promise<IngestResult> {
    const job = await this.parts.store.jobs.enqueue({ kind: SCAN_JOB, payload: { batchId: batch.id }, singletonKey: `${SCAN_JOB}:${batch.id}` });
    return { batch, replayed: true, inserted: 0, duplicates: 0, jobId: job.id };
  }

  /**
   * The scan job: decrypts the batch, scans it, records the findings once per batch (a retried or repeated job records nothing twice),
   * quarantines every sample whose strongest finding reaches the dataset's threshold and opens a
   * review task for it, and accepts the rest.
   */
  async scanBatch(job: Pick<JobContext, 'id'> & { readonly signal?: AbortSignal }, batchId: string): Promise<{ scanId: string; quarantined: number; accepted: number }> {
    const { store, vault } = this.parts;
    // A batch is scanned once: a job retried after a crash (or a second job for the batch) finds
    // the scan recorded and only makes sure it is logged.
    const existing = (await store.scans.ofBatch(batchId))[0];
    if (existing !== undefined) {
      const stats = existing.stats as { quarantined: number; accepted: number; findings: number };
      if (existing.logIndex === null) await this.#logScan(existing.id, existing.batchId, existing.datasetId, existing.reportSha256, stats);
      return { scanId: existing.id, quarantined: stats.quarantined, accepted: stats.accepted };
    }
    const batch = await store.batches.get(batchId);
    if (batch === undefined) throw new ServiceError('SERVICE_NOT_FOUND', `no batch ${batchId}`);
    const dataset = await store.datasets.get(batch.datasetId);
    if (dataset === undefined) throw new ServiceError('SERVICE_NOT_FOUND', `no dataset ${batch.datasetId}`);
    const settings = { ...DEFAULT_DATASET_SETTINGS, ...(dataset.settings as Partial<DatasetSettings>) };
    await store.batches.setStatus(batchId, 'scanning');
    const bytes = await vault.getBytes(batch.blobSha256, { context: { dataset: batch.datasetId, kind: 'batch' } });
    const own = new Set((await store.samples.ofBatch(batchId)).map((x) => x.id));
    const report = await this.#scanWithContext(batch, bytes, own, job.signal);
    // Only this batch's samples are judged; the accepted context was judged when it came in.
    const findings = report.findings.filter((f) => own.has(f.sampleId));

    const strongest = new Map<string, { score: number; severity: Severity }>();
    for (const f of findings) {
      const s = strongest.get(f.sampleId);
      if (s === undefined || f.score > s.score) strongest.set(f.sampleId, { score: f.score, severity: s !== undefined && severityRank(s.severity) > severityRank(f.severity) ? s.severity : f.severity });
    }
    const quarantined = [...strongest].filter(([, s]) => s.score >= settings.quarantineScore);
    const quarantinedIds = new Set(quarantined.map(([id]) => id));
    const accepted = [...own].filter((id) => !quarantinedIds.has(id));
    const scanId = `sc_${sha256Hex(`${batch.datasetId}\n${batchId}`).slice(0, 24)}`;
    const reportSha256 = sha256Hex(canonicalJson(report));
    const stats = { quarantined: quarantinedIds.size, accepted: accepted.length, findings: findings.length, context: report.samples.length - own.size };
    await store.transaction(async (repos) => {
      await repos.scans.record(
        { id: scanId, datasetId: batch.datasetId, batchId, jobId: job.id, reportSha256, stats },
        findings.map((f) => ({ sampleId: f.sampleId, detector: f.detector, code: f.code, score: f.score, severity: f.severity, message: f.message, evidence: f.evidence })),
      );
      await repos.samples.setStatus(batch.datasetId, [...quarantinedIds], 'quarantined');
      await repos.samples.setStatus(batch.datasetId, accepted, 'accepted');
      await repos.reviews.createTasks(quarantined.map(([sampleId, s]) => ({
        id: taskIdOf(batch.datasetId, sampleId),
        datasetId: batch.datasetId,
        sampleId,
        severity: s.severity,
        score: s.score,
        requiredApprovals: severityRank(s.severity) >= severityRank(settings.twoPersonSeverity) ? 2 : 1,
      })));
      await repos.batches.setStatus(batchId, 'scanned');
    });
    await this.#logScan(scanId, batchId, batch.datasetId, reportSha256, stats);
    return { scanId, quarantined: stats.quarantined, accepted: stats.accepted };
  }

  /**
   * Scans a batch together with up to CONTEXT_SAMPLES of the dataset's accepted samples from the
   * most recent scanned batches of the same format and header: a few poisoned rows are found by
   * how they disagree with the data already trusted (a conflicting copy of an accepted sample, a
   * label the accepted data contradicts), which a small batch alone cannot show. Falls back to the
   * batch alone when there is no such context, or when the combined file does not re-derive every
   * one of the batch's sample ids (the readers inferred the columns differently).
   */
  async #scanWithContext(batch: BatchRecord, bytes: Uint8Array, own: ReadonlySet<string>, signal?: AbortSignal): Promise<ScanReport> {
    // The detectors run in a child process, off this event loop (scan-process.ts).
    const scan = (data: Uint8Array): Promise<ScanReport> => withBatchOnDisk(data, batch.format, (path) => scanFileInChild(path, this.parts.config, signal));
    const alone = (): Promise<ScanReport> => scan(bytes);
    if (!['csv', 'tsv', 'jsonl'].includes(batch.format)) return alone();
    const context: SampleRecord[] = [];
    for (const b of await this.parts.store.batches.list(batch.datasetId, 100)) {
      if (context.length >= CONTEXT_SAMPLES) break;
      if (b.id === batch.id || b.status !== 'scanned' || b.format !== batch.format) continue;
      const accepted = (await this.parts.store.samples.ofBatch(b.id)).filter((x) => x.status === 'accepted' && !own.has(x.id));
      context.push(...accepted.slice(0, CONTEXT_SAMPLES - context.length));
    }
    if (context.length === 0) return alone();
    let combined: RawTable;
    try {
      const trusted = await this.#releaseTable(batch.datasetId, await this.#byBatch(context));
      const mine = parseTable(Buffer.from(bytes).toString('utf8'), batch.format as TableFormat);
      if (trusted.columns.join('\u0000') !== mine.columns.join('\u0000')) return alone();
      combined = { format: mine.format, columns: mine.columns, rows: [...trusted.rows, ...mine.rows] };
    } catch (err) {
      if (err instanceof ServiceError) return alone();
      throw err;
    }
    const text = Buffer.from(serializeTable(combined, combined.format).text);
    const report = await scan(text);
    const seen = new Set(report.samples.map((x) => x.id));
    return [...own].every((id) => seen.has(id)) ? report : alone();
  }

  /** Appends a scan's provenance entry (once: the idempotency key) and keeps its index with the scan. */
  async #logScan(scanId: string, batchId: string, datasetId: string, reportSha256: string, stats: { quarantined: number; accepted: number; findings: number }): Promise<void> {
    const { indices } = await this.parts.record([{ kind: 'scan', body: { batch: batchId, dataset: datasetId, scan: scanId, reportSha256, ...stats }, idempotencyKey: `scan-${scanId}` }]);
    await this.parts.store.scans.setLogIndex(scanId, indices[0] as number);
  }

  /**
   * A reviewer's decision on a quarantined sample (review:decide on its dataset). A reviewer
   * cannot review their own contribution. The task is settled when `requiredApprovals` different
   * reviewers agree on the same outcome (two for findings at the dataset's two-person severity);
   * until then each decision is recorded and logged. Settling applies the outcome: approve accepts
   * the sample, reject rejects it, relabel accepts the same content under the new label as a new
   * sample whose parent is the old one.
   */
  async decide(actor: Principal, taskId: string, request: DecisionRequest): Promise<DecisionResult> {
    const { store, access, record } = this.parts;
    const task = await store.reviews.get(taskId);
    if (task === undefined) throw new ServiceError('SERVICE_NOT_FOUND', `no review task ${taskId}`, { hint: 'list the review queue for open tasks' });
    await access.assertAllowed(actor, 'review:decide', task.datasetId);
    if (task.status !== 'open') throw new ServiceError('SERVICE_CONFLICT', `task ${taskId} is already decided`);
    const reason = request.reason.trim();
    if (reason.length === 0 || reason.length > 2000) throw new ServiceError('SERVICE_BAD_INPUT', 'a decision needs a reason of 1–2,000 characters', { hint: 'say what you saw, e.g. "trigger token in an otherwise ham message"' });
    if (!['approve', 'reject', 'relabel'].includes(request.action)) throw new ServiceError('SERVICE_BAD_INPUT', `unknown action "${String(request.action)}"`, { hint: 'approve, reject or relabel' });
    const sample = await store.samples.get(task.datasetId, task.sampleId);
    if (sample === undefined) throw new ServiceError('SERVICE_NOT_FOUND', `no sample ${task.sampleId}`);
    const batch = await store.batches.get(sample.batchId);
    if (batch?.contributorId === actor.id) {
      throw new ServiceError('SERVICE_SELF_REVIEW', 'a reviewer cannot review their own contribution', { hint: 'ask another reviewer of this dataset' });
    }
    const dataset = await store.datasets.get(task.datasetId);
    let newLabel: string | null = null;
    if (request.action === 'relabel') {
      newLabel = request.newLabel ?? '';
      if (newLabel === sample.label || (dataset !== undefined && dataset.labelSet.length > 0 && !dataset.labelSet.includes(newLabel))) {
        throw new ServiceError('SERVICE_BAD_INPUT', `relabel needs a label of the dataset other than "${sample.label}"`, { hint: `labels: ${dataset?.labelSet.join(', ') ?? ''}` });
      }
    } else if (request.newLabel !== undefined) {
      throw new ServiceError('SERVICE_BAD_INPUT', 'newLabel is only for relabel', { hint: 'drop newLabel, or use action relabel' });
    }
    if ((await store.reviews.decisions(taskId)).some((d) => d.reviewerId === actor.id)) {
      throw new ServiceError('SERVICE_CONFLICT', `you already decided task ${taskId}`, { hint: 'another reviewer must make the second decision' });
    }
    const decisionId = `d_${sha256Hex(`${taskId}\n${actor.id}`).slice(0, 24)}`;
    const body = { task: taskId, dataset: task.datasetId, sample: task.sampleId, reviewer: actor.id, action: request.action, newLabel, reasonSha256: sha256Hex(reason) };
    const { indices } = await record([{ kind: 'review', body, idempotencyKey: `review-${decisionId}` }]);
    const logIndex = indices[0] as number;
    return store.transaction(async (repos) => {
      await repos.reviews.recordDecision({ id: decisionId, taskId, reviewerId: actor.id, action: request.action, newLabel, reason, logIndex });
      const decisions = await repos.reviews.decisions(taskId);
      const agreeing = decisions.filter((d) => d.action === request.action && d.newLabel === newLabel).length;
      if (agreeing < task.requiredApprovals) return { settled: false, agreeing, required: task.requiredApprovals, logIndex, sampleId: task.sampleId };
      await repos.reviews.close(taskId);
      let now: string | null = task.sampleId;
      if (request.action === 'approve') await repos.samples.setStatus(task.datasetId, [task.sampleId], 'accepted');
      else if (request.action === 'reject') {
        await repos.samples.setStatus(task.datasetId, [task.sampleId], 'rejected');
        now = null;
      } else now = (await repos.samples.relabel(task.datasetId, task.sampleId, sampleId(sample.contentId, newLabel as string), newLabel as string)).id;
      return { settled: true, agreeing, required: task.requiredApprovals, logIndex, sampleId: now };
    });
  }

  /**
   * Releases the dataset's accepted samples as a signed snapshot (snapshot:create): the accepted
   * rows of every batch, with relabels applied, in one release file of the batches' format; that
   * file must re-derive exactly the accepted sample ids (else nothing is released); it is
   * encrypted into the vault, and its manifest is signed and logged in the existing snapshot
   * format (docs/ledger.md), with the previous release as parent.
   */
  async release(actor: Principal, datasetId: string): Promise<ReleaseResult> {
    const { store, vault, access, releases } = this.parts;
    await access.assertAllowed(actor, 'snapshot:create', datasetId);
    const accepted = await allAccepted(store, datasetId);
    if (accepted.length === 0) throw new ServiceError('SERVICE_CONFLICT', `dataset ${datasetId} has no accepted samples`, { hint: 'ingest batches and let them be scanned and reviewed first' });
    const file = await this.#releaseFile(datasetId, accepted);
    const want = Buffer.from(buildSampleSet(accepted.map((a) => a.id)).root).toString('hex');
    const parent = await store.snapshots.latest(datasetId);
    const snapshotId = `snap_${randomBytes(12).toString('hex')}`;
    const outDir = join(releases.dir, snapshotId);
    // The file is read once, by createSnapshot; its sample root is checked before anything is signed.
    const checkSampleRoot = (got: string): void => {
      if (got !== want) {
        throw new ServiceError('SERVICE_CONFLICT', 'the release file does not reproduce the accepted sample ids', { hint: 'a batch could not be re-read row for row; nothing was released' });
      }
    };
    const created = await withFileOnDisk(file.bytes, file.name, (path) => createSnapshot(path, {
      dataset: datasetId, keyPath: releases.keyPath, logDir: releases.logDir, outDir, checkSampleRoot,
      ...(parent === undefined ? {} : { parentDir: join(releases.dir, parent.id) }),
    }));
    const put = await vault.put(file.bytes, { dataset: datasetId, kind: 'release' });
    await store.snapshots.create({ id: snapshotId, datasetId, parentId: parent?.id ?? null, createdBy: actor.id, sampleCount: created.sampleCount, sampleRoot: created.sampleRoot, envelopeSha256: created.envelopeSha256, logIndex: created.index });
    return { snapshotId, sampleCount: created.sampleCount, sampleRoot: created.sampleRoot, logIndex: created.index, fileSha256: put.sha256 };
  }

  /**
   * A trainer pulls a snapshot (snapshot:pull): the decrypted release file and the signed manifest,
   * envelope, sample list and receipt, ready for `trainguard verify <out>/snapshot --data <file>`.
   */
  async pull(actor: Principal, snapshotId: string, outDir: string): Promise<{ dataFile: string; snapshotDir: string }> {
    const { files } = await this.snapshotFiles(actor, snapshotId);
    const data = await this.snapshotData(actor, snapshotId);
    const snapshotDir = join(outDir, 'snapshot');
    await mkdir(snapshotDir, { recursive: true });
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(snapshotDir, name), bytes);
    const dataFile = join(outDir, data.name);
    await writeFile(dataFile, data.bytes, { mode: 0o600 });
    return { dataFile, snapshotDir };
  }

  /**
   * The release file: the accepted samples of every batch, re-read from the vault, relabels
   * applied — a table (batch.csv, .tsv or .jsonl) or, for image batches, a zip of class folders
   * (batch.zip).
   */
  async #releaseFile(datasetId: string, accepted: readonly SampleRecord[]): Promise<{ name: string; bytes: Buffer }> {
    const batches = await this.#byBatch(accepted);
    const images = batches.filter(([b]) => b.format === 'images').length;
    if (images > 0 && images < batches.length) {
      throw new ServiceError('SERVICE_CONFLICT', 'the dataset mixes image batches with table batches', { hint: 'a release is one file: push every batch of a dataset in one kind of format' });
    }
    if (images > 0) return { name: 'batch.zip', bytes: await this.#releaseImages(datasetId, batches) };
    const table = await this.#releaseTable(datasetId, batches);
    return { name: `batch${BATCH_FORMATS[table.format] ?? '.csv'}`, bytes: Buffer.from(serializeTable(table, table.format).text) };
  }

  /**
   * Accepted images as a zip of class folders, `<label>/<batch>-<row><ext>` (stored, not deflated:
   * the images are compressed already). A relabelled image moves to its new label's folder; the
   * image reader derives the label from the folder, so the zip re-derives the accepted ids.
   */
  async #releaseImages(datasetId: string, batches: readonly [BatchRecord, SampleRecord[]][]): Promise<Buffer> {
    const files: Record<string, [Uint8Array, { level: 0 }]> = {};
    for (const [batch, samples] of batches) {
      const bytes = await this.parts.vault.getBytes(batch.blobSha256, { context: { dataset: datasetId, kind: 'batch' } });
      await withBatchOnDisk(bytes, 'images', async (root) => {
        const paths = (await readDataset(root, { columns: {} })).images?.paths ?? [];
        for (const s of samples) {
          const rel = paths[s.rowIndex];
          if (rel === undefined) throw new ServiceError('SERVICE_CONFLICT', `batch ${batch.id} has no image ${s.rowIndex}`);
          if (!/^[^/\\]+$/.test(s.label) || s.label === '.' || s.label === '..') {
            throw new ServiceError('SERVICE_CONFLICT', `label "${s.label}" cannot name a class folder`, { hint: 'image datasets need labels without slashes' });
          }
          files[`${s.label}/${batch.id}-${s.rowIndex}${extname(rel).toLowerCase()}`] = [await readFile(join(root, rel)), { level: 0 }];
        }
      });
    }
    return Buffer.from(zipSync(files));
  }

  /** Samples grouped by their batch, batches in id order. */
  async #byBatch(samples: readonly SampleRecord[]): Promise<[BatchRecord, SampleRecord[]][]> {
    const byBatch = new Map<string, SampleRecord[]>();
    for (const s of samples) byBatch.set(s.batchId, [...(byBatch.get(s.batchId) ?? []), s]);
    const out: [BatchRecord, SampleRecord[]][] = [];
    for (const [batchId, mine] of [...byBatch].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const batch = await this.parts.store.batches.get(batchId);
      if (batch === undefined) throw new ServiceError('SERVICE_NOT_FOUND', `no batch ${batchId}`);
      out.push([batch, mine]);
    }
    return out;
  }

  /** The accepted rows of each table batch, relabels applied, in one table. */
  async #releaseTable(datasetId: string, batches: readonly [BatchRecord, SampleRecord[]][]): Promise<RawTable> {
    const { vault } = this.parts;
    let out: { format: TableFormat; columns: string[]; labelAt: number; rows: RawTable['rows'] } | undefined;
    for (const [batch, samples] of batches) {
      const batchId = batch.id;
      const bytes = await vault.getBytes(batch.blobSha256, { context: { dataset: datasetId, kind: 'batch' } });
      // A Parquet batch is released as JSON Lines: its rows as JSON values read back to the same
      // sample ids (the readers agree across formats; release() checks it before signing).
      const table: RawTable = batch.format === 'parquet'
        ? { format: 'jsonl', ...(await parquetRows(bytes)) as { columns: string[]; rows: RawTable['rows'] } }
        : parseTable(Buffer.from(bytes).toString('utf8'), batch.format as TableFormat);
      const format = table.format;
      if (out === undefined) {
        // Which column is the label is the readers' inference; every later batch shares this header.
        const labelColumn = await withBatchOnDisk(bytes, batch.format, async (path) => {
          const roles = (await readDataset(path, { columns: {} })).roles;
          return Object.keys(roles).find((c) => roles[c] === 'label');
        });
        const labelAt = labelColumn === undefined ? -1 : table.columns.indexOf(labelColumn);
        if (labelAt < 0) throw new ServiceError('SERVICE_CONFLICT', `batch ${batchId} has no label column`);
        out = { format, columns: table.columns, labelAt, rows: [] };
      } else if (out.format !== format || out.columns.join('\u0000') !== table.columns.join('\u0000')) {
        throw new ServiceError('SERVICE_CONFLICT', `batch ${batchId} has another format or header than the dataset's first batch`, { hint: 'a release is one file: push every batch of a dataset with the same columns' });
      }
      for (const s of [...samples].sort((a, b) => a.rowIndex - b.rowIndex)) {
        const row = table.rows[s.rowIndex];
        if (row === undefined) throw new ServiceError('SERVICE_CONFLICT', `batch ${batchId} has no row ${s.rowIndex}`);
        const copy = [...row];
        copy[out.labelAt] = s.label;
        out.rows.push(copy);
      }
    }
    if (out === undefined) throw new ServiceError('SERVICE_CONFLICT', 'no batch holds an accepted sample');
    return { format: out.format, columns: out.columns, rows: out.rows };
  }

  /** A dataset at a glance (dataset:read-metadata): settings, sample counts by status, batches, open reviews. */
  async overview(actor: Principal, datasetId: string): Promise<{ id: string; name: string; labels: readonly string[]; settings: unknown; samples: Record<string, number>; batches: BatchRecord[]; sources: SourceStats[]; openReviews: number }> {
    const { store, access } = this.parts;
    await access.assertAllowed(actor, 'dataset:read-metadata', datasetId);
    const dataset = await store.datasets.get(datasetId);
    if (dataset === undefined) throw new ServiceError('SERVICE_NOT_FOUND', `no dataset ${datasetId}`);
    return {
      id: dataset.id,
      name: dataset.name,
      labels: dataset.labelSet,
      settings: dataset.settings,
      samples: await store.samples.countByStatus(datasetId),
      batches: await store.batches.list(datasetId, 100),
      sources: await store.sources.stats(datasetId),
      openReviews: await store.reviews.openCount(datasetId),
    };
  }

  /** The open review queue (finding:read), most severe first, each task with its sample's label and findings. */
  async reviewQueue(actor: Principal, datasetId: string, page: { limit: number; cursor?: string }): Promise<{ tasks: unknown[]; next: string | null }> {
    const { store, access } = this.parts;
    await access.assertAllowed(actor, 'finding:read', datasetId);
    const { tasks, next } = await store.reviews.openQueue(datasetId, page);
    const out = [];
    for (const t of tasks) {
      const sample = await store.samples.get(datasetId, t.sampleId);
      const made = await store.reviews.decisions(t.id);
      const names = await access.principalNames(made.map((d) => d.reviewerId));
      const decisions = made.map((d) => ({ reviewer: d.reviewerId, reviewerName: names.get(d.reviewerId) ?? d.reviewerId, action: d.action, newLabel: d.newLabel }));
      out.push({ ...t, label: sample?.label ?? null, batchId: sample?.batchId ?? null, rowIndex: sample?.rowIndex ?? null, decisions, findings: await store.scans.findingsForSample(datasetId, t.sampleId) });
    }
    return { tasks: out, next };
  }

  /** The datasets the actor may read (dataset:read-metadata), each with its counts. */
  async listDatasets(actor: Principal): Promise<{ id: string; name: string; labels: readonly string[]; openReviews: number; samples: Record<string, number> }[]> {
    const { store, access } = this.parts;
    // From the caller's own grants (readable without a permission), not one authorize per dataset:
    // each refused authorize is recorded as a `denied` access event, and listing is not an attempt.
    const readers = rolesWith('dataset:read-metadata');
    const grants = (await access.listGrants(actor, { principal: actor.name })).filter((g) => readers.includes(g.role));
    const everywhere = grants.some((g) => g.datasetId === null);
    const out = [];
    for (const d of await store.datasets.list()) {
      if (!everywhere && !grants.some((g) => g.datasetId === d.id)) continue;
      out.push({ id: d.id, name: d.name, labels: d.labelSet, openReviews: await store.reviews.openCount(d.id), samples: await store.samples.countByStatus(d.id) });
    }
    return out;
  }

  /** A sample's content as a reviewer needs it (sample:read): the row's values, its text, or its image's size. */
  async sample(actor: Principal, datasetId: string, sampleIdArg: string): Promise<SampleRecord & SampleContent> {
    const { sample, dataset } = await this.#readSample(actor, datasetId, sampleIdArg);
    return { ...sample, ...sampleContent(dataset, sample.rowIndex) };
  }

  /** A sample's image as PNG, at the size the detectors saw it (sample:read). */
  async sampleImage(actor: Principal, datasetId: string, sampleIdArg: string): Promise<Buffer> {
    const { sample, dataset } = await this.#readSample(actor, datasetId, sampleIdArg);
    if (dataset.images === null) throw new ServiceError('SERVICE_NOT_FOUND', `sample ${sampleIdArg} is not an image`);
    return samplePng(dataset, sample.rowIndex);
  }

  /**
   * Where a sample came from and what happened to it (dataset:read-metadata and log:read): its
   * batch, source and contributor, the scans, the review decisions (on it, or on the sample it
   * relabels), and for each of those log entries an inclusion receipt verified here against the
   * log's key. A reader can re-check each receipt offline with `trainguard log verify`.
   */
  async provenance(actor: Principal, datasetId: string, sampleIdArg: string): Promise<Provenance> {
    const { store, access, releases } = this.parts;
    await access.assertAllowed(actor, 'dataset:read-metadata', datasetId);
    await access.assertAllowed(actor, 'log:read', datasetId);
    const sample = await store.samples.get(datasetId, sampleIdArg);
    if (sample === undefined) throw new ServiceError('SERVICE_NOT_FOUND', `no sample ${sampleIdArg} in ${datasetId}`);
    const batch = await store.batches.get(sample.batchId);
    if (batch === undefined) throw new ServiceError('SERVICE_NOT_FOUND', `no batch ${sample.batchId}`);
    const source = await store.sources.get(batch.sourceId);
    const scans = await store.scans.ofBatch(batch.id);
    const lineage = sample.parentId === null ? [sample.id] : [sample.parentId, sample.id];
    const decisions = [];
    for (const id of lineage) decisions.push(...await store.reviews.decisions(taskIdOf(datasetId, id)));
    const names = await access.principalNames([batch.contributorId, ...decisions.map((d) => d.reviewerId)]);
    const vkey = await this.logPublicKey();
    const logged: { what: 'batch' | 'scan' | 'review'; logIndex: number | null }[] = [
      { what: 'batch', logIndex: batch.logIndex },
      ...scans.map((sc) => ({ what: 'scan' as const, logIndex: sc.logIndex })),
      ...decisions.map((d) => ({ what: 'review' as const, logIndex: d.logIndex })),
    ];
    const proofs = [];
    for (const { what, logIndex } of logged) {
      if (logIndex === null) continue;
      const receipt = await proveEntry(releases.logDir, logIndex);
      let verified = false;
      let treeSize = 0;
      try {
        const v = await verifyReceiptFile(receipt, vkey);
        verified = v.index === logIndex;
        treeSize = v.size;
      } catch {
        verified = false;
      }
      proofs.push({ what, logIndex, treeSize, verified, receipt });
    }
    return {
      sample: { id: sample.id, label: sample.label, status: sample.status, parentId: sample.parentId, contentId: sample.contentId, rowIndex: sample.rowIndex },
      batch: {
        id: batch.id, createdAt: batch.createdAt.toISOString(), fileSha256: batch.fileSha256, sampleRoot: batch.sampleRoot, logIndex: batch.logIndex, format: batch.format,
        source: { id: batch.sourceId, name: source?.name ?? batch.sourceId },
        contributor: { id: batch.contributorId, name: names.get(batch.contributorId) ?? batch.contributorId },
      },
      scans: scans.map((sc) => ({ id: sc.id, logIndex: sc.logIndex, reportSha256: sc.reportSha256, stats: sc.stats, createdAt: sc.createdAt.toISOString() })),
      decisions: decisions.map((d) => ({ reviewer: { id: d.reviewerId, name: names.get(d.reviewerId) ?? d.reviewerId }, action: d.action, newLabel: d.newLabel, at: d.createdAt.toISOString(), logIndex: d.logIndex })),
      proofs,
      logPublicKey: vkey,
    };
  }

  /** The log's public key: what snapshots, receipts and checkpoints verify against. */
  /**
   * Whether the service can reach its database and queue, and how many scan jobs are in each
   * state: what a load balancer or an operator polls (no dataset names, no principal needed).
   */
  async health(): Promise<{ database: string; jobs: JobCounts }> {
    return { database: this.parts.store.kind, jobs: await this.parts.queue.counts() };
  }

  async logPublicKey(): Promise<string> {
    return (await showKey(this.parts.releases.keyPath)).vkey;
  }

  /** A dataset's snapshots, newest first (dataset:read-metadata). */
  async snapshots(actor: Principal, datasetId: string): Promise<SnapshotRecord[]> {
    const { store, access } = this.parts;
    await access.assertAllowed(actor, 'dataset:read-metadata', datasetId);
    return store.snapshots.list(datasetId);
  }

  /** A snapshot's signed files (snapshot:pull): statement, envelope, sample list, receipt — what `trainguard verify` reads. */
  async snapshotFiles(actor: Principal, snapshotId: string): Promise<{ snapshot: SnapshotRecord; files: Record<string, Buffer>; dataFile: { name: string; sha256: string } }> {
    const { store, access, releases } = this.parts;
    const snapshot = await store.snapshots.get(snapshotId);
    if (snapshot === undefined) throw new ServiceError('SERVICE_NOT_FOUND', `no snapshot ${snapshotId}`, { hint: 'list a dataset\'s snapshots first' });
    await access.assertAllowed(actor, 'snapshot:pull', snapshot.datasetId);
    const dir = join(releases.dir, snapshotId);
    const files: Record<string, Buffer> = {};
    for (const f of await readdir(dir)) files[f] = await readFile(join(dir, f));
    const statement = JSON.parse((files['statement.json'] ?? Buffer.from('{}')).toString('utf8')) as { subject?: { name: string; digest: { sha256: string } }[] };
    const subject = statement.subject?.[0];
    if (subject === undefined) throw new ServiceError('SERVICE_NOT_FOUND', `snapshot ${snapshotId} names no file`);
    return { snapshot, files, dataFile: { name: subject.name, sha256: subject.digest.sha256 } };
  }

  /** A snapshot's release file, decrypted (snapshot:pull). */
  async snapshotData(actor: Principal, snapshotId: string): Promise<{ name: string; bytes: Uint8Array }> {
    const { snapshot, dataFile } = await this.snapshotFiles(actor, snapshotId);
    return { name: dataFile.name, bytes: await this.parts.vault.getBytes(dataFile.sha256, { context: { dataset: snapshot.datasetId, kind: 'release' } }) };
  }

  async #readSample(actor: Principal, datasetId: string, id: string): Promise<{ sample: SampleRecord; dataset: Dataset }> {
    const { store, access } = this.parts;
    await access.assertAllowed(actor, 'sample:read', datasetId);
    const sample = await store.samples.get(datasetId, id);
    if (sample === undefined) throw new ServiceError('SERVICE_NOT_FOUND', `no sample ${id} in ${datasetId}`);
    return { sample, dataset: await this.#batchDataset(sample.batchId) };
  }

  /** Read batches, a few at a time: a reviewer walks the queue batch by batch, and reading one decrypts and parses it whole. */
  readonly #batches = new Map<string, Promise<Dataset>>();

  async #batchDataset(batchId: string): Promise<Dataset> {
    const cached = this.#batches.get(batchId);
    if (cached !== undefined) {
      this.#batches.delete(batchId);
      this.#batches.set(batchId, cached);
      return cached;
    }
    const loading = (async () => {
      const batch = await this.parts.store.batches.get(batchId);
      if (batch === undefined) throw new ServiceError('SERVICE_NOT_FOUND', `no batch ${batchId}`);
      const bytes = await this.parts.vault.getBytes(batch.blobSha256, { context: { dataset: batch.datasetId, kind: 'batch' } });
      return readBatch(bytes, batch.format);
    })();
    this.#batches.set(batchId, loading);
    loading.catch(() => this.#batches.delete(batchId));
    while (this.#batches.size > BATCH_CACHE_SIZE) this.#batches.delete(this.#batches.keys().next().value as string);
    return loading;
  }

  /** Registers the scan job handler on the queue (the in-process pool, or a `trainguard worker`). */
  registerWorkers(concurrency = 1): void {
    this.parts.queue.work(SCAN_JOB, async (ctx) => this.scanBatch(ctx, (ctx.payload as { batchId: string }).batchId), { concurrency });
  }

  /**
   * On PostgreSQL: the scan jobs ingest commits in the database's job table (the outbox) are handed
   * on to `target` (pg-boss), one job per batch by singleton key, so a forward repeated after a
   * crash adds nothing; the outbox job completes only once the target acknowledged it.
   */
  forwardScans(outbox: JobQueue, target: JobQueue): void {
    outbox.work(SCAN_JOB, async (ctx) => {
      const { batchId } = ctx.payload as { batchId: string };
      return target.enqueue(SCAN_JOB, { batchId }, { singletonKey: `${SCAN_JOB}:${batchId}` });
    }, { concurrency: 1 });
  }
}

const BATCH_CACHE_SIZE = 4;
/** Accepted samples a batch is scanned beside. */
const CONTEXT_SAMPLES = 5000;

/** A review task's id: one task per sample. */
function taskIdOf(datasetId: string, sampleIdArg: string): string {
  return `t_${sha256Hex(`${datasetId}\n${sampleIdArg}`).slice(0, 24)}`;
}

export interface Provenance {
  readonly sample: { id: string; label: string; status: string; parentId: string | null; contentId: string; rowIndex: number };
  readonly batch: { id: string; createdAt: string; fileSha256: string; sampleRoot: string; logIndex: number | null; format: string; source: { id: string; name: string }; contributor: { id: string; name: string } };
  readonly scans: { id: string; logIndex: number | null; reportSha256: string; stats: unknown; createdAt: string }[];
  readonly decisions: { reviewer: { id: string; name: string }; action: string; newLabel: string | null; at: string; logIndex: number | null }[];
  /** Each logged event's inclusion receipt (C2SP tlog-proof) and whether it verified against the log's key. */
  readonly proofs: { what: 'batch' | 'scan' | 'review'; logIndex: number; treeSize: number; verified: boolean; receipt: string }[];
  readonly logPublicKey: string;
}

async function allAccepted(store: Store, datasetId: string): Promise<SampleRecord[]> {
  const out: SampleRecord[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.samples.page(datasetId, { status: 'accepted', limit: 1000, ...(after === undefined ? {} : { after }) });
    out.push(...page.samples);
    if (page.next === null) return out;
    after = page.next;
  }
}
