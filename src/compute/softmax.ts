/**
 * Multinomial logistic regression with an L2 penalty on the weights (not the bias), trained to
 * convergence with L-BFGS from a zero start, so a fit is deterministic. Objective:
 *   mean cross-entropy + (l2/2)·‖W‖².
 * sklearn's LogisticRegression(C) minimises C·Σ CE + ½‖W‖², i.e. the same objective with
 * l2 = 1/(C·n); the default l2 = 1/n_train therefore behaves like sklearn's C = 1 (on
 * standardised features, as the caller is expected to provide).
 * Dense input runs the loss and gradient as one fused ORT graph per evaluation (two Gemms);
 * CSR input (hashed text) runs sparse loops in TypeScript.
 */
import { ComputeError } from './errors.ts';
import { checkFeatures } from './kernels.ts';
import { minimizeLbfgs } from './lbfgs.ts';
import type { LbfgsResult } from './lbfgs.ts';
import type { CsrMatrix, DenseMatrix, FeatureMatrix } from './matrix.ts';
import { floatTensor, loadOrt, run, session, softmaxLossGraph, softmaxPredictGraph, tensorFloat32 } from './ort.ts';
import type { OrtTensor } from './ort.ts';
import { compactCsc, toCsc } from './sparse.ts';
import type { CscMatrix } from './sparse.ts';

export interface SoftmaxOptions {
  /** L2 strength on W; default 1/n (≈ sklearn C = 1). */
  readonly l2?: number;
  /** Default 300. */
  readonly maxIter?: number;
  /** Stop when max|∇| of the objective < tol (default 1e-4, sklearn's default on the same mean-scaled objective). */
  readonly tol?: number;
  /** Stop when the relative loss decrease of an iteration is below ftol (default 1e-7). */
  readonly ftol?: number;
  /**
   * Optimise in standardised coordinates (default: true for dense input, false for CSR, where
   * hashed TF-IDF columns are already comparable and it measured slower). The objective and its optimum are
   * unchanged (the penalty is mapped along); only the number of iterations drops. Note that tol
   * then applies to the gradient in those coordinates.
   */
  readonly precondition?: boolean;
}

export interface SoftmaxModel {
  readonly numClasses: number;
  readonly dims: number;
  /** dims × numClasses, row-major. */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  readonly l2: number;
  /** Final objective value, iterations used, and whether a stopping test (not maxIter) ended it. */
  readonly loss: number;
  readonly iterations: number;
  /** Loss/gradient evaluations (each is one pass over the data). */
  readonly evaluations: number;
  readonly converged: boolean;
}

/** Dense inputs at or above this many values use the ORT graph; below, the JS loops are faster. */
const ORT_MIN_VALUES = 1 << 14;

function checkLabels(y: Int32Array, n: number, numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `numClasses must be an integer ≥ 2, got ${numClasses}`);
  }
  if (y.length !== n) throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `labels: expected ${n}, got ${y.length}`);
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    if (c < 0 || c >= numClasses) {
      throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `label ${c} at row ${i} outside 0..${numClasses - 1}`);
    }
  }
}

/** Softmax of each row of z (n×K) in place, subtracting the row max; returns Σ log p[y_i] in float64. */
function softmaxRowsInPlace(z: Float64Array, n: number, K: number, y?: Int32Array): number {
  let ll = 0;
  for (let i = 0; i < n; i++) {
    const o = i * K;
    let mx = -Infinity;
    for (let c = 0; c < K; c++) mx = Math.max(mx, z[o + c]!);
    let sum = 0;
    for (let c = 0; c < K; c++) {
      const e = Math.exp(z[o + c]! - mx);
      z[o + c] = e;
      sum += e;
    }
    if (y !== undefined) ll += Math.log(z[o + y[i]!]! / sum);
    for (let c = 0; c < K; c++) z[o + c] = z[o + c]! / sum;
  }
  return ll;
}

// The loops below are split by storage and take Float64Array only, so V8 keeps each one
// monomorphic (a shared function over both layouts and array types measured several times slower).

