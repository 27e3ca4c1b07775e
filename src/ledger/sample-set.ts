/**
 * A snapshot's sample set as a Merkle tree: the leaves are the 32-byte sample ids (TrainGuard's
 * content-addressed ids, hex SHA-256), sorted by value and de-duplicated, so the root commits to
 * the set, not to the order rows happened to be read in, and any one sample's membership has an
 * RFC 6962 inclusion proof against it.
 */
import { LedgerError } from './errors.ts';
import { inclusionProof, leafHash, nodeHash, rootFromLeafHashes, verifyInclusion, type HashReader } from './merkle.ts';
import { leafHash32Into } from './node-hash.ts';

export interface SampleSet {
  /** Sorted, unique ids (lowercase hex). */
  readonly ids: readonly string[];
  readonly root: Uint8Array;
}

const ID = /^[0-9a-f]{64}$/;

function idBytes(id: string): Uint8Array {
  if (!ID.test(id)) throw new LedgerError('LEDGER_BAD_SNAPSHOT', `sample id "${id.slice(0, 80)}" is not 64 lowercase hex digits`, { hint: 'sample ids are the SHA-256 ids of the scan report' });
  return Buffer.from(id, 'hex');
}

/** The set's root: MTH over leafHash(id bytes) of the sorted unique ids. */
export function buildSampleSet(ids: Iterable<string>): SampleSet {
  const sorted = [...new Set(ids)].sort();
  return { ids: sorted, root: rootFromLeafHashes(leafHashes(sorted)) };
}

/**
 * The leaf hashes of ids, in order. One hex check and one decode for all of them, and the
 * one-block leaf hash into one buffer: a third of a 1,000-row upload's parse went to per-id
 * regex, decode and node:crypto calls. A bad id is found by the per-id check, for its message.
 */
function leafHashes(ids: readonly string[]): Uint8Array[] {
  const joined = ids.join('');
  if (!ALL_HEX.test(joined) || ids.some((id) => id.length !== 64)) for (const id of ids) idBytes(id);
  const bytes = Buffer.from(joined, 'hex');
  const hashes = new Uint8Array(bytes.length);
  return ids.map((_, i) => {
    leafHash32Into(bytes, 32 * i, hashes, 32 * i);
    return hashes.subarray(32 * i, 32 * i + 32);
  });
}

const ALL_HEX = /^[0-9a-f]*$/;

/** Membership proof of `id`: its position in the sorted set and the audit path. */
export async function sampleProof(set: SampleSet, id: string): Promise<{ index: number; proof: Uint8Array[] }> {
  const index = binarySearch(set.ids, id);
  if (index < 0) throw new LedgerError('LEDGER_BAD_SNAPSHOT', `sample ${id.slice(0, 16)}… is not in the snapshot`, { hint: 'check the id against the snapshot’s sample list' });
  return { index, proof: await inclusionProof(levelReader(leafHashes(set.ids)), index, set.ids.length) };
}

/** Throws LEDGER_BAD_PROOF unless `id` is at `index` of a set of `size` samples with this root. */
export function verifySampleProof(id: string, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): void {
  verifyInclusion(leafHash(idBytes(id)), index, size, proof, root);
}

function binarySearch(sorted: readonly string[], x: string): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const v = sorted[mid]!;
    if (v === x) return mid;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** A HashReader over in-memory leaf hashes: every level of perfect subtrees, built once. */
function levelReader(leaves: readonly Uint8Array[]): HashReader {
  const levels: Uint8Array[][] = [leaves.slice()];
  while (levels.at(-1)!.length > 1) {
    const below = levels.at(-1)!;
    const up: Uint8Array[] = [];
    for (let i = 0; i + 1 < below.length; i += 2) up.push(nodeHash(below[i]!, below[i + 1]!));
    levels.push(up);
  }
  return {
    hashAt(level, index) {
      const h = levels[level]?.[index];
      if (h === undefined) throw new LedgerError('LEDGER_BAD_INPUT', `no complete subtree at level ${level}, index ${index}`);
      return h;
    },
  };
}
