// Guards against: a wrong analytic gradient (sign, 1/n scaling, L2 on the bias) in either the
// fused ORT graph or the CSR loops, L-BFGS that stops early or diverges, CSR and dense paths
// training different models on the same data, and overflow in an unstabilised softmax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import { ComputeError, dense, predictProba, selectRows, trainSoftmax } from './index.ts';
import type { CsrMatrix, DenseMatrix } from './index.ts';
import { softmaxObjective } from './softmax.ts';

function blobs(n: number, d: number, K: number, sep: number, seed: number): { x: DenseMatrix; y: Int32Array } {
  const rng = createRng(seed);
  const centres = Float32Array.from({ length: K * d }, () => rng.normal() * sep);
  const y = new Int32Array(n);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = i % K;
    y[i] = c;
    for (let t = 0; t < d; t++) data[i * d + t] = centres[c * d + t]! + rng.normal();
  }
  return { x: dense(n, d, data), y };
}

/** Same matrix with ~60 % of entries zeroed, in dense and CSR form. */
function sparsified(x: DenseMatrix, seed: number): { dense: DenseMatrix; csr: CsrMatrix } {
  const rng = createRng(seed);
  const data = x.data.map((v) => (rng.next() < 0.6 ? 0 : v));
  const indptr = new Int32Array(x.rows + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < x.cols; j++) {
      if (data[i * x.cols + j] !== 0) {
        indices.push(j);
        values.push(data[i * x.cols + j]!);
      }
    }
    indptr[i + 1] = indices.length;
  }
  return {
    dense: dense(x.rows, x.cols, data),
    csr: { kind: 'csr', rows: x.rows, cols: x.cols, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) },
  };
}

async function gradientCheck(x: DenseMatrix | CsrMatrix, y: Int32Array, K: number, tol: number): Promise<void> {
  const f = await softmaxObjective(x, y, K, 0.05);
  const rng = createRng(5);
  const nVar = x.cols * K + K;
  const theta = Float64Array.from({ length: nVar }, () => rng.normal() * 0.3);
  const grad = new Float64Array(nVar);
  await f(theta, grad);
  const h = 1e-3;
  const scratch = new Float64Array(nVar);
  // Check a spread of weight coordinates and every bias coordinate.
  const coords = [0, 1, 7, Math.floor(nVar / 2), nVar - K - 1, ...Array.from({ length: K }, (_, c) => nVar - K + c)];
  for (const i of coords) {
    const plus = Float64Array.from(theta);
    plus[i] = plus[i]! + h;
    const minus = Float64Array.from(theta);
    minus[i] = minus[i]! - h;
    const numeric = ((await f(plus, scratch)) - (await f(minus, scratch))) / (2 * h);
    assert.ok(Math.abs(numeric - grad[i]!) < tol * Math.max(1, Math.abs(numeric)), `coordinate ${i}: analytic ${grad[i]} vs numeric ${numeric}`);
  }
}

test('gradient matches finite differences: dense ORT graph, dense JS loops, CSR loops', async () => {
  const big = blobs(400, 60, 4, 1, 31); // 24 000 values: the ORT graph
  await gradientCheck(big.x, big.y, 4, 2e-3);
  const small = blobs(60, 8, 3, 1, 32); // below the ORT threshold: JS loops (float64)
  await gradientCheck(small.x, small.y, 3, 1e-6);
  const sp = sparsified(small.x, 33);
  await gradientCheck(sp.csr, small.y, 3, 1e-6);
});

test('trainSoftmax reaches > 95 % accuracy on separable Gaussian blobs and converges', async () => {
  const all = blobs(2000, 20, 5, 1.5, 34);
  const train = { x: selectRows(all.x, Int32Array.from({ length: 1500 }, (_, i) => i)), y: all.y.subarray(0, 1500) };
  const testSet = { x: selectRows(all.x, Int32Array.from({ length: 500 }, (_, i) => 1500 + i)), y: all.y.subarray(1500) };
  const model = await trainSoftmax(train.x, train.y, 5);
  assert.ok(model.converged, `converged after ${model.iterations} iterations`);
  assert.equal(model.l2, 1 / 1500);
  const p = await predictProba(model, testSet.x);
  let ok = 0;
  for (let i = 0; i < 500; i++) {
    let best = 0;
    let sum = 0;
    for (let c = 0; c < 5; c++) {
      sum += p[i * 5 + c]!;
      if (p[i * 5 + c]! > p[i * 5 + best]!) best = c;
    }
    assert.ok(Math.abs(sum - 1) < 1e-5);
    if (best === testSet.y[i]) ok++;
  }
  assert.ok(ok / 500 > 0.95, `accuracy ${ok / 500}`);
});