/** Logits X·W + b (W: d×K), float64, for CSR x (prediction: one pass, row order kept). */
function logitsCsr(x: CsrMatrix, w: Float64Array, b: Float64Array, K: number): Float64Array {
  const { rows: n, indptr, indices, values } = x;
  const z = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    const o = i * K;
    for (let c = 0; c < K; c++) z[o + c] = b[c]!;
    const end = indptr[i + 1]!;
    for (let p = indptr[i]!; p < end; p++) {
      const v = values[p]!;
      const wo = indices[p]! * K;
      for (let c = 0; c < K; c++) z[o + c] = z[o + c]! + v * w[wo + c]!;
    }
  }
  return z;
}

/** Logits X·W + b (W: d×K), float64, for dense x. */
function logitsDense(x: DenseMatrix, w: Float64Array, b: Float64Array, K: number): Float64Array {
  const { rows: n, cols: d, data } = x;
  const z = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    const o = i * K;
    for (let c = 0; c < K; c++) z[o + c] = b[c]!;
    for (let j = 0; j < d; j++) {
      const v = data[i * d + j]!;
      if (v === 0) continue;
      const wo = j * K;
      for (let c = 0; c < K; c++) z[o + c] = z[o + c]! + v * w[wo + c]!;
    }
  }
  return z;
}

/**
 * Logits for CSC storage. Training walks columns: the weights are read sequentially and the n×K
 * logits (small, cache-resident) are scattered into. Row-wise CSR instead gathers weights at random
 * from a d×K array that does not fit in L2 — measured ~15x slower at d = 2^18.
 */
function logitsCsc(x: CscMatrix, w: Float64Array, b: Float64Array, K: number): Float64Array {
  const { rows: n, cols: d, colptr, rowIndex, values } = x;
  const z = new Float64Array(n * K);
  for (let i = 0; i < n; i++) for (let c = 0; c < K; c++) z[i * K + c] = b[c]!;
  if (K === 2) {
    logitsCsc2(x, w, z);
    return z;
  }
  for (let j = 0; j < d; j++) {
    const wo = j * K;
    const end = colptr[j + 1]!;
    for (let p = colptr[j]!; p < end; p++) {
      const v = values[p]!;
      const o = rowIndex[p]! * K;
      for (let c = 0; c < K; c++) z[o + c] = z[o + c]! + v * w[wo + c]!;
    }
  }
  return z;
}

/** Binary case of logitsCsc, unrolled (the common text case; ~2x faster than the generic loop). */
function logitsCsc2(x: CscMatrix, w: Float64Array, z: Float64Array): void {
  const { cols: d, colptr, rowIndex, values } = x;
  let p = 0;
  for (let j = 0; j < d; j++) {
    const w0 = w[2 * j]!;
    const w1 = w[2 * j + 1]!;
    const end = colptr[j + 1]!;
    for (; p < end; p++) {
      const v = values[p]!;
      const o = rowIndex[p]! << 1;
      z[o] = z[o]! + v * w0;
      z[o + 1] = z[o + 1]! + v * w1;
    }
  }
}

/** gw (d×K) += Xᵀ·G for CSC x: each gradient row is accumulated in one pass over its column. */
function addXtGCsc(x: CscMatrix, g: Float64Array, K: number, gw: Float64Array): void {
  const { cols: d, colptr, rowIndex, values } = x;
  if (K === 2) {
    for (let j = 0; j < d; j++) {
      let s0 = 0;
      let s1 = 0;
      const end = colptr[j + 1]!;
      for (let p = colptr[j]!; p < end; p++) {
        const v = values[p]!;
        const o = 2 * rowIndex[p]!;
        s0 += v * g[o]!;
        s1 += v * g[o + 1]!;
      }
      gw[2 * j] = gw[2 * j]! + s0;
      gw[2 * j + 1] = gw[2 * j + 1]! + s1;
    }
    return;
  }
  for (let j = 0; j < d; j++) {
    const wo = j * K;
    const end = colptr[j + 1]!;
    for (let p = colptr[j]!; p < end; p++) {
      const v = values[p]!;
      const o = rowIndex[p]! * K;
      for (let c = 0; c < K; c++) gw[wo + c] = gw[wo + c]! + v * g[o + c]!;
    }
  }
}

