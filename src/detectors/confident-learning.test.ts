// Guards against: a confident-learning port that silently drifts from cleanlab — wrong threshold
// tolerance, argmax vs first-confident class, calibration rounding (numpy rounds half to even and
// moves the error onto the most over/under-rounded cells), the transposed prune-count matrix,
// a filter_by mode flagging the wrong samples, or the argmax rescue missing / applied to low_* modes.
// Every expected value below is worked out by hand in the comments from cleanlab's algorithm
// (research/detection.md §1.2–1.5, cleanlab filter.py / count.py / rank.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DetectorError,
  FILTER_BY_MODES,
  calibrateConfidentJoint,
  confidentJoint,
  confidentThresholds,
  estimateJoint,
  findLabelIssues,
  labelQualityScores,
  numLabelIssues,
  pruneCountMatrix,
  rankLabelIssues,
  roundPreservingSum,
} from './index.ts';
import type { FilterBy } from './index.ts';

/*
 * The worked example: n = 12, K = 3 (rows are p̂ = (p0, p1, p2)).
 *
 *  i  given  p̂                  note
 *  0  0      (0.80 0.10 0.10)
 *  1  0      (0.70 0.20 0.10)
 *  2  0      (0.45 0.50 0.05)   leans to 1, not confidently
 *  3  0      (0.30 0.20 0.50)   smallest p0, mass on 2, not confident
 *  4  0      (0.35 0.60 0.05)   confidently 1
 *  5  1      (0.10 0.80 0.10)
 *  6  1      (0.20 0.70 0.10)
 *  7  1      (0.35 0.25 0.40)   smallest p1, diffuse
 *  8  1      (0.05 0.28 0.67)   confidently 2
 *  9  2      (0.10 0.10 0.80)
 * 10  2      (0.10 0.20 0.70)
 * 11  2      (0.50 0.10 0.40)   leans to 0, not confidently
 *
 * Thresholds (mean p̂_k over samples labelled k):
 *   t0 = (.8+.7+.45+.3+.35)/5 = 2.6/5 = 0.52
 *   t1 = (.8+.7+.25+.28)/4    = 2.03/4 = 0.5075
 *   t2 = (.8+.7+.4)/3         = 1.9/3 ≈ 0.633333
 * Confident classes (p̂_j ≥ t_j − 1e-6), one at most per row here:
 *   0→0, 1→0, 2 none (.45<.52, .5<.5075), 3 none (.5<.6333), 4→1 (.6≥.5075),
 *   5→1, 6→1, 7 none, 8→2 (.67≥.6333), 9→2, 10→2 (.7), 11 none (.5<.52)
 * Confident joint (rows given, cols true): [[2,1,0],[0,2,1],[0,0,2]]; off-diagonal samples {4, 8}.
 * Calibration (rows scaled to label counts 5, 4, 3; total 12):
 *   row0 [2,1,0]·5/3 = [3.33, 1.67, 0] → [3, 2, 0]
 *   row1 [0,2,1]·4/3 = [0, 2.67, 1.33] → [0, 3, 1]
 *   row2 [0,0,2]·3/2 = [0, 0, 3]
 *   C = [[3,2,0],[0,3,1],[0,0,3]]; Q = C/12; noise rate = 1 − 9/12 = 0.25.
 * Prune counts M = Cᵀ = [[3,0,0],[2,3,0],[0,1,3]] (M[true][given]); min 1 per class changes nothing.
 */
const LABELS = Int32Array.from([0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]);
const ROWS = [
  [0.8, 0.1, 0.1],
  [0.7, 0.2, 0.1],
  [0.45, 0.5, 0.05],
  [0.3, 0.2, 0.5],
  [0.35, 0.6, 0.05],
  [0.1, 0.8, 0.1],
  [0.2, 0.7, 0.1],
  [0.35, 0.25, 0.4],
  [0.05, 0.28, 0.67],
  [0.1, 0.1, 0.8],
  [0.1, 0.2, 0.7],
  [0.5, 0.1, 0.4],
];
const PROBS = Float32Array.from(ROWS.flat());
const K = 3;

