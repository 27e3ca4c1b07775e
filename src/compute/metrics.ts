/**
 * Ranking and detection metrics for evaluating detectors against planted ground truth, matching
 * scikit-learn: roc_auc_score (ties by average rank, i.e. Mann–Whitney U), average_precision_score
 * (step-wise, tied scores form one threshold) and precision/recall/F1 with zero_division = 0.
 */
import { ComputeError } from './errors.ts';

function truthy(v: boolean | number): boolean {
  return typeof v === 'boolean' ? v : v !== 0;
}

function checkPair(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>, what: string): void {
  if (scores.length !== positive.length) {
    throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `${what}: ${scores.length} scores but ${positive.length} labels`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i]!)) throw new ComputeError('COMPUTE_NON_FINITE', `${what}: score ${i} is NaN`);
  }
}

/** Indices sorted by score descending, ties by index (stable). */
function orderDescending(scores: ArrayLike<number>): Int32Array {
  const idx = Int32Array.from({ length: scores.length }, (_, i) => i);
  return idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
}

/** Area under the ROC curve; NaN when only one class is present. */
export function auroc(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): number {
  checkPair(scores, positive, 'auroc');
  const n = scores.length;
  const order = orderDescending(scores);
  let nPos = 0;
  let rankSumPos = 0;
  // Ranks ascending (1 = lowest score); a tie group shares its average rank.
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    // Positions i..j in descending order hold ascending ranks n−j .. n−i.
    const avgRank = (n - j + (n - i)) / 2;
    for (let t = i; t <= j; t++) {
      if (truthy(positive[order[t]!]!)) {
        nPos++;
        rankSumPos += avgRank;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Average precision Σ (R_k − R_{k−1})·P_k over distinct score thresholds; NaN without positives. */
export function averagePrecision(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): number {
  checkPair(scores, positive, 'averagePrecision');
  const n = scores.length;
  let total = 0;
  for (let i = 0; i < n; i++) if (truthy(positive[i]!)) total++;
  if (total === 0) return NaN;
  const order = orderDescending(scores);
  let tp = 0;
  let seen = 0;
  let prevRecall = 0;
  let ap = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    for (let t = i; t <= j; t++) if (truthy(positive[order[t]!]!)) tp++;
    seen += j - i + 1;
    const recall = tp / total;
    ap += (recall - prevRecall) * (tp / seen);
    prevRecall = recall;
    i = j + 1;
  }
  return ap;
}

/** Precision, recall and F1 of a flagged set against the positives (0 where undefined). */
export function precisionRecallF1(
  flagged: ArrayLike<boolean | number>,
  positive: ArrayLike<boolean | number>,
): { precision: number; recall: number; f1: number; tp: number; fp: number; fn: number } {
  if (flagged.length !== positive.length) {
    throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `precisionRecallF1: ${flagged.length} flags but ${positive.length} labels`);
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < flagged.length; i++) {
    const f = truthy(flagged[i]!);
    const p = truthy(positive[i]!);
    if (f && p) tp++;
    else if (f) fp++;
    else if (p) fn++;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, tp, fp, fn };
}