/** gw (d×K) += Xᵀ·G for dense x. */
function addXtGDense(x: DenseMatrix, g: Float64Array, K: number, gw: Float64Array): void {
  const { rows: n, cols: d, data } = x;
  for (let i = 0; i < n; i++) {
    const o = i * K;
    for (let j = 0; j < d; j++) {
      const v = data[i * d + j]!;
      if (v === 0) continue;
      const wo = j * K;
      for (let c = 0; c < K; c++) gw[wo + c] = gw[wo + c]! + v * g[o + c]!;
    }
  }
}

/**
 * Σ_i log p[y_i] and the unscaled gradients Xᵀ(P−Y), Σ(P−Y) for parameters θ = [W (d×K), b (K)].
 * Returns the log-likelihood sum; writes gradients into grad (same layout as θ).
 */
type RawLossGrad = (theta: Float64Array, grad: Float64Array) => Promise<number>;

/** Training data as the loss loops want it: dense rows, or sparse columns. */
export type TrainData = DenseMatrix | CscMatrix;

function jsLossGrad(x: TrainData, y: Int32Array, K: number): RawLossGrad {
  const d = x.cols;
  const n = x.rows;
  const csc = x.kind === 'csc' ? x : undefined;
  return async (theta, grad) => {
    const w = theta.subarray(0, d * K);
    const b = theta.subarray(d * K);
    const z = csc !== undefined ? logitsCsc(csc, w, b, K) : logitsDense(x as DenseMatrix, w, b, K);
    const ll = softmaxRowsInPlace(z, n, K, y);
    for (let i = 0; i < n; i++) z[i * K + y[i]!] = z[i * K + y[i]!]! - 1;
    grad.fill(0);
    const gw = grad.subarray(0, d * K);
    if (csc !== undefined) addXtGCsc(csc, z, K, gw);
    else addXtGDense(x as DenseMatrix, z, K, gw);
    const gb = grad.subarray(d * K);
    for (let i = 0; i < n; i++) for (let c = 0; c < K; c++) gb[c] = gb[c]! + z[i * K + c]!;
    return ll;
  };
}

async function ortLossGrad(x: DenseMatrix, y: Int32Array, K: number): Promise<RawLossGrad | undefined> {
  const ort = await loadOrt();
  if (ort === null) return undefined;
  const s = await session(ort, 'softmax_loss', softmaxLossGraph);
  const { rows: n, cols: d } = x;
  const onehot = new Float32Array(n * K);
  for (let i = 0; i < n; i++) onehot[i * K + y[i]!] = 1;
  // X and Y are wrapped once; onnxruntime-node reads typed arrays in place, so only W and b
  // (d×K + K values) cross per evaluation.
  const feeds: Record<string, OrtTensor> = { X: floatTensor(ort, x.data, [n, d]), Y: floatTensor(ort, onehot, [n, K]) };
  const w32 = new Float32Array(d * K);
  const b32 = new Float32Array(K);
  return async (theta, grad) => {
    for (let i = 0; i < d * K; i++) w32[i] = theta[i]!;
    for (let c = 0; c < K; c++) b32[c] = theta[d * K + c]!;
    feeds.W = floatTensor(ort, w32, [d, K]);
    feeds.B = floatTensor(ort, b32, [K]);
    const out = await run(s, feeds, 'softmax regression loss');
    const l = tensorFloat32(out.L, 'loss');
    const dwt = tensorFloat32(out.DWT, 'gradient');
    const db = tensorFloat32(out.DB, 'gradient');
    for (let j = 0; j < d; j++) for (let c = 0; c < K; c++) grad[j * K + c] = dwt[c * d + j]!;
    for (let c = 0; c < K; c++) grad[d * K + c] = db[c]!;
    let ll = 0;
    for (let i = 0; i < l.length; i++) ll += l[i]!;
    return ll;
  };
}

/**
 * The training objective f(θ) = −(1/n)Σ log p[y_i] + (l2/2)‖W‖² and its gradient, θ = [W (d×K), b (K)].
 * Exposed within the module for gradient checks.
 */
