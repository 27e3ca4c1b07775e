import type { KnnGraph } from '../compute/index.ts';
import { DetectorError } from './errors.ts';

/** Row-major n × K probabilities; blended matrices are float64, model outputs float32. */
export type ProbMatrix = Float32Array | Float64Array;

/** How far a probability row may sum from 1 before we call it broken (float32 softmax drifts ~1e-6). */
export const ROW_SUM_TOLERANCE = 1e-3;
/** Confident learning keeps K × K matrices; beyond this many classes they would not fit in memory. */
export const MAX_CLASSES = 10_000;

/**
 * Checks labels and probabilities once, at the boundary, so the hot loops can trust them.
 * Probabilities come from a model we did not write (or from a user's file): hostile until checked.
 */
export function assertLabelsAndProbs(labels: Int32Array, predProbs: ProbMatrix, numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > MAX_CLASSES) {
    throw new DetectorError('DETECTOR_BAD_INPUT', `number of classes must be an integer in 1..${MAX_CLASSES}, got ${numClasses}`, {
      hint: 'a label column with this many distinct values is probably an id or free text',
    });
  }
  const n = labels.length;
  const K = numClasses;
  if (predProbs.length !== n * K) {
    throw new DetectorError(
      'DETECTOR_BAD_INPUT',
      `predicted probabilities have ${predProbs.length} values, expected ${n} samples × ${K} classes = ${n * K}`,
      { hint: 'the probability matrix must be row-major n × K with one column per class' },
    );
  }
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (y < 0 || y >= K) {
      throw new DetectorError('DETECTOR_BAD_INPUT', `label code ${y} of sample ${i} is outside 0..${K - 1}`, {
        path: `labels[${i}]`,
      });
    }
    let sum = 0;
    const row = i * K;
    for (let j = 0; j < K; j++) {
      const p = predProbs[row + j]!;
      // `!(p >= 0)` is also true for NaN.
      if (!(p >= 0) || p > 1 + ROW_SUM_TOLERANCE) {
        throw new DetectorError('DETECTOR_BAD_INPUT', `probability ${p} of sample ${i}, class ${j} is not in [0, 1]`, {
          path: `predProbs[${i}][${j}]`,
          hint: 'pass softmax probabilities, not logits',
        });
      }
      sum += p;
    }
    if (Math.abs(sum - 1) > ROW_SUM_TOLERANCE) {
      throw new DetectorError('DETECTOR_BAD_INPUT', `probabilities of sample ${i} sum to ${sum}, not 1`, {
        path: `predProbs[${i}]`,
        hint: 'each row must be a probability distribution over the classes',
      });
    }
  }
}

/** Checks that a kNN graph belongs to this dataset; neighbour indices themselves are checked where used. */
export function assertKnnGraph(graph: KnnGraph, n: number): void {
  if (graph.n !== n || !Number.isInteger(graph.k) || graph.k < 0) {
    throw new DetectorError('DETECTOR_BAD_INPUT', `kNN graph is for ${graph.n} samples with k=${graph.k}, dataset has ${n}`, {
      hint: 'build the kNN graph over the same rows as the labels',
    });
  }
  if (graph.indices.length !== n * graph.k || graph.distances.length !== n * graph.k) {
    throw new DetectorError(
      'DETECTOR_BAD_INPUT',
      `kNN graph arrays have ${graph.indices.length} indices and ${graph.distances.length} distances, expected ${n * graph.k}`,
    );
  }
}