function indices(mask: Uint8Array): number[] {
  const out: number[] = [];
  mask.forEach((v, i) => {
    if (v === 1) out.push(i);
  });
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: readonly number[], tol: number): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
  }
}

test('thresholds are per-class mean self-confidence; absent class gets 2, floor 2e-6', () => {
  assertClose(confidentThresholds(LABELS, PROBS, K), [0.52, 0.5075, 1.9 / 3], 1e-6);
  // Class 2 has no given labels → 2; class 0's mean is 0 → floor 2e-6.
  const labels = Int32Array.from([0, 1]);
  const probs = Float64Array.from([0, 1, 0, 0, 1, 0]);
  assert.deepEqual(Array.from(confidentThresholds(labels, probs, 3)), [2e-6, 1, 2]);
});

test('confident joint counts confident rows, with the 1e-6 tolerance and the off-diagonal mask', () => {
  const raw = confidentJoint(LABELS, PROBS, K, { calibrate: false });
  assert.deepEqual(Array.from(raw.counts), [2, 1, 0, 0, 2, 1, 0, 0, 2]);
  assert.deepEqual(Array.from(raw.trueLabelGuess), [0, 0, -1, -1, 1, 1, 1, -1, 2, 2, 2, -1]);
  assert.deepEqual(indices(raw.offDiagonal), [4, 8]);
  const cal = confidentJoint(LABELS, PROBS, K);
  assert.deepEqual(Array.from(cal.counts), [3, 2, 0, 0, 3, 1, 0, 0, 3]);
  // p̂_1 = 0.6 exactly at a threshold of 0.6 still counts (≥ t − 1e-6); 0.599998 does not.
  const labels = Int32Array.from([1, 1, 0]);
  const at = Float64Array.from([0.4, 0.6, 0.4, 0.6, 0.9, 0.1]); // t1 = 0.6
  assert.deepEqual(Array.from(confidentJoint(labels, at, 2, { calibrate: false }).trueLabelGuess), [1, 1, 0]);
  const below = Float64Array.from([0.4, 0.6, 0.4, 0.6, 0.400002, 0.599998]); // t1 = 0.6, sample 2's p1 just under
  assert.equal(confidentJoint(labels, below, 2, { calibrate: false }).trueLabelGuess[2], 0);
});

test('several confident classes: the guess is the row argmax, not the first confident class', () => {
  const labels = Int32Array.from([0, 1, 0]);
  const probs = Float64Array.from([0.35, 0.65, 0.3, 0.7, 0.25, 0.75]);
  // t0 = (0.35 + 0.25)/2 = 0.3; t1 = 0.7. Sample 0: 0.35 ≥ 0.3 ✓, 0.65 < 0.7 → 0.
  // Sample 1: 0.3 ≥ 0.3 ✓ and 0.7 ≥ 0.7 ✓ → argmax 1. Sample 2: 0.25 < 0.3, 0.75 ≥ 0.7 → 1.
  const cj = confidentJoint(labels, probs, 2, { calibrate: false });
  assert.deepEqual(Array.from(cj.trueLabelGuess), [0, 1, 1]);
  assert.deepEqual(Array.from(cj.counts), [1, 1, 0, 1]);
  // A tie goes to the first maximum (class 0), so sample 1 lands in C[1][0] and C[1][1] stays 0 —
  // then the diagonal is clipped to ≥ 1.
  const tie = confidentJoint(Int32Array.from([0, 1]), Float64Array.from([0.5, 0.5, 0.5, 0.5]), 2, { calibrate: false });
  assert.deepEqual(Array.from(tie.counts), [1, 0, 1, 1]);
});

