/**
 * kNN label consensus: what do a sample's nearest neighbours say its label is? This is the
 * training-free label check of Deep k-NN (Peri et al. 2020), SimiFeat-V (Zhu et al. 2022) and
 * cleanlab Datalab's `label` issue from features (research/detection.md §1.7, §3.4–3.5).
 *
 * The vote is plain (one neighbour, one vote), as in all three references. We choose it over a
 * distance-weighted vote on purpose: with 1/d weights a single planted near-duplicate carrying
 * the attacker's label would outvote every other neighbour; a plain vote caps any one
 * neighbour's influence at 1/k. The graph excludes the sample itself, so the distribution is
 * already leave-one-out (Datalab needs its (p − onehot/(k+1))·(k+1)/k correction only because
 * sklearn's classifier counts the point as its own neighbour).
 */
import type { KnnGraph } from '../compute/index.ts';
import { DetectorError } from './errors.ts';
import { assertKnnGraph } from './inputs.ts';

export interface KnnConsensusOptions {
  /** Use only the first `k` neighbours of each row (default: all of the graph's k). */
  readonly k?: number;
}

/** Per-sample neighbour votes. */
export interface KnnConsensus {
  readonly numClasses: number;
  /** n × K leave-one-out class distribution q_i (share of valid neighbours per class); uniform when a row has no valid neighbour. */
  readonly distributions: Float64Array;
  /** Plurality label of the neighbours; ties go to the given label, then to the lower class code. */
  readonly consensusLabel: Int32Array;
  /** q_i[consensusLabel]. */
  readonly consensusShare: Float64Array;
  /** How many neighbours carry the sample's own given label. */
  readonly agreeing: Int32Array;
  /** How many neighbours were counted (out-of-range or self indices are skipped). */
  readonly voters: Int32Array;
  /** 1 − q_i[given]: 0 when every neighbour agrees, 1 when none does. */
  readonly suspicion: Float64Array;
}

/** Neighbour label votes for every sample from a kNN graph (self excluded, nearest first). */
export function knnConsensus(labels: Int32Array, graph: KnnGraph, numClasses: number, options: KnnConsensusOptions = {}): KnnConsensus {
  const n = labels.length;
  const K = numClasses;
  if (!Number.isInteger(K) || K < 1) throw new DetectorError('DETECTOR_BAD_INPUT', `number of classes must be a positive integer, got ${K}`);
  assertKnnGraph(graph, n);
  const useK = options.k ?? graph.k;
  if (!Number.isInteger(useK) || useK < 0 || useK > graph.k) {
    throw new DetectorError('DETECTOR_BAD_OPTION', `k must be an integer in 0..${graph.k}, got ${useK}`);
  }
  for (let i = 0; i < n; i++) {
    // Labels index the vote rows: an out-of-range code would vote into a neighbour's row.
    if (!(labels[i]! >= 0 && labels[i]! < K)) {
      throw new DetectorError('DETECTOR_BAD_INPUT', `label code ${labels[i]} of sample ${i} is outside 0..${K - 1}`, { path: `labels[${i}]` });
    }
  }
  const distributions = new Float64Array(n * K);
  const consensusLabel = new Int32Array(n);
  const consensusShare = new Float64Array(n);
  const agreeing = new Int32Array(n);
  const voters = new Int32Array(n);
  const suspicion = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    const row = i * K;
    let count = 0;
    for (let r = 0; r < useK; r++) {
      const nb = graph.indices[i * graph.k + r]!;
      // A hostile or padded graph may hold −1, self or out-of-range indices: they do not vote.
      if (nb < 0 || nb >= n || nb === i) continue;
      distributions[row + labels[nb]!]! += 1;
      count++;
    }
    voters[i] = count;
    agreeing[i] = distributions[row + y]!;
    if (count === 0) {
      for (let j = 0; j < K; j++) distributions[row + j] = 1 / K;
    } else {
      for (let j = 0; j < K; j++) distributions[row + j] = distributions[row + j]! / count;
    }
    let best = y;
    let bestShare = distributions[row + y]!;
    for (let j = 0; j < K; j++) {
      if (distributions[row + j]! > bestShare) {
        best = j;
        bestShare = distributions[row + j]!;
      }
    }
    consensusLabel[i] = best;
    consensusShare[i] = bestShare;
    suspicion[i] = 1 - distributions[row + y]!;
  }
  return { numClasses: K, distributions, consensusLabel, consensusShare, agreeing, voters, suspicion };
}
