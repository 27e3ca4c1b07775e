/**
 * Confident learning (Northcutt, Jiang, Chuang, JAIR 2021) as cleanlab implements it: per-class
 * thresholds, the confident joint, its calibration, every `filter_by` mode of
 * `cleanlab.filter.find_label_issues`, and the label-quality scores of `cleanlab.rank`.
 * Spec: research/detection.md §1.2–1.5. Constants and tie rules follow cleanlab's source so
 * that the same inputs flag the same samples.
 *
 * Where cleanlab's result depends on numpy's unstable sort (ties among equal scores), we break
 * ties by the lower sample index (what a stable sort gives). Averages are taken in float64.
 */
import { DetectorError } from './errors.ts';
import { assertLabelsAndProbs } from './inputs.ts';
import type { ProbMatrix } from './inputs.ts';

/** Thresholds are clipped below at this (cleanlab CONFIDENT_THRESHOLDS_LOWER_BOUND = 2·1e-6). */
export const CONFIDENT_THRESHOLD_FLOOR = 2e-6;
/** Float comparison tolerance (cleanlab FLOATING_POINT_COMPARISON). */
export const FLOATING_POINT_COMPARISON = 1e-6;
/** Threshold of a class with no given labels: no probability reaches it, so nothing is counted into it. */
export const ABSENT_CLASS_THRESHOLD = 2;
/** Guard against division by zero (cleanlab TINY_VALUE). */
const TINY_VALUE = 1e-100;

export const FILTER_BY_MODES = [
  'prune_by_noise_rate',
  'prune_by_class',
  'both',
  'confident_learning',
  'predicted_neq_given',
  'low_self_confidence',
  'low_normalized_margin',
] as const;
export type FilterBy = (typeof FILTER_BY_MODES)[number];

export const LABEL_QUALITY_METHODS = ['self_confidence', 'normalized_margin', 'confidence_weighted_entropy'] as const;
export type LabelQualityMethod = (typeof LABEL_QUALITY_METHODS)[number];

export type NumLabelIssuesMethod = 'off_diagonal' | 'off_diagonal_calibrated';

/** Per-class confidence thresholds t_k = mean p̂_k over samples labelled k (absent class: 2; floor 2e-6). */
export function confidentThresholds(labels: Int32Array, predProbs: ProbMatrix, numClasses: number): Float64Array {
  assertLabelsAndProbs(labels, predProbs, numClasses);
  return thresholdsUnchecked(labels, predProbs, numClasses);
}

function thresholdsUnchecked(labels: Int32Array, predProbs: ProbMatrix, K: number): Float64Array {
  const groups = groupByClass(labels, K);
  const values = new Float64Array(labels.length);
  for (let r = 0; r < values.length; r++) {
    const i = groups.rows[r]!;
    values[r] = predProbs[i * K + labels[i]!]!;
  }
  const t = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const start = groups.offsets[k]!;
    const count = groups.offsets[k + 1]! - start;
    const mean = count > 0 ? pairwiseSum(values, start, count) / count : ABSENT_CLASS_THRESHOLD;
    t[k] = Math.max(mean, CONFIDENT_THRESHOLD_FLOOR);
  }
  return t;
}

/**
 * numpy's pairwise summation (8 accumulators per block of ≤ 128, halves above), so sums, means
 * and the calibration total round exactly as cleanlab's do on float64 input. Rounding a count
 * like 16.666…67 vs 16.666…66 decides which cell loses a unit in `roundPreservingSum`.
 */
