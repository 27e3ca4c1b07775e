/**
 * What ingest needs from an upload, computed in one place: the rows' sample ids (content-addressed),
 * labels and external ids, the rows that could not be read, and the Merkle root of the ids. Runs
 * on the parse thread for CSV/TSV/JSONL (upload-parse-thread.ts) and on the calling thread for
 * Parquet and image archives.
 */
import { buildSampleSet } from '../ledger/index.ts';
import { readBatch } from './batch-files.ts';

export interface ParsedUpload {
  readonly n: number;
  readonly ids: readonly string[];
  readonly contentIds: readonly string[];
  readonly externalIds: readonly (string | null)[];
  readonly labels: readonly string[];
  /** How many rows could not be read, and the first one's reason. */
  readonly skipped: number;
  readonly firstSkipped?: { readonly message: string; readonly line?: number; readonly path?: string };
  /** Hex Merkle root over the sorted sample ids (ledger/sample-set.ts). */
  readonly sampleRoot: string;
}

export async function parseUpload(bytes: Uint8Array, format: string): Promise<ParsedUpload> {
  const parsed = await readBatch(bytes, format);
  const first = parsed.skipped[0];
  return {
    n: parsed.n,
    ids: parsed.ids,
    contentIds: parsed.contentIds,
    externalIds: Array.from({ length: parsed.n }, (_, i) => parsed.externalIds[i] ?? null),
    labels: Array.from(parsed.labelCodes, (c) => parsed.labelNames[c] ?? ''),
    skipped: parsed.skipped.length,
    ...(first === undefined ? {} : { firstSkipped: { message: first.message, ...(first.line === undefined ? {} : { line: first.line }), ...(first.path === undefined ? {} : { path: first.path }) } }),
    sampleRoot: Buffer.from(buildSampleSet(parsed.ids).root).toString('hex'),
  };
}
