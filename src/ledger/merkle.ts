/**
 * RFC 6962 / RFC 9162 §2.1 Merkle tree: hashes, proof generation from stored perfect-subtree
 * hashes, and proof verification transcribed from RFC 9162 §2.1.3.2 and §2.1.4.2.
 *
 * Tree sizes and indices are plain numbers checked to be safe integers; they are halved with
 * Math.floor(x / 2) and tested with x % 2, never with bitwise operators (those truncate to 32 bits).
 */
import * as nodeCrypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { LedgerError } from './errors.ts';
import { nodeHashInto } from './node-hash.ts';

export const HASH_SIZE = 32;

/**
 * One-shot SHA-256 (`crypto.hash`, Node ≥ 20.12) is about twice as fast as a createHash object per
 * call, which matters for a million-leaf snapshot (3.3 s → 1.5 s of leaf hashing measured here).
 */
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }).hash;

function sha256Of(bytes: Uint8Array): Uint8Array {
  const digest = oneShot === undefined ? createHash('sha256').update(bytes).digest() : oneShot('sha256', bytes, 'buffer');
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

/** SHA-256(0x00 ‖ entry) — RFC 9162 §2.1.1 leaf hash. */
export function leafHash(entry: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + entry.length);
  input[0] = 0;
  input.set(entry, 1);
  return sha256Of(input);
}

/** SHA-256(0x01 ‖ left ‖ right) — RFC 9162 §2.1.1 interior node hash. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length === HASH_SIZE && right.length === HASH_SIZE) {
    const out = new Uint8Array(HASH_SIZE);
    nodeHashInto(left, 0, right, 0, out, 0);
    return out;
  }
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = 1;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return sha256Of(input);
}


/** MTH({}) = SHA-256(""). */
export const EMPTY_ROOT: Uint8Array = new Uint8Array(createHash('sha256').digest());

/** Reads the hash of the perfect subtree of 2^level leaves that starts at leaf index·2^level (must be complete in the tree of the given size). */
export interface HashReader {
  hashAt(level: number, index: number): Promise<Uint8Array> | Uint8Array;
}

/** A perfect subtree: 2^level leaves starting at leaf index·2^level. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/**
 * One element of a proof, as the perfect subtrees it is made of, left to right. A single node is
 * served as is; several nodes (the right edge of a tree whose size is not a power of two) hash
 * together from the right: nodeHash(n0, nodeHash(n1, … nodeHash(nk-1, nk))).
 */
export type ProofElementPlan = readonly NodeId[];

// ---------------------------------------------------------------------------------------------
// Small integer helpers (no bitwise operators: sizes may exceed 2^32).

function badInput(message: string, hint: string): LedgerError {
  return new LedgerError('LEDGER_BAD_INPUT', message, { hint });
}

function badProof(message: string, hint: string): LedgerError {
  return new LedgerError('LEDGER_BAD_PROOF', message, { hint });
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw badInput(
      `${name} must be a non-negative safe integer, got ${String(value)}`,
      'tree sizes and leaf indices are whole numbers below 2^53; parse them strictly before calling',
    );
  }
}

/** Largest power of two strictly less than n (n ≥ 2): the RFC's split point k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Largest power of two ≤ n (n ≥ 1), with its exponent. */
function highestPowerOfTwo(n: number): { size: number; level: number } {
  let size = 1;
  let level = 0;
  while (size * 2 <= n) {
    size *= 2;
    level += 1;
  }
  return { size, level };
}

function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  let p = 1;
  while (p < n) p *= 2;
  return p === n;
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