export function pairwiseSum(a: ArrayLike<number>, start = 0, count = a.length - start): number {
  if (count < 8) {
    let s = 0;
    for (let i = 0; i < count; i++) s += a[start + i]!;
    return s;
  }
  if (count <= 128) {
    let r0 = a[start]!, r1 = a[start + 1]!, r2 = a[start + 2]!, r3 = a[start + 3]!;
    let r4 = a[start + 4]!, r5 = a[start + 5]!, r6 = a[start + 6]!, r7 = a[start + 7]!;
    const end = count - (count % 8);
    let i = 8;
    for (; i < end; i += 8) {
      const o = start + i;
      r0 += a[o]!;
      r1 += a[o + 1]!;
      r2 += a[o + 2]!;
      r3 += a[o + 3]!;
      r4 += a[o + 4]!;
      r5 += a[o + 5]!;
      r6 += a[o + 6]!;
      r7 += a[o + 7]!;
    }
    let s = (r0 + r1 + (r2 + r3)) + (r4 + r5 + (r6 + r7));
    for (; i < count; i++) s += a[start + i]!;
    return s;
  }
  let half = Math.floor(count / 2);
  half -= half % 8;
  return pairwiseSum(a, start, half) + pairwiseSum(a, start + half, count - half);
}

/** The confident joint and the per-sample facts it was built from. */
export interface ConfidentJoint {
  readonly numClasses: number;
  /** K × K counts, row = given label, column = guessed true label; integers. Calibrated if asked. */
  readonly counts: Float64Array;
  readonly calibrated: boolean;
  readonly thresholds: Float64Array;
  /** Per sample: the guessed true label, or −1 when no class reached its threshold (not counted). */
  readonly trueLabelGuess: Int32Array;
  /** Per sample: 1 when counted off the diagonal (confidently another class) — `confident_learning` mode. */
  readonly offDiagonal: Uint8Array;
  /** Number of samples with each given label. */
  readonly labelCounts: Float64Array;
}

export interface ConfidentJointOptions {
  /** Calibrate rows to the given-label counts and the total to N (default true, as cleanlab). */
  readonly calibrate?: boolean;
}

/** cleanlab `compute_confident_joint`: count each sample into C[given][guessed true], clip the diagonal to ≥ 1, calibrate. */
export function confidentJoint(
  labels: Int32Array,
  predProbs: ProbMatrix,
  numClasses: number,
  options: ConfidentJointOptions = {},
): ConfidentJoint {
  assertLabelsAndProbs(labels, predProbs, numClasses);
  return confidentJointUnchecked(labels, predProbs, numClasses, options.calibrate ?? true);
}

function confidentJointUnchecked(labels: Int32Array, predProbs: ProbMatrix, K: number, calibrate: boolean): ConfidentJoint {
  const n = labels.length;
  const thresholds = thresholdsUnchecked(labels, predProbs, K);
  const cut = new Float64Array(K);
  for (let k = 0; k < K; k++) cut[k] = thresholds[k]! - FLOATING_POINT_COMPARISON;
  const counts = new Float64Array(K * K);
  const labelCounts = new Float64Array(K);
  const trueLabelGuess = new Int32Array(n);
  const offDiagonal = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * K;
    const y = labels[i]!;
    labelCounts[y]! += 1;
    let numConfident = 0;
    let firstConfident = -1;
    let argmax = 0;
    let best = -Infinity;
    for (let j = 0; j < K; j++) {
      const p = predProbs[row + j]!;
      if (p >= cut[j]!) {
        numConfident++;
        if (firstConfident < 0) firstConfident = j;
      }
      if (p > best) {
        best = p;
        argmax = j;
      }
    }
    if (numConfident === 0) {
      trueLabelGuess[i] = -1;
      continue;
    }
    // One confident class: that one. Several: the argmax of the whole row (cleanlab uses the row argmax).
    const guess = numConfident === 1 ? firstConfident : argmax;
    trueLabelGuess[i] = guess;
    counts[y * K + guess]! += 1;
    if (guess !== y) offDiagonal[i] = 1;
  }
  // Guarantee at least one correctly labelled example per class.
  for (let k = 0; k < K; k++) counts[k * K + k] = Math.max(counts[k * K + k]!, 1);
  const out = calibrate ? calibrateConfidentJoint(counts, labelCounts, K) : counts;
  return { numClasses: K, counts: out, calibrated: calibrate, thresholds, trueLabelGuess, offDiagonal, labelCounts };
}

