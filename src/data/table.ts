import type { ColumnSpec, Dataset, DatasetFormat, FeatureColumn, SkippedRow } from './dataset.ts';
import { ColumnBuilder, parseNumberArray } from './columns.ts';
import { compareLabels, contentIds, sampleId } from './content-id.ts';
import { DataError } from './errors.ts';
import type { DataSkipCode } from './errors.ts';
import { parseNumberCell } from './missing.ts';
import { ABSENT_TOKEN, MissingTally, profileColumn } from './profile.ts';
import { inferRoles, isVerbatimColumn } from './roles.ts';
import type { ColumnProfile, EmbeddingSource } from './roles.ts';

/** More columns than this is not a dataset we can hold column by column (a hostile header or JSONL keys). */
export const MAX_COLUMNS = 65_536;
/** Rows × columns held in memory; beyond this a wide sparse JSONL would need tens of GB. */
export const MAX_CELLS = 1_000_000_000;

/** Row-level problems that mean the file itself is broken (as opposed to a missing label). */
const STRUCTURAL: ReadonlySet<string> = new Set<DataSkipCode>(['DATA_RAGGED_ROW', 'DATA_BAD_JSON', 'DATA_BAD_EMBEDDING']);

/**
 * Accumulates the rows of a table (CSV, TSV, JSONL, Parquet) column by column while streaming, then
 * infers roles and builds the Dataset. Readers push cells; this owns everything after that.
 */
export class TableBuilder {
  readonly columns: ColumnBuilder[] = [];
  private readonly byName = new Map<string, ColumnBuilder>();
  private lines: number[] = [];
  private readonly skipped: SkippedRow[] = [];
  private structural = 0;
  /** Missing-cell tokens per column, for the raw profile (only columns with a missing cell get one). */
  private readonly tallies = new Map<ColumnBuilder, MissingTally>();
  rows = 0;

  constructor(
    private readonly file: string,
    private readonly format: DatasetFormat,
    private readonly spec: ColumnSpec = {},
  ) {}

  /** Declares the columns in header order (duplicate or empty names get a suffix); returns the builders. */
  setHeader(names: readonly string[]): ColumnBuilder[] {
    for (let j = 0; j < names.length; j++) {
      let name = (names[j] ?? '').trim() === '' ? `column_${j + 1}` : (names[j] as string);
      if (this.byName.has(name)) {
        let k = 1;
        while (this.byName.has(`${name}.${k}`)) k++;
        name = `${name}.${k}`;
      }
      this.column(name);
    }
    return this.columns;
  }

  /** The builder for a column, created (and padded with missing values) on first sight. */
  column(name: string): ColumnBuilder {
    let col = this.byName.get(name);
    if (col === undefined) {
      if (this.columns.length >= MAX_COLUMNS) {
        throw new DataError('DATA_TOO_LARGE', `more than ${MAX_COLUMNS} columns`, { file: this.file, hint: 'check the delimiter; JSONL rows should share their keys' });
      }
      col = new ColumnBuilder(name, isVerbatimColumn(name, this.spec));
      if (this.rows > 0) this.noteMissing(col, ABSENT_TOKEN, 0, this.rows);
      col.padTo(this.rows);
      this.byName.set(name, col);
      this.columns.push(col);
    }
    return col;
  }

  /** Closes the current row: columns it did not mention are missing there. */
  endRow(line: number): void {
    this.checkCells();
    this.rows++;
    this.lines.push(line);
    for (const col of this.columns) {
      if (col.length < this.rows) {
        this.noteMissing(col, ABSENT_TOKEN, col.length, this.rows - col.length);
        col.padTo(this.rows);
      }
    }
  }

  /**
   * Records the raw token of missing cells (readers call it when a push raised `col.missing`), so
   * the profile can tell "" from NA from null. Defaults to one cell in the row being read.
   */
  noteMissing(col: ColumnBuilder, token: string, row = this.rows, count = 1): void {
    let tally = this.tallies.get(col);
    if (tally === undefined) {
      tally = new MissingTally();
      this.tallies.set(col, tally);
    }
    tally.note(token, row, count);
  }

