/**
 * Small builders for detector tests: a Dataset with only what detectors read, a DetectorContext,
 * a brute-force kNN graph, and Gaussian blobs with known label flips. Test-only; not exported
 * from index.ts.
 */
import { createRng } from '../core/index.ts';
import type { KnnGraph } from '../compute/index.ts';
import type { Dataset } from '../data/index.ts';
import type { DetectorContext } from './detector.ts';

export interface ContextInput {
  readonly labels: Int32Array;
  readonly numClasses: number;
  readonly predProbs?: Float32Array | null;
  readonly knn?: KnnGraph | null;
  readonly classNames?: readonly string[];
  /** A text column (named `text`), one string per sample. */
  readonly text?: readonly string[];
}

/** A DetectorContext over a minimal in-memory dataset with ids `id-<i>`. */
export function makeContext(input: ContextInput): DetectorContext {
  const n = input.labels.length;
  const classNames = input.classNames ?? Array.from({ length: input.numClasses }, (_, k) => `class${k}`);
  const dataset: Dataset = {
    origin: { path: 'memory.csv', format: 'csv' },
    n,
    roles: { label: 'label' },
    contentIds: Array.from({ length: n }, (_, i) => `content-${i}`),
    ids: Array.from({ length: n }, (_, i) => `id-${i}`),
    externalIds: Array.from({ length: n }, () => null),
    labelNames: classNames,
    labelCodes: input.labels,
    sources: null,
    text: input.text ?? null,
    textColumn: input.text === undefined ? null : 'text',
    features: [],
    embedding: null,
    images: null,
    lineNumbers: Int32Array.from({ length: n }, (_, i) => i + 2),
    skipped: [],
  };
  return {
    dataset,
    labels: input.labels,
    numClasses: input.numClasses,
    classNames,
    predProbs: input.predProbs ?? null,
    knn: input.knn ?? null,
    rng: createRng(1),
    progress: () => undefined,
  };
}

/** Exact Euclidean kNN by brute force (self excluded, ties by lower index). */
export function bruteForceKnn(points: Float64Array, dim: number, k: number): KnnGraph {
  const n = points.length / dim;
  const kk = Math.min(k, Math.max(n - 1, 0));
  const indices = new Int32Array(n * kk);
  const distances = new Float32Array(n * kk);
  const d2 = new Float64Array(n);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < dim; c++) {
        const diff = points[i * dim + c]! - points[j * dim + c]!;
        s += diff * diff;
      }
      d2[j] = j === i ? Infinity : s;
    }
    order.sort((a, b) => d2[a]! - d2[b]! || a - b);
    for (let r = 0; r < kk; r++) {
      indices[i * kk + r] = order[r]!;
      distances[i * kk + r] = Math.sqrt(d2[order[r]!]!);
    }
  }
  return { n, k: kk, indices, distances, metric: 'euclidean' };
}

export interface Blobs {
  readonly points: Float64Array;
  readonly dim: number;
  readonly trueLabels: Int32Array;
  readonly labels: Int32Array;
  /** 1 where the given label was flipped. */
  readonly flipped: Uint8Array;
  /** p(class | x) from the generating model (equal priors, unit variance). */
  readonly predProbs: Float32Array;
}

/** K Gaussian blobs in 2-D (centres on a circle of `radius`, σ = 1) with a fraction of labels flipped to another class. */
export function gaussianBlobs(seed: number, n: number, K: number, radius: number, flipRate: number): Blobs {
  const rng = createRng(seed);
  const dim = 2;
  const centres = Array.from({ length: K }, (_, k) => [radius * Math.cos((2 * Math.PI * k) / K), radius * Math.sin((2 * Math.PI * k) / K)] as const);
  const points = new Float64Array(n * dim);
  const trueLabels = new Int32Array(n);
  const predProbs = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    const t = i % K;
    trueLabels[i] = t;
    points[i * 2] = centres[t]![0] + rng.normal();
    points[i * 2 + 1] = centres[t]![1] + rng.normal();
    const logits = centres.map(([cx, cy]) => -((points[i * 2]! - cx) ** 2 + (points[i * 2 + 1]! - cy) ** 2) / 2);
    const m = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - m));
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, k) => (predProbs[i * K + k] = v / s));
  }
  const labels = trueLabels.slice();
  const flipped = new Uint8Array(n);
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  for (const i of order.slice(0, Math.round(flipRate * n))) {
    labels[i] = (trueLabels[i]! + 1 + rng.int(K - 1)) % K;
    flipped[i] = 1;
  }
  return { points, dim, trueLabels, labels, flipped, predProbs };
}

/** Precision, recall and F1 of a 0/1 prediction against 0/1 truth. */
export function f1Score(predicted: ArrayLike<number>, truth: ArrayLike<number>): { precision: number; recall: number; f1: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < truth.length; i++) {
    if (predicted[i] === 1 && truth[i] === 1) tp++;
    else if (predicted[i] === 1) fp++;
    else if (truth[i] === 1) fn++;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}