/** cleanlab `calibrate_confident_joint`: rows sum to the given-label counts, total to N, integer counts preserving row totals. */
export function calibrateConfidentJoint(counts: Float64Array, labelCounts: Float64Array, numClasses: number): Float64Array {
  const K = numClasses;
  const cal = new Float64Array(K * K);
  let labelTotal = 0;
  for (let i = 0; i < K; i++) {
    let rowSum = 0;
    for (let j = 0; j < K; j++) rowSum += counts[i * K + j]!;
    const denom = Math.max(rowSum, TINY_VALUE);
    for (let j = 0; j < K; j++) cal[i * K + j] = (counts[i * K + j]! / denom) * labelCounts[i]!;
    labelTotal += labelCounts[i]!;
  }
  const scale = Math.max(pairwiseSum(cal), TINY_VALUE);
  for (let x = 0; x < cal.length; x++) cal[x] = (cal[x]! / scale) * labelTotal;
  return roundPreservingRowTotals(cal, K);
}

/** numpy rounding: half to even (np.round, np.rint). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * cleanlab `round_preserving_sum`: round each value (half to even), then move the rounding error
 * onto the entries that were rounded furthest the other way, so the rounded sum equals the
 * rounded original sum.
 */
export function roundPreservingSum(values: Float64Array): Float64Array {
  const len = values.length;
  const ints = Float64Array.from(values, roundHalfEven);
  const origSum = roundHalfEven(pairwiseSum(values));
  let intSum = sumOf(ints);
  const order = Array.from({ length: len }, (_, i) => i);
  while (Math.abs(intSum - origSum) > FLOATING_POINT_COMPARISON) {
    const diff = roundHalfEven(origSum - intSum);
    const increment = diff < 0 ? -1 : 1;
    const changes = Math.min(Math.abs(diff), len);
    const residual = Float64Array.from(values, (v, i) => v - ints[i]!);
    // argsort(residual) (stable), reversed when adding: add to the most under-rounded first.
    order.sort((a, b) => residual[a]! - residual[b]! || a - b);
    const picks = increment > 0 ? order.slice().reverse() : order;
    for (let c = 0; c < changes; c++) ints[picks[c]!]! += increment;
    intSum = sumOf(ints);
  }
  return ints;
}

/** Apply `roundPreservingSum` to each row of a row-major matrix with `cols` columns. */
export function roundPreservingRowTotals(matrix: Float64Array, cols: number): Float64Array {
  const out = new Float64Array(matrix.length);
  for (let r = 0; r * cols < matrix.length; r++) {
    out.set(roundPreservingSum(matrix.subarray(r * cols, (r + 1) * cols)), r * cols);
  }
  return out;
}