  /** Closes a row whose every column was pushed exactly once (CSV fast path). */
  endFullRow(line: number): void {
    if ((this.rows & 1023) === 0) this.checkCells();
    this.rows++;
    this.lines.push(line);
  }

  private checkCells(): void {
    if (this.rows * this.columns.length > MAX_CELLS) {
      throw new DataError('DATA_TOO_LARGE', `more than ${MAX_CELLS} cells (${this.rows} rows × ${this.columns.length} columns)`, {
        file: this.file,
        line: this.lines[this.lines.length - 1] ?? 0,
        hint: 'split the file, or drop columns the scan does not need',
      });
    }
  }

  /** Records a row that was left out. */
  skip(code: DataSkipCode, message: string, line?: number): void {
    this.skipped.push(line === undefined ? { code, message } : { line, code, message });
    if (STRUCTURAL.has(code)) {
      this.structural++;
    }
  }

  private checkBadRows(): void {
    const total = this.rows + this.skipped.length;
    if (this.structural > total / 2) {
      const first = this.skipped.find((s) => STRUCTURAL.has(s.code));
      throw new DataError('DATA_TOO_MANY_BAD_ROWS', `${this.structural} of ${total} rows are malformed`, {
        file: this.file,
        ...(first?.line === undefined ? {} : { line: first.line }),
        hint: `first problem: ${first?.message ?? 'unknown'}; check the delimiter, format and encoding`,
      });
    }
  }