function checkHash(name: string, h: unknown, code: 'LEDGER_BAD_INPUT' | 'LEDGER_BAD_PROOF'): asserts h is Uint8Array {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
    const got = h instanceof Uint8Array ? `${h.length} bytes` : typeof h;
    throw new LedgerError(code, `${name} must be a ${HASH_SIZE}-byte SHA-256 hash, got ${got}`, {
      hint: 'hashes are raw 32-byte SHA-256 digests (decode hex or base64 first)',
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Roots.

/** RFC 9162 §2.1.1 MTH over leaf hashes (not entries), with the §2.1.2 stack: O(n) time, O(log n) memory. */
export function rootFromLeafHashes(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return EMPTY_ROOT;
  const stack: Uint8Array[] = [];
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i];
    checkHash(`leaf hash ${i}`, leaf, 'LEDGER_BAD_INPUT');
    stack.push(leaf);
    // Merge once per trailing 1-bit of i: each completes a perfect subtree.
    for (let c = i; isOdd(c); c = half(c)) {
      const right = stack.pop() as Uint8Array;
      const left = stack.pop() as Uint8Array;
      stack.push(nodeHash(left, right));
    }
  }
  let root = stack.pop() as Uint8Array;
  while (stack.length > 0) root = nodeHash(stack.pop() as Uint8Array, root);
  return root;
}

/**
 * The perfect subtrees that make up the RFC subtree D[lo:hi], left to right. lo must be a
 * multiple of the smallest power of two ≥ hi − lo, which holds for every subtree the RFC's
 * recursion produces, so each piece is aligned.
 */
function subtreePieces(lo: number, hi: number): NodeId[] {
  const pieces: NodeId[] = [];
  let start = lo;
  while (start < hi) {
    const { size, level } = highestPowerOfTwo(hi - start);
    pieces.push({ level, index: start / size });
    start += size;
  }
  return pieces;
}

/** Which perfect subtrees make MTH(D[0:size]). Empty for size 0 (the root is EMPTY_ROOT). */
export function treeRootPlan(size: number): ProofElementPlan {
  checkCount('tree size', size);
  return subtreePieces(0, size);
}

async function readHash(reader: HashReader, node: NodeId): Promise<Uint8Array> {
  const h: unknown = await reader.hashAt(node.level, node.index);
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
    const got = h instanceof Uint8Array ? `${h.length} bytes` : typeof h;
    throw new LedgerError('LEDGER_CORRUPT', `hash reader returned ${got} for level ${node.level} index ${node.index}, want ${HASH_SIZE} bytes`, {
      hint: 'the hash store is corrupt or out of sync with the tree size; run a full verification of the log',
    });
  }
  return h;
}

/** Fetches every node of the plan (in parallel, each distinct node once) and folds each element. */
async function materialise(reader: HashReader, plan: readonly ProofElementPlan[]): Promise<Uint8Array[]> {
  const cache = new Map<string, Promise<Uint8Array>>();
  const fetch = (n: NodeId): Promise<Uint8Array> => {
    const key = `${n.level}/${n.index}`;
    let p = cache.get(key);
    if (p === undefined) {
      p = readHash(reader, n);
      cache.set(key, p);
    }
    return p;
  };
  const fetched = await Promise.all(plan.map((element) => Promise.all(element.map(fetch))));
  return fetched.map(foldPieces);
}

function foldPieces(hashes: readonly Uint8Array[]): Uint8Array {
  let h = hashes[hashes.length - 1] as Uint8Array;
  for (let i = hashes.length - 2; i >= 0; i--) h = nodeHash(hashes[i] as Uint8Array, h);
  return h;
}

/** MTH(D[0:size]) from the stored perfect subtrees (at most ⌈log2 size⌉ + 1 reads). */
export async function treeRoot(reader: HashReader, size: number): Promise<Uint8Array> {
  const plan = treeRootPlan(size);
  if (plan.length === 0) return EMPTY_ROOT;
  const [root] = await materialise(reader, [plan]);
  return root as Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Proof generation: the RFC's recursive PATH and SUBPROOF, unrolled into loops over D[lo:hi],
// each element named by the perfect subtrees that make it up.

/** Plan of PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), leaf's sibling first. */
export function inclusionProofPlan(index: number, size: number): ProofElementPlan[] {
  checkCount('leaf index', index);
  checkCount('tree size', size);
  if (index >= size) {
    throw badInput(`leaf index ${index} is not in a tree of size ${size}`, 'an inclusion proof needs 0 ≤ index < size');
  }
  // Walk down from the root, recording siblings; the proof lists them bottom-up.
  const topDown: ProofElementPlan[] = [];
  let lo = 0;
  let hi = size;
  let m = index;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (m < k) {
      topDown.push(subtreePieces(lo + k, hi)); // MTH(D[k:n])
      hi = lo + k;
    } else {
      topDown.push(subtreePieces(lo, lo + k)); // MTH(D[0:k])
      lo += k;
      m -= k;
    }
  }
  return topDown.reverse();
}