function sumOf(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** The estimated joint of given and true labels, the noise matrices and the noise rate. */
export interface JointEstimate {
  /** Q = calibrated C / N: K × K, row = given label, column = true label, sums to 1. */
  readonly joint: Float64Array;
  /** P(given = i | true = j) at [i·K + j]; columns sum to 1 (cleanlab `noise_matrix`). */
  readonly noiseMatrix: Float64Array;
  /** P(true = i | given = j) at [i·K + j]; columns sum to 1 (cleanlab `inverse_noise_matrix`). */
  readonly inverseNoiseMatrix: Float64Array;
  /** 1 − trace(Q): the estimated fraction of wrong labels. */
  readonly noiseRate: number;
  /** Per given class k: the estimated fraction of samples labelled k whose true class is another (1 − P(true=k | given=k)). */
  readonly perClassNoiseRate: Float64Array;
  /** The calibrated confident joint Q was made from. */
  readonly confidentJoint: ConfidentJoint;
}

/** cleanlab `estimate_joint` + `estimate_latent` (noise matrices, without `converge_latent_estimates`). */
export function estimateJoint(labels: Int32Array, predProbs: ProbMatrix, numClasses: number): JointEstimate {
  assertLabelsAndProbs(labels, predProbs, numClasses);
  return jointFromConfident(confidentJointUnchecked(labels, predProbs, numClasses, true));
}

function jointFromConfident(cj: ConfidentJoint): JointEstimate {
  const K = cj.numClasses;
  const C = cj.counts;
  const total = Math.max(sumOf(C), TINY_VALUE);
  const joint = Float64Array.from(C, (v) => v / total);
  const trace = pairwiseSum(Array.from({ length: K }, (_, k) => joint[k * K + k]!));
  const rowSums = new Float64Array(K);
  const colSums = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      rowSums[i]! += C[i * K + j]!;
      colSums[j]! += C[i * K + j]!;
    }
  }
  const noise = new Float64Array(K * K);
  const inverse = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      noise[i * K + j] = C[i * K + j]! / Math.max(colSums[j]!, TINY_VALUE);
      inverse[j * K + i] = C[i * K + j]! / Math.max(rowSums[i]!, TINY_VALUE);
    }
  }
  clipNoiseRates(noise, K);
  clipNoiseRates(inverse, K);
  const perClassNoiseRate = new Float64Array(K);
  for (let k = 0; k < K; k++) perClassNoiseRate[k] = rowSums[k]! > 0 ? 1 - C[k * K + k]! / rowSums[k]! : 0;
  return { joint, noiseMatrix: noise, inverseNoiseMatrix: inverse, noiseRate: 1 - trace, perClassNoiseRate, confidentJoint: cj };
}

/** cleanlab `clip_noise_rates`: off-diagonal rates into [0, 0.9999], diagonal kept, columns renormalised. */
function clipNoiseRates(m: Float64Array, K: number): void {
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      if (i !== j) m[i * K + j] = Math.min(Math.max(m[i * K + j]!, 0), 0.9999);
    }
  }
  for (let j = 0; j < K; j++) {
    let s = 0;
    for (let i = 0; i < K; i++) s += m[i * K + j]!;
    const d = Math.max(s, TINY_VALUE);
    for (let i = 0; i < K; i++) m[i * K + j] = m[i * K + j]! / d;
  }
}

export interface NumLabelIssuesOptions {
  /** `off_diagonal` (default): confident off-diagonal samples after the argmax rescue; `off_diagonal_calibrated`: rint(N·(1 − trace Q)). */
  readonly method?: NumLabelIssuesMethod;
}

/** cleanlab `count.num_label_issues`: the estimated number of label issues. */
export function numLabelIssues(
  labels: Int32Array,
  predProbs: ProbMatrix,
  numClasses: number,
  options: NumLabelIssuesOptions = {},
): number {
  assertLabelsAndProbs(labels, predProbs, numClasses);
  const method = options.method ?? 'off_diagonal';
  if (method === 'off_diagonal') {
    const cj = confidentJointUnchecked(labels, predProbs, numClasses, false);
    return countOffDiagonalAfterRescue(cj, labels, predProbs, numClasses);
  }
  if (method === 'off_diagonal_calibrated') {
    const est = jointFromConfident(confidentJointUnchecked(labels, predProbs, numClasses, true));
    return roundHalfEven(est.noiseRate * labels.length);
  }
  throw new DetectorError('DETECTOR_BAD_OPTION', `unknown num-label-issues method ${String(method)}`, {
    hint: 'use off_diagonal or off_diagonal_calibrated',
  });
}

function countOffDiagonalAfterRescue(cj: ConfidentJoint, labels: Int32Array, predProbs: ProbMatrix, K: number): number {
  let count = 0;
  for (let i = 0; i < labels.length; i++) {
    if (cj.offDiagonal[i] === 1 && !givenLabelWins(predProbs, i, K, labels[i]!)) count++;
  }
  return count;
}

/**
 * The rescue rule: is the given label the argmax once it gets +1e-6 (cleanlab `_reduce_issues`)?
 * numpy's argmax returns the first maximum, so an earlier class must be strictly below.
 */
