/**
 * The `label-issues` detector: finds samples whose given label is probably wrong, from two
 * signals — the model's out-of-fold probabilities (confident learning) and, when a kNN graph
 * exists, what the nearest neighbours are labelled (kNN consensus).
 *
 * Blend: p* = (1 − w)·predProbs + w·q_knn, with w = `knnWeight` (default 0.4 when a graph exists,
 * 0 without one; 1 when there is a graph but no model). Both are leave-one-out distributions over
 * the same classes, so the blend is one too, and confident learning runs on it unchanged: a model
 * that memorised a flipped label is outvoted by its neighbours, and a neighbourhood confused by a
 * cluster of poisons is outvoted by a model that generalises.
 *
 * Flagged set: `auto` (default; see AUTO_FILTER), `rank_by_noise_rate`, or `findLabelIssues(p*, filterBy)`.
 * Score: 1 − label quality of p* (default normalized margin, so score = (1 − p*_given + max_other p*) / 2),
 * in [0, 1], higher = more suspicious; it ranks every sample, flagged or not.
 * Severity of a finding by score: ≥ 0.9 high, ≥ 0.7 medium, else low. With the normalized-margin
 * score, 0.9 means the best other class leads the given one by 0.8 (e.g. 0.9 vs 0.1) and 0.7 by 0.4.
 */
import type { Finding, Severity } from '../core/index.ts';
import type { Detector, DetectorContext, DetectorResult } from './detector.ts';
import {
  FILTER_BY_MODES,
  FLOATING_POINT_COMPARISON,
  LABEL_QUALITY_METHODS,
  numLabelIssues,
  estimateJoint,
  findLabelIssues,
  labelQualityScores,
  normalizedMargin,
} from './confident-learning.ts';
import type { JointEstimate, LabelQualityMethod } from './confident-learning.ts';
import { DetectorError } from './errors.ts';
import { assertLabelsAndProbs } from './inputs.ts';
import type { ProbMatrix } from './inputs.ts';
import { knnConsensus } from './knn-consensus.ts';
import type { KnnConsensus } from './knn-consensus.ts';
import { round6 } from './numbers.ts';

export const LABEL_ISSUES_DETECTOR = 'label-issues';

/**
 * An extra flagging rule (not cleanlab's). Confident learning estimates *how many* labels are wrong
 * well (n · (1 − trace of the calibrated joint), cleanlab's `off_diagonal_calibrated`), but
 * prune_by_noise_rate then spends that budget per (given, true) class pair, and when the joint
 * misallocates it between pairs, confidently wrong samples go unflagged while borderline ones are
 * flagged. This rule spends the same budget on the global ranking instead: the `count` samples with
 * the lowest label quality, never one whose given label is the blend's argmax (cleanlab's rescue).
 * It wins on uniform noise (SpamAssassin, 10 % symmetric flips: F1 0.95 vs 0.93) and loses on
 * targeted flips, where the noise really is concentrated in one class pair and the per-pair
 * budget is right (Fashion-MNIST Shirt→T-shirt: 0.23 vs 0.39) — hence `auto` below;
 * docs/benchmarks.md has the numbers.
 */
export const RANK_BY_NOISE_RATE = 'rank_by_noise_rate';
/**
 * The default: pick between the two budget rules from the estimated noise itself. When one
 * (given, true) pair's noise rate is ≥ CONCENTRATED_NOISE × the mean off-diagonal rate (and
 * significantly so, CONCENTRATED_NOISE_Z) — a
 * targeted flip, or a few confusable class pairs — the per-pair budget of prune_by_noise_rate is
 * trusted; when the noise is spread evenly, rank_by_noise_rate. The choice and the concentration are in the summary.
 */
export const AUTO_FILTER = 'auto';
export const CONCENTRATED_NOISE = 1.5;
/** ... and only when that entry is this many Poisson standard deviations above uniform. */
export const CONCENTRATED_NOISE_Z = 3;
export const LABEL_ISSUE_FILTERS = [AUTO_FILTER, RANK_BY_NOISE_RATE, ...FILTER_BY_MODES] as const;
export type LabelIssueFilter = (typeof LABEL_ISSUE_FILTERS)[number];

