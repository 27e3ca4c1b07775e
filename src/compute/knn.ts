/**
 * Exact k-nearest-neighbour graphs. onnxruntime computes blocked scores (one Gemm) and a TopK
 * inside the same graph, so only a few candidates per query come back to JS; JS then recomputes
 * those candidates' distances exactly (float64 on the inputs) and orders them by (distance, index).
 * The recompute makes exact duplicates come out at distance 0 and makes the result independent of
 * float32 rounding in the Gemm, as long as the true k nearest are among the candidates (we fetch
 * a few spare ones for that).
 */
import { ComputeError } from './errors.ts';
import { assertFinite, checkDense, l2NormalizeRows } from './kernels.ts';
import type { DenseMatrix, KnnGraph } from './matrix.ts';
import { floatTensor, knnTopKGraph, loadOrt, run, session } from './ort.ts';

export type KnnMetric = 'cosine' | 'euclidean';

export interface KnnOptions {
  readonly metric?: KnnMetric;
  readonly onProgress?: (done: number, total: number) => void;
  /** Query rows per ORT call; default keeps one score block near 64 MiB. */
  readonly blockRows?: number;
  /** Extra candidates fetched beyond k (+1 for self) to absorb float32 ranking error. */
  readonly spareCandidates?: number;
}

const SCORE_BLOCK_FLOATS = 1 << 24;

/** Rows scaled to unit norm (zero rows stay zero), as a new array. */
function unitRows(x: DenseMatrix): { data: Float32Array; zero: Uint8Array } {
  const { data } = l2NormalizeRows({ ...x, data: new Float32Array(x.data) });
  const zero = new Uint8Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let nonZero = false;
    for (let j = i * x.cols; j < (i + 1) * x.cols && !nonZero; j++) nonZero = data[j] !== 0;
    if (!nonZero) zero[i] = 1;
  }
  return { data, zero };
}

/**
 * Exact distance between row i of `a` and row j of `b` (float64 accumulation).
 * Cosine works on unit rows: 1 − cos = ½‖â − b̂‖², which is exactly 0 for identical rows;
 * a zero row is at distance 1 from every non-zero row and 0 from another zero row.
 */
function distance(a: Float32Array, i: number, b: Float32Array, j: number, d: number, cosine: boolean, za: boolean, zb: boolean): number {
  if (cosine && za !== zb) return 1;
  const ao = i * d;
  const bo = j * d;
  let s = 0;
  for (let p = 0; p < d; p++) {
    const t = a[ao + p]! - b[bo + p]!;
    s += t * t;
  }
  return cosine ? 0.5 * s : Math.sqrt(s);
}

interface Prepared {
  readonly q: Float32Array;
  readonly r: Float32Array;
  readonly qZero: Uint8Array;
  readonly rZero: Uint8Array;
  readonly d: number;
  readonly cosine: boolean;
}

function prepare(reference: DenseMatrix, queries: DenseMatrix, metric: KnnMetric, same: boolean): Prepared {
  const cosine = metric === 'cosine';
  if (!cosine) {
    const none = new Uint8Array(0);
    return { q: queries.data, r: reference.data, qZero: none, rZero: none, d: reference.cols, cosine };
  }
  const r = unitRows(reference);
  const q = same ? r : unitRows(queries);
  return { q: q.data, r: r.data, qZero: q.zero, rZero: r.zero, d: reference.cols, cosine };
}

/** Keeps the k best (distance, index) pairs, ordered ascending, ties by lower index. */
class TopK {
  readonly dist: Float64Array;
  readonly idx: Int32Array;
  size = 0;
  constructor(readonly k: number) {
    this.dist = new Float64Array(k);
    this.idx = new Int32Array(k);
  }
  reset(): void {
    this.size = 0;
  }
  push(dv: number, iv: number): void {
    const { k, dist, idx } = this;
    if (this.size === k) {
      const ld = dist[k - 1]!;
      if (dv > ld || (dv === ld && iv > idx[k - 1]!)) return;
    } else {
      this.size++;
    }
    let p = this.size - 1;
    while (p > 0) {
      const pd = dist[p - 1]!;
      if (pd < dv || (pd === dv && idx[p - 1]! < iv)) break;
      dist[p] = pd;
      idx[p] = idx[p - 1]!;
      p--;
    }
    dist[p] = dv;
    idx[p] = iv;
  }
}

function checkK(k: number, available: number, what: string): void {
  if (!Number.isInteger(k) || k < 1) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `${what}: k must be a positive integer, got ${k}`);
  if (k > available) {
    throw new ComputeError('COMPUTE_TOO_FEW_SAMPLES', `${what}: k=${k} needs at least ${k} other rows, have ${available}`, {
      hint: 'use a smaller k or more samples',
    });
  }
}

function checkInputs(reference: DenseMatrix, queries: DenseMatrix, what: string): void {
  checkDense(reference, what);
  checkDense(queries, what);
  if (reference.cols !== queries.cols) {
    throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `${what}: reference has ${reference.cols} columns, queries ${queries.cols}`);
  }
  assertFinite(reference.data, reference.cols, what);
  if (queries !== reference) assertFinite(queries.data, queries.cols, what);
}