function givenLabelWins(predProbs: ProbMatrix, i: number, K: number, y: number): boolean {
  const row = i * K;
  const py = predProbs[row + y]! + FLOATING_POINT_COMPARISON;
  for (let j = 0; j < y; j++) if (predProbs[row + j]! >= py) return false;
  for (let j = y + 1; j < K; j++) if (predProbs[row + j]! > py) return false;
  return true;
}

export interface FindLabelIssuesOptions {
  /** Which samples to flag (default `prune_by_noise_rate`). */
  readonly filterBy?: FilterBy;
  /** Flag only this fraction of the estimated issues; PBC, PBNR and both only (default 1). cleanlab `frac_noise`. */
  readonly fracNoise?: number;
  /** Leave at least this many samples in every class (default 1). cleanlab `min_examples_per_class`. */
  readonly minExamplesPerClass?: number;
}

/** cleanlab `filter.find_label_issues`: a 0/1 mask of samples whose given label is likely wrong. */
export function findLabelIssues(
  labels: Int32Array,
  predProbs: ProbMatrix,
  numClasses: number,
  options: FindLabelIssuesOptions = {},
): Uint8Array {
  assertLabelsAndProbs(labels, predProbs, numClasses);
  const filterBy = options.filterBy ?? 'prune_by_noise_rate';
  const fracNoise = options.fracNoise ?? 1;
  const minPerClass = options.minExamplesPerClass ?? 1;
  if (!(FILTER_BY_MODES as readonly string[]).includes(filterBy)) {
    throw new DetectorError('DETECTOR_BAD_OPTION', `unknown filterBy ${String(filterBy)}`, {
      hint: `use one of ${FILTER_BY_MODES.join(', ')}`,
    });
  }
  if (!(fracNoise >= 0 && fracNoise <= 1)) {
    throw new DetectorError('DETECTOR_BAD_OPTION', `fracNoise must be in [0, 1], got ${fracNoise}`);
  }
  if (!(Number.isInteger(minPerClass) && minPerClass >= 0)) {
    throw new DetectorError('DETECTOR_BAD_OPTION', `minExamplesPerClass must be a non-negative integer, got ${minPerClass}`);
  }
  const K = numClasses;
  const n = labels.length;

  if (filterBy === 'low_self_confidence' || filterBy === 'low_normalized_margin') {
    // Flag the `num_label_issues` (off_diagonal) lowest-scoring samples; no rescue afterwards.
    const scores = qualityUnchecked(labels, predProbs, K, filterBy === 'low_self_confidence' ? 'self_confidence' : 'normalized_margin');
    const cj = confidentJointUnchecked(labels, predProbs, K, false);
    const numErrors = countOffDiagonalAfterRescue(cj, labels, predProbs, K);
    const mask = new Uint8Array(n);
    const all = Int32Array.from({ length: n }, (_, i) => i);
    flagSmallest(scores, n, numErrors, all, 0, mask, new Float64Array(n));
    return mask;
  }

  let mask: Uint8Array;
  if (filterBy === 'confident_learning') {
    mask = confidentJointUnchecked(labels, predProbs, K, true).offDiagonal.slice();
  } else if (filterBy === 'predicted_neq_given') {
    mask = new Uint8Array(n);
    for (let i = 0; i < n; i++) if (argmaxRow(predProbs, i, K) !== labels[i]) mask[i] = 1;
  } else {
    const cj = confidentJointUnchecked(labels, predProbs, K, true);
    const prune = pruneCountMatrix(cj.counts, K, minPerClass, fracNoise);
    const groups = groupByClass(labels, K);
    if (filterBy === 'prune_by_class') {
      mask = pruneByClass(predProbs, K, groups, prune, minPerClass);
    } else if (filterBy === 'prune_by_noise_rate') {
      mask = pruneByNoiseRate(predProbs, K, groups, prune, minPerClass);
    } else {
      const byClass = pruneByClass(predProbs, K, groups, prune, minPerClass);
      mask = pruneByNoiseRate(predProbs, K, groups, prune, minPerClass);
      for (let i = 0; i < n; i++) mask[i] = mask[i]! & byClass[i]!;
    }
  }
  // Rescue: never flag a sample whose given label is (within 1e-6) the model's prediction.
  for (let i = 0; i < n; i++) {
    if (mask[i] === 1 && givenLabelWins(predProbs, i, K, labels[i]!)) mask[i] = 0;
  }
  return mask;
}