function rankByNoiseRate(labels: Int32Array, probs: ProbMatrix, K: number): Uint8Array {
  const n = labels.length;
  const count = numLabelIssues(labels, probs, K, { method: 'off_diagonal_calibrated' });
  const margin = new Float64Array(n);
  const candidates: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    let best = -Infinity;
    for (let j = 0; j < K; j++) if (j !== y && probs[i * K + j]! > best) best = probs[i * K + j]!;
    margin[i] = probs[i * K + y]! - best;
    // Rescue as cleanlab does: the given label wins ties by 1e-6.
    if (margin[i]! + FLOATING_POINT_COMPARISON < 0) candidates.push(i);
  }
  candidates.sort((a, b) => margin[a]! - margin[b]! || a - b);
  const mask = new Uint8Array(n);
  for (const i of candidates.slice(0, count)) mask[i] = 1;
  return mask;
}
export const LABEL_ISSUE_CODE = 'LABEL_ISSUE';
/** Default weight of the kNN vote in the blend when a graph exists. */
export const DEFAULT_KNN_WEIGHT = 0.4;
/** At most this many neighbours and model classes are listed in a finding's evidence. */
const EVIDENCE_LIST_LIMIT = 10;

export interface LabelIssueDetectorOptions {
  /** Which rule flags samples: `auto` (default), `rank_by_noise_rate`, or any cleanlab `filter_by` mode. */
  readonly filterBy?: LabelIssueFilter;
  /** Weight w of the kNN vote in p* = (1 − w)·predProbs + w·q_knn, in [0, 1] (default 0.4 with a graph). */
  readonly knnWeight?: number;
  /** Label-quality score behind the per-sample suspicion (default `normalized_margin`). */
  readonly scoreMethod?: LabelQualityMethod;
  /** Leave at least this many samples in every class (default 1). */
  readonly minExamplesPerClass?: number;
  /** Flag only this fraction of the estimated issues (PBC / PBNR / both; default 1). */
  readonly fracNoise?: number;
  /** Use only the first k neighbours of the graph (default: all). */
  readonly knnK?: number;
}

/** Build a `label-issues` detector with its knobs set; the registry holds one with the defaults. */
export function createLabelIssueDetector(options: LabelIssueDetectorOptions = {}): Detector {
  const filterBy = options.filterBy ?? AUTO_FILTER;
  const scoreMethod = options.scoreMethod ?? 'normalized_margin';
  if (!(LABEL_ISSUE_FILTERS as readonly string[]).includes(filterBy)) {
    throw new DetectorError('DETECTOR_BAD_OPTION', `unknown filterBy ${String(filterBy)}`, { hint: `use one of ${LABEL_ISSUE_FILTERS.join(', ')}` });
  }
  if (!(LABEL_QUALITY_METHODS as readonly string[]).includes(scoreMethod)) {
    throw new DetectorError('DETECTOR_BAD_OPTION', `unknown scoreMethod ${String(scoreMethod)}`, {
      hint: `use one of ${LABEL_QUALITY_METHODS.join(', ')}`,
    });
  }
  if (options.knnWeight !== undefined && !(options.knnWeight >= 0 && options.knnWeight <= 1)) {
    throw new DetectorError('DETECTOR_BAD_OPTION', `knnWeight must be in [0, 1], got ${options.knnWeight}`);
  }
  return {
    name: LABEL_ISSUES_DETECTOR,
    description: 'Mislabelled samples: confident learning on out-of-fold probabilities blended with kNN label consensus',
    needs: ['predProbs'],
    run: (ctx) => runLabelIssues(ctx, { ...options, filterBy, scoreMethod }),
  };
}

interface ResolvedOptions extends LabelIssueDetectorOptions {
  readonly filterBy: LabelIssueFilter;
  readonly scoreMethod: LabelQualityMethod;
}

