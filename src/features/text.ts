/**
 * Hashed TF-IDF over word n-grams and character n-grams within word boundaries (sklearn's
 * `char_wb`), as a CSR matrix with 2^hashBits columns.
 *
 * - Hashing is murmur3_32 (hash.ts). A word is hashed over its UTF-32LE code points (seed
 *   `WORD_SEED`); a word n-gram (n ≥ 2) over the n word hashes as 4n little-endian bytes
 *   (`NGRAM_SEED`); a character n-gram over its code points, the word padded with one space each
 *   side (`CHAR_SEED`). Different seeds keep the word `the` and the trigram `the` apart. The low
 *   `hashBits` bits pick the column, the top bit the sign (signed hashing: collisions cancel in
 *   expectation instead of piling up).
 * - tf is sublinear (sign · (1 + ln |count|)), idf is smooth (ln((1+n)/(1+df)) + 1), computed
 *   separately for the word block and the character block; each block is L2-normalised and weighted
 *   1/√2 (a FeatureUnion of two normalised vectorizers), then the merged row is L2-normalised.
 *   Without this the ~5× more numerous character n-grams would drown the words.
 * - Rows have sorted, unique column indices; a text with no tokens is an all-zero row.
 *
 * Speed: each distinct word's hash and character n-gram hashes are computed once per corpus (a
 * bounded cache, keyed by two 32-bit hashes, no strings built); a row then costs one counter update
 * per word n-gram occurrence plus one per char n-gram of each distinct word in it (times its count).
 */
import type { CsrMatrix } from '../compute/index.ts';
import { FeaturesError } from './errors.ts';
import { resolveOptions } from './options.ts';
import { scanTokens, type TokenSink } from './tokenize.ts';
import type { FeaturizeOptions, Featurized } from './types.ts';

export const WORD_SEED = 0x5f3759df;
export const NGRAM_SEED = 0x1b873593;
export const CHAR_SEED = 0x2545f491;
/** Second, independent hash of a word: with the word hash it identifies the word in the cache. */
const ID_SEED = 0x68e31da4;
const SPACE = 0x20;
/** Distinct words cached before the cache is emptied (bounds memory on hostile, all-unique text). */
const VOCAB_LIMIT = 1 << 19;