/**
 * cleanlab `_keep_at_least_n_per_class` + `_reduce_prune_counts`: M = Cᵀ (M[true][given]) with each
 * diagonal raised to at least `minExamplesPerClass` (taken evenly from that column's non-zero noise
 * counts), off-diagonals scaled by `fracNoise` (the diagonal absorbs the rest), truncated to integers.
 */
export function pruneCountMatrix(
  calibratedCounts: Float64Array,
  numClasses: number,
  minExamplesPerClass: number,
  fracNoise: number,
): Float64Array {
  const K = numClasses;
  const m = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) m[i * K + j] = calibratedCounts[j * K + i]!;
  const adjusted = new Float64Array(K * K);
  for (let col = 0; col < K; col++) {
    const diag = m[col * K + col]!;
    const newDiag = Math.max(diag, minExamplesPerClass);
    const diff = newDiag - diag;
    let nonZero = 0;
    for (let r = 0; r < K; r++) if (m[r * K + col] !== 0) nonZero++;
    const perEntry = diff / Math.max(nonZero - 1, 1);
    for (let r = 0; r < K; r++) adjusted[r * K + col] = r === col ? newDiag : Math.max(m[r * K + col]! - perEntry, 0);
  }
  const out = new Float64Array(K * K);
  const removedPerRow = new Float64Array(K);
  for (let col = 0; col < K; col++) {
    for (let r = 0; r < K; r++) {
      const v = adjusted[r * K + col]!;
      const reduced = r === col ? v : v * fracNoise;
      removedPerRow[r] = v - reduced;
      out[r * K + col] = Math.trunc(reduced);
    }
    // cleanlab sums a column of the transposed (column-major) matrix, i.e. numpy's pairwise order.
    out[col * K + col] = Math.trunc(adjusted[col * K + col]! + pairwiseSum(removedPerRow));
  }
  return out;
}

interface ClassGroups {
  /** K + 1 offsets into `rows`. */
  readonly offsets: Int32Array;
  /** Sample indices grouped by given label, ascending within a class. */
  readonly rows: Int32Array;
}

function groupByClass(labels: Int32Array, K: number): ClassGroups {
  const offsets = new Int32Array(K + 1);
  for (let i = 0; i < labels.length; i++) offsets[labels[i]! + 1]! += 1;
  for (let k = 0; k < K; k++) offsets[k + 1]! += offsets[k]!;
  const cursor = offsets.slice(0, K);
  const rows = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) rows[cursor[labels[i]!]!++] = i;
  return { offsets, rows };
}

/** PBC: in each given class k, flag the n_k − M[k][k] samples with the smallest p̂_k. */
function pruneByClass(predProbs: ProbMatrix, K: number, groups: ClassGroups, prune: Float64Array, minPerClass: number): Uint8Array {
  const mask = new Uint8Array(groups.rows.length);
  const keys = new Float64Array(maxGroupSize(groups, K));
  const scratch = new Float64Array(keys.length);
  for (let k = 0; k < K; k++) {
    const start = groups.offsets[k]!;
    const size = groups.offsets[k + 1]! - start;
    // cleanlab skips classes at or below the minimum, and never writes back a one-sample class mask.
    if (size <= minPerClass || size <= 1) continue;
    const numIssues = size - prune[k * K + k]!;
    if (numIssues < 1) continue;
    for (let r = 0; r < size; r++) keys[r] = predProbs[groups.rows[start + r]! * K + k]!;
    flagSmallest(keys, size, numIssues, groups.rows, start, mask, scratch);
  }
  return mask;
}

