/**
 * K-fold stratified out-of-fold probabilities with cleanlab's semantics
 * (cleanlab.count.estimate_cv_predicted_probabilities): StratifiedKFold(shuffle) folds; a class
 * missing from a training fold gets one held-out example of it copied into training, and that
 * example's own prediction is replaced by a dummy (cleanlab: the given label with probability 1).
 */
import { createRng } from '../core/index.ts';
import type { Rng } from '../core/index.ts';
import { ComputeError } from './errors.ts';
import { checkFeatures, selectRows } from './kernels.ts';
import type { FeatureMatrix } from './matrix.ts';
import { predictProba, trainPrepared } from './softmax.ts';
import { selectCscRows, toCsc } from './sparse.ts';

/**
 * Fold index (0..folds−1) per sample, as sklearn's StratifiedKFold(shuffle=True) assigns them:
 * each class's members are spread over the folds as evenly as the sorted-label round robin
 * allows, then shuffled within the class. Reproducible for a given rng state.
 */
export function stratifiedFolds(y: Int32Array, numClasses: number, folds: number, rng: Rng): Int32Array {
  const n = y.length;
  if (!Number.isInteger(folds) || folds < 2) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `folds must be an integer ≥ 2, got ${folds}`);
  if (n < folds) throw new ComputeError('COMPUTE_TOO_FEW_SAMPLES', `cannot split ${n} samples into ${folds} folds`);
  const counts = new Int32Array(numClasses);
  const firstSeen: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `label ${c} at row ${i} outside 0..${numClasses - 1}`);
    }
    if (counts[c] === 0) firstSeen.push(c);
    counts[c] = counts[c]! + 1;
  }
  // sklearn orders classes by first appearance, sorts the encoded labels and deals them round robin.
  const allocation = firstSeen.map(() => new Int32Array(folds));
  let pos = 0;
  firstSeen.forEach((c, e) => {
    for (let t = 0; t < counts[c]!; t++, pos++) allocation[e]![pos % folds] = allocation[e]![pos % folds]! + 1;
  });
  const out = new Int32Array(n);
  firstSeen.forEach((c, e) => {
    const assign = new Int32Array(counts[c]!);
    let at = 0;
    for (let f = 0; f < folds; f++) for (let t = 0; t < allocation[e]![f]!; t++) assign[at++] = f;
    rng.shuffle(assign);
    let next = 0;
    for (let i = 0; i < n; i++) if (y[i] === c) out[i] = assign[next++]!;
  });
  return out;
}

export interface CrossValidationOptions {
  /** Default 5. */
  readonly folds?: number;
  readonly seed: number;
  readonly l2?: number;
  readonly maxIter?: number;
  readonly tol?: number;
  readonly onFold?: (done: number, total: number) => void;
  /**
   * Prediction for a held-out example that was copied into training because its class was
   * missing there: 'given-label' (cleanlab's choice: probability 1 on its label) or 'uniform'.
   */
  readonly missingClassPrediction?: 'given-label' | 'uniform';
}

/** Out-of-fold class probabilities (n × numClasses, rows in input order) from softmax regression. */
export async function crossValidatedProbabilities(x: FeatureMatrix, y: Int32Array, numClasses: number, opts: CrossValidationOptions): Promise<Float32Array> {
  checkFeatures(x, 'crossValidatedProbabilities');
  const n = x.rows;
  const K = numClasses;
  const folds = opts.folds ?? 5;
  if (y.length !== n) throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `labels: expected ${n}, got ${y.length}`);
  if (!Number.isInteger(K) || K < 2) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `numClasses must be an integer ≥ 2, got ${K}`);
  if (n / K < folds) {
    throw new ComputeError('COMPUTE_TOO_FEW_SAMPLES', `${n} samples over ${K} classes are too few for ${folds}-fold cross-validation`, {
      hint: `need at least ${folds * K} samples, or fewer folds`,
    });
  }
  const foldOf = stratifiedFolds(y, K, folds, createRng(opts.seed));
  const present = new Uint8Array(K);
  for (const c of y) present[c] = 1;
  for (let i = 0; i < n; i++) {
    if (y[i]! < 0 || y[i]! >= K || !Number.isInteger(y[i]!)) {
      throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `label ${y[i]} at row ${i} outside 0..${K - 1}`);
    }
  }
  // Sparse input is transposed once; each fold takes its rows from the column form.
  const csc = x.kind === 'csr' ? toCsc(x) : undefined;
  const out = new Float32Array(n * K);
  for (let f = 0; f < folds; f++) {
    const train: number[] = [];
    const hold: number[] = [];
    for (let i = 0; i < n; i++) (foldOf[i] === f ? hold : train).push(i);
    const inTrain = new Uint8Array(K);
    for (const i of train) inTrain[y[i]!] = 1;
    // Classes absent from this training fold but present in the data: borrow one held-out example.
    const borrowed: number[] = [];
    for (let c = 0; c < K; c++) {
      if (present[c] === 1 && inTrain[c] === 0) {
        const i = hold.find((h) => y[h] === c);
        if (i !== undefined) {
          train.push(i);
          borrowed.push(i);
        }
      }
    }
    const trainIdx = Int32Array.from(train);
    const holdIdx = Int32Array.from(hold);
    const trainOpts = {
      ...(opts.l2 === undefined ? {} : { l2: opts.l2 }),
      ...(opts.maxIter === undefined ? {} : { maxIter: opts.maxIter }),
      ...(opts.tol === undefined ? {} : { tol: opts.tol }),
    };
    const trainX = x.kind === 'dense' ? selectRows(x, trainIdx) : selectCscRows(csc ?? toCsc(x), trainIdx);
    const model = await trainPrepared(trainX, Int32Array.from(train, (i) => y[i]!), K, trainOpts);
    const p = await predictProba(model, selectRows(x, holdIdx));
    holdIdx.forEach((row, h) => out.set(p.subarray(h * K, h * K + K), row * K));
    for (const i of borrowed) {
      const dummy = out.subarray(i * K, i * K + K);
      if (opts.missingClassPrediction === 'uniform') dummy.fill(1 / K);
      else {
        dummy.fill(0);
        dummy[y[i]!] = 1;
      }
    }
    opts.onFold?.(f + 1, folds);
  }
  return out;
}
