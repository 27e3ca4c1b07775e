/**
 * Raw-column profiling for the validation checks: missing values by the token that encoded them,
 * mixed types, non-finite numbers, ranges, distinct counts and text lengths. Readers only note the
 * token of each missing cell while streaming (a rare path); everything else is one pass over the
 * column builder's values when the table is finished, so the hot per-cell loop stays as it was.
 */
import type { ColumnBuilder } from './columns.ts';
import type { ColumnRole, MissingTokenCount, RawColumnProfile } from './dataset.ts';
import { parseNumberCell } from './missing.ts';

/** Distinct values are counted up to this many per column: enough to tell constant and low-cardinality columns, bounded memory on wide float files. */
export const PROFILE_DISTINCT_CAP = 1000;
/** Rows kept per missing token, as examples for a report. */
export const PROFILE_ROW_SAMPLE = 100;
/** Token recorded for a JSONL key a row left out. */
export const ABSENT_TOKEN = '<absent>';
/** Token recorded for a whitespace-only cell. */
export const WHITESPACE_TOKEN = '<whitespace>';

/** Missing-cell tokens of one column, counted while reading, with the first raw row indices. */
export class MissingTally {
  private readonly byToken = new Map<string, { count: number; rows: number[] }>();

  /** Notes `count` missing cells spelled `token`, starting at raw row `row`. */
  note(token: string, row: number, count = 1): void {
    let t = this.byToken.get(token);
    if (t === undefined) {
      t = { count: 0, rows: [] };
      this.byToken.set(token, t);
    }
    t.count += count;
    for (let r = row; r < row + count && t.rows.length < PROFILE_ROW_SAMPLE; r++) t.rows.push(r);
  }

  /** Counts per token, most frequent first; raw rows mapped through `rank` (−1 = row dropped). */
  counts(rank: Int32Array): MissingTokenCount[] {
    const out: MissingTokenCount[] = [];
    for (const [token, t] of this.byToken) {
      const rows: number[] = [];
      for (const r of t.rows) {
        const k = rank[r] ?? -1;
        if (k >= 0) rows.push(k);
      }
      out.push({ token, count: t.count, rows });
    }
    return out.sort((a, b) => b.count - a.count || (a.token < b.token ? -1 : a.token > b.token ? 1 : 0));
  }
}

/** The token a missing text cell is recorded under: itself, or `<whitespace>` for blanks. */
export function missingTextToken(s: string): string {
  return s.length > 0 && s.trim() === '' ? WHITESPACE_TOKEN : s;
}

/** The token a missing decoded value (JSONL, Parquet) is recorded under. */
export function missingValueToken(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return missingTextToken(value);
  if (typeof value === 'number') return 'NaN';
  return typeof value;
}

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/** True for text made only of punctuation, symbols, marks and spaces (no letter or digit), e.g. "???", "--", "***". */
export function isSpecialCharactersOnly(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122)) return false;
    // Non-ASCII: letters of every script count, so ask Unicode (rare; most text is decided at its first character).
    if (c >= 128) return !LETTER_OR_DIGIT.test(s.slice(i));
  }
  return true;
}

/**
 * Profiles one finished column; `rank` maps raw rows to dataset indices (−1 = dropped), `numbers`
 * is the column's `numbers()` when the caller already has it (saves a copy).
 */
export function profileColumn(col: ColumnBuilder, role: ColumnRole, tally: MissingTally | undefined, rank: Int32Array, numbers?: Float64Array): RawColumnProfile {
  const missingTokens = tally === undefined ? [] : tally.counts(rank);
  let nanLiterals = 0;
  for (const t of missingTokens) if (t.token === 'NaN' || t.token === 'nan') nanLiterals += t.count;
  const acc = new Accumulator();
  if (col.mode === 'number') acc.addNumbers(numbers ?? col.numbers());
  else if (col.mode === 'string') acc.addStrings(col.strings());
  const present = col.length - col.missing;
  const s = acc.summary();
  return {
    name: col.name,
    role,
    kind: col.mode,
    cells: col.length,
    present,
    missing: col.missing,
    missingTokens,
    numeric: s.numeric,
    // Arrays (embeddings) are neither: they are checked when the embedding is gathered.
    nonNumeric: col.mode === 'string' ? present - s.numeric : 0,
    nanLiterals,
    ...s.rest,
    distinct: col.mode === 'array' ? 0 : acc.distinct.size,
    distinctCapped: acc.capped,
  };
}

const SMALL_INT_LIMIT = 65_536;
/** Scratch bitmap for addNumbers, cleared after each column (columns are profiled one at a time). */
const SMALL_INT_SEEN = new Uint8Array(SMALL_INT_LIMIT);

/** One pass of running statistics over a column's present values. */
class Accumulator {
  numericCount = 0;
  infinities = 0;
  min = Infinity;
  max = -Infinity;
  sum = 0;
  texts = 0;
  lenMin = Infinity;
  lenMax = 0;
  lenSum = 0;
  specialOnly = 0;
  distinct = new Set<number | string>();
  capped = false;

  addNumbers(values: Float64Array): void {
    // Small non-negative integers (pixels, counts, codes) are counted in a shared bitmap instead of
    // the Set: a Set insert per cell was most of the profiling cost on a 20k × 785 pixel CSV.
    const seen = SMALL_INT_SEEN;
    const touched: number[] = [];
    let last = Number.NaN;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v !== v) continue;
      this.addNumber(v);
      if (v === last) continue;
      last = v;
      const k = v | 0;
      if (k === v && k >= 0 && k < SMALL_INT_LIMIT) {
        if (seen[k] === 0) {
          seen[k] = 1;
          touched.push(k);
        }
      } else this.track(v);
    }
    for (const k of touched) {
      seen[k] = 0;
      this.track(k);
    }
  }

  addStrings(values: readonly (string | null)[]): void {
    for (const s of values) {
      if (s === null) continue;
      const v = parseNumberCell(s);
      if (v !== undefined && v === v) this.addNumber(v);
      this.texts++;
      const len = s.length;
      if (len < this.lenMin) this.lenMin = len;
      if (len > this.lenMax) this.lenMax = len;
      this.lenSum += len;
      if (isSpecialCharactersOnly(s)) this.specialOnly++;
      this.track(s);
    }
  }

  private addNumber(v: number): void {
    this.numericCount++;
    if (v === Infinity || v === -Infinity) {
      this.infinities++;
      return;
    }
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.sum += v;
  }

  private track(v: number | string): void {
    if (this.capped) return;
    this.distinct.add(v);
    if (this.distinct.size > PROFILE_DISTINCT_CAP) {
      this.distinct.delete(v);
      this.capped = true;
    }
  }

  summary(): {
    numeric: number;
    rest: Pick<RawColumnProfile, 'infinities' | 'numericMin' | 'numericMax' | 'numericMean' | 'lengthMin' | 'lengthMax' | 'lengthMean' | 'specialOnly'>;
  } {
    const finite = this.numericCount - this.infinities;
    const mean = finite > 0 ? this.sum / finite : Number.NaN;
    return {
      numeric: this.numericCount,
      rest: {
        infinities: this.infinities,
        numericMin: finite > 0 ? this.min : null,
        numericMax: finite > 0 ? this.max : null,
        // A sum of huge values can overflow; null keeps the profile JSON-safe.
        numericMean: Number.isFinite(mean) ? mean : null,
        lengthMin: this.texts > 0 ? this.lenMin : null,
        lengthMax: this.texts > 0 ? this.lenMax : null,
        lengthMean: this.texts > 0 ? this.lenSum / this.texts : null,
        specialOnly: this.specialOnly,
      },
    };
  }
}