export async function softmaxObjective(
  x: FeatureMatrix | CscMatrix,
  y: Int32Array,
  K: number,
  l2: number,
  /** Per-feature penalty weights p_j: the penalty becomes (l2/2)Σ_j p_j‖W_j‖² (default all 1). */
  penalty?: Float64Array,
): Promise<(theta: Float64Array, grad: Float64Array) => Promise<number>> {
  const n = x.rows;
  const d = x.cols;
  const data: TrainData = x.kind === 'csr' ? toCsc(x) : x;
  const raw = (data.kind === 'dense' && n * d >= ORT_MIN_VALUES ? await ortLossGrad(data, y, K) : undefined) ?? jsLossGrad(data, y, K);
  return async (theta, grad) => {
    const ll = await raw(theta, grad);
    let reg = 0;
    for (let j = 0; j < d; j++) {
      const pj = penalty === undefined ? 1 : penalty[j]!;
      for (let c = 0; c < K; c++) {
        const i = j * K + c;
        const w = theta[i]!;
        reg += pj * w * w;
        grad[i] = grad[i]! / n + l2 * pj * w;
      }
    }
    for (let c = 0; c < K; c++) grad[d * K + c] = grad[d * K + c]! / n;
    return -ll / n + 0.5 * l2 * reg;
  };
}

interface Standardised {
  readonly x: TrainData;
  /** Per-column multiplier s_j = 1/σ_j (1 for constant columns). */
  readonly scale: Float64Array;
  /** Per-column mean subtracted (zeros for sparse data, which stays uncentred to stay sparse). */
  readonly mean: Float64Array;
}

/**
 * (X − μ)·diag(s) with s = 1/σ per column. Training in these coordinates and mapping back
 * (W = diag(s)·W', b = b' − μ·W) minimises exactly the same objective, but L-BFGS converges in far
 * fewer iterations when column scales differ (PCA outputs span several orders of magnitude).
 */
function standardiseColumns(x: TrainData): Standardised {
  const n = x.rows;
  const d = x.cols;
  const sum = new Float64Array(d);
  const sumSq = new Float64Array(d);
  const values = x.kind === 'dense' ? x.data : x.values;
  if (x.kind === 'dense') {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const v = values[i * d + j]!;
        sum[j] = sum[j]! + v;
        sumSq[j] = sumSq[j]! + v * v;
      }
    }
  } else {
    for (let j = 0; j < d; j++) {
      for (let p = x.colptr[j]!; p < x.colptr[j + 1]!; p++) {
        const v = values[p]!;
        sum[j] = sum[j]! + v;
        sumSq[j] = sumSq[j]! + v * v;
      }
    }
  }
  const scale = new Float64Array(d);
  const mean = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const m = sum[j]! / n;
    const variance = Math.max(0, sumSq[j]! / n - m * m);
    // Constant (or numerically constant) columns keep their units.
    scale[j] = variance > 1e-12 * Math.max(1, m * m) ? 1 / Math.sqrt(variance) : 1;
    if (x.kind === 'dense') mean[j] = m;
  }
  if (x.kind === 'csc') {
    const v = new Float32Array(x.values.length);
    for (let j = 0; j < d; j++) for (let p = x.colptr[j]!; p < x.colptr[j + 1]!; p++) v[p] = x.values[p]! * scale[j]!;
    return { x: { ...x, values: v }, scale, mean };
  }
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = (values[i * d + j]! - mean[j]!) * scale[j]!;
  return { x: { kind: 'dense', rows: n, cols: d, data: out }, scale, mean };
}

/** Fit multinomial logistic regression on (x, y); y in 0..numClasses−1. */
export async function trainSoftmax(x: FeatureMatrix, y: Int32Array, numClasses: number, opts: SoftmaxOptions = {}): Promise<SoftmaxModel> {
  checkFeatures(x, 'trainSoftmax');
  checkLabels(y, x.rows, numClasses);
  // CSR: train on columns (CSC); see logitsCsc.
  return trainPrepared(x.kind === 'csr' ? toCsc(x) : x, y, numClasses, opts);
}

