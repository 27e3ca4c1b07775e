/**
 * A small multilayer perceptron (ReLU hidden layers, softmax output, cross-entropy loss) trained
 * with mini-batch Adam and hand-written backpropagation; every matrix product goes through
 * `matmul` (onnxruntime-node when the product is big enough). Seeded: same data, options and seed,
 * same weights.
 *
 * Why we train one: backdoor detectors (spectral signatures, activation clustering, SPECTRE) work
 * on what a model *learned* — its penultimate-layer activations — not on raw inputs: a 3×3 patch is
 * 9 of 784 pixels, invisible in pixel space, but a net that learned to obey it encodes it as a
 * strong direction in its hidden layer (Tran et al. 2018, Chen et al. 2018).
 *
 * Initialisation He-normal (ReLU), biases 0; Adam β = (0.9, 0.999), ε = 1e-8; L2 on weights.
 */
import type { Rng } from '../core/index.ts';
import { createRng } from '../core/index.ts';
import { ComputeError } from './errors.ts';
import { assertFinite, checkDense, matmul } from './kernels.ts';
import { dense, type DenseMatrix } from './matrix.ts';

export interface MlpOptions {
  /** Hidden layer widths (default [128]); the last one is the "penultimate" representation. */
  readonly hidden?: readonly number[];
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  /** L2 penalty on weights (default 1e-4). */
  readonly l2?: number;
  readonly seed?: number;
  readonly onEpoch?: (epoch: number, epochs: number, loss: number) => void;
}

export interface MlpModel {
  /** Layer weights (in × out, row-major) and biases, input layer first. */
  readonly weights: readonly DenseMatrix[];
  readonly biases: readonly Float32Array[];
  readonly numClasses: number;
  /** Mean training loss per epoch. */
  readonly lossHistory: readonly number[];
}

const DEFAULTS = { hidden: [128], epochs: 10, batchSize: 128, learningRate: 1e-3, l2: 1e-4, seed: 0 };

/** Train an MLP on the rows of x with integer labels in [0, numClasses). */
export async function trainMlp(x: DenseMatrix, labels: Int32Array, numClasses: number, options: MlpOptions = {}): Promise<MlpModel> {
  checkDense(x, 'trainMlp');
  assertFinite(x.data, x.cols, 'trainMlp');
  const o = { ...DEFAULTS, ...options };
  const n = x.rows;
  if (labels.length !== n) throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `trainMlp: ${n} rows but ${labels.length} labels`);
  if (!(numClasses >= 2)) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `trainMlp: needs at least 2 classes, got ${numClasses}`);
  for (const y of labels) if (!(y >= 0 && y < numClasses)) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `trainMlp: label ${y} outside [0, ${numClasses})`);
  for (const [what, v, min] of [['epochs', o.epochs, 1], ['batchSize', o.batchSize, 1]] as const) {
    if (!Number.isSafeInteger(v) || v < min) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `trainMlp: ${what} must be an integer ≥ ${min}, got ${v}`);
  }
  if (o.hidden.length === 0 || o.hidden.some((h) => !Number.isSafeInteger(h) || h < 1)) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `trainMlp: hidden widths must be positive integers`);
  if (!(o.learningRate > 0) || !(o.l2 >= 0)) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', 'trainMlp: learningRate must be > 0 and l2 ≥ 0');

  const rng = createRng(o.seed);
  const sizes = [x.cols, ...o.hidden, numClasses];
  const weights = sizes.slice(0, -1).map((fanIn, l) => heNormal(fanIn, sizes[l + 1]!, rng));
  const biases = sizes.slice(1).map((w) => new Float32Array(w));
  const adamW = weights.map((w) => ({ m: new Float32Array(w.data.length), v: new Float32Array(w.data.length) }));
  const adamB = biases.map((b) => ({ m: new Float32Array(b.length), v: new Float32Array(b.length) }));
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const lossHistory: number[] = [];
  let step = 0;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    rng.shuffle(order);
    let lossSum = 0;
    for (let start = 0; start < n; start += o.batchSize) {
      const idx = order.subarray(start, Math.min(n, start + o.batchSize));
      const b = idx.length;
      const xb = gatherRows(x, idx);
      // Forward: keep every layer's output for the backward pass.
      const acts: DenseMatrix[] = [xb];
      for (let l = 0; l < weights.length; l++) {
        const z = await matmul(acts[l]!, weights[l]!);
        addBias(z, biases[l]!);
        if (l < weights.length - 1) relu(z);
        acts.push(z);
      }
      // Softmax cross-entropy; the gradient of the mean loss w.r.t. the logits is (P − Y) / b.
      const grad = acts[acts.length - 1]!;
      for (let i = 0; i < b; i++) {
        const row = grad.data.subarray(i * numClasses, (i + 1) * numClasses);
        let max = -Infinity;
        for (const v of row) max = Math.max(max, v);
        let sum = 0;
        for (let k = 0; k < numClasses; k++) sum += Math.exp(row[k]! - max);
        const y = labels[idx[i]!]!;
        lossSum -= row[y]! - max - Math.log(sum);
        for (let k = 0; k < numClasses; k++) row[k] = (Math.exp(row[k]! - max) / sum - (k === y ? 1 : 0)) / b;
      }
      // Backward, last layer first.
      let delta = grad;
      step++;
      for (let l = weights.length - 1; l >= 0; l--) {
        const gw = await matmul(acts[l]!, delta, { transA: true });
        const gb = columnSums(delta);
        const next = l > 0 ? await matmul(delta, weights[l]!, { transB: true }) : null;
        if (next !== null) reluBackward(next, acts[l]!);
        adam(weights[l]!.data, gw.data, adamW[l]!, o.learningRate, o.l2, step);
        adam(biases[l]!, gb, adamB[l]!, o.learningRate, 0, step);
        if (next !== null) delta = next;
      }
    }
    const loss = lossSum / n;
    if (!Number.isFinite(loss)) throw new ComputeError('COMPUTE_NON_FINITE', `trainMlp: the loss diverged in epoch ${epoch + 1}`, { hint: 'lower the learning rate or standardise the inputs' });
    lossHistory.push(loss);
    o.onEpoch?.(epoch + 1, o.epochs, loss);
  }
  return { weights, biases, numClasses, lossHistory };
}

