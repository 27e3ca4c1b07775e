/**
 * Randomized truncated SVD (Halko, Martinsson & Tropp 2011, Algorithm 4.4: range finder with
 * re-orthonormalised power iterations), for hashed sparse text → dense LSA embeddings. The small
 * l×l problem is solved through the Gram matrix BBᵀ, so singular values below ~1e-7·σ₁ are not
 * resolved — irrelevant for embeddings.
 */
import type { Rng } from '../core/index.ts';
import { ComputeError } from './errors.ts';
import { checkFeatures, matmul, matmul64 } from './kernels.ts';
import { orthonormalizeColumns, symmetricEig, toFloat32, toFloat64 } from './linalg.ts';
import { dense } from './matrix.ts';
import type { CsrMatrix, DenseMatrix, FeatureMatrix } from './matrix.ts';
import { compactColumns, csrTimesDense, csrTransposeTimesDense } from './sparse.ts';

export interface RandomizedSvdOptions {
  readonly rng: Rng;
  /** Extra sampled directions beyond k (default 10). */
  readonly oversample?: number;
  /** Power iterations; more sharpens slowly decaying spectra (default 2). */
  readonly powerIterations?: number;
}

export interface TruncatedSvd {
  /** n×k left singular vectors. */
  readonly u: DenseMatrix;
  /** k singular values, descending. */
  readonly s: Float64Array;
  /** k×d right singular vectors (rows). */
  readonly vt: DenseMatrix;
}

/** X·B (B: d×l) and Xᵀ·Q (Q: n×l), float64 out, for either storage. */
interface Operator {
  readonly rows: number;
  readonly cols: number;
  times(b: Float64Array, l: number): Promise<Float64Array>;
  transposeTimes(q: Float64Array, l: number): Promise<Float64Array>;
}

function denseOperator(x: DenseMatrix): Operator {
  return {
    rows: x.rows,
    cols: x.cols,
    times: async (b, l) => toFloat64((await matmul(x, dense(x.cols, l, toFloat32(b)))).data),
    transposeTimes: async (q, l) => toFloat64((await matmul(x, dense(x.rows, l, toFloat32(q)), { transA: true })).data),
  };
}

function csrOperator(x: CsrMatrix): Operator {
  return {
    rows: x.rows,
    cols: x.cols,
    times: async (b, l) => csrTimesDense(x, b, l),
    transposeTimes: async (q, l) => csrTransposeTimesDense(x, q, l),
  };
}

/** Top-k singular triplets of x by randomized subspace iteration (seeded through opts.rng). */
export async function randomizedSvd(x: FeatureMatrix, k: number, opts: RandomizedSvdOptions): Promise<TruncatedSvd> {
  checkFeatures(x, 'randomizedSvd');
  const maxRank = Math.min(x.rows, x.cols);
  if (!Number.isInteger(k) || k < 1 || k > maxRank) {
    throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `randomizedSvd: k must be in 1..${maxRank}, got ${k}`);
  }
  const oversample = opts.oversample ?? 10;
  const powerIterations = opts.powerIterations ?? 2;
  if (!Number.isInteger(oversample) || oversample < 0 || !Number.isInteger(powerIterations) || powerIterations < 0) {
    throw new ComputeError('COMPUTE_INVALID_ARGUMENT', 'randomizedSvd: oversample and powerIterations must be non-negative integers');
  }
  // Sparse: work on the used columns only (hashed text leaves many buckets empty).
  const compact = x.kind === 'csr' ? compactColumns(x) : undefined;
  const op = compact !== undefined ? csrOperator(compact.matrix) : denseOperator(x as DenseMatrix);
  const n = op.rows;
  const d = op.cols;
  const l = Math.min(k + oversample, n, d);
  if (l < k) {
    throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `randomizedSvd: only ${d} non-empty columns, cannot take k=${k}`);
  }

  const omega = new Float64Array(d * l);
  for (let i = 0; i < omega.length; i++) omega[i] = opts.rng.normal();
  let q = await orthonormalizeColumns(await op.times(omega, l), n, l);
  for (let it = 0; it < powerIterations; it++) {
    const z = await orthonormalizeColumns(await op.transposeTimes(q, l), d, l, 1);
    q = await orthonormalizeColumns(await op.times(z, l), n, l);
  }
  // B = QᵀX (l×d), held as Bᵀ = XᵀQ (d×l); BBᵀ = (Bᵀ)ᵀBᵀ.
  const bt = await op.transposeTimes(q, l);
  const bbt = await matmul64(bt, d, l, bt, d, l, { transA: true });
  const eig = symmetricEig(bbt, l);
  const s = new Float64Array(k);
  for (let j = 0; j < k; j++) s[j] = Math.sqrt(Math.max(0, eig.values[j]!));
  const ub = new Float64Array(l * k);
  for (let i = 0; i < l; i++) for (let j = 0; j < k; j++) ub[i * k + j] = eig.vectors[i * l + j]!;
  const u = await matmul64(q, n, l, ub, l, k);
  // V = Bᵀ·U_B·Σ⁻¹ (d×k); zero singular values give zero rows of Vᵀ.
  const v = await matmul64(bt, d, l, ub, l, k);
  // Deterministic signs: the largest-magnitude entry of each left vector is positive.
  for (let j = 0; j < k; j++) {
    let best = 0;
    for (let i = 0; i < n; i++) if (Math.abs(u[i * k + j]!) > Math.abs(u[best * k + j]!)) best = i;
    if (u[best * k + j]! < 0) {
      for (let i = 0; i < n; i++) u[i * k + j] = -u[i * k + j]!;
      for (let i = 0; i < d; i++) v[i * k + j] = -v[i * k + j]!;
    }
  }
  const fullD = x.cols;
  const vt = new Float32Array(k * fullD);
  for (let j = 0; j < k; j++) {
    const inv = s[j]! > 0 ? 1 / s[j]! : 0;
    for (let i = 0; i < d; i++) {
      const col = compact !== undefined ? compact.original[i]! : i;
      vt[j * fullD + col] = v[i * k + j]! * inv;
    }
  }
  return { u: dense(n, k, toFloat32(u)), s, vt: dense(k, fullD, vt) };
}