function runLabelIssues(ctx: DetectorContext, options: ResolvedOptions): DetectorResult {
  const { labels, predProbs, knn } = ctx;
  const K = ctx.numClasses;
  const n = labels.length;
  if (ctx.dataset.ids.length !== n) {
    throw new DetectorError('DETECTOR_BAD_INPUT', `dataset has ${ctx.dataset.ids.length} ids but ${n} labels`);
  }
  if (predProbs === null && knn === null) {
    throw new DetectorError('DETECTOR_BAD_INPUT', 'label-issues needs predicted probabilities or a kNN graph', {
      hint: 'train a model (out-of-fold probabilities) or build a kNN graph before running this detector',
    });
  }
  if (predProbs !== null) assertLabelsAndProbs(labels, predProbs, K);
  ctx.progress(LABEL_ISSUES_DETECTOR, 0, 1);

  const consensus = knn === null ? null : knnConsensus(labels, knn, K, options.knnK === undefined ? {} : { k: options.knnK });
  const w = consensus === null ? 0 : predProbs === null ? 1 : (options.knnWeight ?? DEFAULT_KNN_WEIGHT);
  const probs = blend(predProbs, consensus, w, n * K);

  const names = (k: number): string => ctx.classNames[k] ?? String(k);
  if (n === 0) {
    return emptyResult(options, w);
  }
  const estimate = estimateJoint(labels, probs, K);
  const concentration = noiseConcentration(estimate, K, n);
  const concentrated = concentration.ratio >= CONCENTRATED_NOISE && concentration.z >= CONCENTRATED_NOISE_Z;
  const rule = options.filterBy !== AUTO_FILTER ? options.filterBy : concentrated ? 'prune_by_noise_rate' : RANK_BY_NOISE_RATE;
  const flagged =
    rule === RANK_BY_NOISE_RATE
      ? rankByNoiseRate(labels, probs, K)
      : findLabelIssues(labels, probs, K, {
          filterBy: rule,
          ...(options.fracNoise === undefined ? {} : { fracNoise: options.fracNoise }),
          ...(options.minExamplesPerClass === undefined ? {} : { minExamplesPerClass: options.minExamplesPerClass }),
        });
  const quality = labelQualityScores(labels, probs, K, { method: options.scoreMethod });

  const scores = new Float32Array(n);
  const suggestedLabel = new Int32Array(n);
  const suggestedProbability = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    scores[i] = Math.min(1, Math.max(0, 1 - quality[i]!));
    let arg = 0;
    for (let j = 1; j < K; j++) if (probs[i * K + j]! > probs[i * K + arg]!) arg = j;
    suggestedLabel[i] = arg;
    suggestedProbability[i] = probs[i * K + arg]!;
  }

  const order: number[] = [];
  for (let i = 0; i < n; i++) if (flagged[i] === 1) order.push(i);
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const findings: Finding[] = order.map((i) =>
    buildFinding(ctx, i, { probs, consensus, score: scores[i]!, suggested: suggestedLabel[i]!, names }),
  );

  ctx.progress(LABEL_ISSUES_DETECTOR, 1, 1);
  const cj = estimate.confidentJoint;
  return {
    scores,
    findings,
    summary: {
      filterBy: rule,
      noiseConcentration: { ratio: round6(concentration.ratio), z: round6(concentration.z) },
      knnWeight: w,
      scoreMethod: options.scoreMethod,
      numLabelIssues: findings.length,
      estimatedNoiseRate: round6(estimate.noiseRate),
      classNames: Array.from({ length: K }, (_, k) => names(k)),
      joint: toRows(estimate.joint, K),
      confidentJoint: toRows(cj.counts, K),
      noiseMatrix: toRows(estimate.noiseMatrix, K),
      thresholds: Array.from(cj.thresholds, round6),
      perClassNoiseRate: Array.from(estimate.perClassNoiseRate, round6),
      knn:
        consensus === null || knn === null
          ? null
          : { k: options.knnK ?? knn.k, metric: knn.metric, meanAgreement: round6(meanAgreement(labels, consensus)) },
    },
    perSample: { suggestedLabel, suggestedProbability },
  };
}

function blend(predProbs: Float32Array | null, consensus: KnnConsensus | null, w: number, size: number): ProbMatrix {
  if (consensus === null || w === 0) {
    // predProbs is non-null here: the caller refuses to run with neither signal.
    return predProbs ?? new Float32Array(size);
  }
  const q = consensus.distributions;
  if (predProbs === null || w === 1) return q;
  const out = new Float64Array(size);
  for (let x = 0; x < size; x++) out[x] = (1 - w) * predProbs[x]! + w * q[x]!;
  return out;
}

interface FindingInputs {
  readonly probs: ProbMatrix;
  readonly consensus: KnnConsensus | null;
  readonly score: number;
  readonly suggested: number;
  readonly names: (k: number) => string;
}

function buildFinding(ctx: DetectorContext, i: number, f: FindingInputs): Finding {
  const K = ctx.numClasses;
  const y = ctx.labels[i]!;
  const { probs, consensus, names, suggested } = f;
  const given = names(y);
  const suggestion = names(suggested);
  const pSuggested = probs[i * K + suggested]!;
  const pGiven = probs[i * K + y]!;
  let message =
    suggested === y
      ? `labelled "${given}" with low confidence (p=${pGiven.toFixed(2)})`
      : `labelled "${given}" but looks like "${suggestion}" (p=${pSuggested.toFixed(2)})`;
  let knnEvidence: Record<string, unknown> | null = null;
  if (consensus !== null && ctx.knn !== null) {
    const graph = ctx.knn;
    const neighbours: Record<string, unknown>[] = [];
    for (let r = 0; r < graph.k && neighbours.length < EVIDENCE_LIST_LIMIT; r++) {
      const nb = graph.indices[i * graph.k + r]!;
      if (nb < 0 || nb >= ctx.labels.length || nb === i) continue;
      const d = graph.distances[i * graph.k + r]!;
      neighbours.push({ index: nb, id: ctx.dataset.ids[nb] ?? null, label: names(ctx.labels[nb]!), distance: Number.isFinite(d) ? round4(d) : null });
    }
    const c = consensus.consensusLabel[i]!;
    const voters = consensus.voters[i]!;
    knnEvidence = {
      agreeing: consensus.agreeing[i]!,
      k: voters,
      consensusLabel: names(c),
      consensusShare: round4(consensus.consensusShare[i]!),
      neighbours,
    };
    if (voters > 0) message += `; ${consensus.agreeing[i]!}/${voters} nearest neighbours are labelled "${given}"`;
  }
  return {
    index: i,
    sampleId: ctx.dataset.ids[i]!,
    detector: LABEL_ISSUES_DETECTOR,
    code: LABEL_ISSUE_CODE,
    score: f.score,
    severity: severityFor(f.score),
    message,
    evidence: {
      givenLabel: given,
      suggestedLabel: suggestion,
      suggestedProbability: round4(pSuggested),
      givenLabelProbability: round4(pGiven),
      selfConfidence: round4(pGiven),
      normalizedMargin: round4(normalizedMargin(probs, i, K, y)),
      modelProbabilities: ctx.predProbs === null ? null : topProbabilities(ctx.predProbs, i, K, y, names),
      knn: knnEvidence,
    },
  };
}