/**
 * trainSoftmax on validated data already in training layout (cross-validation transposes a CSR
 * matrix once and slices each fold's rows from the CSC form).
 */
export async function trainPrepared(x: TrainData, y: Int32Array, numClasses: number, opts: SoftmaxOptions = {}): Promise<SoftmaxModel> {
  const n = x.rows;
  if (n < 1) throw new ComputeError('COMPUTE_TOO_FEW_SAMPLES', 'trainSoftmax: no training rows');
  const l2 = opts.l2 ?? 1 / n;
  const maxIter = opts.maxIter ?? 300;
  const tol = opts.tol ?? 1e-4;
  if (!(l2 >= 0) || !Number.isFinite(l2)) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `l2 must be finite and ≥ 0, got ${l2}`);
  if (!Number.isInteger(maxIter) || maxIter < 0) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `maxIter must be a non-negative integer`);
  const K = numClasses;

  // Sparse: optimise over the used columns only; unused columns have zero gradient from a zero
  // start and stay zero under L2, so the full model is the compact one scattered back.
  const compact = x.kind === 'csc' ? compactCsc(x) : undefined;
  const xs: TrainData = compact !== undefined ? compact.matrix : x;
  const d = xs.cols;
  const std = (opts.precondition ?? x.kind === 'dense') ? standardiseColumns(xs) : undefined;
  const penalty = std === undefined ? undefined : std.scale.map((v) => v * v);
  const objective = await softmaxObjective(std?.x ?? xs, y, K, l2, penalty);
  const result: LbfgsResult = await minimizeLbfgs(objective, new Float64Array(d * K + K), { maxIter, gtol: tol, ftol: opts.ftol ?? 1e-7 });
  if (!Number.isFinite(result.f)) {
    throw new ComputeError('COMPUTE_NON_FINITE', 'trainSoftmax: the loss became non-finite', {
      hint: 'standardise features; very large values overflow float32',
    });
  }
  const fullD = x.cols;
  const weights = new Float32Array(fullD * K);
  const bias = new Float64Array(K);
  for (let c = 0; c < K; c++) bias[c] = result.x[d * K + c]!;
  for (let j = 0; j < d; j++) {
    const col = compact !== undefined ? compact.original[j]! : j;
    const sj = std === undefined ? 1 : std.scale[j]!;
    const mj = std === undefined ? 0 : std.mean[j]!;
    for (let c = 0; c < K; c++) {
      const w = result.x[j * K + c]! * sj;
      weights[col * K + c] = w;
      bias[c] = bias[c]! - mj * w;
    }
  }
  return {
    numClasses: K,
    dims: fullD,
    weights,
    bias: Float32Array.from(bias),
    l2,
    loss: result.f,
    iterations: result.iterations,
    evaluations: result.evaluations,
    converged: result.converged,
  };
}

/** Class probabilities, n × numClasses row-major. */
export async function predictProba(model: SoftmaxModel, x: FeatureMatrix): Promise<Float32Array> {
  checkFeatures(x, 'predictProba');
  if (x.cols !== model.dims) {
    throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `predictProba: model has ${model.dims} features, data ${x.cols}`);
  }
  const K = model.numClasses;
  if (x.kind === 'dense' && x.rows * x.cols >= ORT_MIN_VALUES) {
    const ort = await loadOrt();
    if (ort !== null) {
      const s = await session(ort, 'softmax_predict', softmaxPredictGraph);
      const out = await run(
        s,
        {
          X: floatTensor(ort, x.data, [x.rows, x.cols]),
          W: floatTensor(ort, model.weights, [model.dims, K]),
          B: floatTensor(ort, model.bias, [K]),
        },
        'probabilities',
      );
      return tensorFloat32(out.P, 'probabilities');
    }
  }
  const w = Float64Array.from(model.weights);
  const b = Float64Array.from(model.bias);
  const z = x.kind === 'csr' ? logitsCsr(x, w, b, K) : logitsDense(x, w, b, K);
  softmaxRowsInPlace(z, x.rows, K);
  return Float32Array.from(z);
}
