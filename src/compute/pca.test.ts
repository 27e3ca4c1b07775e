// Guards against: PCA that misses a planted low-rank structure (wrong centring, wrong eigenvector
// order or layout), non-orthonormal components from the iterative path, and a randomized SVD whose
// singular values drift from a full SVD (broken orthonormalisation or sparse products).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SVD, Matrix } from 'ml-matrix';
import { createRng } from '../core/index.ts';
import { ComputeError, dense, fitPca, randomizedSvd, transformPca } from './index.ts';
import type { CsrMatrix, DenseMatrix } from './index.ts';

/** n rows = mean + Σ_j s_j·z_j·b_j + noise, with orthonormal b_j, so the top PCs span {b_j}. */
function planted(n: number, d: number, scales: number[], noise: number, seed: number): { x: DenseMatrix; basis: Float64Array } {
  const rng = createRng(seed);
  const r = scales.length;
  const basis = new Float64Array(r * d);
  for (let j = 0; j < r; j++) {
    for (let t = 0; t < d; t++) basis[j * d + t] = rng.normal();
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let t = 0; t < d; t++) dot += basis[j * d + t]! * basis[p * d + t]!;
      for (let t = 0; t < d; t++) basis[j * d + t] = basis[j * d + t]! - dot * basis[p * d + t]!;
    }
    let nrm = 0;
    for (let t = 0; t < d; t++) nrm += basis[j * d + t]! ** 2;
    for (let t = 0; t < d; t++) basis[j * d + t] = basis[j * d + t]! / Math.sqrt(nrm);
  }
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) data[i * d + t] = 50 + noise * rng.normal();
    for (let j = 0; j < r; j++) {
      const z = scales[j]! * rng.normal();
      for (let t = 0; t < d; t++) data[i * d + t] = data[i * d + t]! + z * basis[j * d + t]!;
    }
  }
  return { x: dense(n, d, data), basis };
}

function checkOrthonormal(c: DenseMatrix, tol: number): void {
  for (let a = 0; a < c.rows; a++) {
    for (let b = 0; b <= a; b++) {
      let dot = 0;
      for (let t = 0; t < c.cols; t++) dot += c.data[a * c.cols + t]! * c.data[b * c.cols + t]!;
      assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < tol, `components ${a}·${b} = ${dot}`);
    }
  }
}

for (const method of ['exact', 'iterative'] as const) {
  test(`fitPca (${method}) recovers a planted rank-3 subspace with orthonormal components`, async () => {
    const scales = [10, 6, 3];
    const { x, basis } = planted(800, 300, scales, 0.2, 21);
    const m = await fitPca(x, 5, { method });
    checkOrthonormal(m.components, 1e-4);
    assert.ok(Math.abs(m.mean[7]! - 50) < 0.5);
    for (let j = 0; j < 3; j++) {
      // Variance along b_j is ≈ s_j² (+ noise²); the j-th component is ±b_j.
      assert.ok(Math.abs(m.explainedVariance[j]! / scales[j]! ** 2 - 1) < 0.15, `variance ${j}: ${m.explainedVariance[j]}`);
      let dot = 0;
      for (let t = 0; t < 300; t++) dot += m.components.data[j * 300 + t]! * basis[j * 300 + t]!;
      assert.ok(Math.abs(dot) > 0.99, `component ${j} alignment ${dot}`);
    }
    assert.ok(m.explainedVariance[3]! < 0.2 && m.explainedVariance[3]! >= m.explainedVariance[4]!);
    const total = scales.reduce((s, v) => s + v * v, 0) + 300 * 0.04;
    assert.ok(Math.abs(m.totalVariance / total - 1) < 0.1);
    const z = await transformPca(m, x);
    assert.deepEqual([z.rows, z.cols], [800, 5]);
    let mean0 = 0;
    for (let i = 0; i < 800; i++) mean0 += z.data[i * 5]!;
    assert.ok(Math.abs(mean0 / 800) < 1e-2, 'projected data is centred');
  });
}