/**
 * Plan of PROOF(oldSize, D[0:newSize]) (RFC 9162 §2.1.4.1). Empty when oldSize = newSize and,
 * following C2SP tlog-witness, when oldSize = 0 (verifyConsistency itself rejects size 0).
 */
export function consistencyProofPlan(oldSize: number, newSize: number): ProofElementPlan[] {
  checkCount('old tree size', oldSize);
  checkCount('new tree size', newSize);
  if (oldSize > newSize) {
    throw badInput(`old tree size ${oldSize} is larger than new tree size ${newSize}`, 'a log only grows: pass the older, smaller size first');
  }
  if (oldSize === 0 || oldSize === newSize) return [];
  const topDown: ProofElementPlan[] = [];
  let lo = 0;
  let hi = newSize;
  let m = oldSize;
  let b = true; // SUBPROOF's flag: the old root is a node the verifier already has.
  while (m !== hi - lo) {
    const k = splitPoint(hi - lo);
    if (m <= k) {
      topDown.push(subtreePieces(lo + k, hi)); // MTH(D[k:n])
      hi = lo + k;
    } else {
      topDown.push(subtreePieces(lo, lo + k)); // MTH(D[0:k])
      lo += k;
      m -= k;
      b = false;
    }
  }
  if (!b) topDown.push(subtreePieces(lo, hi)); // SUBPROOF(m, D[m], false) = [MTH(D[m])]
  return topDown.reverse();
}

/** PATH(index, D[0:size]) read from perfect-subtree hashes. */
export async function inclusionProof(reader: HashReader, index: number, size: number): Promise<Uint8Array[]> {
  return materialise(reader, inclusionProofPlan(index, size));
}

/** PROOF(oldSize, D[0:newSize]) read from perfect-subtree hashes ([] when oldSize is 0 or equals newSize). */
export async function consistencyProof(reader: HashReader, oldSize: number, newSize: number): Promise<Uint8Array[]> {
  return materialise(reader, consistencyProofPlan(oldSize, newSize));
}

// ---------------------------------------------------------------------------------------------
// Verification, transcribed from RFC 9162. Every failure throws LEDGER_BAD_PROOF; arguments
// that are not numbers or byte arrays of the right kind throw LEDGER_BAD_INPUT.

function checkProofElements(proof: readonly Uint8Array[]): void {
  if (!Array.isArray(proof)) throw badInput('proof must be an array of hashes', 'pass the decoded proof hashes in order');
  for (let i = 0; i < proof.length; i++) checkHash(`proof element ${i}`, proof[i], 'LEDGER_BAD_PROOF');
}

/** Verifies PATH(index, D[size]) for a leaf hash against a root (RFC 9162 §2.1.3.2); throws LEDGER_BAD_PROOF. */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  checkCount('leaf index', index);
  checkCount('tree size', size);
  checkHash('leaf hash', leafHash, 'LEDGER_BAD_PROOF');
  checkHash('root', root, 'LEDGER_BAD_PROOF');
  checkProofElements(proof);
  // 1. Compare leaf_index from the inclusion_proof_v2 structure against tree_size.
  if (index >= size) {
    throw badProof(`leaf index ${index} is not in a tree of size ${size}`, 'the proof names a leaf beyond the tree');
  }
  // 2. Set fn to leaf_index and sn to tree_size - 1.  3. Set r to hash.
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  // 4. For each value p in the inclusion_path array:
  for (const p of proof) {
    // a. If sn is 0, then stop the iteration and fail the proof verification.
    if (sn === 0) throw badProof('inclusion proof is too long', 'the proof does not belong to this index and tree size');
    // b. If LSB(fn) is set, or if fn is equal to sn, then:
    if (isOdd(fn) || fn === sn) {
      // i. Set r to HASH(0x01 || p || r).
      r = nodeHash(p, r);
      // ii. If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn) is set or fn is 0.
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      // Otherwise: i. Set r to HASH(0x01 || r || p).
      r = nodeHash(r, p);
    }
    // c. Finally, right-shift both fn and sn one time.
    fn = half(fn);
    sn = half(sn);
  }
  // 5. Compare sn to 0. Compare r against the root_hash. If sn is equal to 0 and r and the
  //    root_hash are equal, then the log has proven the inclusion of hash.
  if (sn !== 0) throw badProof('inclusion proof is too short', 'the proof does not belong to this index and tree size');
  if (!equalBytes(r, root)) {
    throw badProof('inclusion proof does not lead to the root', 'the leaf, the proof or the root is wrong or was tampered with');
  }
}

