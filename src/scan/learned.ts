/**
 * The learned representation the backdoor detectors read (issue 4 §1): what a model learned from
 * the data, not the raw inputs. A 3×3 trigger patch is 9 of 784 pixels, invisible to PCA; a net
 * that learned to obey it encodes it as a strong direction in its penultimate layer.
 *
 * Sources, in order of preference under `representation: 'auto'`:
 * - `embedding`: the dataset's given embeddings, used as they are;
 * - `onnx`: the user's ONNX model (a path), run on the model inputs, one named output;
 * - `mlp`: a seeded MLP trained here on the (possibly poisoned) data — images as pixels in [0, 1],
 *   tabular features standardised, text as its count sketch — with its penultimate activations and
 *   its own class probabilities.
 */
import type { Dataset } from '../data/index.ts';
import { dense, fitPca, knnGraph, l2NormalizeRows, mlpActivations, mlpPredict, trainMlp, transformPca, type DenseMatrix, type FeatureMatrix } from '../compute/index.ts';
import type { LearnedRepresentation } from '../detectors/index.ts';
import { ScanError } from './errors.ts';

export interface LearnedOptions {
  readonly representation: 'auto' | 'mlp' | 'embedding' | 'onnx';
  readonly model?: string | undefined;
  readonly output?: string | undefined;
  readonly layout?: 'flat' | 'nchw' | 'nhwc' | undefined;
  readonly hidden: readonly number[];
  readonly epochs: number | 'auto';
  readonly seed: number;
  readonly onEpoch?: (epoch: number, epochs: number) => void;
}

/**
 * Build the representation. `input` is the model input the scan already made (pixels, standardised
 * features or the text sketch; dense).
 */
export async function learnRepresentation(dataset: Dataset, input: FeatureMatrix, options: LearnedOptions): Promise<LearnedRepresentation> {
  const rep = await learnActivations(dataset, input, options);
  const space = input.kind === 'dense' ? await lookAlikeSpace(dataset.images !== null ? dense(dataset.n, dataset.images.pixels.length / Math.max(1, dataset.n), dataset.images.pixels) : input) : null;
  const lookAlikes = space === null || space.rows < 3 ? null : await knnGraph(space, Math.min(LOOK_ALIKE_K, space.rows - 1), { metric: 'cosine' });
  return { ...rep, lookAlikes };
}

/** Neighbours per row in the look-alike graph (the Datalab default). */
const LOOK_ALIKE_K = 10;
const LOOK_ALIKE_DIMS = 64;

/**
 * The inputs as a person would compare them: every column scaled to its range (pixels stay pixels),
 * PCA to 64 dimensions, L2-normalised (cosine). A 3×3 patch moves such a point very little, so a
 * poisoned trouser's look-alikes are trousers.
 */
async function lookAlikeSpace(x: DenseMatrix): Promise<DenseMatrix | null> {
  const n = x.rows;
  if (n < 3) return null;
  const lo = new Float32Array(x.cols).fill(Infinity);
  const hi = new Float32Array(x.cols).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < x.cols; j++) {
      const v = x.data[i * x.cols + j]!;
      if (v < lo[j]!) lo[j] = v;
      if (v > hi[j]!) hi[j] = v;
    }
  }
  const scaled = new Float32Array(x.data.length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < x.cols; j++) {
      const range = hi[j]! - lo[j]!;
      scaled[i * x.cols + j] = range > 0 ? (x.data[i * x.cols + j]! - lo[j]!) / range : 0;
    }
  }
  let z = dense(n, x.cols, scaled);
  if (x.cols > LOOK_ALIKE_DIMS) z = await transformPca(await fitPca(z, Math.min(LOOK_ALIKE_DIMS, n - 1)), z);
  return l2NormalizeRows(z);
}