test('roundPreservingSum rounds half to even and moves the error onto the furthest-rounded cells', () => {
  // [.5,.5,.5,1.5] → [0,0,0,2] (half to even), sum 2 ≠ round(3.0) = 3 → +1 to the largest residual
  // (v − round(v) = .5,.5,.5,−.5); among ties cleanlab's reversed stable argsort picks the last → index 2.
  assert.deepEqual(Array.from(roundPreservingSum(Float64Array.from([0.5, 0.5, 0.5, 1.5]))), [0, 0, 1, 2]);
  assert.deepEqual(Array.from(roundPreservingSum(Float64Array.from([2.5, 2.5]))), [2, 3]);
  // [1.4,1.4,1.2] → [1,1,1] = 3, target 4 → residuals .4,.4,.2 → the last of the .4s → [1,2,1].
  assert.deepEqual(Array.from(roundPreservingSum(Float64Array.from([1.4, 1.4, 1.2]))), [1, 2, 1]);
  // [1.6,1.6,1.8] → [2,2,2] = 6, target 5 → −1 on the smallest residual (−.4, first of the tie) → [1,2,2].
  assert.deepEqual(Array.from(roundPreservingSum(Float64Array.from([1.6, 1.6, 1.8]))), [1, 2, 2]);
});

test('calibration scales rows to label counts and rounds preserving row totals', () => {
  const raw = Float64Array.from([2, 1, 0, 0, 2, 1, 0, 0, 2]);
  const cal = calibrateConfidentJoint(raw, Float64Array.from([5, 4, 3]), 3);
  assert.deepEqual(Array.from(cal), [3, 2, 0, 0, 3, 1, 0, 0, 3]);
  // An absent class (count 0) calibrates to an empty row.
  assert.deepEqual(Array.from(calibrateConfidentJoint(Float64Array.from([3, 1, 0, 1]), Float64Array.from([4, 0]), 2)), [3, 1, 0, 0]);
});

test('joint, noise matrices and noise rates of the worked example', () => {
  const est = estimateJoint(LABELS, PROBS, K);
  assertClose(est.joint, [3, 2, 0, 0, 3, 1, 0, 0, 3].map((c) => c / 12), 1e-12);
  assert.ok(Math.abs(est.noiseRate - 0.25) < 1e-12);
  // Per given class: 1 − C[k][k]/row total = 1 − 3/5, 1 − 3/4, 1 − 3/3.
  assertClose(est.perClassNoiseRate, [0.4, 0.25, 0], 1e-12);
  // P(given | true) = C / column sums (3, 5, 4): columns sum to 1.
  assertClose(est.noiseMatrix, [1, 2 / 5, 0, 0, 3 / 5, 1 / 4, 0, 0, 3 / 4], 1e-12);
  // P(true = i | given = j) at [i][j] = C[j][i] / row sum j (5, 4, 3).
  assertClose(est.inverseNoiseMatrix, [3 / 5, 0, 0, 2 / 5, 3 / 4, 0, 0, 1 / 4, 1], 1e-12);
});

test('numLabelIssues: off_diagonal counts {4, 8}; off_diagonal_calibrated = rint(12 · 0.25) = 3', () => {
  assert.equal(numLabelIssues(LABELS, PROBS, K), 2);
  assert.equal(numLabelIssues(LABELS, PROBS, K, { method: 'off_diagonal_calibrated' }), 3);
});

test('prune-count matrix: transpose, minimum per class, frac_noise, truncation', () => {
  const cal = confidentJoint(LABELS, PROBS, K).counts;
  assert.deepEqual(Array.from(pruneCountMatrix(cal, K, 1, 1)), [3, 0, 0, 2, 3, 0, 0, 1, 3]);
  // min 4: every diagonal 3 → 4; the +1 is taken from the column's non-zero noise cells, each
  // diff/(non-zero count − 1) = 1: col0 [3,2,0] → [4,1,0]; col1 [0,3,1] → [0,4,0]; col2 [0,0,3] → [0,0,4].
  assert.deepEqual(Array.from(pruneCountMatrix(cal, K, 4, 1)), [4, 0, 0, 1, 4, 0, 0, 0, 4]);
  // frac 0.5: off-diagonals halved and truncated (2→1, 1→0.5→0); diagonals absorb the removed
  // amount and are truncated too (3+1 = 4, 3+0.5 → 3, 3).
  assert.deepEqual(Array.from(pruneCountMatrix(cal, K, 1, 0.5)), [4, 0, 0, 1, 3, 0, 0, 0, 3]);
});

