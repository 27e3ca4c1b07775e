/**
 * The `outliers` detector: samples unlike the rest of the data — junk rows (random bytes, empty
 * text, blank images), samples from another distribution, and crafted inputs that sit far from
 * every class. Two signals, both cleanlab Datalab's `outlier` issue (research/detection.md §1.7):
 *
 * (a) kNN distance. d̄_i = mean distance to the k neighbours of the graph. Flag if
 *     d̄_i > Q3 + 1.7·IQR of d̄ (Datalab's rule: its cut-off on exp(−d̄/median) is
 *     Q3 + (1/0.37037 − 1)·IQR). Score: with r = d̄_i / median(d̄),
 *     score_knn = 1 − exp(−max(0, r − 1)) — 0 at or below the median, 0.63 at twice it, → 1 far
 *     away; monotone in d̄ and in [0, 1). We shift Datalab's 1 − exp(−r) by one median on purpose:
 *     the scan takes each sample's maximum over detectors, and 1 − exp(−r) would give every typical
 *     sample 0.63, drowning the other detectors' signals. Datalab's own score exp(−r) is in the evidence.
 * (b) Out-of-fold probabilities (when present): cleanlab's `entropy` method. p̂ is adjusted by the
 *     per-class confident thresholds t (p̂ − t + max t, renormalised), and s = 1 − H(p̂_adj)/ln K
 *     (lower = more outlying). Flag if s < 0.13·median(s). On our higher-is-worse scale,
 *     score_entropy = clamp(1 − s / median(s), 0, 1): 0 at the median, 0.87 at the flag threshold.
 *
 * Combined score = max(score_knn, score_entropy). Finding `OUTLIER`: medium, or high when both
 * rules fire.
 */
import type { Finding } from '../core/index.ts';
import type { Detector, DetectorContext, DetectorResult } from './detector.ts';
import { confidentThresholds } from './confident-learning.ts';
import { DetectorError } from './errors.ts';
import { assertKnnGraph, assertLabelsAndProbs } from './inputs.ts';

export const OUTLIERS_DETECTOR = 'outliers';
export const OUTLIER_CODE = 'OUTLIER';
/** Datalab: flag d̄ > Q3 + IQR_FACTOR·IQR (1/0.37037 − 1 ≈ 1.7). */
export const IQR_FACTOR = 1.7;
/** Datalab: flag entropy score s < ENTROPY_FACTOR·median(s). */
export const ENTROPY_FACTOR = 0.13;
/** cleanlab clips probabilities before the logarithm. */
const PROB_FLOOR = 1e-10;

/** Build the `outliers` detector (kNN distance, plus prediction entropy when a model ran). */
export function createOutliersDetector(): Detector {
  return {
    name: OUTLIERS_DETECTOR,
    description: 'Outliers: samples far from their nearest neighbours, or with out-of-distribution predictions',
    needs: ['knn'],
    run: runOutliers,
  };
}

/** Linear-interpolated percentile of sorted values (numpy's default), q in [0, 1]; NaN when empty. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const m = sorted.length;
  if (m === 0) return NaN;
  const pos = q * (m - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(m - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Median of the finite values (NaN when there are none). */
export function median(values: ArrayLike<number>): number {
  return percentileSorted(finiteSorted(values), 0.5);
}

function finiteSorted(values: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) out.push(values[i]!);
  return Float64Array.from(out).sort();
}

interface KnnPart {
  readonly meanDistance: Float64Array;
  readonly scores: Float64Array;
  readonly flagged: Uint8Array;
  readonly q1: number;
  readonly q3: number;
  readonly iqr: number;
  readonly threshold: number;
  readonly median: number;
  readonly scale: number;
  readonly k: number;
}

interface EntropyPart {
  /** cleanlab's score s (lower = more outlying). */
  readonly s: Float64Array;
  readonly scores: Float64Array;
  readonly flagged: Uint8Array;
  readonly median: number;
  readonly threshold: number;
}

function knnPart(ctx: DetectorContext, n: number): KnnPart | null {
  const graph = ctx.knn;
  if (graph === null) return null;
  assertKnnGraph(graph, n);
  const meanDistance = new Float64Array(n).fill(NaN);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    let count = 0;
    for (let r = 0; r < graph.k; r++) {
      const nb = graph.indices[i * graph.k + r]!;
      const d = graph.distances[i * graph.k + r]!;
      // Padded or hostile rows (−1, self, NaN) do not count; a row with none stays unscored.
      if (nb < 0 || nb >= n || nb === i || !Number.isFinite(d)) continue;
      sum += Math.max(0, d);
      count++;
    }
    if (count > 0) meanDistance[i] = sum / count;
  }
  const sorted = finiteSorted(meanDistance);
  const q1 = percentileSorted(sorted, 0.25);
  const q3 = percentileSorted(sorted, 0.75);
  const med = percentileSorted(sorted, 0.5);
  const iqr = q3 - q1;
  const threshold = q3 + IQR_FACTOR * iqr;
  // More than half the rows at distance 0 (many exact copies): scale by the non-zero ones instead.
  let scale = med;
  if (!(scale > 0)) scale = percentileSorted(sorted.filter((x) => x > 0), 0.5);
  if (!(scale > 0)) scale = 1;
  const scores = new Float64Array(n);
  const flagged = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const d = meanDistance[i]!;
    if (!Number.isFinite(d)) continue;
    scores[i] = 1 - Math.exp(-Math.max(0, d / scale - 1));
    // Equidistant points come back from float32 kernels differing in the 7th digit; a spread that
    // small is not an outlier, so the cut-off carries a relative tolerance of 1e-6.
    if (d > threshold + 1e-6 * Math.abs(threshold)) flagged[i] = 1;
  }
  return { meanDistance, scores, flagged, q1, q3, iqr, threshold, median: med, scale, k: graph.k };
}

