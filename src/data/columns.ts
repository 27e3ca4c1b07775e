import { isMissing, parseNumberCell } from './missing.ts';

/**
 * A Float64Array built in chunks, so a numeric column costs 8 bytes a cell, not an object, and
 * growing never copies: with 785 columns, doubling-and-copying moved ~400 MB for a 20k-row file.
 */
export class GrowableFloat64 {
  private readonly chunks: Float64Array[] = [];
  private cur = new Float64Array(64);
  private fill = 0;
  length = 0;
  push(v: number): void {
    if (this.fill === this.cur.length) {
      this.chunks.push(this.cur);
      this.cur = new Float64Array(Math.min(this.cur.length * 2, 16384));
      this.fill = 0;
    }
    this.cur[this.fill++] = v;
    this.length++;
  }
  toArray(): Float64Array {
    const out = new Float64Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    out.set(this.cur.subarray(0, this.fill), at);
    return out;
  }
}

/** Growable Float32Array, for embedding values. */
export class GrowableFloat32 {
  data = new Float32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = v;
  }
  grow(min: number): void {
    const next = new Float32Array(Math.max(min, this.data.length * 2));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
}

/** A cell value after the format-specific reader has decoded it. */
export type CellValue = string | number | null | readonly number[];

/**
 * One column, accumulated while streaming when its type is not yet known. It starts empty, stays
 * numeric while every value parses as a number, becomes an array column for JSON arrays (embeddings),
 * and falls back to strings on the first value that is neither. A fall-back rewrites the earlier
 * values as text (`String(n)`, JSON for arrays): the original spelling of numbers seen before the
 * first string is not kept, which only matters for columns of mixed type.
 */
export class ColumnBuilder {
  mode: 'empty' | 'number' | 'array' | 'string' = 'empty';
  /** Rows so far (including missing). */
  length = 0;
  private nums = new GrowableFloat64();
  private strs: (string | null)[] = [];
  /** Arrays packed end to end: row i is arrValues[arrStarts[i] .. + arrLens[i]), arrLens[i] = -1 when missing. */
  private arrValues = new GrowableFloat32();
  private arrStarts: number[] = [];
  private arrLens: number[] = [];
  private missingCount = 0;

  constructor(
    readonly name: string,
    /** Keep text as given (labels, ids, file paths): "01" is not the number 1 there. */
    readonly forceString: boolean,
  ) {
    if (forceString) this.mode = 'string';
  }

  /** Pads with missing values up to `n` rows (a JSONL key that first appears late). */
  padTo(n: number): void {
    while (this.length < n) this.pushMissing();
  }

  pushMissing(): void {
    this.missingCount++;
    switch (this.mode) {
      case 'empty':
        break;
      case 'number':
        this.nums.push(Number.NaN);
        break;
      case 'array':
        this.arrStarts.push(0);
        this.arrLens.push(-1);
        break;
      case 'string':
        this.strs.push(null);
        break;
    }
    this.length++;
  }

  /** Adds a cell given as text (CSV, or a JSON string). */
  pushText(s: string): void {
    if (this.mode === 'string') {
      this.strs.push(isMissingText(s) ? null : s);
      if (this.strs[this.strs.length - 1] === null) this.missingCount++;
      this.length++;
      return;
    }
    if (this.mode !== 'array') {
      const v = parseNumberCell(s);
      if (v !== undefined) {
        if (v !== v) {
          this.pushMissing();
          return;
        }
        this.pushNumber(v);
        return;
      }
    }
    if (s.charCodeAt(0) === 91 && (this.mode === 'empty' || this.mode === 'array')) {
      const arr = parseNumberArray(s);
      if (arr !== undefined) {
        this.pushArray(arr);
        return;
      }
    }
    if (this.mode === 'array' && isMissingText(s)) {
      this.pushMissing();
      return;
    }
    this.toStrings();
    this.pushText(s);
  }