/*
 * filter_by on the worked example (M = [[3,0,0],[2,3,0],[0,1,3]]):
 *  prune_by_class: class 0 drops n0 − M00 = 5 − 3 = 2 smallest p0 → {3 (.30), 4 (.35)};
 *    class 1 drops 4 − 3 = 1 smallest p1 → {7 (.25)}; class 2 drops 0.            → {3, 4, 7}
 *  prune_by_noise_rate: class 0, j=1: M[1][0] = 2 largest p1 − p0 → {4 (+.25), 2 (+.05)};
 *    class 1, j=2: M[2][1] = 1 largest p2 − p1 → {8 (+.39)}; all other M[j][k] = 0.   → {2, 4, 8}
 *  both: {3,4,7} ∩ {2,4,8}                                                           → {4}
 *  confident_learning: the off-diagonal samples                                      → {4, 8}
 *  predicted_neq_given: argmax ≠ given: 2→1, 3→2, 4→1, 7→2, 8→2, 11→0                → {2, 3, 4, 7, 8, 11}
 *  low_self_confidence: num issues = 2; lowest p̂_given: 7 (.25), 8 (.28)             → {7, 8}
 *  low_normalized_margin: num issues = 2; (p̂_given − max other + 1)/2 lowest:
 *    8: (.28−.67+1)/2 = .305, 4: (.35−.6+1)/2 = .375 (next 3: .4)                    → {4, 8}
 *  No flagged sample has its given label within 1e-6 of the top, so the rescue removes nothing.
 */
const EXPECTED: Record<FilterBy, number[]> = {
  prune_by_class: [3, 4, 7],
  prune_by_noise_rate: [2, 4, 8],
  both: [4],
  confident_learning: [4, 8],
  predicted_neq_given: [2, 3, 4, 7, 8, 11],
  low_self_confidence: [7, 8],
  low_normalized_margin: [4, 8],
};

for (const filterBy of FILTER_BY_MODES) {
  test(`findLabelIssues filter_by=${filterBy} flags the hand-worked set`, () => {
    assert.deepEqual(indices(findLabelIssues(LABELS, PROBS, K, { filterBy })), EXPECTED[filterBy]);
  });
}

test('findLabelIssues defaults to prune_by_noise_rate', () => {
  assert.deepEqual(indices(findLabelIssues(LABELS, PROBS, K)), EXPECTED.prune_by_noise_rate);
});

test('minExamplesPerClass and fracNoise change PBC / PBNR / both only', () => {
  // min 4 → M = [[4,0,0],[1,4,0],[0,0,4]]; classes 1 (4 samples) and 2 (3) are at or below the minimum
  // and skipped. PBNR: class 0, j=1 → 1 → {4}. PBC: class 0 drops 5 − 4 = 1 → {3}. both: {} .
  const min4 = { minExamplesPerClass: 4 };
  assert.deepEqual(indices(findLabelIssues(LABELS, PROBS, K, { ...min4, filterBy: 'prune_by_noise_rate' })), [4]);
  assert.deepEqual(indices(findLabelIssues(LABELS, PROBS, K, { ...min4, filterBy: 'prune_by_class' })), [3]);
  assert.deepEqual(indices(findLabelIssues(LABELS, PROBS, K, { ...min4, filterBy: 'both' })), []);
  // frac 0.5 → M = [[4,0,0],[1,3,0],[0,0,3]]: PBNR {4}; PBC class 0 drops 1 → {3}, class 1 drops 1 → {7}.
  const half = { fracNoise: 0.5 };
  assert.deepEqual(indices(findLabelIssues(LABELS, PROBS, K, { ...half, filterBy: 'prune_by_noise_rate' })), [4]);
  assert.deepEqual(indices(findLabelIssues(LABELS, PROBS, K, { ...half, filterBy: 'prune_by_class' })), [3, 7]);
  // Not used by the other modes.
  assert.deepEqual(indices(findLabelIssues(LABELS, PROBS, K, { ...half, filterBy: 'confident_learning' })), [4, 8]);
});

