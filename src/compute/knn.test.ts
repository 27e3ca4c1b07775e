// Guards against: the ORT TopK path returning different neighbours than brute force (block edges,
// self not excluded, float32 ranking error), exact duplicates coming out at a non-zero distance,
// nondeterministic tie order, and k ≥ n being accepted and returning garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import { ComputeError, dense, knnGraph, knnGraphReference, knnQuery } from './index.ts';
import type { DenseMatrix, KnnGraph } from './index.ts';

function randomMatrix(n: number, d: number, seed: number): DenseMatrix {
  const rng = createRng(seed);
  return dense(n, d, Float32Array.from({ length: n * d }, () => rng.normal()));
}

function sameGraph(a: KnnGraph, b: KnnGraph): void {
  assert.deepEqual([a.n, a.k, a.metric], [b.n, b.k, b.metric]);
  assert.deepEqual(Array.from(a.indices), Array.from(b.indices));
  for (let i = 0; i < a.distances.length; i++) assert.ok(Math.abs(a.distances[i]! - b.distances[i]!) < 1e-5, `distance ${i}`);
}

for (const metric of ['cosine', 'euclidean'] as const) {
  test(`knnGraph (${metric}) equals the brute-force reference, across several query blocks`, async () => {
    const x = randomMatrix(700, 24, 11);
    const want = knnGraphReference(x, 7, { metric });
    sameGraph(await knnGraph(x, 7, { metric, blockRows: 128 }), want);
    for (let i = 0; i < x.rows; i++) {
      for (let t = 0; t < 7; t++) assert.notEqual(want.indices[i * 7 + t], i, 'self excluded');
      for (let t = 1; t < 7; t++) assert.ok(want.distances[i * 7 + t]! >= want.distances[i * 7 + t - 1]!, 'ascending');
    }
  });
}

test('exact duplicates are neighbours at distance 0, ties ordered by index', async () => {
  const x = randomMatrix(400, 16, 12);
  // Rows 10, 200 and 399 are copies of row 5.
  for (const r of [10, 200, 399]) x.data.copyWithin(r * 16, 5 * 16, 6 * 16);
  for (const metric of ['cosine', 'euclidean'] as const) {
    const g = await knnGraph(x, 4, { metric });
    assert.deepEqual(Array.from(g.indices.subarray(5 * 4, 5 * 4 + 3)), [10, 200, 399]);
    assert.deepEqual(Array.from(g.distances.subarray(5 * 4, 5 * 4 + 3)), [0, 0, 0]);
    assert.deepEqual(Array.from(g.indices.subarray(200 * 4, 200 * 4 + 3)), [5, 10, 399]);
    sameGraph(g, knnGraphReference(x, 4, { metric }));
  }
});

test('zero rows under cosine: distance 1 to others, 0 to other zero rows', async () => {
  const x = randomMatrix(300, 16, 13);
  x.data.fill(0, 3 * 16, 4 * 16);
  x.data.fill(0, 250 * 16, 251 * 16);
  const g = await knnGraph(x, 3, { metric: 'cosine' });
  assert.equal(g.indices[3 * 3], 250);
  assert.equal(g.distances[3 * 3], 0);
  assert.equal(g.distances[3 * 3 + 1], 1);
  sameGraph(g, knnGraphReference(x, 3, { metric: 'cosine' }));
});

test('k = n − 1 works and k ≥ n is rejected with COMPUTE_TOO_FEW_SAMPLES', async () => {
  const x = randomMatrix(6, 3, 14);
  const g = await knnGraph(x, 5);
  for (let i = 0; i < 6; i++) assert.deepEqual([...g.indices.subarray(i * 5, i * 5 + 5)].sort(), [0, 1, 2, 3, 4, 5].filter((j) => j !== i));
  await assert.rejects(knnGraph(x, 6), (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_TOO_FEW_SAMPLES');
  await assert.rejects(knnGraph(x, 0), (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_INVALID_ARGUMENT');
});

test('knnQuery finds a query identical to a reference row at distance 0 (self not excluded)', async () => {
  const ref = randomMatrix(500, 20, 15);
  const queries = dense(2, 20, ref.data.slice(42 * 20, 44 * 20));
  for (const metric of ['cosine', 'euclidean'] as const) {
    const g = await knnQuery(ref, queries, 3, { metric });
    assert.equal(g.n, 2);
    assert.deepEqual([g.indices[0], g.distances[0], g.indices[3], g.distances[3]], [42, 0, 43, 0]);
  }
  await assert.rejects(knnQuery(ref, randomMatrix(2, 21, 1), 3), (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_SHAPE_MISMATCH');
});

test('non-finite input is rejected with COMPUTE_NON_FINITE', async () => {
  const x = randomMatrix(50, 4, 16);
  x.data[17] = NaN;
  await assert.rejects(knnGraph(x, 3), (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_NON_FINITE');
});

test('onProgress reports every block up to the total', async () => {
  const x = randomMatrix(300, 16, 17);
  const seen: number[] = [];
  await knnGraph(x, 2, { blockRows: 100, onProgress: (done, total) => seen.push(done / total) });
  assert.deepEqual(seen, [1 / 3, 2 / 3, 1]);
});
