/**
 * Scoring a new batch against the trusted reference sample of a baseline (issue #3 §2), so that a
 * small batch can be judged without a large batch of its own. The scan does the compute (a joint
 * representation of trusted and batch rows, kNN queries, a domain classifier) and hands the
 * results here through `DetectorContext.reference`; this file only turns them into row problems
 * and dataset-level numbers.
 *
 * - Far from the trusted data: d̄_i = mean distance from batch row i to its k nearest trusted rows.
 *   Flag d̄_i > Q3 + 1.7·IQR of the trusted rows' own d̄ (trusted → trusted, self excluded):
 *   Datalab's outlier rule, calibrated on data we trust rather than on the batch itself, so a
 *   batch that is mostly junk cannot move its own cut-off. Score 1 − exp(−max(0, d̄/median − 1)),
 *   as the `outliers` detector.
 * - Label against trusted neighbours: the k trusted neighbours vote, weighted by 1/(d + ε). The
 *   `knn-consensus` detector votes one-neighbour-one-vote so that one planted near-duplicate
 *   cannot outvote the rest; here every voter is trusted, so the closest trusted rows may count
 *   more. Flag when the given label's share p(given) < 0.1. Measured on 250-row batches with 10 %
 *   symmetric flips (docs/baseline.md): on Fashion-MNIST, confident learning's per-class
 *   thresholds (calibrated on the trusted rows) gave precision 0.43–0.55, p < 0.1 gave 0.54–0.71
 *   at equal or better recall; weighted votes beat plain ones on recall at p < 0.1. The share of
 *   trusted rows the same rule flags (leave-one-out) is reported as the expected false-alarm rate.
 *   Score 1 − p(given).
 * - Domain classifier (Deepchecks' MultivariateDrift / TextEmbeddingsDrift): out-of-fold
 *   P(batch) for trusted and batch rows; drift score max(0, 2·AUC − 1), drifted above 0.25
 *   (Deepchecks' default `max_drift_value`) when the AUC is also significant (one-sided
 *   Mann–Whitney z > 2.33, p < 0.01), so a tiny batch's noisy AUC is not read as drift.
 */
import type { KnnGraph } from '../compute/index.ts';
import { auroc } from '../compute/index.ts';
import { DetectorError } from './errors.ts';
import { distanceCutoff, distanceScore, exceedsCutoff, median } from './outliers.ts';
import { round6 } from './numbers.ts';

/** What the scan computed against the trusted sample, for the `drift` detector. */
export interface ReferenceComparison {
  readonly status: 'compared';
  /** Label names of the trusted rows (the baseline's `labels.names`); `labels[j]` indexes into it. */
  readonly labelNames: readonly string[];
  readonly labels: Int32Array;
  /** Batch → trusted: the k nearest trusted rows of every batch row (n × k). */
  readonly knn: KnnGraph;
  /** Trusted → trusted, self excluded (m × k): calibrates distances and label votes. */
  readonly selfKnn: KnnGraph;
  /**
   * Out-of-fold P(batch) of a classifier taught to tell trusted rows (first `referenceRows`)
   * from batch rows (the rest); null when it did not run (e.g. tabular-only data).
   */
  readonly domain: { readonly probabilities: Float32Array; readonly referenceRows: number; readonly folds: number } | null;
  /** What the joint representation is built from, for the report (`text`, `embedding`, feature names...). */
  readonly representation: { readonly method: string; readonly dim: number; readonly columns: readonly string[]; readonly name: string };
}

/** The reference sample could not be compared with the batch (e.g. images, no shared columns). */
export interface ReferenceSkipped {
  readonly status: 'skipped';
  readonly reason: string;
}

export type ReferenceInput = ReferenceComparison | ReferenceSkipped;

/** Deepchecks' default max_drift_value for the domain-classifier drift score 2·AUC − 1. */
export const DEFAULT_DOMAIN_THRESHOLD = 0.25;
/** One-sided z for p < 0.01: the domain AUC must also be significant. */
export const DOMAIN_MIN_Z = 2.33;
/** Flag a row when its trusted neighbours give its label less than this share of their (weighted) vote. */
export const LABEL_VOTE_THRESHOLD = 0.1;

export interface ReferenceRowProblem {
  readonly index: number;
  readonly code: 'DRIFT_FAR_FROM_TRUSTED' | 'DRIFT_TRUSTED_LABEL_MISMATCH';
  readonly severity: 'medium' | 'high';
  readonly message: string;
  readonly evidence: Record<string, unknown>;
}