test('rescue: a flagged sample whose given label is the argmax within +1e-6 is un-flagged (not for low_*)', () => {
  // Given labels 0,0,0,1,1,1,1. Sample 3 (0.5, 0.5): argmax is 0 (first max) ≠ 1, but 0.5+1e-6 wins → rescued.
  // Sample 4 (0.5000004, 0.4999996): 0.4999996 + 1e-6 = 0.5000006 > 0.5000004 → rescued.
  // Sample 5 (0.500002, 0.499998): 0.499999 < 0.500002 → stays flagged.
  const labels = Int32Array.from([0, 0, 0, 1, 1, 1, 1]);
  const probs = Float64Array.from([0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.5, 0.5, 0.5000004, 0.4999996, 0.500002, 0.499998, 0.1, 0.9]);
  assert.deepEqual(indices(findLabelIssues(labels, probs, 2, { filterBy: 'predicted_neq_given' })), [5]);
  // low_self_confidence: num issues (off-diagonal after rescue) — t0 = 0.8, t1 = (0.5+0.4999996+0.499998+0.9)/4 ≈ 0.6;
  // samples 3–5 have p0 ≈ 0.5 < 0.8 and p1 ≈ 0.5 < 0.6 → not confident; nothing off-diagonal → 0 flagged.
  assert.deepEqual(indices(findLabelIssues(labels, probs, 2, { filterBy: 'low_self_confidence' })), []);
});

test('low_* modes take the lowest scores without the rescue, so they can flag a sample whose label is the argmax', () => {
  // Given 0,0,0,0,1,1. t0 = (.9+.9+.34+.38)/4 = 0.63, t1 = 0.6, t2 = 2 (absent).
  // Sample 3 (.38, .62, 0) is confidently 1 → the only off-diagonal → num issues = 1.
  // Lowest self-confidence is sample 2 (.34, .33, .33) — its given label 0 is the argmax, yet it is flagged.
  // Lowest normalized margin: sample 3 (.38−.62+1)/2 = .38 < sample 2 (.34−.33+1)/2 = .505.
  const labels = Int32Array.from([0, 0, 0, 0, 1, 1]);
  const probs = Float64Array.from([0.9, 0.05, 0.05, 0.9, 0.05, 0.05, 0.34, 0.33, 0.33, 0.38, 0.62, 0, 0.3, 0.6, 0.1, 0.3, 0.6, 0.1]);
  assert.deepEqual(indices(findLabelIssues(labels, probs, 3, { filterBy: 'low_self_confidence' })), [2]);
  assert.deepEqual(indices(findLabelIssues(labels, probs, 3, { filterBy: 'low_normalized_margin' })), [3]);
  assert.deepEqual(indices(findLabelIssues(labels, probs, 3, { filterBy: 'confident_learning' })), [3]);
});

test('uniform probabilities flag nothing in any mode', () => {
  const n = 9;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  const probs = new Float64Array(n * 3).fill(1 / 3);
  for (const filterBy of FILTER_BY_MODES) {
    assert.deepEqual(indices(findLabelIssues(labels, probs, 3, { filterBy })), [], filterBy);
  }
});

