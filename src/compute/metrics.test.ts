// Guards against: tie handling in AUROC (must be the Mann–Whitney average rank, not order-dependent),
// AP computed by interpolation or per-sample instead of sklearn's per-threshold steps, and
// division by zero in precision/recall/F1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auroc, averagePrecision, ComputeError, precisionRecallF1 } from './index.ts';

test('auroc: perfect, inverted and hand-worked values', () => {
  assert.equal(auroc([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0]), 1);
  assert.equal(auroc([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0]), 0);
  // pos {0.8, 0.4}, neg {0.6, 0.2}: pairs won 0.8>0.6, 0.8>0.2, 0.4>0.2 → 3/4.
  assert.equal(auroc([0.8, 0.6, 0.4, 0.2], [true, false, true, false]), 0.75);
});

test('auroc counts ties as half, independent of input order', () => {
  // pos {0.5, 0.9}, neg {0.5, 0.1}: 0.5 vs 0.5 tie (½), 0.5>0.1, 0.9>0.5, 0.9>0.1 → 3.5/4.
  assert.equal(auroc([0.5, 0.5, 0.9, 0.1], [1, 0, 1, 0]), 0.875);
  assert.equal(auroc([0.5, 0.5, 0.9, 0.1], [0, 1, 1, 0]), 0.875);
  assert.equal(auroc([1, 1, 1, 1], [1, 0, 1, 0]), 0.5);
  assert.ok(Number.isNaN(auroc([1, 2], [1, 1])));
});

test('averagePrecision matches sklearn on hand-worked cases', () => {
  // sklearn docs example: y=[0,0,1,1], s=[0.1,0.4,0.35,0.8] → 0.8333…
  assert.ok(Math.abs(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) - 5 / 6) < 1e-12);
  // Ranked pos, neg, pos: (1/2)·1 + (1/2)·(2/3) = 5/6.
  assert.ok(Math.abs(averagePrecision([3, 2, 1], [1, 0, 1]) - 5 / 6) < 1e-12);
  // A tie group counts as one threshold: all three tied → precision 2/3 at recall 1.
  assert.ok(Math.abs(averagePrecision([1, 1, 1], [1, 0, 1]) - 2 / 3) < 1e-12);
  assert.ok(Number.isNaN(averagePrecision([1, 2], [0, 0])));
  assert.throws(() => averagePrecision([NaN], [1]), (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_NON_FINITE');
});

test('precisionRecallF1 counts and guards zero denominators', () => {
  const r = precisionRecallF1([1, 1, 0, 0, 1], [1, 0, 1, 0, 1]);
  assert.deepEqual({ tp: r.tp, fp: r.fp, fn: r.fn }, { tp: 2, fp: 1, fn: 1 });
  assert.equal(r.precision, 2 / 3);
  assert.equal(r.recall, 2 / 3);
  assert.ok(Math.abs(r.f1 - 2 / 3) < 1e-12);
  assert.deepEqual(precisionRecallF1([0, 0], [0, 1]), { precision: 0, recall: 0, f1: 0, tp: 0, fp: 0, fn: 1 });
  assert.throws(() => precisionRecallF1([1], [1, 0]), (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_SHAPE_MISMATCH');
});