function entropyPart(ctx: DetectorContext, n: number): EntropyPart | null {
  const probs = ctx.predProbs;
  const K = ctx.numClasses;
  // With one class the entropy is 0 for every row: no signal.
  if (probs === null || K < 2 || n === 0) return null;
  assertLabelsAndProbs(ctx.labels, probs, K);
  const t = confidentThresholds(ctx.labels, probs, K);
  let tMax = -Infinity;
  for (let k = 0; k < K; k++) tMax = Math.max(tMax, t[k]!);
  const logK = Math.log(K);
  const s = new Float64Array(n);
  const adj = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let k = 0; k < K; k++) {
      adj[k] = probs[i * K + k]! - t[k]! + tMax;
      sum += adj[k]!;
    }
    let h = 0;
    for (let k = 0; k < K; k++) {
      const p = Math.max(PROB_FLOOR, adj[k]! / sum);
      h -= p * Math.log(p);
    }
    s[i] = Math.min(1, Math.max(0, 1 - h / logK));
  }
  const med = median(s);
  const threshold = ENTROPY_FACTOR * med;
  const scores = new Float64Array(n);
  const flagged = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (med > 0) scores[i] = Math.min(1, Math.max(0, 1 - s[i]! / med));
    if (s[i]! < threshold) flagged[i] = 1;
  }
  return { s, scores, flagged, median: med, threshold };
}

function runOutliers(ctx: DetectorContext): DetectorResult {
  const n = ctx.labels.length;
  if (ctx.dataset.ids.length !== n) {
    throw new DetectorError('DETECTOR_BAD_INPUT', `dataset has ${ctx.dataset.ids.length} ids but ${n} labels`);
  }
  ctx.progress(OUTLIERS_DETECTOR, 0, 1);
  const knn = knnPart(ctx, n);
  const ent = entropyPart(ctx, n);
  const scores = new Float32Array(n);
  const findings: Finding[] = [];
  let byKnn = 0;
  let byEntropy = 0;
  let byBoth = 0;
  for (let i = 0; i < n; i++) {
    const sk = knn?.scores[i] ?? 0;
    const se = ent?.scores[i] ?? 0;
    scores[i] = Math.min(1, Math.max(0, sk, se));
    const fk = knn?.flagged[i] === 1;
    const fe = ent?.flagged[i] === 1;
    if (!fk && !fe) continue;
    if (fk) byKnn++;
    if (fe) byEntropy++;
    if (fk && fe) byBoth++;
    const rules = [...(fk ? ['knn-distance'] : []), ...(fe ? ['entropy'] : [])];
    const parts: string[] = [];
    if (fk && knn !== null) {
      parts.push(`mean distance to its ${knn.k} nearest neighbours is ${fmt(knn.meanDistance[i]!)} (cut-off ${fmt(knn.threshold)}, median ${fmt(knn.median)})`);
    }
    if (fe && ent !== null) parts.push(`the model's prediction is unusually uncertain (entropy score ${fmt(ent.s[i]!)} < ${fmt(ent.threshold)})`);
    findings.push({
      index: i,
      sampleId: ctx.dataset.ids[i]!,
      detector: OUTLIERS_DETECTOR,
      code: OUTLIER_CODE,
      score: scores[i]!,
      severity: fk && fe ? 'high' : 'medium',
      message: `outlier: ${parts.join('; ')}`,
      evidence: {
        rules,
        meanNeighbourDistance: knn === null ? null : finiteOrNull(knn.meanDistance[i]!),
        threshold: knn === null ? null : finiteOrNull(knn.threshold),
        q3: knn === null ? null : finiteOrNull(knn.q3),
        iqr: knn === null ? null : finiteOrNull(knn.iqr),
        medianMeanDistance: knn === null ? null : finiteOrNull(knn.median),
        knnScore: knn === null ? null : round6(knn.scores[i]!),
        datalabKnnScore: knn === null || !Number.isFinite(knn.meanDistance[i]!) ? null : round6(Math.exp(-knn.meanDistance[i]! / knn.scale)),
        entropyScore: ent === null ? null : round6(ent.s[i]!),
        entropyThreshold: ent === null ? null : round6(ent.threshold),
      },
    });
  }
  findings.sort((a, b) => b.score - a.score || a.index - b.index);
  ctx.progress(OUTLIERS_DETECTOR, 1, 1);
  return {
    scores,
    findings,
    summary: {
      flagged: findings.length,
      flaggedByKnn: byKnn,
      flaggedByEntropy: byEntropy,
      flaggedByBoth: byBoth,
      knn:
        knn === null
          ? null
          : {
              k: knn.k,
              q1: finiteOrNull(knn.q1),
              q3: finiteOrNull(knn.q3),
              iqr: finiteOrNull(knn.iqr),
              threshold: finiteOrNull(knn.threshold),
              medianMeanDistance: finiteOrNull(knn.median),
              scale: round6(knn.scale),
            },
      entropy: ent === null ? null : { median: round6(ent.median), threshold: round6(ent.threshold) },
      ...(knn === null && ent === null ? { note: 'no kNN graph and no predicted probabilities: nothing to score' } : {}),
    },
  };
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? round6(x) : null;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(3) : 'n/a';
}