// murmur3 body and finaliser again (hash.ts is the reference; tests hold them equal): calls across
// module bindings are not inlined under the tsx loader, and these run ~10^8 times for 6,000 e-mails.
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Finalised murmur3 hash (signed 32-bit) after `blocks` 4-byte blocks. */
function finish(h: number, blocks: number): number {
  h ^= blocks * 4;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Signed murmur3 hash of a word (its code points, `WORD_SEED`), as the text featurizer uses it. */
export function hashWord(token: string): number {
  let h = WORD_SEED;
  let n = 0;
  for (let j = 0; j < token.length; j++) {
    const c = token.codePointAt(j) ?? 0;
    if (c > 0xffff) j++;
    h = mix(h, c);
    n++;
  }
  return finish(h, n);
}

/** Appends the signed hashes of the char_wb n-grams of the padded word `w[0..L)` to `out`. */
function charNgramHashes(w: Int32Array, L: number, lo: number, hi: number, out: Growable<Int32Array>): void {
  out.reserve(L < lo ? 1 : (L - lo + 1) * (hi - lo + 1));
  const o = out.data;
  let k = out.length;
  if (L < lo) {
    // A padded word shorter than the shortest n-gram counts once, whole (as sklearn does).
    let h = CHAR_SEED;
    for (let j = 0; j < L; j++) h = mix(h, w[j] ?? 0);
    o[k++] = finish(h, L);
  } else {
    for (let i = 0; i + lo <= L; i++) {
      let h = CHAR_SEED;
      const end = Math.min(L, i + hi);
      for (let j = i; j < end; j++) {
        h = mix(h, w[j] ?? 0);
        if (j - i + 1 >= lo) o[k++] = finish(h, j - i + 1);
      }
    }
  }
  out.length = k;
}

/** A growable typed buffer, so a corpus costs its size in entries, not one array per row. */
class Growable<T extends Int32Array | Float32Array> {
  data: T;
  length = 0;
  constructor(
    private readonly make: (n: number) => T,
    capacity: number,
  ) {
    this.data = make(Math.max(16, capacity));
  }
  reserve(extra: number): void {
    const need = this.length + extra;
    if (need <= this.data.length) return;
    let cap = this.data.length;
    while (cap < need) cap *= 2;
    const next = this.make(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
}

const int32 = (k: number): Int32Array => new Int32Array(k);
const float32 = (k: number): Float32Array => new Float32Array(k);

/**
 * Distinct words of the corpus with their word hash and character n-gram hashes, computed once.
 * Words are keyed by two independent 32-bit hashes (64 bits: a false match among 10^6 words has
 * probability ~10^-8), looked up in an open-addressing table, so the hot loop builds no strings.
 * As a token sink it turns the current row into a list of word ids.
 */
class Vocabulary implements TokenSink {
  wordHash = new Growable(int32, 1024);
  charStart = new Growable(int32, 1024);
  charHash = new Growable(int32, 16384);
  /** Word ids of the current row. */
  row = new Int32Array(1024);
  rowLength = 0;
  size = 0;
  private keyA = new Int32Array(1 << 14);
  private keyB = new Int32Array(1 << 14);
  private slot = new Int32Array(1 << 14); // id + 1; 0 = empty
  private pad = new Int32Array(64);
  constructor(private readonly chars: readonly [number, number] | false) {
    this.charStart.data[0] = 0;
    this.charStart.length = 1;
  }
  /** Empties the cache (ids handed out before are invalid afterwards). */
  clear(): void {
    this.slot.fill(0);
    this.size = 0;
    this.wordHash.length = 0;
    this.charStart.length = 1;
    this.charHash.length = 0;
  }
  startRow(): void {
    this.rowLength = 0;
  }
  word(s: string, start: number, end: number): void {
    if (this.pad.length < end - start + 2) this.pad = new Int32Array((end - start) * 2 + 2);
    const w = this.pad;
    let a = WORD_SEED;
    let b = ID_SEED;
    let L = 1;
    for (let j = start; j < end; j++) {
      let c = s.charCodeAt(j);
      // The scanner only hands over letters and digits, so a high surrogate here is always paired.
      if (c >= 0xd800 && c <= 0xdbff) c = ((c - 0xd800) << 10) + (s.charCodeAt(++j) - 0xdc00) + 0x10000;
      w[L++] = c;
      a = mix(a, c);
      b = mix(b, c);
    }
    this.push(finish(a, L - 1), finish(b, L - 1), L + 1);
  }
  special(token: string): void {
    this.word(token, 0, token.length);
  }
  private push(a: number, b: number, L: number): void {
    let mask = this.slot.length - 1;
    let p = b & mask;
    for (;;) {
      const v = this.slot[p] ?? 0;
      if (v === 0) break;
      if (this.keyA[p] === a && this.keyB[p] === b) {
        this.append(v - 1);
        return;
      }
      p = (p + 1) & mask;
    }
    const id = this.size++;
    this.keyA[p] = a;
    this.keyB[p] = b;
    this.slot[p] = id + 1;
    this.wordHash.reserve(1);
    this.wordHash.data[this.wordHash.length++] = a;
    if (this.chars !== false) {
      const w = this.pad;
      w[0] = SPACE;
      w[L - 1] = SPACE;
      charNgramHashes(w, L, this.chars[0], this.chars[1], this.charHash);
    }
    this.charStart.reserve(1);
    this.charStart.data[this.charStart.length++] = this.charHash.length;
    this.append(id);
    if (this.size * 2 > this.slot.length) {
      // Grow and re-insert by the stored keys.
      const oldA = this.keyA;
      const oldB = this.keyB;
      const oldSlot = this.slot;
      const cap = oldSlot.length * 2;
      this.keyA = new Int32Array(cap);
      this.keyB = new Int32Array(cap);
      this.slot = new Int32Array(cap);
      mask = cap - 1;
      for (let q = 0; q < oldSlot.length; q++) {
        const v = oldSlot[q] ?? 0;
        if (v === 0) continue;
        let r = (oldB[q] ?? 0) & mask;
        while (this.slot[r] !== 0) r = (r + 1) & mask;
        this.keyA[r] = oldA[q] ?? 0;
        this.keyB[r] = oldB[q] ?? 0;
        this.slot[r] = v;
      }
    }
  }
  private append(id: number): void {
    if (this.rowLength === this.row.length) {
      const next = new Int32Array(this.row.length * 2);
      next.set(this.row);
      this.row = next;
    }
    this.row[this.rowLength++] = id;
  }
}

const TF = new Float32Array(4096).map((_, c) => (c === 0 ? 0 : 1 + Math.log(c)));

/**
 * Counts signed hashed n-grams of one row and one block (word or char), and the block's document
 * frequencies. Counts live in a dense 2^bits array that is left all-zero between rows; `touched`
 * lists the columns a row used, so a flush costs the row's size, not 2^bits. Document frequencies
 * are 16-bit with a rarely touched high part: at 2^18 columns the two hot arrays take 1.5 MiB and
 * mostly stay in cache (an interleaved 32-bit layout was slower; sorting every n-gram instead of
 * counting in place was no faster).
 */
class Counter {
  private readonly counts: Int32Array;
  private touched = new Int32Array(4096);
  private tmp = new Int32Array(4096);
  private nTouched = 0;
  private readonly dfLow: Uint16Array;
  private dfHigh: Int32Array | null = null;
  private readonly bucketBits: number;
  private readonly buckets: Int32Array;
  constructor(private readonly bits: number) {
    this.counts = new Int32Array(2 ** bits);
    this.dfLow = new Uint16Array(2 ** bits);
    this.bucketBits = Math.ceil(bits / 2);
    this.buckets = new Int32Array(2 ** this.bucketBits);
  }
  /** Adds `times` occurrences of the n-gram with signed hash `h` (its top bit is the sign). */
  add(h: number, times: number): void {
    const col = h & ((1 << this.bits) - 1);
    const counts = this.counts;
    const c = counts[col] ?? 0;
    if (c === 0) {
      // May list a column twice if its count went back to zero; the flush skips repeats.
      if (this.nTouched === this.touched.length) this.grow();
      this.touched[this.nTouched++] = col;
    }
    counts[col] = c + (h < 0 ? -times : times);
  }
  private grow(): void {
    const next = new Int32Array(this.touched.length * 2);
    next.set(this.touched);
    this.touched = next;
    this.tmp = new Int32Array(next.length);
  }
  /** LSD radix sort of touched[0..n) in two passes of bucketBits bits. */
  private sort(n: number): void {
    const b = this.bucketBits;
    const mask = (1 << b) - 1;
    const count = this.buckets;
    for (let shift = 0; shift < 2 * b; shift += b) {
      const src = shift === 0 ? this.touched : this.tmp;
      const dst = shift === 0 ? this.tmp : this.touched;
      count.fill(0);
      for (let i = 0; i < n; i++) {
        const q = ((src[i] ?? 0) >>> shift) & mask;
        count[q] = (count[q] ?? 0) + 1;
      }
      let sum = 0;
      for (let q = 0; q <= mask; q++) {
        const c = count[q] ?? 0;
        count[q] = sum;
        sum += c;
      }
      for (let i = 0; i < n; i++) {
        const key = src[i] ?? 0;
        const q = (key >>> shift) & mask;
        const at = count[q] ?? 0;
        dst[at] = key;
        count[q] = at + 1;
      }
    }
  }
  /** Appends the row's (column, sublinear tf) sorted by column to the buffers, counts df, and resets. */
  flush(cols: Growable<Int32Array>, vals: Growable<Float32Array>): void {
    const n = this.nTouched;
    this.nTouched = 0;
    this.sort(n);
    cols.reserve(n);
    vals.reserve(n);
    const t = this.touched;
    const counts = this.counts;
    const dfLow = this.dfLow;
    const ci = cols.data;
    const vi = vals.data;
    let w = cols.length;
    let prev = -1;
    for (let i = 0; i < n; i++) {
      const col = t[i] ?? 0;
      if (col === prev) continue;
      prev = col;
      const c = counts[col] ?? 0;
      if (c === 0) continue; // opposite signs cancelled exactly
      counts[col] = 0;
      const d = (dfLow[col] ?? 0) + 1;
      if (d === 0x10000) {
        this.dfHigh ??= new Int32Array(dfLow.length);
        this.dfHigh[col] = (this.dfHigh[col] ?? 0) + 1;
        dfLow[col] = 0;
      } else {
        dfLow[col] = d;
      }
      const a = c < 0 ? -c : c;
      const tf = a < 4096 ? (TF[a] ?? 0) : 1 + Math.log(a);
      ci[w] = col;
      vi[w] = c > 0 ? tf : -tf;
      w++;
    }
    cols.length = w;
    vals.length = w;
  }
  /** Smooth idf of every column for n rows: ln((1 + n) / (1 + df)) + 1. */
  idf(n: number): Float32Array {
    const out = new Float32Array(this.dfLow.length);
    const high = this.dfHigh;
    for (let c = 0; c < out.length; c++) {
      const df = (this.dfLow[c] ?? 0) + (high === null ? 0 : (high[c] ?? 0) * 0x10000);
      out[c] = Math.log((1 + n) / (1 + df)) + 1;
    }
    return out;
  }
}

/** Hashed TF-IDF features of texts (one row per text); see the module comment for the recipe. */
export function featurizeText(texts: readonly string[], options: FeaturizeOptions = {}): Featurized {
  const opt = resolveOptions(options);
  const n = texts.length;
  const cols = 2 ** opt.hashBits;
  const [wLo, wHi] = opt.wordNgrams;
  const chars = opt.charNgrams;
  const words = new Counter(opt.hashBits);
  const charCounter = chars === false ? null : new Counter(opt.hashBits);
  const vocab = new Vocabulary(chars);
  // Guess the non-zeros from the text length (SpamAssassin: 0.63 per char with char n-grams, 0.13
  // without) and over-allocate: pages never written are never committed, while growing copies.
  let chars0 = 0;
  for (const t of texts) chars0 += typeof t === 'string' ? Math.min(t.length, opt.maxTextChars) : 0;
  const guess = Math.min(2 ** 30, Math.ceil(chars0 * (chars === false ? 0.4 : 1.2)) + 64 * n);
  const idx = new Growable(int32, guess);
  const val = new Growable(float32, guess);
  // Per row: where its word block starts and where its char block starts (it ends where the next row starts).
  const wordStart = new Float64Array(n + 1);
  const charStart = new Float64Array(n);
  // Per distinct word of the current row: how often it occurs (indexed by vocabulary id).
  let rowCount = new Int32Array(1024);
  let rowStamp = new Int32Array(1024);
  let distinct = new Int32Array(1024);
  let truncated = 0;
  let emptyRows = 0;
  let tokensTotal = 0;

  // Pass 1: sublinear tf per row and block, and document frequencies.
  for (let r = 0; r < n; r++) {
    const text = texts[r];
    if (typeof text !== 'string') {
      throw new FeaturesError('FEATURES_BAD_INPUT', `text of row ${r + 1} is ${text === null ? 'null' : typeof text}, not a string`, {
        hint: 'the data reader must give every row a string (empty for a missing text)',
      });
    }
    if (text.length > opt.maxTextChars) truncated++;
    if (vocab.size > VOCAB_LIMIT) vocab.clear();
    vocab.startRow();
    scanTokens(text, vocab, { placeholders: opt.placeholders, maxChars: opt.maxTextChars });
    const m = vocab.rowLength;
    const ids = vocab.row;
    tokensTotal += m;
    const wh = vocab.wordHash.data;

    wordStart[r] = idx.length;
    for (let i = 0; i < m; i++) {
      if (wLo <= 1) words.add(wh[ids[i] ?? 0] ?? 0, 1);
      // A word n-gram hashes the n word hashes: murmur3 over 4n bytes.
      let h = NGRAM_SEED;
      h = mix(h, wh[ids[i] ?? 0] ?? 0);
      for (let k = 2; k <= wHi && i + k - 1 < m; k++) {
        h = mix(h, wh[ids[i + k - 1] ?? 0] ?? 0);
        if (k >= wLo) words.add(finish(h, k), 1);
      }
    }
    words.flush(idx, val);

    charStart[r] = idx.length;
    if (charCounter !== null && m > 0) {
      if (rowCount.length < vocab.size) {
        rowCount = new Int32Array(vocab.size * 2);
        rowStamp = new Int32Array(vocab.size * 2);
      }
      if (distinct.length < m) distinct = new Int32Array(m * 2);
      let nd = 0;
      const stampValue = r + 1;
      for (let i = 0; i < m; i++) {
        const id = ids[i] ?? 0;
        if (rowStamp[id] !== stampValue) {
          rowStamp[id] = stampValue;
          rowCount[id] = 0;
          distinct[nd++] = id;
        }
        rowCount[id] = (rowCount[id] ?? 0) + 1;
      }
      const cs = vocab.charStart.data;
      const ch = vocab.charHash.data;
      for (let d = 0; d < nd; d++) {
        const id = distinct[d] ?? 0;
        const times = rowCount[id] ?? 0;
        const end = cs[id + 1] ?? 0;
        for (let p = cs[id] ?? 0; p < end; p++) charCounter.add(ch[p] ?? 0, times);
      }
      charCounter.flush(idx, val);
    }
    if (idx.length === wordStart[r]) emptyRows++;
  }
  wordStart[n] = idx.length;
  if (idx.length > 0x7fffffff) {
    throw new FeaturesError('FEATURES_BAD_INPUT', `text features have ${idx.length} non-zeros, more than a CSR index can address`, {
      hint: 'lower maxTextChars or turn charNgrams off',
    });
  }

  const idfWord = words.idf(n);
  const idfChar = charCounter === null ? new Float32Array(0) : charCounter.idf(n);

  // Pass 2: idf, per-block norms, merge the two sorted blocks, final norm. Written in place: a row's
  // output never starts after its input, and the row is copied out before it is overwritten.
  const indptr = new Int32Array(n + 1);
  const I = idx.data;
  const V = val.data;
  let rowIdx = new Int32Array(1024);
  let rowVal = new Float64Array(1024);
  let out = 0;
  for (let r = 0; r < n; r++) {
    const ws = wordStart[r] ?? 0;
    const cs = charStart[r] ?? 0;
    const len = (wordStart[r + 1] ?? 0) - ws;
    const nw = cs - ws;
    if (rowIdx.length < len) {
      rowIdx = new Int32Array(len * 2);
      rowVal = new Float64Array(len * 2);
    }
    let wNorm = 0;
    for (let k = 0; k < nw; k++) {
      const c = I[ws + k] ?? 0;
      const v = (V[ws + k] ?? 0) * (idfWord[c] ?? 0);
      rowIdx[k] = c;
      rowVal[k] = v;
      wNorm += v * v;
    }
    let cNorm = 0;
    for (let k = nw; k < len; k++) {
      const c = I[ws + k] ?? 0;
      const v = (V[ws + k] ?? 0) * (idfChar[c] ?? 0);
      rowIdx[k] = c;
      rowVal[k] = v;
      cNorm += v * v;
    }
    const both = wNorm > 0 && cNorm > 0;
    const wScale = wNorm > 0 ? (both ? Math.SQRT1_2 : 1) / Math.sqrt(wNorm) : 0;
    const cScale = cNorm > 0 ? (both ? Math.SQRT1_2 : 1) / Math.sqrt(cNorm) : 0;
    // Merge the word block [0, nw) and the char block [nw, len), summing columns they share.
    let i = 0;
    let j = nw;
    const rowStart = out;
    let norm = 0;
    while (i < nw || j < len) {
      const ci = i < nw ? (rowIdx[i] ?? 0) : 0x7fffffff;
      const cj = j < len ? (rowIdx[j] ?? 0) : 0x7fffffff;
      let c: number;
      let v: number;
      if (ci < cj) {
        c = ci;
        v = (rowVal[i++] ?? 0) * wScale;
      } else if (cj < ci) {
        c = cj;
        v = (rowVal[j++] ?? 0) * cScale;
      } else {
        c = ci;
        v = (rowVal[i++] ?? 0) * wScale + (rowVal[j++] ?? 0) * cScale;
        if (v === 0) continue; // cancelled across blocks
      }
      I[out] = c;
      V[out] = v;
      norm += v * v;
      out++;
    }
    if (norm > 0) {
      const s = 1 / Math.sqrt(norm);
      for (let p = rowStart; p < out; p++) V[p] = (V[p] ?? 0) * s;
    }
    indptr[r + 1] = out;
  }

  // Trim the buffers; a view is enough when little would be freed by copying.
  const tight = out >= 0.75 * idx.length;
  const indices = tight ? I.subarray(0, out) : I.slice(0, out);
  const values = tight ? V.subarray(0, out) : V.slice(0, out);
  const matrix: CsrMatrix = { kind: 'csr', rows: n, cols, indptr, indices, values };
  return {
    matrix,
    kind: 'text',
    featureNames: [],
    info: {
      hashBits: opt.hashBits,
      wordNgrams: [wLo, wHi],
      charNgrams: chars === false ? false : [chars[0], chars[1]],
      placeholders: opt.placeholders,
      tokens: tokensTotal,
      nnz: out,
      meanNnzPerRow: n > 0 ? out / n : 0,
      emptyRows,
      truncatedRows: truncated,
      maxTextChars: opt.maxTextChars,
    },
  };
}