  /** Infers roles, drops rows without a label or with a bad embedding (listing them), and builds the Dataset. */
  finish(): Dataset {
    if (this.rows === 0 && this.skipped.length === 0) {
      throw new DataError('DATA_EMPTY', this.columns.length === 0 ? 'file is empty' : 'file has a header but no data rows', {
        file: this.file,
        hint: 'a dataset needs at least one row',
      });
    }
    this.checkBadRows();
    const rowsRead = this.rows + this.skipped.length;
    const profiles = this.columns.map(profile);
    const roles = inferRoles(profiles, this.spec, this.file);
    const n0 = this.rows;
    const keep = new Uint8Array(n0).fill(1);
    const lines = this.lines;

    const labelCol = this.byName.get(roles.label) as ColumnBuilder;
    const labels = labelCol.strings();
    for (let i = 0; i < n0; i++) {
      if (labels[i] === null || labels[i] === undefined) {
        keep[i] = 0;
        this.skipped.push({ line: lines[i] ?? 0, code: 'DATA_MISSING_LABEL', message: `no label in column "${roles.label}"` });
      }
    }

    const emb = roles.embedding === null ? null : this.gatherEmbedding(roles.embedding, keep);
    if (emb !== null && emb.bad > 0) {
      this.structural += emb.bad;
      if (this.structural > rowsRead / 2) {
        const first = this.skipped.find((s) => s.code === 'DATA_BAD_EMBEDDING');
        throw new DataError('DATA_TOO_MANY_BAD_ROWS', `${this.structural} of ${rowsRead} rows are malformed`, {
          file: this.file,
          ...(first?.line === undefined ? {} : { line: first.line }),
          hint: `first problem: ${first?.message ?? 'unknown'}`,
        });
      }
    }

    let n = 0;
    for (let i = 0; i < n0; i++) n += keep[i] ?? 0;
    if (n === 0) {
      throw new DataError('DATA_EMPTY', `no usable rows: ${this.skipped.length} skipped`, {
        file: this.file,
        hint: `first problem: ${this.skipped[0]?.message ?? 'none'}`,
      });
    }
    const pick = <T>(values: ArrayLike<T>): T[] => {
      const out = new Array<T>(n);
      for (let i = 0, k = 0; i < n0; i++) if (keep[i] === 1) out[k++] = values[i] as T;
      return out;
    };
    const pickF64 = (values: Float64Array): Float64Array => {
      if (n === n0) return values;
      const out = new Float64Array(n);
      for (let i = 0, k = 0; i < n0; i++) if (keep[i] === 1) out[k++] = values[i] ?? Number.NaN;
      return out;
    };

    const features: FeatureColumn[] = [];
    // Each numeric column's values, copied once for both the features and the profile.
    const numbersOf = new Map<ColumnBuilder, Float64Array>();
    for (const col of this.columns) {
      const role = roles.roles[col.name];
      if (role === 'numeric') {
        const nums = col.numbers();
        numbersOf.set(col, nums);
        features.push({ kind: 'numeric', name: col.name, values: pickF64(nums) });
      } else if (role === 'categorical') {
        // A column kept verbatim for its name ("y", "class") that turned out not to be the label is an
        // ordinary feature: numeric if every value is a number.
        const nums = col.forceString ? parseAllNumbers(col.strings()) : undefined;
        if (nums !== undefined) {
          roles.roles[col.name] = 'numeric';
          features.push({ kind: 'numeric', name: col.name, values: pickF64(nums) });
        } else features.push({ kind: 'categorical', name: col.name, values: pick(col.strings()) });
      }
    }
    const textRaw = roles.text === null ? null : pick((this.byName.get(roles.text) as ColumnBuilder).strings());
    const embedding = emb === null ? null : { dim: emb.dim, values: emb.values };
    if (textRaw === null && features.length === 0 && embedding === null) {
      throw new DataError('DATA_NO_CONTENT', 'no feature, text or embedding columns besides the label', {
        file: this.file,
        hint: `columns found: ${this.columns.map((c) => c.name).join(', ')}`,
      });
    }

    const labelKept = pick(labels) as string[];
    const labelNames = [...new Set(labelKept)].sort(compareLabels);
    const codeOf = new Map(labelNames.map((l, i) => [l, i]));
    const labelCodes = new Int32Array(n);
    for (let i = 0; i < n; i++) labelCodes[i] = codeOf.get(labelKept[i] as string) ?? 0;

    const cids = contentIds({ text: textRaw, features, embedding }, n);
    const ids = cids.map((c, i) => sampleId(c, labelKept[i] as string));
    const strCol = (name: string | null): (string | null)[] | null => (name === null ? null : pick((this.byName.get(name) as ColumnBuilder).strings()));

    const rank = new Int32Array(n0);
    for (let i = 0, k = 0; i < n0; i++) rank[i] = keep[i] === 1 ? k++ : -1;
    const rawProfile = this.columns.map((col) => profileColumn(col, roles.roles[col.name] ?? 'ignore', this.tallies.get(col), rank, numbersOf.get(col)));

    this.skipped.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    return {
      origin: { path: this.file, format: this.format },
      n,
      roles: roles.roles,
      contentIds: cids,
      ids,
      externalIds: strCol(roles.id) ?? new Array<string | null>(n).fill(null),
      labelNames,
      labelCodes,
      sources: strCol(roles.source),
      // Dataset.text has no null; a missing text is '' there but null in the content id.
      text: textRaw === null ? null : textRaw.map((t) => t ?? ''),
      textColumn: roles.text,
      features,
      embedding,
      images: null,
      lineNumbers: Int32Array.from(pick(lines)),
      skipped: this.skipped,
      profile: rawProfile,
    };
  }

