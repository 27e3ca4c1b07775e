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
 * (b) Out-of-fold probabilities: cleanlab's `entropy` method. It scores and flags on its own only
 *     without a kNN graph (as Datalab); with one it corroborates the other rules (see runOutliers). p̂ is adjusted by the
 *     per-class confident thresholds t (p̂ − t + max t, renormalised), and s = 1 − H(p̂_adj)/ln K
 *     (lower = more outlying). Flag if s < 0.13·median(s). On our higher-is-worse scale,
 *     score_entropy = clamp(1 − s / median(s), 0, 1): 0 at the median, 0.87 at the flag threshold.
 *
 * (c) Text content (when the data has a text column): the mean surprisal per character under a
 *     leave-one-out character-bigram model of the corpus (char-model.ts). With r = surprisal_i /
 *     median, flag if r ≥ 2 (twice the corpus's typical cross-entropy: gibberish to this corpus),
 *     score_text = 1 − 10^−max(0, r − 1) — 0.9 at the flag threshold. Empty or whitespace-only
 *     text scores 1 and is flagged. Why a third signal: random-byte junk projects near the corpus
 *     mean in the TF-IDF/LSA space, where all junk rows are each other's nearest neighbours, so
 *     (a) ranked it as low as 2,257th of 6,499 on SpamAssassin; (c) puts it first.
 *
 * Combined score = max(score_knn, score_entropy, score_text). Finding `OUTLIER`: high when two or
 * more rules fire; medium for the text or entropy rule alone or a kNN-only flag at ≥ 2× the cut-off; else low
 * (the data's fringe, worth a look but not a failure).
 */
import type { Finding } from '../core/index.ts';
import type { Detector, DetectorContext, DetectorResult } from './detector.ts';
import { confidentThresholds } from './confident-learning.ts';
import { DetectorError } from './errors.ts';
import { assertKnnGraph, assertLabelsAndProbs } from './inputs.ts';
import { characterSurprisal } from './char-model.ts';
import { round6 } from './numbers.ts';

export const OUTLIERS_DETECTOR = 'outliers';
export const OUTLIER_CODE = 'OUTLIER';
/** Datalab: flag d̄ > Q3 + IQR_FACTOR·IQR (1/0.37037 − 1 ≈ 1.7). */
export const IQR_FACTOR = 1.7;
/** Datalab: flag entropy score s < ENTROPY_FACTOR·median(s). */
export const ENTROPY_FACTOR = 0.13;
/**
 * A kNN-only flag is `low` (the data's fringe: Datalab's rule flags ~3 % of a clean Gaussian) unless
 * the sample's mean neighbour distance is at least this multiple of the cut-off. Measured on
 * Fashion-MNIST with 1 % junk images: junk at 3.6–3.9× the cut-off, the 677 flagged real images
 * at 1.0–2.95× (all but 9 below 2×).
 */
export const FAR_BEYOND_CUTOFF = 2;
/** Text: flag when its character surprisal is at least this multiple of the corpus median. */
export const TEXT_SURPRISAL_FACTOR = 2;
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

/** Datalab's outlier cut-off over mean neighbour distances, and the scale the scores are relative to. */
export interface DistanceCutoff {
  readonly q1: number;
  readonly q3: number;
  readonly iqr: number;
  /** Q3 + IQR_FACTOR·IQR. */
  readonly threshold: number;
  readonly median: number;
  /** The median, or the median of the non-zero distances when more than half are 0 (many exact copies), else 1. */
  readonly scale: number;
}

/** Cut-off and scale from mean neighbour distances (non-finite values are ignored). */
export function distanceCutoff(meanDistances: ArrayLike<number>): DistanceCutoff {
  const sorted = finiteSorted(meanDistances);
  const q1 = percentileSorted(sorted, 0.25);
  const q3 = percentileSorted(sorted, 0.75);
  const med = percentileSorted(sorted, 0.5);
  let scale = med;
  if (!(scale > 0)) scale = percentileSorted(sorted.filter((x) => x > 0), 0.5);
  if (!(scale > 0)) scale = 1;
  return { q1, q3, iqr: q3 - q1, threshold: q3 + IQR_FACTOR * (q3 - q1), median: med, scale };
}

/** 1 − exp(−max(0, d/scale − 1)): 0 at or below the typical distance, 0.63 at twice it, → 1 far away. */
export function distanceScore(d: number, scale: number): number {
  return 1 - Math.exp(-Math.max(0, d / scale - 1));
}

/**
 * Beyond the cut-off. Equidistant points come back from float32 kernels differing in the 7th digit;
 * a spread that small is not an outlier, so the cut-off carries a relative tolerance of 1e-6.
 */
export function exceedsCutoff(d: number, threshold: number): boolean {
  return d > threshold + 1e-6 * Math.abs(threshold);
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
  const { q1, q3, iqr, threshold, median: med, scale } = distanceCutoff(meanDistance);
  const scores = new Float64Array(n);
  const flagged = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const d = meanDistance[i]!;
    if (!Number.isFinite(d)) continue;
    scores[i] = distanceScore(d, scale);
    if (exceedsCutoff(d, threshold)) flagged[i] = 1;
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

interface TextPart {
  /** Mean surprisal per character (nats); NaN for empty text. */
  readonly surprisal: Float64Array;
  readonly scores: Float64Array;
  readonly flagged: Uint8Array;
  readonly median: number;
  readonly threshold: number;
  readonly empty: number;
}

function textPart(ctx: DetectorContext, n: number): TextPart | null {
  const texts = ctx.dataset.text;
  if (texts === null || texts.length !== n || n < 2) return null;
  const surprisal = characterSurprisal(texts);
  const med = median(surprisal);
  const threshold = TEXT_SURPRISAL_FACTOR * med;
  const scores = new Float64Array(n);
  const flagged = new Uint8Array(n);
  let empty = 0;
  for (let i = 0; i < n; i++) {
    const s = surprisal[i]!;
    if (Number.isNaN(s)) {
      scores[i] = 1;
      flagged[i] = 1;
      empty++;
      continue;
    }
    if (!(med > 0)) continue;
    scores[i] = 1 - 10 ** -Math.max(0, s / med - 1);
    if (s >= threshold) flagged[i] = 1;
  }
  return { surprisal, scores, flagged, median: med, threshold, empty };
}

function runOutliers(ctx: DetectorContext): DetectorResult {
  const n = ctx.labels.length;
  if (ctx.dataset.ids.length !== n) {
    throw new DetectorError('DETECTOR_BAD_INPUT', `dataset has ${ctx.dataset.ids.length} ids but ${n} labels`);
  }
  ctx.progress(OUTLIERS_DETECTOR, 0, 1);
  const knn = knnPart(ctx, n);
  const ent = entropyPart(ctx, n);
  // Datalab scores outliers from the model's probabilities only when it has no features or kNN
  // graph. With a graph, the entropy rule alone mostly fires near the decision boundary, not on
  // outliers: on SpamAssassin it flagged ~230 ordinary mails and ranked them above planted junk.
  // So with a graph it only corroborates (a kNN- or text-flagged sample the model is also unsure
  // of is `high`) and stays out of the score; its value is in every finding's evidence.
  const entropyLeads = knn === null;
  const txt = textPart(ctx, n);
  const scores = new Float32Array(n);
  const findings: Finding[] = [];
  let byKnn = 0;
  let byEntropy = 0;
  let byText = 0;
  let byMany = 0;
  for (let i = 0; i < n; i++) {
    scores[i] = Math.min(1, Math.max(0, knn?.scores[i] ?? 0, entropyLeads ? (ent?.scores[i] ?? 0) : 0, txt?.scores[i] ?? 0));
    const fk = knn?.flagged[i] === 1;
    const ft = txt?.flagged[i] === 1;
    const fe = ent?.flagged[i] === 1 && (entropyLeads || fk || ft);
    const rules = [...(fk ? ['knn-distance'] : []), ...(fe ? ['entropy'] : []), ...(ft ? ['text-surprisal'] : [])];
    if (rules.length === 0) continue;
    if (fk) byKnn++;
    if (fe) byEntropy++;
    if (ft) byText++;
    if (rules.length > 1) byMany++;
    const parts: string[] = [];
    if (fk && knn !== null) {
      parts.push(`mean distance to its ${knn.k} nearest neighbours is ${fmt(knn.meanDistance[i]!)} (cut-off ${fmt(knn.threshold)}, median ${fmt(knn.median)})`);
    }
    if (fe && ent !== null) parts.push(`the model's prediction is unusually uncertain (entropy score ${fmt(ent.s[i]!)} < ${fmt(ent.threshold)})`);
    if (ft && txt !== null) {
      const s = txt.surprisal[i]!;
      parts.push(Number.isNaN(s) ? 'the text is empty' : `its characters are unlike the corpus's (${fmt(s)} nats/char, cut-off ${fmt(txt.threshold)}, median ${fmt(txt.median)})`);
    }
    findings.push({
      index: i,
      sampleId: ctx.dataset.ids[i]!,
      detector: OUTLIERS_DETECTOR,
      code: OUTLIER_CODE,
      score: scores[i]!,
      severity: rules.length > 1 ? 'high' : ft || fe || (fk && knn !== null && knn.meanDistance[i]! >= FAR_BEYOND_CUTOFF * knn.threshold) ? 'medium' : 'low',
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
        textSurprisal: txt === null ? null : finiteOrNull(txt.surprisal[i]!),
        textSurprisalThreshold: txt === null ? null : finiteOrNull(txt.threshold),
        emptyText: txt === null ? null : Number.isNaN(txt.surprisal[i]!),
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
      flaggedByText: byText,
      flaggedByMoreThanOne: byMany,
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
      entropy: ent === null ? null : { median: round6(ent.median), threshold: round6(ent.threshold), role: entropyLeads ? 'scores and flags' : 'corroborates' },
      text: txt === null ? null : { medianSurprisal: finiteOrNull(txt.median), threshold: finiteOrNull(txt.threshold), empty: txt.empty },
      ...(knn === null && ent === null && txt === null ? { note: 'no kNN graph and no predicted probabilities: nothing to score' } : {}),
    },
  };
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? round6(x) : null;
}


function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(3) : 'n/a';
}