/** Exact search of query rows [q0, q1) by brute force in JS, writing into the output arrays. */
function bruteRows(p: Prepared, nRef: number, q0: number, q1: number, k: number, excludeSelf: boolean, outI: Int32Array, outD: Float32Array): void {
  const top = new TopK(k);
  const { q, r, d, cosine, qZero, rZero } = p;
  for (let i = q0; i < q1; i++) {
    top.reset();
    const zi = cosine && qZero[i] === 1;
    for (let j = 0; j < nRef; j++) {
      if (excludeSelf && j === i) continue;
      top.push(distance(q, i, r, j, d, cosine, zi, cosine && rZero[j] === 1), j);
    }
    for (let t = 0; t < k; t++) {
      outI[i * k + t] = top.idx[t]!;
      outD[i * k + t] = top.dist[t]!;
    }
  }
}

async function search(reference: DenseMatrix, queries: DenseMatrix, k: number, excludeSelf: boolean, opts: KnnOptions, what: string): Promise<KnnGraph> {
  const metric = opts.metric ?? 'cosine';
  const nRef = reference.rows;
  const nQ = queries.rows;
  const p = prepare(reference, queries, metric, queries === reference);
  const indices = new Int32Array(nQ * k);
  const distances = new Float32Array(nQ * k);
  const ort = await loadOrt();
  const spare = opts.spareCandidates ?? 4;
  const c = Math.min(nRef, k + (excludeSelf ? 1 : 0) + spare);
  if (ort === null || nRef * p.d < 4096) {
    const block = Math.max(1, Math.floor(SCORE_BLOCK_FLOATS / 64 / Math.max(1, nRef)));
    for (let q0 = 0; q0 < nQ; q0 += block) {
      const q1 = Math.min(nQ, q0 + block);
      bruteRows(p, nRef, q0, q1, k, excludeSelf, indices, distances);
      opts.onProgress?.(q1, nQ);
    }
    return { n: nQ, k, indices, distances, metric };
  }

  const s = await session(ort, 'knn_topk', knnTopKGraph);
  const d = p.d;
  // C: −‖r‖² so that 2q·r − ‖r‖² ranks like −‖q − r‖²; zero for unit rows (cosine).
  const cvec = new Float32Array(nRef);
  if (!p.cosine) {
    for (let j = 0; j < nRef; j++) {
      let t = 0;
      for (let x = 0; x < d; x++) t += p.r[j * d + x]! * p.r[j * d + x]!;
      cvec[j] = -t;
    }
  }
  const rT = floatTensor(ort, p.r, [nRef, d]);
  const cT = floatTensor(ort, cvec, [1, nRef]);
  const kT = new ort.Tensor('int64', BigInt64Array.of(BigInt(c)), [1]);
  const block = Math.max(1, Math.min(nQ, opts.blockRows ?? Math.floor(SCORE_BLOCK_FLOATS / nRef)));
  const top = new TopK(k);
  for (let q0 = 0; q0 < nQ; q0 += block) {
    const q1 = Math.min(nQ, q0 + block);
    const out = await run(s, { Q: floatTensor(ort, p.q.subarray(q0 * d, q1 * d), [q1 - q0, d]), R: rT, C: cT, K: kT }, what);
    const cand = out.I?.data;
    if (!(cand instanceof BigInt64Array)) throw new ComputeError('COMPUTE_RUNTIME_FAILED', `${what}: onnxruntime returned no indices`);
    for (let i = q0; i < q1; i++) {
      const zi = p.cosine && p.qZero[i] === 1;
      if (zi) {
        // A zero query scores 0 against everything, so TopK's candidates are arbitrary: search exactly.
        bruteRows(p, nRef, i, i + 1, k, excludeSelf, indices, distances);
        continue;
      }
      top.reset();
      const base = (i - q0) * c;
      for (let t = 0; t < c; t++) {
        const j = Number(cand[base + t]!);
        if (excludeSelf && j === i) continue;
        top.push(distance(p.q, i, p.r, j, d, p.cosine, false, p.cosine && p.rZero[j] === 1), j);
      }
      for (let t = 0; t < k; t++) {
        indices[i * k + t] = top.idx[t]!;
        distances[i * k + t] = top.dist[t]!;
      }
    }
    opts.onProgress?.(q1, nQ);
  }
  return { n: nQ, k, indices, distances, metric };
}

/** Exact kNN graph of the rows of x (self excluded), nearest first, ties by lower index. */
export async function knnGraph(x: DenseMatrix, k: number, opts: KnnOptions = {}): Promise<KnnGraph> {
  checkInputs(x, x, 'knnGraph');
  checkK(k, x.rows - 1, 'knnGraph');
  return search(x, x, k, true, opts, 'knnGraph');
}

/** The k nearest reference rows of each query row (self not excluded). */
export async function knnQuery(reference: DenseMatrix, queries: DenseMatrix, k: number, opts: KnnOptions = {}): Promise<KnnGraph> {
  checkInputs(reference, queries, 'knnQuery');
  checkK(k, reference.rows, 'knnQuery');
  return search(reference, queries, k, false, opts, 'knnQuery');
}

/** Brute-force reference of knnGraph in plain TypeScript (O(n²d)); for tests and tiny inputs. */
export function knnGraphReference(x: DenseMatrix, k: number, opts: { metric?: KnnMetric } = {}): KnnGraph {
  checkInputs(x, x, 'knnGraphReference');
  checkK(k, x.rows - 1, 'knnGraphReference');
  const metric = opts.metric ?? 'cosine';
  const p = prepare(x, x, metric, true);
  const indices = new Int32Array(x.rows * k);
  const distances = new Float32Array(x.rows * k);
  bruteRows(p, x.rows, 0, x.rows, k, true, indices, distances);
  return { n: x.rows, k, indices, distances, metric };
}