export interface ReferenceScores {
  readonly problems: readonly ReferenceRowProblem[];
  /** Per batch row in [0, 1]: max of the distance and label scores. */
  readonly scores: Float64Array;
  readonly summary: Record<string, unknown>;
  /** Domain-classifier result, when it ran. */
  readonly domain: DomainDrift | null;
}

export interface DomainDrift {
  readonly method: 'domain-classifier';
  readonly name: string;
  readonly covers: readonly string[];
  readonly auc: number;
  readonly score: number;
  readonly threshold: number;
  readonly z: number;
  readonly drifted: boolean;
  readonly referenceRows: number;
  readonly batchRows: number;
}

function checkGraph(g: KnnGraph, rows: number, targets: number, what: string): void {
  if (g.n !== rows || g.k < 1 || g.indices.length !== rows * g.k || g.distances.length !== rows * g.k) {
    throw new DetectorError('DETECTOR_BAD_INPUT', `reference ${what}: expected ${rows} rows of k ≥ 1 neighbours, got n=${g.n}, k=${g.k}`);
  }
  for (let p = 0; p < g.indices.length; p++) {
    const j = g.indices[p]!;
    if (!(j >= 0 && j < targets)) throw new DetectorError('DETECTOR_BAD_INPUT', `reference ${what}: neighbour index ${j} outside 0..${targets - 1}`);
  }
}

/** Relative floor for 1/(d + ε) vote weights, so an exact copy (d = 0) gets a large but finite weight. */
const WEIGHT_EPSILON = 1e-3;

/** Distance-weighted vote shares of trusted neighbours, row `i` of `g` (K shares, summing to 1). */
function votes(g: KnnGraph, i: number, labels: Int32Array, K: number, eps: number, skipSelf: boolean, out: Float64Array): void {
  out.fill(0);
  let total = 0;
  for (let r = 0; r < g.k; r++) {
    const j = g.indices[i * g.k + r]!;
    if (skipSelf && j === i) continue;
    const d = g.distances[i * g.k + r]!;
    const w = 1 / (Math.max(0, Number.isFinite(d) ? d : 0) + eps);
    out[labels[j]!]! += w;
    total += w;
  }
  if (total > 0) for (let c = 0; c < K; c++) out[c] = out[c]! / total;
}

function meanDistances(g: KnnGraph): Float64Array {
  const out = new Float64Array(g.n);
  for (let i = 0; i < g.n; i++) {
    let s = 0;
    for (let r = 0; r < g.k; r++) s += Math.max(0, g.distances[i * g.k + r]!);
    out[i] = s / g.k;
  }
  return out;
}

/**
 * Row problems and scores of a batch against the trusted sample. `batchLabels` are codes into
 * `batchClassNames`; labels are matched to the trusted ones by name (a label the baseline lacks
 * is `DRIFT_NEW_LABEL`'s business, so it gets no label vote here).
 */
