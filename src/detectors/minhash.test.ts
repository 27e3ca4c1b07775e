// Guards against: MinHash missing a re-wrapped or lightly edited copy of a text (line breaks,
// case, one changed word), pairing unrelated texts, a biased Jaccard estimate, and empty or very
// short texts throwing or pairing with everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import { estimateJaccard, findNearDuplicateTexts, minhashSignatures, shingleHashes } from './minhash.ts';

function randomDoc(seed: number, words: number): string {
  const rng = createRng(seed);
  return Array.from({ length: words }, () => `w${rng.int(3000)}`).join(' ');
}

test('shingles ignore case and how whitespace is wrapped; short docs use character grams; empty has none', () => {
  const a = shingleHashes('The quick  brown fox jumps over the lazy dog');
  const b = shingleHashes('the QUICK\nbrown\t\tfox jumps\r\n over the lazy   dog\n');
  assert.deepEqual(Array.from(a), Array.from(b));
  assert.equal(a.length, 9 - 5 + 1);
  assert.equal(shingleHashes('two words').length, 'two words'.length - 5 + 1);
  assert.equal(shingleHashes('abc').length, 1);
  assert.equal(shingleHashes(' \n\t ').length, 0);
});

test('estimated Jaccard is within 0.15 (≈3.4σ at 128 hashes) of the true shingle Jaccard', () => {
  // Distinct tokens t0..t399: A = t0..t299, B = t100..t399 share 196 of 296 five-grams each: J = 196/396.
  const tokens = Array.from({ length: 400 }, (_, i) => `t${i}`);
  const a = tokens.slice(0, 300).join(' ');
  const b = tokens.slice(100).join(' ');
  const sig = minhashSignatures([a, b, a]);
  assert.ok(Math.abs(estimateJaccard(sig, 0, 1) - 196 / 396) < 0.15, `estimate ${estimateJaccard(sig, 0, 1)}`);
  assert.equal(estimateJaccard(sig, 0, 2), 1);
});

test('finds a re-wrapped and a lightly edited copy, and pairs no unrelated texts', () => {
  const docs = Array.from({ length: 40 }, (_, i) => randomDoc(100 + i, 200));
  // Re-wrapped at 60 columns with upper case: the same shingle set.
  docs.push(docs[3]!.toUpperCase().replace(/(.{60}) /g, '$1\n'));
  // One word in 200 changed: 5 of 196 shingles differ, J = 191/201 ≈ 0.95.
  const words = docs[7]!.split(' ');
  words[100] = 'edited';
  docs.push(words.join(' '));
  docs.push('', 'tiny', '');
  const found = findNearDuplicateTexts(docs);
  const pairs = found.pairs.map((p) => [p.a, p.b]);
  assert.deepEqual(pairs, [
    [3, 40],
    [7, 41],
  ]);
  assert.equal(found.pairs[0]!.jaccard, 1);
  assert.ok(found.pairs[1]!.jaccard >= 0.8 && found.pairs[1]!.jaccard < 1);
  assert.equal(found.signatures.empty[42], 1, 'empty text has no signature and never pairs');
});

test('a large bucket of identical templates is linked without all-pairs work', () => {
  const doc = randomDoc(5, 100);
  const found = findNearDuplicateTexts(Array.from({ length: 300 }, () => doc));
  // Star + chain per bucket: at most 2·(m − 1) candidates, not m(m − 1)/2 = 44,850.
  assert.ok(found.candidates <= 2 * 299, `candidates ${found.candidates}`);
  assert.ok(found.pairs.length >= 299);
});