  /**
   * Builds the n × dim embedding matrix (kept rows only). The dimension is the most common array
   * length; a row with a missing, non-numeric, non-finite or differently sized embedding is skipped
   * and listed, because one NaN would poison every distance computed from it.
   */
  private gatherEmbedding(src: EmbeddingSource, keep: Uint8Array): { dim: number; values: Float32Array; bad: number } {
    const n0 = this.rows;
    const rowOf: (i: number) => ArrayLike<number> | null = this.embeddingRows(src);
    const counts = new Map<number, number>();
    for (let i = 0; i < n0; i++) {
      const r = rowOf(i);
      if (r !== null && r.length > 0) counts.set(r.length, (counts.get(r.length) ?? 0) + 1);
    }
    let dim = 0;
    let best = 0;
    for (const [len, c] of counts) if (c > best || (c === best && len > dim)) [dim, best] = [len, c];
    let bad = 0;
    const badRow = (i: number, why: string): void => {
      if (keep[i] === 1) {
        keep[i] = 0;
        bad++;
        this.skipped.push({ line: this.lines[i] ?? 0, code: 'DATA_BAD_EMBEDDING', message: why });
      }
    };
    for (let i = 0; i < n0; i++) {
      const r = rowOf(i);
      if (r === null) badRow(i, 'missing or non-numeric embedding');
      else if (r.length !== dim) badRow(i, `embedding has ${r.length} values, expected ${dim}`);
      else {
        for (let k = 0; k < dim; k++) {
          if (!Number.isFinite(r[k] ?? Number.NaN)) {
            badRow(i, 'embedding holds a missing or non-finite value');
            break;
          }
        }
      }
    }
    let kept = 0;
    for (let i = 0; i < n0; i++) kept += keep[i] ?? 0;
    const values = new Float32Array(kept * dim);
    for (let i = 0, k = 0; i < n0; i++) {
      if (keep[i] !== 1) continue;
      const r = rowOf(i);
      if (r !== null) for (let d = 0; d < dim; d++) values[k * dim + d] = r[d] ?? 0;
      k++;
    }
    return { dim, values, bad };
  }

  private embeddingRows(src: EmbeddingSource): (i: number) => ArrayLike<number> | null {
    if (src.kind === 'array') {
      const col = this.byName.get(src.column) as ColumnBuilder;
      if (col.mode === 'array') return (i) => col.arrayAt(i);
      if (col.mode === 'empty') return () => null;
      const strs = col.strings();
      return (i) => {
        const s = strs[i];
        return s === null || s === undefined ? null : (parseNumberArray(s) ?? null);
      };
    }
    const cols = src.columns.map((name) => this.byName.get(name) as ColumnBuilder);
    const numeric = cols.map((c) => (c.mode === 'string' ? parseColumn(c.strings()) : c.numbers()));
    const row = new Float64Array(cols.length);
    return (i) => {
      for (let d = 0; d < numeric.length; d++) row[d] = (numeric[d] as Float64Array)[i] ?? Number.NaN;
      return row;
    };
  }
}

/** A string column read back as numbers (non-numbers → NaN), for gathered embedding parts. */
function parseColumn(strs: readonly (string | null)[]): Float64Array {
  const out = new Float64Array(strs.length);
  for (let i = 0; i < strs.length; i++) {
    const s = strs[i];
    out[i] = s === null || s === undefined ? Number.NaN : (parseNumberCell(s) ?? Number.NaN);
  }
  return out;
}

/** Every non-missing value as a number, or undefined when one is not a number. */
function parseAllNumbers(strs: readonly (string | null)[]): Float64Array | undefined {
  const out = new Float64Array(strs.length);
  for (let i = 0; i < strs.length; i++) {
    const s = strs[i];
    const v = s === null || s === undefined ? Number.NaN : parseNumberCell(s);
    if (v === undefined) return undefined;
    out[i] = v;
  }
  return out;
}

function profile(col: ColumnBuilder): ColumnProfile {
  if (col.mode !== 'string') return { name: col.name, kind: col.mode, meanLength: 0 };
  let total = 0;
  let count = 0;
  let arrays = 0;
  for (const s of col.strings()) {
    if (s === null) continue;
    total += s.length;
    count++;
    if (s.charCodeAt(0) === 91) arrays++;
  }
  return { name: col.name, kind: 'string', meanLength: count === 0 ? 0 : total / count, arrayShare: count === 0 ? 0 : arrays / count };
}
