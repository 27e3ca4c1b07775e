// Guards against: the hand-built content encoding drifting from core's canonical JSON (ids would
// silently change between versions), -0/NaN/Infinity giving unstable ids, and label order that
// depends on locale or sorts '10' before '2'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, createRng, sha256Hex } from '../core/index.ts';
import { canonicalNumber, compareLabels, contentIds, embeddingBase64 } from './content-id.ts';
import type { FeatureColumn } from './dataset.ts';
import { isMissing, parseNumberCell } from './missing.ts';

test('contentIds equals SHA-256 of canonicalJson of the content object', () => {
  const rng = createRng(3);
  const n = 50;
  const specials = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 1e21, 1e-7, 0.1, 255, 1023, 1024, -3];
  const num = (i: number): number => (i % 3 === 0 ? (specials[i % specials.length] as number) : (rng.next() - 0.5) * 10 ** Math.floor(rng.next() * 10));
  const features: FeatureColumn[] = [
    { kind: 'numeric', name: 'zeta', values: Float64Array.from({ length: n }, (_, i) => num(i)) },
    { kind: 'categorical', name: 'Alpha', values: Array.from({ length: n }, (_, i) => (i % 4 === 0 ? null : `c"\u00e9\n${i}`)) },
    { kind: 'numeric', name: 'é', values: Float64Array.from({ length: n }, (_, i) => num(i + 1)) },
  ];
  const text = Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : `text ${i} \u2028 "q"`));
  const dim = 4;
  const emb = { dim, values: Float32Array.from({ length: n * dim }, (_, k) => (k % 7 === 0 ? -0 : rng.next() - 0.5)) };
  const got = contentIds({ text, features, embedding: emb }, n);
  for (let i = 0; i < n; i++) {
    const obj = {
      embedding: { base64: embeddingBase64(emb.values, i * dim, dim), dtype: 'float32le' },
      features: Object.fromEntries(features.map((f) => [f.name, f.kind === 'numeric' ? canonicalNumber(f.values[i] ?? 0) : f.values[i]])),
      text: text[i],
    };
    assert.equal(got[i], sha256Hex(canonicalJson(obj)), `row ${i}`);
  }
  // Only features, and only text, too.
  const onlyText = contentIds({ text, features: [], embedding: null }, n);
  assert.equal(onlyText[1], sha256Hex(canonicalJson({ text: text[1] })));
  const onlyFeatures = contentIds({ text: null, features, embedding: null }, n);
  assert.notEqual(onlyFeatures[1], got[1]);
});

test('-0 and 0 give the same embedding encoding', () => {
  assert.equal(embeddingBase64(Float32Array.of(-0, 1), 0, 2), embeddingBase64(Float32Array.of(0, 1), 0, 2));
});

test('compareLabels orders numbers by value and is locale-free', () => {
  assert.deepEqual(['10', '2', '1', '-1'].sort(compareLabels), ['-1', '1', '2', '10']);
  assert.deepEqual(['img10', 'img2', 'B', 'a', 'img02'].sort(compareLabels), ['B', 'a', 'img02', 'img2', 'img10']);
  assert.deepEqual(['cat', '3', 'dog', '20'].sort(compareLabels), ['3', '20', 'cat', 'dog']);
});

test('missing tokens and number parsing', () => {
  for (const m of ['', ' ', 'NA', 'N/A', 'null', 'NULL', 'None', 'nan', 'NaN', '?']) {
    assert.ok(isMissing(m), m);
    assert.ok(Number.isNaN(parseNumberCell(m)), m);
  }
  assert.ok(!isMissing('0'));
  assert.equal(parseNumberCell('1e3'), 1000);
  assert.equal(parseNumberCell(' -2.5 '), -2.5);
  assert.equal(parseNumberCell('Infinity'), Number.POSITIVE_INFINITY);
  assert.equal(parseNumberCell('-inf'), Number.NEGATIVE_INFINITY);
  assert.equal(parseNumberCell('INF'), Number.POSITIVE_INFINITY);
  assert.equal(parseNumberCell('0x10'), undefined);
  assert.equal(parseNumberCell(' 0b1'), undefined);
  assert.equal(parseNumberCell('12abc'), undefined);
  assert.equal(parseNumberCell('0'), 0);
  assert.equal(parseNumberCell('0.5'), 0.5);
});