test('CSR and dense inputs give the same model on the same data', async () => {
  const { x, y } = blobs(600, 40, 3, 0.8, 35); // 24 000 values: dense goes through ORT
  const sp = sparsified(x, 36);
  const a = await trainSoftmax(sp.dense, y, 3, { tol: 1e-6, ftol: 1e-12 });
  const b = await trainSoftmax(sp.csr, y, 3, { tol: 1e-6, ftol: 1e-12 });
  let maxDiff = 0;
  let maxW = 0;
  for (let i = 0; i < a.weights.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a.weights[i]! - b.weights[i]!));
    maxW = Math.max(maxW, Math.abs(a.weights[i]!));
  }
  assert.ok(maxDiff < 2e-3 * maxW, `max weight difference ${maxDiff} (max |w| ${maxW})`);
  assert.ok(Math.abs(a.loss - b.loss) < 1e-5, `loss ${a.loss} vs ${b.loss}, iterations ${a.iterations} vs ${b.iterations}`);
  const pa = await predictProba(a, sp.dense);
  const pb = await predictProba(b, sp.csr);
  for (let i = 0; i < pa.length; i++) assert.ok(Math.abs(pa[i]! - pb[i]!) < 1e-3, `probability ${i}: ${pa[i]} vs ${pb[i]}`);
});

test('training is deterministic and survives huge feature values (stable softmax)', async () => {
  const { x, y } = blobs(200, 5, 2, 2, 37);
  const m1 = await trainSoftmax(x, y, 2);
  const m2 = await trainSoftmax(x, y, 2);
  assert.deepEqual(Array.from(m1.weights), Array.from(m2.weights));
  const p = await predictProba({ ...m1, weights: m1.weights.map((w) => w * 1e4) }, x);
  for (const v of p) assert.ok(Number.isFinite(v));
});

test('trainSoftmax rejects labels out of range and mismatched shapes', async () => {
  const { x } = blobs(10, 3, 2, 1, 38);
  await assert.rejects(trainSoftmax(x, new Int32Array(10).fill(2), 2), (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_INVALID_ARGUMENT');
  await assert.rejects(trainSoftmax(x, new Int32Array(9), 2), (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_SHAPE_MISMATCH');
  const model = await trainSoftmax(x, Int32Array.from({ length: 10 }, (_, i) => i % 2), 2);
  await assert.rejects(predictProba(model, dense(1, 4, new Float32Array(4))), (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_SHAPE_MISMATCH');
});

test('preconditioning changes the path, not the optimum', async () => {
  const { x, y } = blobs(300, 6, 3, 1, 39);
  // Columns on wildly different scales, as PCA outputs are.
  const scaled = dense(300, 6, x.data.map((v, i) => v * 10 ** ((i % 6) / 2 - 1) + 3));
  const a = await trainSoftmax(scaled, y, 3, { tol: 1e-8, ftol: 1e-14, maxIter: 5000, precondition: false });
  const b = await trainSoftmax(scaled, y, 3, { tol: 1e-8, ftol: 1e-14 });
  assert.ok(b.iterations < a.iterations, `${b.iterations} vs ${a.iterations} iterations`);
  assert.ok(Math.abs(a.loss - b.loss) < 1e-7, `loss ${a.loss} vs ${b.loss}`);
  const pa = await predictProba(a, scaled);
  const pb = await predictProba(b, scaled);
  for (let i = 0; i < pa.length; i++) assert.ok(Math.abs(pa[i]! - pb[i]!) < 1e-4, `probability ${i}: ${pa[i]} vs ${pb[i]}`);
});
