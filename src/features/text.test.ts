// Guards against: text rows that are not unit-norm or not reproducible, CSR rows with unsorted or
// repeated column indices (kernels assume sorted, unique), char n-grams silently missing, idf that
// rewards common words, and bad input crashing instead of a typed error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CsrMatrix } from '../compute/index.ts';
import { featurizeText, murmur3CodePoints, hashWord, FeaturesError, CHAR_SEED, NGRAM_SEED } from './index.ts';

function csr(texts: readonly string[], options = {}): CsrMatrix {
  const m = featurizeText(texts, options).matrix;
  assert.equal(m.kind, 'csr');
  return m as CsrMatrix;
}

function row(m: CsrMatrix, i: number): Map<number, number> {
  const out = new Map<number, number>();
  for (let p = m.indptr[i] ?? 0; p < (m.indptr[i + 1] ?? 0); p++) out.set(m.indices[p] ?? -1, m.values[p] ?? 0);
  return out;
}

function cosine(m: CsrMatrix, i: number, j: number): number {
  const a = row(m, i);
  let dot = 0;
  for (const [c, v] of row(m, j)) dot += v * (a.get(c) ?? 0);
  return dot; // rows are unit norm
}

const DOCS = [
  'Win a FREE prize now! Click http://win.example.com to claim your free prize money.',
  'Claim your free prize money now, click to win a prize!',
  'Meeting moved to Tuesday; please review the quarterly budget report before the meeting.',
  'The quarterly budget report is attached, please review before Tuesday.',
  '',
  'Win a FREE prize now! Click http://win.example.com to claim your free prize money.',
];

test('rows are unit-norm (or zero for empty text) and CSR indices sorted and unique', () => {
  const m = csr(DOCS);
  assert.equal(m.rows, DOCS.length);
  assert.equal(m.cols, 2 ** 18);
  assert.equal(m.indptr[0], 0);
  for (let i = 0; i < m.rows; i++) {
    let norm = 0;
    for (let p = m.indptr[i] ?? 0; p < (m.indptr[i + 1] ?? 0); p++) {
      const v = m.values[p] ?? Number.NaN;
      assert.ok(Number.isFinite(v) && v !== 0);
      norm += v * v;
      if (p > (m.indptr[i] ?? 0)) assert.ok((m.indices[p] ?? 0) > (m.indices[p - 1] ?? 0), `row ${i} not strictly increasing`);
      assert.ok((m.indices[p] ?? -1) >= 0 && (m.indices[p] ?? 0) < m.cols);
    }
    if (i === 4) assert.equal(norm, 0);
    else assert.ok(Math.abs(norm - 1) < 1e-5, `row ${i} norm² ${norm}`);
  }
});

test('identical texts give identical rows; related texts are closer than unrelated ones', () => {
  const m = csr(DOCS);
  assert.deepEqual(row(m, 0), row(m, 5));
  const related = cosine(m, 0, 1);
  const unrelated = cosine(m, 0, 2);
  assert.ok(related > 0.3, `related ${related}`);
  assert.ok(related > unrelated + 0.2, `related ${related} vs unrelated ${unrelated}`);
  assert.ok(cosine(m, 2, 3) > cosine(m, 2, 1) + 0.2);
});

test('output is deterministic', () => {
  const a = csr(DOCS);
  const b = csr([...DOCS]);
  assert.deepEqual(a.indptr, b.indptr);
  assert.deepEqual(a.indices, b.indices);
  assert.deepEqual(a.values, b.values);
});

test('the word, bigram and char_wb n-gram columns are where murmur3 puts them', () => {
  const bits = 20;
  const mask = 2 ** bits - 1;
  const m = csr(['zebra zebra quokka'], { hashBits: bits });
  const cols = row(m, 0);
  // Word: murmur3 of the code points; sign from the top bit.
  const hw = hashWord('zebra');
  assert.ok((cols.get(hw & mask) ?? 0) * (hw < 0 ? -1 : 1) > 0);
  // Bigram: murmur3 over the two word hashes.
  const hb = murmur3CodePoints([hashWord('zebra'), hashWord('quokka')], 0, 2, NGRAM_SEED) | 0;
  assert.ok((cols.get(hb & mask) ?? 0) * (hb < 0 ? -1 : 1) > 0);
  // Char n-grams of ' quokka ': ' qu' (3), 'okka ' (5).
  for (const gram of [' qu', 'quok', 'okka ']) {
    const cps = Array.from(gram, (c) => c.codePointAt(0) ?? 0);
    const h = murmur3CodePoints(cps, 0, cps.length, CHAR_SEED) | 0;
    assert.ok((cols.get(h & mask) ?? 0) * (h < 0 ? -1 : 1) > 0, `char n-gram ${JSON.stringify(gram)}`);
  }
  // Without char n-grams only the word block is left.
  const wordsOnly = row(csr(['zebra zebra quokka'], { hashBits: bits, charNgrams: false }), 0);
  assert.equal(wordsOnly.size, 4); // zebra, quokka, "zebra zebra", "zebra quokka"
});

test('sublinear tf and smooth idf: rarer and repeated terms weigh as specified', () => {
  // Row 0: 'alpha' ×1 (in 3 of 3 docs), 'beta' ×1 (in 1 doc). Words only, unigrams only.
  const m = csr(['alpha beta', 'alpha gamma', 'alpha delta'], { charNgrams: false, wordNgrams: [1, 1] });
  const r = row(m, 0);
  const a = Math.abs(r.get(hashWord('alpha') & (2 ** 18 - 1)) ?? 0);
  const b = Math.abs(r.get(hashWord('beta') & (2 ** 18 - 1)) ?? 0);
  const idfA = Math.log(4 / 4) + 1;
  const idfB = Math.log(4 / 2) + 1;
  assert.ok(Math.abs(a / b - idfA / idfB) < 1e-5, `ratio ${a / b}`);
  const rep = row(csr(['beta beta beta alpha', 'alpha'], { charNgrams: false, wordNgrams: [1, 1] }), 0);
  const ra = Math.abs(rep.get(hashWord('alpha') & (2 ** 18 - 1)) ?? 0);
  const rb = Math.abs(rep.get(hashWord('beta') & (2 ** 18 - 1)) ?? 0);
  assert.ok(Math.abs(rb / ra - ((1 + Math.log(3)) * (Math.log(3 / 2) + 1)) / (Math.log(3 / 3) + 1)) < 1e-5);
});

test('bad input and bad options are typed errors', () => {
  const isBad = (e: unknown): boolean => e instanceof FeaturesError && e.code === 'FEATURES_BAD_INPUT';
  assert.throws(() => featurizeText(['ok', null as unknown as string]), isBad);
  assert.throws(() => featurizeText(['ok'], { hashBits: 40 }), isBad);
  assert.throws(() => featurizeText(['ok'], { charNgrams: [5, 3] }), isBad);
  assert.throws(() => featurizeText(['ok'], { wordNgrams: [0, 2] }), isBad);
});

test('hostile text: a huge single token and random binary-like text stay bounded and finite', () => {
  const m = csr(['x'.repeat(2_000_000), String.fromCharCode(...Array.from({ length: 5000 }, (_, i) => (i * 7919) % 65536))]);
  assert.ok((m.indptr[1] ?? 0) > 0);
  for (const v of m.values) assert.ok(Number.isFinite(v));
  assert.equal(featurizeText(['y'.repeat(200_001)]).info['truncatedRows'], 1);
});
