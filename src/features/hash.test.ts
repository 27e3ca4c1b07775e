// Guards against: a feature hash that differs from MurmurHash3 x86-32 (features would not match
// any other implementation or an earlier run), and the fast inline hashing in the text featurizer
// drifting from the reference function.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { murmur3_32, murmur3Utf8, murmur3CodePoints, hashWord, WORD_SEED } from './index.ts';

// Known answers from the reference implementation (SMHasher MurmurHash3_x86_32), as published in
// widely used test-vector lists; independent of this code.
const VECTORS: ReadonlyArray<readonly [string, number, number]> = [
  ['', 0, 0x00000000],
  ['', 1, 0x514e28b7],
  ['', 0xffffffff, 0x81f16f39],
  ['hello', 0, 0x248bfa47],
  ['a', 0x9747b28c, 0x7fa09ea6],
  ['ab', 0x9747b28c, 0x74875592],
  ['abc', 0x9747b28c, 0xc84a62dd],
  ['abcd', 0x9747b28c, 0xf0478627],
  ['aaaa', 0x9747b28c, 0x5a97808a],
  ['Hello, world!', 0x9747b28c, 0x24884cba],
  ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
];

test('murmur3_32 matches the reference known-answer vectors', () => {
  for (const [text, seed, expected] of VECTORS) {
    assert.equal(murmur3Utf8(text, seed), expected, `${JSON.stringify(text)} seed ${seed}`);
  }
  assert.equal(murmur3_32(new Uint8Array(4), 0), 0x2362f9de);
});

test('murmur3CodePoints equals murmur3_32 over the UTF-32LE bytes', () => {
  for (const s of ['', 'x', 'spam', 'naïve', '日本語', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', 'mixed 𝟙 text']) {
    const cps = Array.from(s, (c) => c.codePointAt(0) ?? 0);
    const bytes = new Uint8Array(new Uint32Array(cps).buffer); // little-endian on every Node platform
    for (const seed of [0, 42, WORD_SEED]) assert.equal(murmur3CodePoints(cps, 0, cps.length, seed), murmur3_32(bytes, seed));
  }
});

test('hashWord is murmur3 of the code points with WORD_SEED (signed)', () => {
  for (const w of ['hello', 'größe', '𝔘𝔫']) {
    const cps = Array.from(w, (c) => c.codePointAt(0) ?? 0);
    assert.equal(hashWord(w) >>> 0, murmur3CodePoints(cps, 0, cps.length, WORD_SEED));
  }
});
