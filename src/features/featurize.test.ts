// Guards against: the wrong featurizer being picked for a dataset, text and tabular columns not
// both reaching the model (or a mixed matrix with misplaced columns), images not centred,
// embeddings altered when they should pass through, and a dataset with nothing to learn from
// failing with a stack instead of FEATURES_NO_FEATURES and a hint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CsrMatrix, DenseMatrix } from '../compute/index.ts';
import type { FeatureColumn, ImageData } from '../data/index.ts';
import { createRng } from '../core/index.ts';
import { featurize, featurizeImages, FeaturesError } from './index.ts';
import { makeTestDataset } from './test-dataset.ts';

const TEXTS = ['cheap pills online now', 'meeting at noon tomorrow', 'cheap watches online', 'lunch meeting moved'];
const num = (name: string, values: number[]): FeatureColumn => ({ kind: 'numeric', name, values: Float64Array.from(values) });

function images(n: number, h: number, w: number, seed: number): ImageData {
  const rng = createRng(seed);
  const pixels = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < h * w; p++) {
      // Column 0 is always black (constant), the rest random, pixel 1 brighter on average.
      const col = p % w;
      pixels[i * h * w + p] = col === 0 ? 0 : Math.min(1, rng.next() * (p === 1 ? 1 : 0.5));
    }
  }
  return { width: w, height: h, channels: 1, pixels, paths: Array.from({ length: n }, (_, i) => `img/${i}.png`) };
}

test('text only → CSR text features', () => {
  const f = featurize(makeTestDataset({ text: TEXTS }));
  assert.equal(f.kind, 'text');
  assert.equal(f.matrix.kind, 'csr');
  assert.equal(f.matrix.rows, 4);
  assert.deepEqual(f.info['ignored'], []);
});

test('text + tabular → mixed CSR: text columns, then the scaled tabular block', () => {
  const ds = makeTestDataset({ text: TEXTS, features: [num('len', [10, 20, 30, 40]), num('gap', [1, Number.NaN, 3, 3])] });
  const f = featurize(ds, { hashBits: 12 });
  assert.equal(f.kind, 'mixed');
  const m = f.matrix as CsrMatrix;
  assert.equal(m.kind, 'csr');
  const tabCols = 3; // len, gap, gap__missing
  assert.equal(m.cols, 2 ** 12 + tabCols);
  assert.equal(f.info['tabularOffset'], 2 ** 12);
  assert.deepEqual(f.info['tabularFeatureNames'], ['len', 'gap', 'gap__missing']);
  const scale = f.info['tabularScale'] as number;
  assert.ok(Math.abs(scale - 1 / Math.sqrt(tabCols)) < 1e-12);
  // Row 1: its last entries are the tabular block (len standardised, gap imputed → 0 so absent, indicator 1).
  const s = m.indptr[1] ?? 0;
  const e = m.indptr[2] ?? 0;
  const cols = Array.from(m.indices.subarray(s, e));
  for (let p = 1; p < cols.length; p++) assert.ok((cols[p] ?? 0) > (cols[p - 1] ?? 0));
  const tail = cols.filter((c) => c >= 2 ** 12).map((c) => c - 2 ** 12);
  assert.deepEqual(tail, [0, 2]);
  const lenZ = (20 - 25) / Math.sqrt(125);
  assert.ok(Math.abs((m.values[e - 2] ?? 0) - lenZ * scale) < 1e-6);
  assert.ok(Math.abs((m.values[e - 1] ?? 0) - scale) < 1e-6);
});

test('tabular only → dense standardised features', () => {
  const f = featurize(makeTestDataset({ features: [num('a', [1, 2, 3, 4])] }));
  assert.equal(f.kind, 'tabular');
  assert.deepEqual(Array.from((f.matrix as DenseMatrix).data).map((v) => Math.round(v * 1000) / 1000), [-1.342, -0.447, 0.447, 1.342]);
});