test('label quality scores: self-confidence, normalized margin, confidence-weighted entropy, adjusted', () => {
  const labels = Int32Array.from([0]);
  const p = Float64Array.from([0.7, 0.2, 0.1]);
  assertClose(labelQualityScores(labels, p, 3), [0.7], 1e-12);
  // (0.7 − 0.2 + 1)/2 = 0.75
  assertClose(labelQualityScores(labels, p, 3, { method: 'normalized_margin' }), [0.75], 1e-12);
  // H = −Σ p ln p = 0.80182, / ln 3 = 0.72985; x = 0.72985/0.7 = 1.04264; ln(1+x)/x = 0.68503.
  assertClose(labelQualityScores(labels, p, 3, { method: 'confidence_weighted_entropy' }), [0.68503362], 1e-7);
  // Imbalance adjustment: t = (0.9, 0.6), max 0.9 → rows (0.9, 0.4)/1.3 and (0.4, 0.9)/1.3 → both 0.9/1.3.
  const l2 = Int32Array.from([0, 1]);
  const p2 = Float64Array.from([0.9, 0.1, 0.4, 0.6]);
  assertClose(labelQualityScores(l2, p2, 2, { adjustPredProbs: true }), [0.9 / 1.3, 0.9 / 1.3], 1e-12);
  assert.throws(
    () => labelQualityScores(l2, p2, 2, { method: 'confidence_weighted_entropy', adjustPredProbs: true }),
    (e: unknown) => e instanceof DetectorError && e.code === 'DETECTOR_BAD_OPTION',
  );
});

test('rankLabelIssues orders flagged samples worst first', () => {
  const mask = findLabelIssues(LABELS, PROBS, K, { filterBy: 'predicted_neq_given' });
  // self-confidence: 7 .25, 8 .28, 3 .30, 4 .35, 11 .40, 2 .45
  assert.deepEqual(Array.from(rankLabelIssues(mask, LABELS, PROBS, K)), [7, 8, 3, 4, 11, 2]);
});

test('bad inputs are typed errors with a code, not crashes', () => {
  const isBad = (e: unknown): boolean => e instanceof DetectorError && e.code === 'DETECTOR_BAD_INPUT';
  assert.throws(() => findLabelIssues(LABELS, PROBS.subarray(1), K), isBad);
  const nan = PROBS.slice();
  nan[4] = Number.NaN;
  assert.throws(() => findLabelIssues(LABELS, nan, K), isBad);
  const unnormalised = PROBS.slice();
  unnormalised[0] = 0.9;
  assert.throws(() => findLabelIssues(LABELS, unnormalised, K), isBad);
  assert.throws(() => findLabelIssues(Int32Array.from([0, 3]), new Float32Array(6).fill(1 / 3), K), isBad);
  assert.throws(
    () => findLabelIssues(LABELS, PROBS, K, { filterBy: 'nope' as FilterBy }),
    (e: unknown) => e instanceof DetectorError && e.code === 'DETECTOR_BAD_OPTION',
  );
});

test('findLabelIssues keeps up: 100k × 10 in well under a second per run', () => {
  // Not a benchmark gate (timings vary); asserts only a very loose bound so an accidental O(n²) fails.
  const n = 100_000;
  const k = 10;
  const labels = new Int32Array(n);
  const probs = new Float32Array(n * k);
  let s = 12345;
  const rand = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < n; i++) {
    const t = i % k;
    labels[i] = rand() < 0.1 ? Math.floor(rand() * k) : t;
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const v = Math.exp((j === t ? 3 : 0) + rand());
      probs[i * k + j] = v;
      sum += v;
    }
    for (let j = 0; j < k; j++) probs[i * k + j] = probs[i * k + j]! / sum;
  }
  const start = performance.now();
  const mask = findLabelIssues(labels, probs, k);
  const ms = performance.now() - start;
  assert.ok(ms < 5000, `${ms} ms`);
  assert.ok(indices(mask).length > 0);
});