export function scoreAgainstReference(batchLabels: Int32Array, batchClassNames: readonly string[], ref: ReferenceComparison, domainThreshold = DEFAULT_DOMAIN_THRESHOLD): ReferenceScores {
  const n = batchLabels.length;
  const m = ref.labels.length;
  const K = ref.labelNames.length;
  if (m < 2 || K < 1) throw new DetectorError('DETECTOR_BAD_INPUT', `reference sample needs ≥ 2 rows and ≥ 1 label, got ${m} rows, ${K} labels`);
  for (let j = 0; j < m; j++) if (!(ref.labels[j]! >= 0 && ref.labels[j]! < K)) throw new DetectorError('DETECTOR_BAD_INPUT', `reference label code ${ref.labels[j]} outside 0..${K - 1}`);
  checkGraph(ref.knn, n, m, 'batch → trusted graph');
  checkGraph(ref.selfKnn, m, m, 'trusted → trusted graph');

  // Distances, calibrated on the trusted rows' own neighbour distances.
  const { q1, q3, threshold, scale } = distanceCutoff(meanDistances(ref.selfKnn));
  const batchMean = meanDistances(ref.knn);
  const eps = WEIGHT_EPSILON * scale;

  // The same vote among trusted rows (leave-one-out): how often the rule fires on clean data.
  const share = new Float64Array(K);
  let trustedFlagged = 0;
  for (let j = 0; j < m; j++) {
    votes(ref.selfKnn, j, ref.labels, K, eps, true, share);
    if (share[ref.labels[j]!]! < LABEL_VOTE_THRESHOLD) trustedFlagged++;
  }

  const trustedCode = new Map(ref.labelNames.map((nm, c) => [nm, c] as const));
  const toTrusted = batchClassNames.map((nm) => trustedCode.get(nm) ?? -1);
  const problems: ReferenceRowProblem[] = [];
  const scores = new Float64Array(n);
  let far = 0;
  let mismatched = 0;
  for (let i = 0; i < n; i++) {
    const d = batchMean[i]!;
    const distScore = distanceScore(d, scale);
    let labelScore = 0;
    const neighbours = (): { label: string; distance: number }[] =>
      Array.from({ length: ref.knn.k }, (_, r) => ({
        label: ref.labelNames[ref.labels[ref.knn.indices[i * ref.knn.k + r]!]!] ?? '',
        distance: round6(ref.knn.distances[i * ref.knn.k + r]!),
      }));
    if (exceedsCutoff(d, threshold)) {
      far++;
      problems.push({
        index: i,
        code: 'DRIFT_FAR_FROM_TRUSTED',
        severity: 'medium',
        message: `far from all trusted data: mean distance ${fmt(d)} to its ${ref.knn.k} nearest trusted rows, cut-off ${fmt(threshold)}`,
        evidence: { meanDistance: round6(d), threshold: round6(threshold), trustedMedian: round6(scale), k: ref.knn.k, neighbours: neighbours() },
      });
    }
    const y = toTrusted[batchLabels[i] ?? -1] ?? -1;
    if (y >= 0) {
      votes(ref.knn, i, ref.labels, K, eps, false, share);
      const py = share[y]!;
      labelScore = 1 - py;
      let best = -1;
      for (let c = 0; c < K; c++) if (c !== y && (best < 0 || share[c]! > share[best]!)) best = c;
      if (py < LABEL_VOTE_THRESHOLD && best >= 0) {
        mismatched++;
        const voteShares: Record<string, number> = {};
        for (let c = 0; c < K; c++) if (share[c]! > 0 || c === y) voteShares[ref.labelNames[c] ?? ''] = round6(share[c]!);
        problems.push({
          index: i,
          code: 'DRIFT_TRUSTED_LABEL_MISMATCH',
          // No trusted neighbour (by weight) backs the label at all.
          severity: py < 0.01 ? 'high' : 'medium',
          message: `trusted neighbours vote "${(ref.labelNames[best] ?? '').slice(0, 80)}" (${fmt(share[best]!)}), not the given "${(ref.labelNames[y] ?? '').slice(0, 80)}" (${fmt(py)})`,
          evidence: {
            givenLabel: ref.labelNames[y],
            suggestedLabel: ref.labelNames[best],
            votes: voteShares,
            threshold: LABEL_VOTE_THRESHOLD,
            neighbours: neighbours(),
          },
        });
      }
    }
    scores[i] = Math.max(distScore, labelScore);
  }

  let domain: DomainDrift | null = null;
  if (ref.domain !== null) {
    const { probabilities, referenceRows } = ref.domain;
    if (referenceRows !== m || probabilities.length !== m + n) {
      throw new DetectorError('DETECTOR_BAD_INPUT', `domain classifier: expected ${m} trusted + ${n} batch probabilities, got ${referenceRows} + ${probabilities.length - referenceRows}`);
    }
    const isBatch = Uint8Array.from({ length: m + n }, (_, p) => (p >= m ? 1 : 0));
    const auc = auroc(probabilities, isBatch);
    const score = Math.max(0, 2 * auc - 1);
    // Mann–Whitney: under no drift the AUC has mean ½ and variance (m + n + 1) / (12 m n).
    const z = (auc - 0.5) / Math.sqrt((m + n + 1) / (12 * m * n));
    domain = {
      method: 'domain-classifier',
      name: ref.representation.name,
      covers: ref.representation.columns,
      auc: round6(auc),
      score: round6(score),
      threshold: domainThreshold,
      z: round6(z),
      drifted: score > domainThreshold && z > DOMAIN_MIN_Z,
      referenceRows: m,
      batchRows: n,
    };
  }

  return {
    problems,
    scores,
    domain,
    summary: {
      representation: ref.representation,
      referenceRows: m,
      k: ref.knn.k,
      distance: { metric: ref.knn.metric, threshold: round6(threshold), trustedQ1: round6(q1), trustedQ3: round6(q3), trustedMedian: round6(scale), batchMedian: round6(median(batchMean)), flagged: far },
      labels: { vote: 'distance-weighted (1/d) over the k nearest trusted rows', threshold: LABEL_VOTE_THRESHOLD, flagged: mismatched, trustedFlagRate: round6(trustedFlagged / m) },
    },
  };
}

function fmt(x: number): string {
  return Number(x.toPrecision(3)).toString();
}