test('fitPca iterative and exact agree on the leading eigenvalues', async () => {
  const { x } = planted(600, 280, [9, 7, 5, 4, 3, 2], 0.5, 22);
  const a = await fitPca(x, 8, { method: 'exact' });
  const b = await fitPca(x, 8, { method: 'iterative' });
  for (let j = 0; j < 6; j++) assert.ok(Math.abs(a.explainedVariance[j]! / b.explainedVariance[j]! - 1) < 1e-3);
});

test('fitPca rejects bad arguments with typed errors', async () => {
  await assert.rejects(fitPca(dense(1, 3, new Float32Array(3)), 1), (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_TOO_FEW_SAMPLES');
  await assert.rejects(fitPca(dense(4, 3, new Float32Array(12)), 4), (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_INVALID_ARGUMENT');
  const m = await fitPca(dense(4, 3, Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 0, 1)), 2);
  await assert.rejects(transformPca(m, dense(1, 4, new Float32Array(4))), (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_SHAPE_MISMATCH');
});

function toCsr(x: DenseMatrix): CsrMatrix {
  const indptr = new Int32Array(x.rows + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < x.cols; j++) {
      const v = x.data[i * x.cols + j]!;
      if (v !== 0) {
        indices.push(j);
        values.push(v);
      }
    }
    indptr[i + 1] = indices.length;
  }
  return { kind: 'csr', rows: x.rows, cols: x.cols, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
}

test('randomizedSvd matches ml-matrix SVD on a small matrix, dense and CSR', async () => {
  const rng = createRng(23);
  const n = 120;
  const d = 60;
  // Decaying spectrum with ~half the entries zero (so the CSR form is genuinely sparse).
  const { x: base } = planted(n, d, [20, 12, 8, 5, 3, 2, 1], 0.05, 24);
  const data = base.data.map((v, i) => (rng.next() < 0.5 ? 0 : v - 50 + (i % 3)));
  const x = dense(n, d, Float32Array.from(data));
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(x.data.subarray(i * d, i * d + d)));
  const want = new SVD(new Matrix(rows), { computeLeftSingularVectors: false, computeRightSingularVectors: false }).diagonal;
  for (const input of [x, toCsr(x)]) {
    const r = await randomizedSvd(input, 5, { rng: createRng(1), powerIterations: 3 });
    for (let j = 0; j < 5; j++) assert.ok(Math.abs(r.s[j]! / want[j]! - 1) < 1e-4, `${input.kind} σ${j} ${r.s[j]} vs ${want[j]}`);
    assert.deepEqual([r.u.rows, r.u.cols, r.vt.rows, r.vt.cols], [n, 5, 5, d]);
    checkOrthonormal(r.vt, 1e-4);
    // X·v_j = σ_j·u_j.
    for (let j = 0; j < 2; j++) {
      for (let i = 0; i < n; i += 17) {
        let xv = 0;
        for (let t = 0; t < d; t++) xv += x.data[i * d + t]! * r.vt.data[j * d + t]!;
        assert.ok(Math.abs(xv - r.s[j]! * r.u.data[i * 5 + j]!) < 1e-3 * r.s[0]!);
      }
    }
  }
  const a = await randomizedSvd(x, 3, { rng: createRng(9) });
  const b = await randomizedSvd(x, 3, { rng: createRng(9) });
  assert.deepEqual(Array.from(a.u.data), Array.from(b.u.data), 'seeded runs are identical');
});

test('randomizedSvd on hashed-style CSR with empty columns keeps the full column space', async () => {
  const x: CsrMatrix = {
    kind: 'csr',
    rows: 4,
    cols: 1000,
    indptr: Int32Array.of(0, 2, 4, 5, 6),
    indices: Int32Array.of(3, 900, 3, 500, 900, 17),
    values: Float32Array.of(1, 2, 1, 1, 3, 0.5),
  };
  const r = await randomizedSvd(x, 2, { rng: createRng(2) });
  assert.equal(r.vt.cols, 1000);
  let mass = 0;
  for (const c of [3, 17, 500, 900]) mass += r.vt.data[c]! ** 2;
  assert.ok(Math.abs(mass - 1) < 1e-5, 'the top right vector lives on the used columns');
  await assert.rejects(randomizedSvd(x, 5, { rng: createRng(2) }), (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_INVALID_ARGUMENT');
});
