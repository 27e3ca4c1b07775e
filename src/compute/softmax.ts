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
import { compactColumns } from './sparse.ts';

export interface SoftmaxOptions {
  /** L2 strength on W; default 1/n (≈ sklearn C = 1). */
  readonly l2?: number;
  /** Default 300. */
  readonly maxIter?: number;
  /** Stop when max|∇| of the objective < tol (default 1e-4, sklearn's default on the same mean-scaled objective). */
  readonly tol?: number;
  /** Stop when the relative loss decrease of an iteration is below ftol (default 1e-7). */
  readonly ftol?: number;
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

/** Logits X·W + b in float64 for dense or CSR x (W: d×K). */
function logitsJs(x: FeatureMatrix, w: Float64Array | Float32Array, b: Float64Array | Float32Array, K: number): Float64Array {
  const n = x.rows;
  const z = new Float64Array(n * K);
  for (let i = 0; i < n; i++) for (let c = 0; c < K; c++) z[i * K + c] = b[c]!;
  if (x.kind === 'csr') {
    const { indptr, indices, values } = x;
    for (let i = 0; i < n; i++) {
      const o = i * K;
      for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
        const v = values[p]!;
        const wo = indices[p]! * K;
        for (let c = 0; c < K; c++) z[o + c] = z[o + c]! + v * w[wo + c]!;
      }
    }
  } else {
    const { cols: d, data } = x;
    for (let i = 0; i < n; i++) {
      const o = i * K;
      for (let j = 0; j < d; j++) {
        const v = data[i * d + j]!;
        if (v === 0) continue;
        const wo = j * K;
        for (let c = 0; c < K; c++) z[o + c] = z[o + c]! + v * w[wo + c]!;
      }
    }
  }
  return z;
}

/** Gradient Xᵀ·G accumulated into gw (d×K) for dense or CSR x. */
function addXtG(x: FeatureMatrix, g: Float64Array, K: number, gw: Float64Array): void {
  const n = x.rows;
  if (x.kind === 'csr') {
    const { indptr, indices, values } = x;
    for (let i = 0; i < n; i++) {
      const o = i * K;
      for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
        const v = values[p]!;
        const wo = indices[p]! * K;
        for (let c = 0; c < K; c++) gw[wo + c] = gw[wo + c]! + v * g[o + c]!;
      }
    }
  } else {
    const { cols: d, data } = x;
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
}

/**
 * Σ_i log p[y_i] and the unscaled gradients Xᵀ(P−Y), Σ(P−Y) for parameters θ = [W (d×K), b (K)].
 * Returns the log-likelihood sum; writes gradients into grad (same layout as θ).
 */
type RawLossGrad = (theta: Float64Array, grad: Float64Array) => Promise<number>;

function jsLossGrad(x: FeatureMatrix, y: Int32Array, K: number): RawLossGrad {
  const d = x.cols;
  const n = x.rows;
  return async (theta, grad) => {
    const w = theta.subarray(0, d * K);
    const b = theta.subarray(d * K);
    const z = logitsJs(x, w, b, K);
    const ll = softmaxRowsInPlace(z, n, K, y);
    for (let i = 0; i < n; i++) z[i * K + y[i]!] = z[i * K + y[i]!]! - 1;
    grad.fill(0);
    addXtG(x, z, K, grad.subarray(0, d * K));
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
    const dw = tensorFloat32(out.DW, 'gradient');
    const db = tensorFloat32(out.DB, 'gradient');
    for (let i = 0; i < d * K; i++) grad[i] = dw[i]!;
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
export async function softmaxObjective(x: FeatureMatrix, y: Int32Array, K: number, l2: number): Promise<(theta: Float64Array, grad: Float64Array) => Promise<number>> {
  const n = x.rows;
  const d = x.cols;
  const raw = (x.kind === 'dense' && n * d >= ORT_MIN_VALUES ? await ortLossGrad(x, y, K) : undefined) ?? jsLossGrad(x, y, K);
  return async (theta, grad) => {
    const ll = await raw(theta, grad);
    let reg = 0;
    for (let i = 0; i < d * K; i++) {
      const w = theta[i]!;
      reg += w * w;
      grad[i] = grad[i]! / n + l2 * w;
    }
    for (let c = 0; c < K; c++) grad[d * K + c] = grad[d * K + c]! / n;
    return -ll / n + 0.5 * l2 * reg;
  };
}

/** Fit multinomial logistic regression on (x, y); y in 0..numClasses−1. */
export async function trainSoftmax(x: FeatureMatrix, y: Int32Array, numClasses: number, opts: SoftmaxOptions = {}): Promise<SoftmaxModel> {
  checkFeatures(x, 'trainSoftmax');
  checkLabels(y, x.rows, numClasses);
  const n = x.rows;
  if (n < 1) throw new ComputeError('COMPUTE_TOO_FEW_SAMPLES', 'trainSoftmax: no training rows');
  const l2 = opts.l2 ?? 1 / n;
  const maxIter = opts.maxIter ?? 300;
  const tol = opts.tol ?? 1e-4;
  if (!(l2 >= 0) || !Number.isFinite(l2)) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `l2 must be finite and ≥ 0, got ${l2}`);
  if (!Number.isInteger(maxIter) || maxIter < 0) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `maxIter must be a non-negative integer`);
  const K = numClasses;

  // CSR: optimise over the used columns only; unused columns have zero gradient from a zero
  // start and stay zero under L2, so the full model is the compact one scattered back.
  const compact = x.kind === 'csr' ? compactColumns(x) : undefined;
  const xs: FeatureMatrix = compact !== undefined ? compact.matrix : x;
  const d = xs.cols;
  const objective = await softmaxObjective(xs, y, K, l2);
  const result: LbfgsResult = await minimizeLbfgs(objective, new Float64Array(d * K + K), { maxIter, gtol: tol, ftol: opts.ftol ?? 1e-7 });
  if (!Number.isFinite(result.f)) {
    throw new ComputeError('COMPUTE_NON_FINITE', 'trainSoftmax: the loss became non-finite', {
      hint: 'standardise features; very large values overflow float32',
    });
  }
  const fullD = x.cols;
  const weights = new Float32Array(fullD * K);
  for (let j = 0; j < d; j++) {
    const col = compact !== undefined ? compact.original[j]! : j;
    for (let c = 0; c < K; c++) weights[col * K + c] = result.x[j * K + c]!;
  }
  const bias = Float32Array.from(result.x.subarray(d * K));
  return { numClasses: K, dims: fullD, weights, bias, l2, loss: result.f, iterations: result.iterations, converged: result.converged };
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
  const z = logitsJs(x as CsrMatrix | DenseMatrix, model.weights, model.bias, K);
  softmaxRowsInPlace(z, x.rows, K);
  return Float32Array.from(z);
}
