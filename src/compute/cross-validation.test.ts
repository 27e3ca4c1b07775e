// Guards against: folds that are unbalanced per class or change between runs with the same seed,
// probabilities that leak the held-out label (in-fold instead of out-of-fold), rows written back
// in fold order instead of input order, and cleanlab's missing-class rule being skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import { ComputeError, crossValidatedProbabilities, dense, stratifiedFolds } from './index.ts';
import type { DenseMatrix } from './index.ts';

function blobs(n: number, d: number, K: number, sep: number, seed: number): { x: DenseMatrix; y: Int32Array } {
  const rng = createRng(seed);
  const centres = Float32Array.from({ length: K * d }, () => rng.normal() * sep);
  const y = new Int32Array(n);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = rng.int(K);
    y[i] = c;
    for (let t = 0; t < d; t++) data[i * d + t] = centres[c * d + t]! + rng.normal();
  }
  return { x: dense(n, d, data), y };
}

test('stratifiedFolds balances every class across folds and is reproducible per seed', () => {
  const y = Int32Array.from({ length: 103 }, (_, i) => (i < 50 ? 0 : i < 90 ? 1 : 2));
  const a = stratifiedFolds(y, 3, 5, createRng(1));
  assert.deepEqual(Array.from(a), Array.from(stratifiedFolds(y, 3, 5, createRng(1))));
  assert.notDeepEqual(Array.from(a), Array.from(stratifiedFolds(y, 3, 5, createRng(2))));
  for (const [c, size] of [[0, 50], [1, 40], [2, 13]] as const) {
    const perFold = [0, 0, 0, 0, 0];
    for (let i = 0; i < y.length; i++) if (y[i] === c) perFold[a[i]!]!++;
    assert.ok(Math.max(...perFold) - Math.min(...perFold) <= 1, `class ${c}: ${perFold}`);
    assert.equal(perFold.reduce((s, v) => s + v, 0), size);
  }
  const sizes = [0, 0, 0, 0, 0];
  for (const f of a) sizes[f]!++;
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `fold sizes ${sizes}`);
  assert.throws(() => stratifiedFolds(y, 3, 1, createRng(1)), (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_INVALID_ARGUMENT');
});

test('out-of-fold probabilities: rows sum to 1, input order, and a flipped label is not memorised', async () => {
  const { x, y } = blobs(600, 30, 3, 3, 41); // 18 000 values: the ORT graph
  // Give one clear member of class 0 the label 2: an in-fold (leaky) model would learn it back.
  const flip = y.findIndex((c) => c === 0);
  const given = Int32Array.from(y);
  given[flip] = 2;
  const done: number[] = [];
  const p = await crossValidatedProbabilities(x, given, 3, { seed: 7, onFold: (d) => done.push(d) });
  assert.deepEqual(done, [1, 2, 3, 4, 5]);
  assert.equal(p.length, 600 * 3);
  let correct = 0;
  for (let i = 0; i < 600; i++) {
    const row = p.subarray(i * 3, i * 3 + 3);
    assert.ok(Math.abs(row[0]! + row[1]! + row[2]! - 1) < 1e-5);
    if (row.indexOf(Math.max(...row)) === y[i]) correct++;
  }
  assert.ok(correct / 600 > 0.95, `out-of-fold accuracy ${correct / 600} (rows must be in input order)`);
  assert.ok(p[flip * 3 + 2]! < 0.05, `given (wrong) label got ${p[flip * 3 + 2]}`);
  assert.ok(p[flip * 3 + 0]! > 0.9);
  const again = await crossValidatedProbabilities(x, given, 3, { seed: 7 });
  assert.deepEqual(Array.from(again), Array.from(p), 'same seed, same probabilities');
});

test('a class missing from a training fold is borrowed and its example gets the dummy prediction', async () => {
  const { x, y } = blobs(200, 4, 2, 3, 42);
  const labels = Int32Array.from(y);
  labels[17] = 2; // class 2 has a single member, so the fold holding it trains without class 2
  const p = await crossValidatedProbabilities(x, labels, 3, { seed: 3 });
  assert.deepEqual(Array.from(p.subarray(17 * 3, 17 * 3 + 3)), [0, 0, 1]);
  const u = await crossValidatedProbabilities(x, labels, 3, { seed: 3, missingClassPrediction: 'uniform' });
  for (const v of u.subarray(17 * 3, 17 * 3 + 3)) assert.ok(Math.abs(v - 1 / 3) < 1e-7);
  // Other rows still get model probabilities, and class 2 (trained on one borrowed row) stays small.
  assert.ok(p[0 * 3 + 2]! < 0.5);
});

test('too few samples for the folds is refused with COMPUTE_TOO_FEW_SAMPLES', async () => {
  const { x, y } = blobs(14, 3, 3, 1, 43);
  await assert.rejects(
    crossValidatedProbabilities(x, y, 3, { seed: 1, folds: 5 }),
    (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_TOO_FEW_SAMPLES',
  );
});
