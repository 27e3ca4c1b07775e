/**
 * Word tokens for hashed text features: Unicode-aware, the same on every platform.
 * - NFKC folds compatibility forms first (full-width `ＦＲＥＥ`, ligatures), a cheap evasion spammers use;
 *   then locale-independent lower-casing.
 * - A token is a maximal run of letters and digits (`[\p{L}\p{N}]+`), kept when it has ≥ 2 code points
 *   (as sklearn's default `\w\w+`).
 * - With placeholders on, a URL (`http://`, `https://`, `www.` up to white space or a bracket/quote)
 *   becomes `<url>` followed by the words of its host name, and a run of ASCII digits becomes `<num>`:
 *   the exact URL path or number rarely repeats, the fact that there is one does (a well-known win
 *   for spam filtering). Placeholders cannot collide with real tokens (`<`, `>`).
 * - Each text is cut to `maxChars` first, so a hostile multi-megabyte cell costs bounded time.
 *
 * The scanner is hand-written (one pass, no match objects, no strings unless asked): the regular
 * expression `TOKEN_PATTERN` below says the same thing and the tests hold the two equal on random input.
 */

export interface TokenizeOptions {
  /** Replace URLs and digit runs by `<url>` / `<num>` (default true). */
  readonly placeholders?: boolean;
  /** Cut the text to this many UTF-16 units first (default 100,000). */
  readonly maxChars?: number;
}

export const URL_TOKEN = '<url>';
export const NUMBER_TOKEN = '<num>';

/** The token grammar as a regular expression (reference for tests; `tokenize` scans by hand). */
export const TOKEN_PATTERN = /(?:https?:\/\/|www\.)[^\s<>"'()[\]{}]+|[\p{L}\p{N}]+/gu;

const WORD_CHAR = /^[\p{L}\p{N}]$/u;
const SPACE_CHAR = /^\s$/u;
// 0 = not classified yet, 1 = letter or digit, 2 = other. Filled lazily: most texts use few scripts.
const bmpClass = new Uint8Array(65536);
const astralClass = new Map<number, boolean>();
const spaceClass = new Uint8Array(65536);

function isWordBmp(c: number): boolean {
  let v = bmpClass[c] ?? 0;
  if (v === 0) {
    v = WORD_CHAR.test(String.fromCharCode(c)) ? 1 : 2;
    bmpClass[c] = v;
  }
  return v === 1;
}

function isWordAstral(cp: number): boolean {
  let v = astralClass.get(cp);
  if (v === undefined) {
    v = WORD_CHAR.test(String.fromCodePoint(cp));
    astralClass.set(cp, v);
  }
  return v;
}

/** Ends a URL: white space or one of < > " ' ( ) [ ] { }. */
function endsUrl(c: number): boolean {
  if (c === 60 || c === 62 || c === 34 || c === 39 || c === 40 || c === 41 || c === 91 || c === 93 || c === 123 || c === 125) return true;
  let v = spaceClass[c] ?? 0;
  if (v === 0) {
    v = SPACE_CHAR.test(String.fromCharCode(c)) ? 1 : 2;
    spaceClass[c] = v;
  }
  return v === 1;
}

/** Width in UTF-16 units of the letter/digit at `i`, or 0 when there is none. */
function wordCharAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdfff) return isWordBmp(c) ? 1 : 0;
  if (c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return isWordAstral(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000) ? 2 : 0;
  }
  return 0; // a lone surrogate is not a letter
}

function allAsciiDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function urlAt(s: string, i: number): number {
  if (s.startsWith('http://', i)) return 7;
  if (s.startsWith('https://', i)) return 8;
  if (s.startsWith('www.', i)) return 4;
  return 0;
}

/** Receives tokens from `scanTokens`: a slice of the normalised text, or a placeholder. */
export interface TokenSink {
  /** The token is `s.slice(start, end)`. */
  word(s: string, start: number, end: number): void;
  /** `<url>` or `<num>`. */
  special(token: string): void;
}

type Digits = 'keep' | 'placeholder' | 'drop';

/** Emits the letter/digit runs of s[from, to) (≥ 2 code points; digit runs kept, as `<num>`, or dropped). */
function scanWords(s: string, from: number, to: number, sink: TokenSink, digits: Digits): void {
  let i = from;
  while (i < to) {
    const w = wordCharAt(s, i);
    if (w === 0) {
      i++;
      continue;
    }
    let j = i + w;
    let cps = 1;
    while (j < to) {
      const v = wordCharAt(s, j);
      if (v === 0) break;
      j += v;
      cps++;
    }
    emit(s, i, j, cps, sink, digits);
    i = j;
  }
}

function emit(s: string, i: number, j: number, cps: number, sink: TokenSink, digits: Digits): void {
  if (digits !== 'keep' && allAsciiDigits(s, i, j)) {
    if (digits === 'placeholder') sink.special(NUMBER_TOKEN);
  } else if (cps >= 2) {
    sink.word(s, i, j);
  }
}

/** Lower-cases and folds a text the way `tokenize` sees it (cut to maxChars, NFKC, lower case). */
export function normalizeText(text: string, maxChars = 100_000): string {
  const cut = text.length > maxChars ? text.slice(0, maxChars) : text;
  return cut.normalize('NFKC').toLowerCase();
}

/** Scans a text into tokens without building strings (the text featurizer hashes the slices in place). */
export function scanTokens(text: string, sink: TokenSink, options: TokenizeOptions = {}): void {
  const placeholders = options.placeholders ?? true;
  const s = normalizeText(text, options.maxChars ?? 100_000);
  const n = s.length;
  let i = 0;
  while (i < n) {
    const w = wordCharAt(s, i);
    if (w === 0) {
      i++;
      continue;
    }
    const c = s.charCodeAt(i);
    const scheme = c === 104 || c === 119 ? urlAt(s, i) : 0;
    if (scheme > 0 && i + scheme < n && !endsUrl(s.charCodeAt(i + scheme))) {
      let j = i + scheme;
      while (j < n && !endsUrl(s.charCodeAt(j))) j++;
      if (placeholders) {
        sink.special(URL_TOKEN);
        // The host: from after `scheme://` (or from `www.` itself) to the first / ? # : @.
        const from = c === 119 && scheme === 4 ? i : i + scheme;
        let h = from;
        while (h < j) {
          const d = s.charCodeAt(h);
          if (d === 47 || d === 63 || d === 35 || d === 58 || d === 64) break;
          h++;
        }
        scanWords(s, from, h, sink, 'drop');
      } else {
        scanWords(s, i, j, sink, 'keep');
      }
      i = j;
      continue;
    }
    let j = i + w;
    let cps = 1;
    while (j < n) {
      const v = wordCharAt(s, j);
      if (v === 0) break;
      j += v;
      cps++;
    }
    emit(s, i, j, cps, sink, placeholders ? 'placeholder' : 'keep');
    i = j;
  }
}

class Collect implements TokenSink {
  readonly out: string[] = [];
  word(s: string, start: number, end: number): void {
    this.out.push(s.slice(start, end));
  }
  special(token: string): void {
    this.out.push(token);
  }
}

/** Splits a text into word tokens: `tokenize('Visit https://x.io NOW, 2 times!')` → `['visit','<url>','io','now','<num>','times']`. */
export function tokenize(text: string, options: TokenizeOptions = {}): string[] {
  const sink = new Collect();
  scanTokens(text, sink, options);
  return sink.out;
}
