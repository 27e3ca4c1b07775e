// Guards against: unstandardised or overflowing numeric columns, NaN/±Infinity reaching a learner,
// missing values imputed without an indicator, one-hot encodings that grow without bound or drop
// rare values silently, and identifier columns turning into thousands of noise features.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DenseMatrix } from '../compute/index.ts';
import type { FeatureColumn } from '../data/index.ts';
import { createRng } from '../core/index.ts';
import { featurizeTabular, FeaturesError, OTHER, MISSING } from './index.ts';

const num = (name: string, values: number[]): FeatureColumn => ({ kind: 'numeric', name, values: Float64Array.from(values) });
const cat = (name: string, values: Array<string | null>): FeatureColumn => ({ kind: 'categorical', name, values });

function column(m: DenseMatrix, j: number): number[] {
  return Array.from({ length: m.rows }, (_, i) => m.data[i * m.cols + j] ?? Number.NaN);
}

function stats(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return { mean, std: Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length) };
}

test('numeric columns are standardised: mean ≈ 0, std ≈ 1; a constant column is zeros', () => {
  const rng = createRng(3);
  const n = 500;
  const a = Array.from({ length: n }, () => 1000 + 50 * rng.next());
  const b = Array.from({ length: n }, () => -3e-6 * rng.next());
  const f = featurizeTabular([num('a', a), num('b', b), num('c', Array(n).fill(7))], n);
  const m = f.matrix as DenseMatrix;
  assert.deepEqual(f.featureNames, ['a', 'b', 'c']);
  for (const j of [0, 1]) {
    const s = stats(column(m, j));
    assert.ok(Math.abs(s.mean) < 1e-4 && Math.abs(s.std - 1) < 1e-4, `column ${j}: ${JSON.stringify(s)}`);
  }
  assert.ok(column(m, 2).every((v) => v === 0));
  assert.deepEqual(f.info['constantColumns'], ['c']);
});

test('missing, NaN and ±Infinity are imputed (0 after scaling) with an indicator column; nothing non-finite gets through', () => {
  const f = featurizeTabular([num('x', [1, Number.NaN, 3, Number.POSITIVE_INFINITY, 5, Number.NEGATIVE_INFINITY]), num('y', [1, 2, 3, 4, 5, 6])], 6);
  const m = f.matrix as DenseMatrix;
  assert.deepEqual(f.featureNames, ['x', 'x__missing', 'y']);
  assert.deepEqual(column(m, 1), [0, 1, 0, 1, 0, 1]);
  const x = column(m, 0);
  assert.deepEqual([x[1], x[3], x[5]], [0, 0, 0]);
  const present = stats([x[0] ?? 0, x[2] ?? 0, x[4] ?? 0]);
  assert.ok(Math.abs(present.mean) < 1e-6 && Math.abs(present.std - 1) < 1e-6);
  for (const v of m.data) assert.ok(Number.isFinite(v));
  assert.deepEqual(f.info['columnsWithMissing'], ['x']);
});

test('extreme magnitudes do not overflow', () => {
  const f = featurizeTabular([num('big', [1e308, -1e308, 1e308, 5e307])], 4);
  const col = column(f.matrix as DenseMatrix, 0);
  for (const v of col) assert.ok(Number.isFinite(v));
  assert.ok(Math.abs(stats(col).std - 1) < 1e-5);
});

test('categoricals: one-hot by frequency, missing gets its own column', () => {
  const f = featurizeTabular([cat('colour', ['red', 'blue', 'red', null, 'green', 'red', 'blue'])], 7);
  assert.deepEqual(f.featureNames, ['colour=red', 'colour=blue', 'colour=green', `colour=${MISSING}`]);
  const m = f.matrix as DenseMatrix;
  const rows = Array.from({ length: 7 }, (_, i) => Array.from(m.data.subarray(i * 4, i * 4 + 4)));
  assert.deepEqual(rows[0], [1, 0, 0, 0]);
  assert.deepEqual(rows[3], [0, 0, 0, 1]);
  assert.deepEqual(rows[4], [0, 0, 1, 0]);
  for (const r of rows) assert.equal(r.reduce((s, v) => s + v, 0), 1);
});

test('more than maxCategories values: top maxCategories−1 plus __other__', () => {
  // 10 values, value k occurs k+2 times (so the top 3 are v9, v8, v7); 65 rows, 10 distinct: not identifier-like.
  const values: string[] = [];
  for (let k = 0; k < 10; k++) for (let r = 0; r < k + 2; r++) values.push(`v${k}`);
  const f = featurizeTabular([cat('c', values)], values.length, { maxCategories: 4 });
  assert.deepEqual(f.featureNames, ['c=v9', 'c=v8', 'c=v7', `c=${OTHER}`]);
  const other = column(f.matrix as DenseMatrix, 3).reduce((s, v) => s + v, 0);
  assert.equal(other, values.filter((v) => !['v9', 'v8', 'v7'].includes(v)).length);
  assert.deepEqual(f.info['otherCounts'], { c: other });
  // Default cap: 40 distinct values over 400 rows → 32 columns.
  const many = Array.from({ length: 400 }, (_, i) => `k${i % 40}`);
  assert.equal(featurizeTabular([cat('k', many)], 400).matrix.cols, 32);
});

test('identifier-like and empty columns are dropped and reported', () => {
  const n = 100;
  const f = featurizeTabular(
    [cat('email', Array.from({ length: n }, (_, i) => `user${i}@x.org`)), cat('none', Array(n).fill(null)), num('nan', Array(n).fill(Number.NaN)), num('v', Array.from({ length: n }, (_, i) => i))],
    n,
  );
  assert.deepEqual(f.featureNames, ['v']);
  assert.deepEqual(
    (f.info['dropped'] as Array<{ column: string; reason: string }>).map((d) => [d.column, d.reason]),
    [
      ['email', 'identifier-like'],
      ['none', 'empty'],
      ['nan', 'empty'],
    ],
  );
});

test('a column of the wrong length is a typed error', () => {
  assert.throws(
    () => featurizeTabular([num('a', [1, 2])], 3),
    (e: unknown) => e instanceof FeaturesError && e.code === 'FEATURES_BAD_INPUT',
  );
});