test('embeddings pass through unchanged, or L2-normalised on request; they win over text', () => {
  const values = Float32Array.from([3, 4, 0, 0, 1, 2, Number.NaN, 1]);
  const ds = makeTestDataset({ embedding: { dim: 2, values }, text: TEXTS });
  const f = featurize(ds);
  assert.equal(f.kind, 'embedding');
  assert.deepEqual(f.info['ignored'], ['text']);
  assert.deepEqual(Array.from((f.matrix as DenseMatrix).data), [3, 4, 0, 0, 1, 2, 0, 1]);
  assert.notEqual((f.matrix as DenseMatrix).data, values); // a copy, not the reader's buffer
  const g = featurize(ds, { normalizeEmbeddings: true });
  const d = Array.from((g.matrix as DenseMatrix).data);
  assert.deepEqual(d.slice(0, 4), [0.6000000238418579, 0.800000011920929, 0, 0]);
  assert.equal(g.info['zeroRows'], 1);
  assert.equal(g.info['nonFinite'], 1);
});

test('images: n × h·w·c, each pixel centred; global scaling has unit overall RMS; constant pixels are 0', () => {
  const n = 200;
  const img = images(n, 3, 4, 11);
  const f = featurize(makeTestDataset({ images: img, n }));
  assert.equal(f.kind, 'image');
  const m = f.matrix as DenseMatrix;
  assert.deepEqual([m.rows, m.cols], [n, 12]);
  let ss = 0;
  for (let j = 0; j < 12; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += m.data[i * 12 + j] ?? 0;
    assert.ok(Math.abs(mean / n) < 1e-5, `pixel ${j} mean ${mean / n}`);
    for (let i = 0; i < n; i++) ss += (m.data[i * 12 + j] ?? 0) ** 2;
    if (j % 4 === 0) for (let i = 0; i < n; i++) assert.equal(m.data[i * 12 + j], 0);
  }
  assert.ok(Math.abs(ss / (n * 12) - 1) < 1e-4);
  // Global scaling keeps relative variances: the brighter pixel 1 has more variance than pixel 2.
  const varOf = (mm: DenseMatrix, j: number): number => Array.from({ length: n }, (_, i) => (mm.data[i * 12 + j] ?? 0) ** 2).reduce((s, v) => s + v, 0) / n;
  assert.ok(varOf(m, 1) > 2 * varOf(m, 2));
  const p = featurizeImages(img, n, { imageScaling: 'per-pixel' }).matrix as DenseMatrix;
  assert.ok(Math.abs(varOf(p, 1) - 1) < 1e-4 && Math.abs(varOf(p, 2) - 1) < 1e-4);
  assert.throws(() => featurizeImages({ ...img, pixels: new Float32Array(5) }, n), (e: unknown) => e instanceof FeaturesError && e.code === 'FEATURES_BAD_INPUT');
});

test('nothing to learn from → FEATURES_NO_FEATURES with a hint and the file', () => {
  const noFeatures = (e: unknown): boolean => e instanceof FeaturesError && e.code === 'FEATURES_NO_FEATURES' && e.hint !== undefined && e.file === 'test.csv';
  assert.throws(() => featurize(makeTestDataset({ n: 3 })), noFeatures);
  assert.throws(() => featurize(makeTestDataset({ n: 0 })), noFeatures);
  assert.throws(() => featurize(makeTestDataset({ text: ['!!', '?', ''] })), noFeatures);
  assert.throws(() => featurize(makeTestDataset({ features: [{ kind: 'categorical', name: 'id', values: ['a1', 'b2', 'c3', 'd4'] }] }), { maxCategories: 2 }), noFeatures);
  assert.throws(() => featurize(makeTestDataset({ text: TEXTS }), { hashBits: 1 }), (e: unknown) => e instanceof FeaturesError && e.code === 'FEATURES_BAD_INPUT');
});

test('featurize is deterministic', () => {
  const ds = makeTestDataset({ text: TEXTS, features: [num('a', [1, 5, 2, 8])] });
  assert.deepEqual(featurize(ds), featurize(ds));
});
