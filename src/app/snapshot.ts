/**
 * Verifiable dataset snapshots (issue 5 §2). A snapshot commits to a data set three ways:
 * - the bytes of its files: in-toto Statement v1 subjects with SHA-256 digests;
 * - its samples: the Merkle root over the sorted sample ids (ledger/sample-set.ts), so one sample's
 *   membership has a proof;
 * - the log: the DSSE envelope's digest is appended to the transparency log, with a receipt.
 * A snapshot directory holds statement.json (for reading), envelope.json (the signed truth),
 * samples.txt (the sorted ids) and receipt.tlog-proof.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { canonicalJson, sha256Hex } from '../core/index.ts';
import { readDataset } from '../data/index.ts';
import {
  LedgerError,
  buildSampleSet,
  buildStatement,
  createDsseSigner,
  createDsseVerifier,
  formatEnvelope,
  parseSignerKey,
  signStatement,
  verifyStatement,
  type ResourceDescriptor,
} from '../ledger/index.ts';
import { appendEntries, proveEntry, verifyReceiptFile, type VerifiedReceipt } from './ledger.ts';
import { digestFile, listFiles } from './input-digest.ts';

export const SNAPSHOT_PREDICATE_TYPE = 'https://trainguard.dev/snapshot/v1';
const FILES = { statement: 'statement.json', envelope: 'envelope.json', samples: 'samples.txt', receipt: 'receipt.tlog-proof' } as const;

export interface SnapshotPredicate {
  readonly dataset: string;
  readonly sampleRoot: string;
  readonly sampleCount: number;
  /** Samples per source (the `source` column), when the data has one. */
  readonly sources: Readonly<Record<string, number>> | null;
  /** SHA-256 of the scan report this snapshot was released against, if given. */
  readonly scanReport: { readonly sha256: string } | null;
  /** The parent snapshot's envelope digest, if any. */
  readonly parent: { readonly envelopeSha256: string } | null;
}

export interface SnapshotOptions {
  readonly dataset: string;
  readonly keyPath: string;
  readonly logDir: string;
  readonly outDir: string;
  readonly reportPath?: string;
  readonly parentDir?: string;
  /** Called with the data's sample root (hex) before anything is signed or logged; throw to stop. */
  readonly checkSampleRoot?: (sampleRoot: string) => void;
}

/** `trainguard snapshot create`: read the data, commit to its files and samples, sign, log, write the snapshot directory. */
export async function createSnapshot(dataPath: string, o: SnapshotOptions): Promise<{ outDir: string; index: number; sampleRoot: string; sampleCount: number; envelopeSha256: string }> {
  const signer = parseSignerKey((await readFile(o.keyPath, 'utf8')).trim());
  const dataset = await readDataset(dataPath, {});
  const set = buildSampleSet(dataset.ids);
  o.checkSampleRoot?.(Buffer.from(set.root).toString('hex'));
  let sources: Record<string, number> | null = null;
  if (dataset.sources !== null) {
    sources = {};
    for (const s of dataset.sources) sources[s ?? ''] = (sources[s ?? ''] ?? 0) + 1;
  }
  const predicate: SnapshotPredicate = {
    dataset: o.dataset,
    sampleRoot: Buffer.from(set.root).toString('hex'),
    sampleCount: set.ids.length,
    sources,
    scanReport: o.reportPath === undefined ? null : { sha256: await digestFile(o.reportPath) },
    parent: o.parentDir === undefined ? null : { envelopeSha256: sha256Hex(await readFile(join(o.parentDir, FILES.envelope))) },
  };
  const statement = buildStatement({ subject: await subjects(dataPath), predicateType: SNAPSHOT_PREDICATE_TYPE, predicate });
  const envelopeText = formatEnvelope(signStatement(statement, [createDsseSigner(signer)]));
  const envelopeSha256 = sha256Hex(envelopeText);
  const logged = await appendEntries(o.logDir, o.keyPath, [
    { kind: 'snapshot', body: { dataset: o.dataset, envelopeSha256, sampleRoot: predicate.sampleRoot, sampleCount: predicate.sampleCount }, idempotencyKey: `snapshot:${envelopeSha256}` },
  ]);
  const index = logged.indices[0]!;
  await mkdir(o.outDir, { recursive: true });
  await writeFile(join(o.outDir, FILES.statement), `${JSON.stringify(statement, null, 2)}\n`);
  await writeFile(join(o.outDir, FILES.envelope), envelopeText);
  await writeFile(join(o.outDir, FILES.samples), set.ids.map((id) => `${id}\n`).join(''));
  await writeFile(join(o.outDir, FILES.receipt), await proveEntry(o.logDir, index));
  return { outDir: o.outDir, index, sampleRoot: predicate.sampleRoot, sampleCount: predicate.sampleCount, envelopeSha256 };
}

export interface SnapshotVerification {
  readonly dataset: string;
  readonly sampleCount: number;
  readonly files: number;
  readonly receipt: VerifiedReceipt;
  /** Whether the data's bytes and samples were checked (only with `dataPath`). */
  readonly dataChecked: boolean;
}

/**
 * `trainguard verify <snapshot dir>`: offline. Each check fails with its own code:
 * LEDGER_BAD_ENVELOPE / LEDGER_BAD_SIGNATURE (envelope), LEDGER_BAD_RECEIPT / LEDGER_BAD_PROOF /
 * LEDGER_UNVERIFIED / LEDGER_FORK (log), LEDGER_SNAPSHOT_MISMATCH (a file, sample list or
 * commitment that does not match what was signed and logged).
 */