/** PBNR: in each given class k and each other class j, flag the M[j][k] samples with the largest p̂_j − p̂_k. */
function pruneByNoiseRate(predProbs: ProbMatrix, K: number, groups: ClassGroups, prune: Float64Array, minPerClass: number): Uint8Array {
  const mask = new Uint8Array(groups.rows.length);
  const keys = new Float64Array(maxGroupSize(groups, K));
  const scratch = new Float64Array(keys.length);
  for (let k = 0; k < K; k++) {
    const start = groups.offsets[k]!;
    const size = groups.offsets[k + 1]! - start;
    if (size <= minPerClass || size <= 1) continue;
    for (let j = 0; j < K; j++) {
      const numToPrune = prune[j * K + k]!;
      if (j === k || numToPrune <= 0) continue;
      // Smallest p̂_k − p̂_j is the largest margin p̂_j − p̂_k.
      for (let r = 0; r < size; r++) {
        const row = groups.rows[start + r]! * K;
        keys[r] = predProbs[row + k]! - predProbs[row + j]!;
      }
      flagSmallest(keys, size, numToPrune, groups.rows, start, mask, scratch);
    }
  }
  return mask;
}

function maxGroupSize(groups: ClassGroups, K: number): number {
  let max = 0;
  for (let k = 0; k < K; k++) max = Math.max(max, groups.offsets[k + 1]! - groups.offsets[k]!);
  return max;
}

/**
 * Flag the `m` entries with the smallest keys (ties: lower position first, as a stable argsort).
 * Linear time: quickselect (on `scratch`, at least `len` long) finds the m-th smallest key, then one pass flags.
 */
function flagSmallest(
  keys: Float64Array,
  len: number,
  m: number,
  rows: Int32Array,
  rowsStart: number,
  mask: Uint8Array,
  scratch: Float64Array,
): void {
  if (m <= 0 || len === 0) return;
  if (m >= len) {
    for (let r = 0; r < len; r++) mask[rows[rowsStart + r]!] = 1;
    return;
  }
  scratch.set(keys.subarray(0, len));
  const cut = kthSmallest(scratch, len, m - 1);
  let below = 0;
  for (let r = 0; r < len; r++) if (keys[r]! < cut) below++;
  let ties = m - below;
  for (let r = 0; r < len; r++) {
    const key = keys[r]!;
    if (key < cut) mask[rows[rowsStart + r]!] = 1;
    else if (key === cut && ties > 0) {
      mask[rows[rowsStart + r]!] = 1;
      ties--;
    }
  }
}