  pushNumber(v: number): void {
    if (this.mode === 'empty') this.becomeNumber();
    if (this.mode === 'number') {
      this.nums.push(v);
      if (v !== v) this.missingCount++;
      this.length++;
      return;
    }
    if (v !== v) {
      this.pushMissing();
      return;
    }
    if (this.mode === 'array') this.toStrings();
    this.strs.push(numberText(v));
    this.length++;
  }

  pushArray(arr: readonly number[]): void {
    if (this.mode === 'empty') this.becomeArray();
    if (this.mode === 'array') {
      this.arrStarts.push(this.arrValues.length);
      this.arrLens.push(arr.length);
      for (const v of arr) this.arrValues.push(v);
      this.length++;
      return;
    }
    this.toStrings();
    this.strs.push(JSON.stringify(arr));
    this.length++;
  }

  private becomeNumber(): void {
    this.mode = 'number';
    for (let i = 0; i < this.length; i++) this.nums.push(Number.NaN);
  }

  private becomeArray(): void {
    this.mode = 'array';
    for (let i = 0; i < this.length; i++) {
      this.arrStarts.push(0);
      this.arrLens.push(-1);
    }
  }

  private toStrings(): void {
    if (this.mode === 'string') return;
    const strs: (string | null)[] = new Array<string | null>(this.length);
    const nums = this.mode === 'number' ? this.nums.toArray() : null;
    for (let i = 0; i < this.length; i++) {
      if (nums !== null) {
        const v = nums[i] ?? Number.NaN;
        strs[i] = v !== v ? null : numberText(v);
      } else if (this.mode === 'array') {
        const a = this.arrayAt(i);
        strs[i] = a === null ? null : JSON.stringify(Array.from(a));
      } else strs[i] = null;
    }
    this.strs = strs;
    this.nums = new GrowableFloat64();
    this.arrValues = new GrowableFloat32();
    this.arrStarts = [];
    this.arrLens = [];
    this.mode = 'string';
  }

  /** Number of missing cells. */
  get missing(): number {
    return this.missingCount;
  }

  /** The numeric values (NaN = missing); only for mode 'number' or 'empty'. */
  numbers(): Float64Array {
    if (this.mode === 'empty') return new Float64Array(this.length).fill(Number.NaN);
    return this.nums.toArray();
  }

  /** The values as text (null = missing), whatever the mode. */
  strings(): (string | null)[] {
    if (this.mode === 'string') return this.strs;
    this.toStrings();
    return this.strs;
  }

  /** Row i of an array column (a view), or null when missing. */
  arrayAt(i: number): Float32Array | null {
    const len = this.arrLens[i] ?? -1;
    if (len < 0) return null;
    const start = this.arrStarts[i] ?? 0;
    return this.arrValues.data.subarray(start, start + len);
  }

  /** Array length per row (−1 = missing), for mode 'array'. */
  arrayLength(i: number): number {
    return this.arrLens[i] ?? -1;
  }
}

const isMissingText = isMissing;

/** JSON array of numbers (or nulls/"NaN" as missing → NaN); undefined when it is anything else. */
export function parseNumberArray(s: string): number[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch {
    return undefined;
  }
  return toNumberArray(parsed);
}

/** A decoded JSON value as an array of numbers, or undefined when it is not one. */
export function toNumberArray(value: unknown): number[] | undefined {
  if (!Array.isArray(value) && !(ArrayBuffer.isView(value) && !(value instanceof DataView))) return undefined;
  const src = value as ArrayLike<unknown>;
  const out = new Array<number>(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (typeof v === 'number') out[i] = v;
    else if (typeof v === 'bigint') out[i] = Number(v);
    else if (v === null) out[i] = Number.NaN;
    else if (typeof v === 'string') {
      const p = parseNumberCell(v);
      if (p === undefined) return undefined;
      out[i] = p;
    } else return undefined;
  }
  return out;
}

/** Text for a number that reads back as the same number. */
export function numberText(v: number): string {
  return Object.is(v, -0) ? '0' : String(v);
}
