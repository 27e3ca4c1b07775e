import { auroc, averagePrecision, precisionRecallF1 } from '../compute/index.ts';
import { RedteamError } from './errors.ts';

/** Detection quality against planted truth: the flagged set and the ranking. */
export interface DetectionQuality {
  readonly planted: number;
  readonly flagged: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Of the score ranking: area under the ROC curve and average precision. */
  readonly auroc: number;
  readonly averagePrecision: number;
}

export function evaluateDetection(scores: ArrayLike<number>, flagged: ArrayLike<boolean | number>, planted: ArrayLike<number | boolean>): DetectionQuality {
  if (scores.length !== planted.length || flagged.length !== planted.length) {
    throw new RedteamError('REDTEAM_LENGTH_MISMATCH', `scores (${scores.length}), flags (${flagged.length}) and truth (${planted.length}) differ in length`);
  }
  const prf = precisionRecallF1(flagged, planted);
  let positives = 0;
  let nFlagged = 0;
  for (let i = 0; i < planted.length; i++) {
    if (planted[i]) positives++;
    if (flagged[i]) nFlagged++;
  }
  return {
    planted: positives,
    flagged: nFlagged,
    tp: prf.tp,
    fp: prf.fp,
    fn: prf.fn,
    precision: prf.precision,
    recall: prf.recall,
    f1: prf.f1,
    auroc: auroc(scores, planted),
    averagePrecision: averagePrecision(scores, planted),
  };
}