/** Hoare quickselect with a median-of-three pivot; `a` is reordered. */
function kthSmallest(a: Float64Array, len: number, k: number): number {
  let lo = 0;
  let hi = len - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[lo]!;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

function argmaxRow(predProbs: ProbMatrix, i: number, K: number): number {
  const row = i * K;
  let best = predProbs[row]!;
  let arg = 0;
  for (let j = 1; j < K; j++) {
    if (predProbs[row + j]! > best) {
      best = predProbs[row + j]!;
      arg = j;
    }
  }
  return arg;
}

export interface LabelQualityOptions {
  /** Score method (default `self_confidence`, as cleanlab). */
  readonly method?: LabelQualityMethod;
  /** Correct for class imbalance: p′ = p̂ − t + max(t), renormalised (not for confidence_weighted_entropy). */
  readonly adjustPredProbs?: boolean;
}

/** cleanlab `rank.get_label_quality_scores`: one score per sample in [0, 1], lower = more likely mislabelled. */
export function labelQualityScores(
  labels: Int32Array,
  predProbs: ProbMatrix,
  numClasses: number,
  options: LabelQualityOptions = {},
): Float64Array {
  assertLabelsAndProbs(labels, predProbs, numClasses);
  const method = options.method ?? 'self_confidence';
  if (!(LABEL_QUALITY_METHODS as readonly string[]).includes(method)) {
    throw new DetectorError('DETECTOR_BAD_OPTION', `unknown label quality method ${String(method)}`, {
      hint: `use one of ${LABEL_QUALITY_METHODS.join(', ')}`,
    });
  }
  let probs: ProbMatrix = predProbs;
  if (options.adjustPredProbs === true) {
    if (method === 'confidence_weighted_entropy') {
      throw new DetectorError('DETECTOR_BAD_OPTION', 'adjustPredProbs is not supported for confidence_weighted_entropy');
    }
    probs = subtractConfidentThresholds(labels, predProbs, numClasses);
  }
  return qualityUnchecked(labels, probs, numClasses, method);
}

/** cleanlab `_subtract_confident_thresholds`: p′ = p̂ − t + max(t), each row renormalised. */
function subtractConfidentThresholds(labels: Int32Array, predProbs: ProbMatrix, K: number): Float64Array {
  const t = thresholdsUnchecked(labels, predProbs, K);
  let tMax = -Infinity;
  for (let k = 0; k < K; k++) tMax = Math.max(tMax, t[k]!);
  const out = new Float64Array(predProbs.length);
  for (let row = 0; row < out.length; row += K) {
    let s = 0;
    for (let j = 0; j < K; j++) {
      const v = predProbs[row + j]! - t[j]! + tMax;
      out[row + j] = v;
      s += v;
    }
    for (let j = 0; j < K; j++) out[row + j] = out[row + j]! / s;
  }
  return out;
}

function qualityUnchecked(labels: Int32Array, predProbs: ProbMatrix, K: number, method: LabelQualityMethod): Float64Array {
  const n = labels.length;
  const out = new Float64Array(n);
  if (method === 'self_confidence') {
    for (let i = 0; i < n; i++) out[i] = predProbs[i * K + labels[i]!]!;
  } else if (method === 'normalized_margin') {
    for (let i = 0; i < n; i++) out[i] = normalizedMargin(predProbs, i, K, labels[i]!);
  } else {
    // log(x+1)/x with x = normalised entropy / self-confidence, both clipped at 1e-6 as cleanlab does.
    // Note cleanlab's quirk, kept for parity: a one-hot prediction (entropy 0) scores 0, not 1.
    const logK = Math.log(K);
    for (let i = 0; i < n; i++) {
      const row = i * K;
      let h = 0;
      for (let j = 0; j < K; j++) {
        const p = predProbs[row + j]!;
        if (p > 0) h -= p * Math.log(p);
      }
      const hNorm = K > 1 ? h / logK : 0;
      const sc = Math.max(predProbs[row + labels[i]!]!, 1e-6);
      const x = hNorm / sc;
      out[i] = Math.log(x + 1) / Math.max(x, 1e-6);
    }
  }
  return out;
}

/** (p̂_given − max_{k≠given} p̂_k + 1) / 2; with one class the other maximum is taken as 0. */
export function normalizedMargin(predProbs: ProbMatrix, i: number, K: number, y: number): number {
  const row = i * K;
  let other = 0;
  let seen = false;
  for (let j = 0; j < K; j++) {
    if (j === y) continue;
    const p = predProbs[row + j]!;
    if (!seen || p > other) {
      other = p;
      seen = true;
    }
  }
  return (predProbs[row + y]! - other + 1) / 2;
}

/** cleanlab `order_label_issues`: flagged sample indices, worst label quality first (ties: lower index first). */
export function rankLabelIssues(
  mask: Uint8Array,
  labels: Int32Array,
  predProbs: ProbMatrix,
  numClasses: number,
  options: LabelQualityOptions = {},
): Int32Array {
  const scores = labelQualityScores(labels, predProbs, numClasses, options);
  const idx: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i] === 1) idx.push(i);
  idx.sort((a, b) => scores[a]! - scores[b]! || a - b);
  return Int32Array.from(idx);
}