async function learnActivations(dataset: Dataset, input: FeatureMatrix, options: LearnedOptions): Promise<Omit<LearnedRepresentation, 'lookAlikes'>> {
  const mode = options.representation === 'auto' ? (options.model !== undefined ? 'onnx' : dataset.embedding !== null ? 'embedding' : 'mlp') : options.representation;
  if (mode === 'embedding') {
    if (dataset.embedding === null) {
      throw new ScanError('SCAN_BAD_OPTION', 'backdoor representation "embedding" needs an embedding column', { hint: 'name it with --embedding, or use representation mlp' });
    }
    return { activations: dataset.embedding.values, dim: dataset.embedding.dim, probabilities: null, source: 'embedding', info: { source: 'embedding', dim: dataset.embedding.dim } };
  }
  const x = denseInput(input);
  if (mode === 'onnx') {
    if (options.model === undefined) throw new ScanError('SCAN_BAD_OPTION', 'backdoor representation "onnx" needs a model path', { hint: 'pass --backdoor-model model.onnx' });
    // Loaded lazily: only scans that ask for a user model pay for the session.
    const { onnxActivations } = await import('../compute/index.ts');
    const image = dataset.images;
    const acts = await onnxActivations(options.model, image !== null ? dense(dataset.n, image.width * image.height * image.channels, image.pixels) : x, {
      ...(options.output === undefined ? {} : { output: options.output }),
      ...(options.layout === undefined ? {} : { layout: options.layout }),
      ...(image === null ? {} : { image: { width: image.width, height: image.height, channels: image.channels } }),
    });
    return { activations: acts.data, dim: acts.cols, probabilities: null, source: 'onnx', info: { source: 'onnx', model: options.model, output: options.output ?? null, dim: acts.cols } };
  }
  const K = dataset.labelNames.length;
  const t0 = performance.now();
  const epochs = resolveEpochs(options.epochs, dataset.n);
  const model = await trainMlp(x, dataset.labelCodes, K, {
    hidden: options.hidden,
    epochs,
    seed: options.seed,
    ...(options.onEpoch === undefined ? {} : { onEpoch: (e: number, total: number) => options.onEpoch?.(e, total) }),
  });
  const acts = await mlpActivations(model, x);
  const probs = await mlpPredict(model, x);
  let correct = 0;
  for (let i = 0; i < dataset.n; i++) {
    let best = 0;
    for (let c = 1; c < K; c++) if (probs.data[i * K + c]! > probs.data[i * K + best]!) best = c;
    if (best === dataset.labelCodes[i]) correct++;
  }
  return {
    activations: acts.data,
    dim: acts.cols,
    probabilities: probs.data,
    source: 'mlp',
    info: {
      source: 'mlp',
      layers: [x.cols, ...options.hidden, K],
      epochs,
      finalLoss: Math.round((model.lossHistory.at(-1) ?? 0) * 1e4) / 1e4,
      trainingAccuracy: Math.round((correct / Math.max(1, dataset.n)) * 1e4) / 1e4,
      trainMs: Math.round(performance.now() - t0),
    },
  };
}

/** MLP mini-batch size (trainMlp's default). */
const BATCH = 128;
const MIN_EPOCHS = 8;
const MIN_STEPS = 1200;
const MAX_EPOCHS = 100;

/** 'auto': at least 8 epochs and 1,200 optimizer steps, at most 100 epochs. */
export function resolveEpochs(epochs: number | 'auto', n: number): number {
  if (epochs !== 'auto') return epochs;
  const stepsPerEpoch = Math.max(1, Math.ceil(n / BATCH));
  return Math.min(MAX_EPOCHS, Math.max(MIN_EPOCHS, Math.ceil(MIN_STEPS / stepsPerEpoch)));
}

/** The MLP's input: dense as given; pixels are trained on directly (ReLU nets do not need PCA). */
function denseInput(input: FeatureMatrix): DenseMatrix {
  if (input.kind === 'dense') return input;
  throw new ScanError('SCAN_BAD_OPTION', 'the learned representation needs dense inputs', { hint: 'the scan passes the text sketch; this is a bug if you see it' });
}