/** Activations of every row: `layer` = index of the hidden layer (default: the last, the penultimate representation). */
export async function mlpActivations(model: MlpModel, x: DenseMatrix, layer = model.weights.length - 2): Promise<DenseMatrix> {
  checkDense(x, 'mlpActivations');
  if (x.cols !== model.weights[0]!.rows) throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `mlpActivations: model takes ${model.weights[0]!.rows} columns, data has ${x.cols}`);
  if (!Number.isSafeInteger(layer) || layer < 0 || layer > model.weights.length - 2) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `mlpActivations: layer must be in 0..${model.weights.length - 2}`);
  let a = x;
  for (let l = 0; l <= layer; l++) {
    const z = await matmul(a, model.weights[l]!);
    addBias(z, model.biases[l]!);
    relu(z);
    a = z;
  }
  return a;
}

/** Class probabilities for every row. */
export async function mlpPredict(model: MlpModel, x: DenseMatrix): Promise<DenseMatrix> {
  let a = x;
  for (let l = 0; l < model.weights.length; l++) {
    const z = await matmul(a, model.weights[l]!);
    addBias(z, model.biases[l]!);
    if (l < model.weights.length - 1) relu(z);
    a = z;
  }
  const K = model.numClasses;
  for (let i = 0; i < a.rows; i++) {
    const row = a.data.subarray(i * K, (i + 1) * K);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += row[k] = Math.exp(row[k]! - max);
    for (let k = 0; k < K; k++) row[k]! /= sum;
  }
  return a;
}

function heNormal(fanIn: number, fanOut: number, rng: Rng): DenseMatrix {
  const w = new Float32Array(fanIn * fanOut);
  const s = Math.sqrt(2 / fanIn);
  for (let i = 0; i < w.length; i++) w[i] = s * rng.normal();
  return dense(fanIn, fanOut, w);
}

function gatherRows(x: DenseMatrix, idx: Int32Array): DenseMatrix {
  const out = new Float32Array(idx.length * x.cols);
  for (let i = 0; i < idx.length; i++) out.set(x.data.subarray(idx[i]! * x.cols, (idx[i]! + 1) * x.cols), i * x.cols);
  return dense(idx.length, x.cols, out);
}

function addBias(z: DenseMatrix, b: Float32Array): void {
  for (let i = 0; i < z.rows; i++) for (let j = 0; j < z.cols; j++) z.data[i * z.cols + j]! += b[j]!;
}

function relu(z: DenseMatrix): void {
  for (let i = 0; i < z.data.length; i++) if (z.data[i]! < 0) z.data[i] = 0;
}

/** δ ⊙ 1[a > 0], where a is the layer's (post-ReLU) output. */
function reluBackward(delta: DenseMatrix, a: DenseMatrix): void {
  for (let i = 0; i < delta.data.length; i++) if (!(a.data[i]! > 0)) delta.data[i] = 0;
}

function columnSums(z: DenseMatrix): Float32Array {
  const out = new Float32Array(z.cols);
  for (let i = 0; i < z.rows; i++) for (let j = 0; j < z.cols; j++) out[j]! += z.data[i * z.cols + j]!;
  return out;
}

function adam(p: Float32Array, g: Float32Array, s: { m: Float32Array; v: Float32Array }, lr: number, l2: number, t: number): void {
  const b1 = 0.9;
  const b2 = 0.999;
  const c1 = 1 - b1 ** t;
  const c2 = 1 - b2 ** t;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]! + l2 * p[i]!;
    s.m[i] = b1 * s.m[i]! + (1 - b1) * gi;
    s.v[i] = b2 * s.v[i]! + (1 - b2) * gi * gi;
    p[i]! -= (lr * (s.m[i]! / c1)) / (Math.sqrt(s.v[i]! / c2) + 1e-8);
  }
}
