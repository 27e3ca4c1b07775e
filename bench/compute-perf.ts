/**
 * Manual benchmark of the compute module on synthetic data (not part of the test suite).
 *   node --import tsx bench/compute-perf.ts [cv784|pca|cv128|knn20k|knn100k|sparse|all] [runs=3]
 * Prints the median wall time of `runs` runs per case.
 */

import { createRng } from '../src/core/index.ts';
import {
  computeBackendInfo,
  crossValidatedProbabilities,
  dense,
  fitPca,
  knnGraph,
  transformPca,
} from '../src/compute/index.ts';
import type { CsrMatrix, DenseMatrix } from '../src/compute/index.ts';

/** Fashion-MNIST-like: 10 overlapping classes in a 784-d space with low-rank structure, standardised. */
function fashionLike(n: number, d: number, classes: number, seed: number): { x: DenseMatrix; y: Int32Array } {
  const rng = createRng(seed);
  const r = 40;
  const basis = Float32Array.from({ length: r * d }, () => rng.normal());
  const centres = Float32Array.from({ length: classes * r }, () => rng.normal() * 0.15);
  const y = new Int32Array(n);
  const data = new Float32Array(n * d);
  const z = new Float64Array(r);
  for (let i = 0; i < n; i++) {
    const c = rng.int(classes);
    y[i] = c;
    for (let j = 0; j < r; j++) z[j] = centres[c * r + j]! + (rng.normal() * 1.5) / Math.sqrt(1 + j);
    for (let t = 0; t < d; t++) {
      let s = 0;
      for (let j = 0; j < r; j++) s += z[j]! * basis[j * d + t]!;
      data[i * d + t] = s + rng.normal() * 2;
    }
  }
  standardise(data, n, d);
  return { x: dense(n, d, data), y };
}

function standardise(data: Float32Array, n: number, d: number): void {
  for (let t = 0; t < d; t++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += data[i * d + t]!;
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (data[i * d + t]! - m) ** 2;
    const sd = Math.sqrt(v / n) || 1;
    for (let i = 0; i < n; i++) data[i * d + t] = (data[i * d + t]! - m) / sd;
  }
}

/** Hashed-text-like CSR: 2 classes, `nnz` distinct buckets per row, a few class-indicative buckets. */
function sparseText(n: number, cols: number, nnz: number, seed: number): { x: CsrMatrix; y: Int32Array } {
  const rng = createRng(seed);
  const y = new Int32Array(n);
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(n * nnz);
  const values = new Float32Array(n * nnz);
  const row = new Set<number>();
  for (let i = 0; i < n; i++) {
    y[i] = rng.int(2);
    row.clear();
    // Class signal: 5 % of the non-zeros come from a class-specific range of 2000 buckets.
    while (row.size < nnz * 0.05) row.add(y[i]! * 2000 + rng.int(2000));
    while (row.size < nnz) row.add(rng.int(cols));
    const sorted = [...row].sort((a, b) => a - b);
    const inv = 1 / Math.sqrt(nnz);
    sorted.forEach((c, t) => {
      indices[i * nnz + t] = c;
      values[i * nnz + t] = inv;
    });
    indptr[i + 1] = (i + 1) * nnz;
  }
  return { x: { kind: 'csr', rows: n, cols, indptr, indices, values }, y };
}

function accuracy(p: Float32Array, y: Int32Array, k: number): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (p[i * k + c]! > p[i * k + best]!) best = c;
    if (best === y[i]) ok++;
  }
  return ok / y.length;
}

async function median(label: string, runs: number, f: () => Promise<string>): Promise<void> {
  const times: number[] = [];
  let note = '';
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    note = await f();
    times.push((performance.now() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  const med = times[Math.floor(times.length / 2)]!;
  console.log(`${label}: median ${med.toFixed(2)} s of [${times.map((t) => t.toFixed(2)).join(', ')}] ${note}`);
}

const which = process.argv[2] ?? 'all';
const runs = Number(process.argv[3] ?? 3);
const want = (name: string): boolean => which === 'all' || which === name;
console.log('backend', await computeBackendInfo());

if (want('cv784') || want('pca') || want('cv128')) {
  const { x, y } = fashionLike(20000, 784, 10, 1);
  if (want('cv784')) {
    await median('5-fold CV softmax 20000×784, 10 classes', runs, async () => {
      const p = await crossValidatedProbabilities(x, y, 10, { seed: 1 });
      return `oof accuracy ${accuracy(p, y, 10).toFixed(3)}`;
    });
  }
  if (want('pca')) {
    await median('PCA fit+transform 20000×784 → 128', runs, async () => {
      const m = await fitPca(x, 128);
      const z = await transformPca(m, x);
      let ev = 0;
      for (const v of m.explainedVariance) ev += v;
      return `${z.rows}×${z.cols}, variance kept ${(ev / m.totalVariance).toFixed(4)}`;
    });
  }
  if (want('cv128')) {
    const z = await transformPca(await fitPca(x, 128), x);
    await median('5-fold CV softmax 20000×128 (after PCA), 10 classes', runs, async () => {
      const p = await crossValidatedProbabilities(z, y, 10, { seed: 1 });
      return `oof accuracy ${accuracy(p, y, 10).toFixed(3)}`;
    });
  }
}

for (const [name, n] of [['knn20k', 20000], ['knn100k', 100000]] as const) {
  if (!want(name) || (name === 'knn100k' && which === 'all')) continue;
  const rng = createRng(2);
  const x = dense(n, 128, Float32Array.from({ length: n * 128 }, () => rng.next() * 2 - 1));
  for (const metric of ['cosine', 'euclidean'] as const) {
    await median(`kNN graph ${n}×128 k=10 ${metric}`, name === 'knn100k' ? 1 : runs, async () => {
      const g = await knnGraph(x, 10, { metric });
      return `first row ${Array.from(g.indices.subarray(0, 3)).join(',')}`;
    });
  }
}

if (want('sparse')) {
  const { x, y } = sparseText(6000, 1 << 18, 2000, 3);
  await median('5-fold CV softmax CSR 6000×2^18 (2000 nnz/row), 2 classes', runs, async () => {
    const p = await crossValidatedProbabilities(x, y, 2, { seed: 1 });
    return `oof accuracy ${accuracy(p, y, 2).toFixed(3)}`;
  });
}