export async function verifySnapshot(dir: string, vkeyText: string, options: { dataPath?: string; statePath?: string; logDir?: string; policyText?: string } = {}): Promise<SnapshotVerification> {
  const read = async (name: string): Promise<Buffer> => {
    try {
      return await readFile(join(dir, name));
    } catch {
      throw new LedgerError('LEDGER_BAD_SNAPSHOT', `${join(dir, name)} is missing`, { hint: 'a snapshot directory is written by `trainguard snapshot create`' });
    }
  };
  const envelopeBytes = await read(FILES.envelope);
  const { statement } = verifyStatement(envelopeBytes, [createDsseVerifier(vkeyText.trim())]);
  if (statement.predicateType !== SNAPSHOT_PREDICATE_TYPE) throw mismatch(`the statement's predicate type is ${statement.predicateType}`);
  const p = statement.predicate as SnapshotPredicate;
  const receipt = await verifyReceiptFile((await read(FILES.receipt)).toString('utf8'), options.policyText ?? vkeyText, {
    policy: options.policyText !== undefined,
    ...(options.statePath === undefined ? {} : { statePath: options.statePath }),
    ...(options.logDir === undefined ? {} : { logDir: options.logDir }),
  });
  const body = receipt.entry?.body as { envelopeSha256?: string; sampleRoot?: string; sampleCount?: number } | undefined;
  if (receipt.entry?.kind !== 'snapshot' || body?.envelopeSha256 !== sha256Hex(envelopeBytes)) throw mismatch('the logged entry does not commit to this envelope');
  if (body.sampleRoot !== p.sampleRoot || body.sampleCount !== p.sampleCount) throw mismatch('the logged sample root differs from the signed one');
  let statementFile: unknown;
  try {
    statementFile = JSON.parse((await read(FILES.statement)).toString('utf8'));
  } catch {
    throw mismatch(`${FILES.statement} is not JSON`);
  }
  if (canonicalJson(statementFile) !== canonicalJson(statement)) throw mismatch(`${FILES.statement} differs from the signed statement`);
  const ids = (await read(FILES.samples)).toString('utf8').split('\n').filter((l) => l !== '');
  const set = buildSampleSet(ids);
  if (set.ids.length !== ids.length || Buffer.from(set.root).toString('hex') !== p.sampleRoot || set.ids.length !== p.sampleCount) throw mismatch(`${FILES.samples} does not hash to the signed sample root`);
  let dataChecked = false;
  if (options.dataPath !== undefined) {
    const actual = await subjects(options.dataPath);
    const want = new Map(statement.subject.map((s) => [s.name ?? '', s.digest?.['sha256'] ?? '']));
    if (actual.length !== want.size) throw mismatch(`the data has ${actual.length} files, the snapshot ${want.size}`);
    for (const s of actual) {
      const expected = want.get(s.name ?? '');
      if (expected === undefined) throw mismatch(`${s.name} is not in the snapshot`);
      if (expected !== s.digest?.['sha256']) throw mismatch(`${s.name}: its bytes changed (sha256 ${s.digest?.['sha256']?.slice(0, 16)}…, signed ${expected.slice(0, 16)}…)`);
    }
    const data = buildSampleSet((await readDataset(options.dataPath, {})).ids);
    if (!Buffer.from(data.root).equals(Buffer.from(set.root))) throw mismatch('the data’s sample ids differ from the snapshot’s');
    dataChecked = true;
  }
  return { dataset: p.dataset, sampleCount: p.sampleCount, files: statement.subject.length, receipt, dataChecked };
}

/**
 * `trainguard verify <file> --snapshot <dir>`: the snapshot verifies (as {@link verifySnapshot},
 * without the data) and the file's bytes are one of its signed subjects. A file whose name is a
 * subject must have that subject's digest; otherwise any subject with its digest will do (a
 * renamed copy). Fails with LEDGER_SNAPSHOT_MISMATCH when no subject has these bytes.
 */
export async function verifyFileInSnapshot(
  filePath: string,
  dir: string,
  vkeyText: string,
  options: { statePath?: string; logDir?: string; policyText?: string } = {},
): Promise<SnapshotVerification & { subject: string; sha256: string }> {
  const verified = await verifySnapshot(dir, vkeyText, options);
  const { statement } = verifyStatement(await readFile(join(dir, FILES.envelope)), [createDsseVerifier(vkeyText.trim())]);
  const sha256 = await digestFile(filePath);
  const name = basename(filePath);
  const named = statement.subject.find((s) => s.name === name || (s.name ?? '').endsWith(`/${name}`));
  if (named !== undefined && named.digest?.['sha256'] !== sha256) {
    throw mismatch(`${name}: its bytes changed (sha256 ${sha256.slice(0, 16)}…, signed ${(named.digest?.['sha256'] ?? '').slice(0, 16)}…)`);
  }
  const match = named ?? statement.subject.find((s) => s.digest?.['sha256'] === sha256);
  if (match === undefined) throw mismatch(`${name} (sha256 ${sha256.slice(0, 16)}…) is not one of the snapshot's ${statement.subject.length} files`);
  return { ...verified, subject: match.name ?? '', sha256 };
}

function mismatch(message: string): LedgerError {
  return new LedgerError('LEDGER_SNAPSHOT_MISMATCH', message, { hint: 'the snapshot, its log entry and the data must all be the ones committed; something was changed after signing' });
}

/** One subject per data file: the file itself, or every file under a folder (relative paths, sorted). */
async function subjects(path: string): Promise<ResourceDescriptor[]> {
  if (!(await stat(path)).isDirectory()) return [{ name: basename(path), digest: { sha256: await digestFile(path) } }];
  const out: ResourceDescriptor[] = [];
  for (const f of await listFiles(path)) out.push({ name: f.name, digest: { sha256: await digestFile(f.path) } });
  return out;
}