/**
 * Verifies PROOF(oldSize, D[newSize]) (RFC 9162 §2.1.4.2) with transparency-dev/merkle's edge
 * cases: newSize < oldSize fails; oldSize 0 fails (a proof from the empty tree is meaningless —
 * a witness that accepts old size 0 must special-case it); equal sizes need an empty proof and
 * equal roots. Throws LEDGER_BAD_PROOF.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  checkCount('old tree size', oldSize);
  checkCount('new tree size', newSize);
  if (!(oldRoot instanceof Uint8Array) || !(newRoot instanceof Uint8Array)) {
    throw badInput('roots must be byte arrays', 'decode the roots from hex or base64 first');
  }
  checkProofElements(proof);
  if (newSize < oldSize) {
    throw badProof(`new tree size ${newSize} is smaller than old tree size ${oldSize}`, 'a log only grows; the checkpoints are swapped or the log forked');
  }
  if (oldSize === 0) {
    throw badProof('a consistency proof from the empty tree is meaningless', 'every tree extends the empty tree; check the new root on its own');
  }
  if (oldSize === newSize) {
    if (proof.length !== 0) throw badProof('sizes are equal but the proof is not empty', 'a proof between equal sizes has no elements');
    // transparency-dev compares the roots as bytes here, whatever their length.
    if (!equalBytes(oldRoot, newRoot)) throw badProof('same tree size with different roots', 'the log forked: two roots for one size');
    return;
  }
  checkHash('old root', oldRoot, 'LEDGER_BAD_PROOF');
  checkHash('new root', newRoot, 'LEDGER_BAD_PROOF');
  // 1. If consistency_path is an empty array, stop and fail the proof verification.
  if (proof.length === 0) throw badProof('consistency proof is empty', 'a proof between different sizes has at least one element');
  // 2. If first is an exact power of 2, then prepend first_hash to the consistency_path array.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  // 3. Set fn to first - 1 and sn to second - 1.
  let fn = oldSize - 1;
  let sn = newSize - 1;
  // 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // 5. Set both fr and sr to the first value in the consistency_path array.
  let fr = path[0] as Uint8Array;
  let sr = fr;
  // 6. For each subsequent value c in the consistency_path array:
  for (let i = 1; i < path.length; i++) {
    const c = path[i] as Uint8Array;
    // a. If sn is 0, then stop the iteration and fail the proof verification.
    if (sn === 0) throw badProof('consistency proof is too long', 'the proof does not belong to these tree sizes');
    // b. If LSB(fn) is set, or if fn is equal to sn, then:
    if (isOdd(fn) || fn === sn) {
      // i. Set fr to HASH(0x01 || c || fr). Set sr to HASH(0x01 || c || sr).
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      // ii. If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn) is set or fn is 0.
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      // Otherwise: i. Set sr to HASH(0x01 || sr || c).
      sr = nodeHash(sr, c);
    }
    // c. Finally, right-shift both fn and sn one time.
    fn = half(fn);
    sn = half(sn);
  }
  // 7. After completing iterating through the consistency_path array as described above, verify
  //    that the fr calculated is equal to the first_hash supplied, that the sr calculated is
  //    equal to the second_hash supplied, and that sn is 0.
  if (sn !== 0) throw badProof('consistency proof is too short', 'the proof does not belong to these tree sizes');
  if (!equalBytes(fr, oldRoot)) throw badProof('consistency proof does not lead to the old root', 'the old root or the proof is wrong');
  if (!equalBytes(sr, newRoot)) throw badProof('consistency proof does not lead to the new root', 'the log is not an extension of the old tree, or the proof was tampered with');
}
