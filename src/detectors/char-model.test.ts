// Guards against: a text vouching for itself (leave-one-out must remove its own counts, so a
// corpus of identical junk still reads as junk only if the rest of the corpus disagrees), empty
// text scoring as typical, and long texts costing unbounded time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SCORED_CHARS, characterSurprisal } from './char-model.ts';

test('ordinary text is less surprising than gibberish to a corpus of ordinary text', () => {
  const corpus = Array.from({ length: 50 }, (_, i) => `message number ${i} about the weekly training data review`);
  corpus.push('ÿ¤×þ§¶ÆÐ¿¬¹²³µ', '');
  const s = characterSurprisal(corpus);
  assert.equal(s.length, 52);
  assert.ok(Number.isNaN(s[51]!), 'empty text has no surprisal');
  const typical = s[0]!;
  assert.ok(typical > 0 && typical < 3, `typical ${typical}`);
  assert.ok(s[50]! > 2 * typical, `gibberish ${s[50]} vs typical ${typical}`);
});

test('leave-one-out: a text unlike all others is surprising even though it repeats itself', () => {
  const corpus = Array.from({ length: 30 }, () => 'abcabcabc abc abcabc');
  corpus.push('zqxzqxzqxzqxzqxzqxzqxzqx');
  const s = characterSurprisal(corpus);
  // With its own counts included, "zq"/"qx"/"xz" would be well predicted by the model.
  assert.ok(s[30]! > 3 * s[0]!, `${s[30]} vs ${s[0]}`);
});

test('only the first MAX_SCORED_CHARS characters are scored', () => {
  const base = 'plain words in a plain row ';
  const long = base.repeat(Math.ceil(MAX_SCORED_CHARS / base.length)).slice(0, MAX_SCORED_CHARS) + '¤'.repeat(5000);
  const s = characterSurprisal([long, base.repeat(200), base.repeat(150)]);
  assert.ok(Math.abs(s[0]! - s[1]!) < 0.5, `${s[0]} vs ${s[1]}`);
});
