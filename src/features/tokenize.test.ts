// Guards against: tokens that depend on locale or break on non-Latin scripts, the hand-written
// scanner drifting from the documented token grammar, placeholders leaking real URLs/numbers, and
// hostile inputs (huge cells, lone surrogates) costing unbounded time or crashing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import { tokenize, normalizeText, TOKEN_PATTERN, URL_TOKEN, NUMBER_TOKEN } from './index.ts';

test('tokenize lower-cases, keeps ≥ 2 code points, and uses placeholders', () => {
  assert.deepEqual(tokenize('Visit https://x.io NOW, 2 times!'), ['visit', URL_TOKEN, 'io', 'now', NUMBER_TOKEN, 'times']);
  assert.deepEqual(tokenize('Visit https://x.io NOW, 2 times!', { placeholders: false }), ['visit', 'https', 'io', 'now', 'times']);
  assert.deepEqual(tokenize('Call 555-1234 or www.Cheap-Meds.com/buy?id=9'), ['call', NUMBER_TOKEN, NUMBER_TOKEN, 'or', URL_TOKEN, 'www', 'cheap', 'meds', 'com']);
  assert.deepEqual(tokenize('I a ok'), ['ok']);
});

test('tokenize is Unicode-aware: NFKC folding, other scripts, astral letters', () => {
  assert.deepEqual(tokenize('ＦＲＥＥ money'), ['free', 'money']);
  assert.deepEqual(tokenize('Größe ÜBER Straße'), ['größe', 'über', 'straße']);
  assert.deepEqual(tokenize('Привет, мир! 東京タワー'), ['привет', 'мир', '東京タワー']);
  assert.deepEqual(tokenize('𝔘 𝔘𝔫'), ['un']); // NFKC maps mathematical letters; a single letter is dropped
});

/** The same grammar through the documented regular expression. */
function reference(text: string, placeholders: boolean): string[] {
  const s = normalizeText(text);
  const out: string[] = [];
  const long = (t: string): boolean => [...t].length >= 2;
  const digits = (t: string): boolean => /^[0-9]+$/.test(t);
  for (const m of s.matchAll(TOKEN_PATTERN)) {
    const t = m[0];
    if (/^(https?:\/\/|www\.)/.test(t) && !/^[\p{L}\p{N}]+$/u.test(t)) {
      if (placeholders) {
        out.push(URL_TOKEN);
        const host = (t.startsWith('www.') ? t : t.slice(t.indexOf('//') + 2)).split(/[/?#:@]/)[0] ?? '';
        for (const w of host.match(/[\p{L}\p{N}]+/gu) ?? []) if (!digits(w) && long(w)) out.push(w);
      } else {
        for (const w of t.match(/[\p{L}\p{N}]+/gu) ?? []) if (long(w)) out.push(w);
      }
    } else if (placeholders && digits(t)) out.push(NUMBER_TOKEN);
    else if (long(t)) out.push(t);
  }
  return out;
}

test('the hand-written scanner equals the token regular expression on random input', () => {
  const rng = createRng(7);
  const pieces = ['a', 'Z', 'é', '9', '12', ' ', '\n', '.', '/', ':', '@', '<', '"', 'http://', 'https://', 'www.', 'ß', 'ǅ', '日', '𝔘', '😀', '\ud800', '\udc00', '\u00a0', '\u3000', '_', '-', '٣', 'ﬁ'];
  for (let trial = 0; trial < 2000; trial++) {
    let s = '';
    const len = Math.floor(rng.next() * 30);
    for (let k = 0; k < len; k++) s += pieces[Math.floor(rng.next() * pieces.length)] ?? '';
    for (const placeholders of [true, false]) {
      assert.deepEqual(tokenize(s, { placeholders }), reference(s, placeholders), JSON.stringify(s));
    }
  }
});

test('hostile inputs: long cells are cut, lone surrogates are not letters', () => {
  const huge = 'ab '.repeat(1_000_000);
  assert.equal(tokenize(huge, { maxChars: 30 }).length, 10);
  assert.equal(tokenize(huge).length, 33_333); // 100,000 chars: 33,333 × 'ab ' and a lone 'a'
  assert.deepEqual(tokenize('x\ud800y ok'), ['ok']);
  assert.deepEqual(tokenize(''), []);
});