/** The model's own probabilities (not the blend): all classes when K ≤ 10, else the top 10 plus the given one. */
function topProbabilities(predProbs: Float32Array, i: number, K: number, y: number, names: (k: number) => string): Record<string, number> {
  const out: Record<string, number> = {};
  if (K <= EVIDENCE_LIST_LIMIT) {
    for (let k = 0; k < K; k++) out[names(k)] = round4(predProbs[i * K + k]!);
    return out;
  }
  const classes = Array.from({ length: K }, (_, k) => k).sort((a, b) => predProbs[i * K + b]! - predProbs[i * K + a]! || a - b);
  const keep = classes.slice(0, EVIDENCE_LIST_LIMIT);
  if (!keep.includes(y)) keep.push(y);
  for (const k of keep) out[names(k)] = round4(predProbs[i * K + k]!);
  return out;
}

/** Severity by score: ≥ 0.9 high, ≥ 0.7 medium, else low. */
export function severityFor(score: number): Severity {
  if (score >= 0.9) return 'high';
  if (score >= 0.7) return 'medium';
  return 'low';
}

function meanAgreement(labels: Int32Array, consensus: KnnConsensus): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) s += 1 - consensus.suspicion[i]!;
  return labels.length === 0 ? 1 : s / labels.length;
}

function emptyResult(options: ResolvedOptions, w: number): DetectorResult {
  return {
    scores: new Float32Array(0),
    findings: [],
    summary: { filterBy: options.filterBy, knnWeight: w, scoreMethod: options.scoreMethod, numLabelIssues: 0, estimatedNoiseRate: 0 },
    perSample: { suggestedLabel: new Int32Array(0), suggestedProbability: new Float32Array(0) },
  };
}

function toRows(m: Float64Array, K: number): number[][] {
  return Array.from({ length: K }, (_, i) => Array.from(m.subarray(i * K, (i + 1) * K), round6));
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}


/** The `label-issues` detector with default options. */
export const labelIssueDetector: Detector = createLabelIssueDetector();


/**
 * How concentrated the estimated label noise is. Returns `ratio`: the largest off-diagonal entry
 * of the noise matrix P(given | true) over the mean off-diagonal entry (uniform noise gives every
 * entry ε/(K−1) whatever the class sizes, so ≈ 1; a targeted flip puts it all in one entry), and
 * `z`: how many Poisson standard deviations that entry's count lies above the count uniform noise
 * would give it, so that small datasets' sampling noise is not read as a targeted attack. (The
 * joint itself would not do: under uniform noise its cells scale with the class priors.)
 */
function noiseConcentration(estimate: JointEstimate, K: number, n: number): { ratio: number; z: number } {
  const noise = estimate.noiseMatrix;
  let total = 0;
  let best = -1;
  for (let g = 0; g < K; g++) {
    for (let t = 0; t < K; t++) {
      if (g === t) continue;
      total += noise[g * K + t]!;
      if (best < 0 || noise[g * K + t]! > noise[best]!) best = g * K + t;
    }
  }
  const mean = total / (K * (K - 1));
  if (best < 0 || mean <= 0) return { ratio: 1, z: 0 };
  const t = best % K;
  let trueCount = 0;
  for (let g = 0; g < K; g++) trueCount += estimate.joint[g * K + t]! * n;
  const expected = mean * trueCount;
  const observed = noise[best]! * trueCount;
  return { ratio: noise[best]! / mean, z: expected > 0 ? (observed - expected) / Math.sqrt(expected) : 0 };
}
