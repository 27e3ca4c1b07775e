/**
 * PCA through the d×d covariance: one Gemm (XcᵀXc, through onnxruntime) and then either a full
 * symmetric EVD (ml-matrix; fine up to a few hundred dimensions, but 4.4 s at d = 784 here) or,
 * for large d with few components, block subspace iteration on the covariance with a final
 * Rayleigh–Ritz step, which costs a few d×d×l Gemms and one l×l EVD.
 */
import { ComputeError } from './errors.ts';
import { assertFinite, checkDense, matmul, matmul64 } from './kernels.ts';
import { orthonormalizeColumns, symmetricEig, toFloat32, toFloat64 } from './linalg.ts';
import { dense } from './matrix.ts';
import type { DenseMatrix } from './matrix.ts';
import { createRng } from '../core/index.ts';
import { centredGramGraph, centredProjectGraph, floatTensor, loadOrt, run, session, tensorFloat32 } from './ort.ts';

export interface PcaModel {
  readonly mean: Float32Array;
  /** k×d, rows orthonormal, ordered by explained variance (descending). */
  readonly components: DenseMatrix;
  /** Variance along each component (covariance eigenvalue, denominator n−1). */
  readonly explainedVariance: Float64Array;
  /** Trace of the covariance: the sum of all d variances. */
  readonly totalVariance: number;
}

export interface PcaOptions {
  /** 'auto' picks 'exact' when d ≤ 256 or k > d/4, else 'iterative'. */
  readonly method?: 'auto' | 'exact' | 'iterative';
  /** Subspace iterations for the 'iterative' method (default 5). */
  readonly iterations?: number;
}

/** Fit PCA with `components` components on the rows of x. */
export async function fitPca(x: DenseMatrix, components: number, opts: PcaOptions = {}): Promise<PcaModel> {
  checkDense(x, 'fitPca');
  assertFinite(x.data, x.cols, 'fitPca');
  const { rows: n, cols: d } = x;
  if (n < 2) throw new ComputeError('COMPUTE_TOO_FEW_SAMPLES', `fitPca: needs at least 2 rows, got ${n}`);
  if (!Number.isInteger(components) || components < 1 || components > d) {
    throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `fitPca: components must be in 1..${d}, got ${components}`);
  }
  const { mean, gram: cov32 } = await centredGram(x);
  const scale = 1 / (n - 1);
  for (let i = 0; i < cov32.length; i++) cov32[i] = cov32[i]! * scale;
  let totalVariance = 0;
  for (let j = 0; j < d; j++) totalVariance += cov32[j * d + j]!;

  const method = opts.method ?? 'auto';
  const exact = method === 'exact' || (method === 'auto' && (d <= 256 || components > d / 4));
  const eig = exact ? symmetricEig(toFloat64(cov32), d) : await topEigSubspace(dense(d, d, cov32), components, opts.iterations ?? 5);
  const cols = exact ? d : eig.values.length;
  const comp = new Float32Array(components * d);
  const explainedVariance = new Float64Array(components);
  for (let c = 0; c < components; c++) {
    explainedVariance[c] = Math.max(0, eig.values[c]!);
    // Deterministic sign: the largest-magnitude entry of each component is positive.
    let best = 0;
    for (let j = 0; j < d; j++) if (Math.abs(eig.vectors[j * cols + c]!) > Math.abs(eig.vectors[best * cols + c]!)) best = j;
    const sign = eig.vectors[best * cols + c]! < 0 ? -1 : 1;
    for (let j = 0; j < d; j++) comp[c * d + j] = sign * eig.vectors[j * cols + c]!;
  }
  return { mean, components: dense(components, d, comp), explainedVariance, totalVariance };
}

/**
 * Column means and the centred Gram matrix (X−μ)ᵀ(X−μ). Centring comes first because
 * XᵀX − nμμᵀ in float32 cancels catastrophically when |μ| ≫ σ (pixel data: μ ≈ 70, σ small).
 * Through ORT the centring happens inside the graph, so X is not copied in JS.
 */
async function centredGram(x: DenseMatrix): Promise<{ mean: Float32Array; gram: Float32Array }> {
  const { rows: n, cols: d } = x;
  const ort = n * d * d >= 1 << 17 ? await loadOrt() : null;
  if (ort !== null) {
    const s = await session(ort, 'centred_gram', centredGramGraph);
    const out = await run(s, { X: floatTensor(ort, x.data, [n, d]) }, 'covariance');
    return { mean: Float32Array.from(tensorFloat32(out.MU, 'mean')), gram: tensorFloat32(out.G, 'covariance') };
  }
  const mean64 = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean64[j] = mean64[j]! + x.data[i * d + j]!;
  for (let j = 0; j < d; j++) mean64[j] = mean64[j]! / n;
  const xc = new Float32Array(x.data.length);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xc[i * d + j] = x.data[i * d + j]! - mean64[j]!;
  const xcm = dense(n, d, xc);
  return { mean: toFloat32(mean64), gram: (await matmul(xcm, xcm, { transA: true })).data };
}

/**
 * Top eigenpairs of a symmetric PSD d×d matrix by block subspace iteration with l = k + p
 * columns, then Rayleigh–Ritz. Converges like (λ_{l+1}/λ_k)^iterations for the k-th vector.
 */
async function topEigSubspace(c: DenseMatrix, k: number, iterations: number): Promise<{ values: Float64Array; vectors: Float64Array }> {
  const d = c.rows;
  const l = Math.min(d, k + Math.max(10, Math.ceil(k / 4)));
  const rng = createRng(0x9ca);
  let q: Float64Array = new Float64Array(d * l);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  q = await orthonormalizeColumns(q, d, l);
  for (let it = 0; it < iterations; it++) {
    const z = await matmul(c, dense(d, l, toFloat32(q)));
    q = await orthonormalizeColumns(toFloat64(z.data), d, l, it === iterations - 1 ? 2 : 1);
  }
  // Rayleigh–Ritz: T = Qᵀ C Q, then Ritz vectors Q·S.
  const z = toFloat64((await matmul(c, dense(d, l, toFloat32(q)))).data);
  const t = await matmul64(q, d, l, z, d, l, { transA: true });
  const small = symmetricEig(t, l);
  const vectors = await matmul64(q, d, l, small.vectors, l, l);
  return { values: small.values, vectors };
}

/** Project rows of x onto the model's components: (x − mean)·componentsᵀ, n×k. */
export async function transformPca(model: PcaModel, x: DenseMatrix): Promise<DenseMatrix> {
  checkDense(x, 'transformPca');
  const d = model.mean.length;
  if (x.cols !== d) throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `transformPca: model has ${d} columns, data ${x.cols}`);
  assertFinite(x.data, d, 'transformPca');
  const k = model.components.rows;
  const ort = x.rows * d * k >= 1 << 17 ? await loadOrt() : null;
  if (ort !== null) {
    const s = await session(ort, 'centred_project', centredProjectGraph);
    const out = await run(
      s,
      { X: floatTensor(ort, x.data, [x.rows, d]), MU: floatTensor(ort, model.mean, [d]), V: floatTensor(ort, model.components.data, [k, d]) },
      'PCA projection',
    );
    return dense(x.rows, k, tensorFloat32(out.Z, 'PCA projection'));
  }
  const xc = new Float32Array(x.data.length);
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < d; j++) xc[i * d + j] = x.data[i * d + j]! - model.mean[j]!;
  return matmul(dense(x.rows, d, xc), model.components, { transB: true });
}
