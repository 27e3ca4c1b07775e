/**
 * The `validation` detector: the data-validation checklist users expect before training
 * (research/detection.md §6.4; Deepchecks data_integrity, TFDV anomalies, cleanlab class_imbalance),
 * returned as data. Every problem is a ValidationIssue { code, severity, column, rows?, count,
 * message, details } in `summary.issues`; problems tied to rows also become one Finding per sample
 * (the sample's worst issue gives its code and severity; all its issues are in the evidence).
 *
 * | code                     | severity        | level   | rule (defaults)                                                        |
 * |--------------------------|-----------------|---------|------------------------------------------------------------------------|
 * | REQUIRED_COLUMN_MISSING  | critical        | dataset | a `requiredColumns` entry (or a label column) is absent                |
 * | UNEXPECTED_LABEL         | high            | rows    | label not in `labelDomain` (only when given)                           |
 * | NON_FINITE               | high / medium   | rows    | ±Infinity in a numeric column (high); NaN literals only (medium)       |
 * | MIXED_TYPES              | medium          | rows*   | a text column where numbers and non-numbers both occur                 |
 * | HIGH_NULL_FRACTION       | medium          | dataset | missing fraction > `maxNullFraction` (0.2)                             |
 * | CLASS_IMBALANCE          | medium          | dataset | rarest class frequency < `imbalanceFactor` (0.1) / K (cleanlab)        |
 * | SPECIAL_CHARACTERS_ONLY  | medium          | rows    | a text value with no letter or digit ("???", "--")                     |
 * | EMPTY_TEXT               | medium          | rows    | the text column is empty or missing                                    |
 * | INVALID_UTF8             | medium          | rows    | U+FFFD or a lone surrogate: text damaged by a lossy decode upstream    |
 * | SKIPPED_ROWS             | medium          | dataset | rows the reader left out, one issue per skip code (no dataset index)   |
 * | MIXED_NULL_ENCODINGS     | low             | dataset | ≥ 2 raw tokens ("", NA, null, NaN, ?) encode missing in one column     |
 * | STRING_LENGTH_OUTLIER    | low             | rows    | robust z of log(1 + len) (median, 1.4826·MAD) > `stringLengthZ` (6) and ≥ `minLengthGap` (10) chars from the median |
 * | CONSTANT_COLUMN          | low             | dataset | a feature column with at most one distinct present value               |
 *
 * rows*: MIXED_TYPES flags the minority type's rows only when they are ≤ 10 % of the column (stray
 * values, Deepchecks' suspicious band); a column split more evenly is reported at dataset level.
 * Per-sample score by worst severity: critical 1, high 0.9, medium 0.6, low 0.3; 0 for clean rows.
 * Raw-token checks (mixed null encodings, NaN literals) need `dataset.profile` (table readers fill
 * it); without one they are skipped and the summary says so.
 */
import type { Finding, Severity } from '../core/index.ts';
import { severityRank } from '../core/index.ts';
import type { Dataset, RawColumnProfile } from '../data/index.ts';
import { ABSENT_TOKEN, isSpecialCharactersOnly, parseNumberCell } from '../data/index.ts';
import type { Detector, DetectorContext, DetectorResult } from './detector.ts';
import { DetectorError } from './errors.ts';
import { round6 } from './numbers.ts';

export const VALIDATION_DETECTOR = 'validation';

export const VALIDATION_CODES = [
  'REQUIRED_COLUMN_MISSING',
  'UNEXPECTED_LABEL',
  'NON_FINITE',
  'MIXED_TYPES',
  'HIGH_NULL_FRACTION',
  'CLASS_IMBALANCE',
  'SPECIAL_CHARACTERS_ONLY',
  'EMPTY_TEXT',
  'INVALID_UTF8',
  'SKIPPED_ROWS',
  'MIXED_NULL_ENCODINGS',
  'STRING_LENGTH_OUTLIER',
  'CONSTANT_COLUMN',
] as const;
export type ValidationCode = (typeof VALIDATION_CODES)[number];

/** One validation problem, as data. `rows` are sample dataset indices (at most ISSUE_ROW_SAMPLE). */
export interface ValidationIssue {
  readonly code: ValidationCode;
  readonly severity: Severity;
  readonly column: string | null;
  readonly rows?: readonly number[];
  readonly count: number;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface ValidationOptions {
  /** A column with a larger missing fraction is reported (default 0.2). */
  readonly maxNullFraction?: number;
  /** Robust z of a text length beyond which it is an outlier (default 6). */
  readonly stringLengthZ?: number;
  /** ... and only when it differs from the median length by at least this many characters (default 10). */
  readonly minLengthGap?: number;
  /** The rarest class is reported when its frequency is below imbalanceFactor / K (default 0.1, as cleanlab). */
  readonly imbalanceFactor?: number;
  /** Columns that must exist (the label is always required). */
  readonly requiredColumns?: readonly string[];
  /** The allowed label values; labels outside it are flagged per row. */
  readonly labelDomain?: readonly string[];
}

export const DEFAULT_MAX_NULL_FRACTION = 0.2;
export const DEFAULT_STRING_LENGTH_Z = 6;
export const DEFAULT_MIN_LENGTH_GAP = 10;
export const DEFAULT_IMBALANCE_FACTOR = 0.1;
/** Rows listed in an issue, as examples; findings cover every row. */
export const ISSUE_ROW_SAMPLE = 20;
/** MIXED_TYPES flags rows only when the minority type is at most this share of the present values. */
const STRAY_TYPE_SHARE = 0.1;
/** Fewer present values than this give no meaningful median/MAD. */
const MIN_VALUES_FOR_LENGTH = 20;

const SEVERITY_SCORE: Readonly<Record<Severity, number>> = { critical: 1, high: 0.9, medium: 0.6, low: 0.3, info: 0.1 };

/** Build a `validation` detector; throws DETECTOR_BAD_OPTION for thresholds out of range. */
export function createValidationDetector(options: ValidationOptions = {}): Detector {
  const fraction = (v: number | undefined, what: string, lo: number, hi: number): void => {
    if (v !== undefined && !(v >= lo && v <= hi)) throw new DetectorError('DETECTOR_BAD_OPTION', `${what} must be in [${lo}, ${hi}], got ${v}`);
  };
  fraction(options.maxNullFraction, 'maxNullFraction', 0, 1);
  fraction(options.imbalanceFactor, 'imbalanceFactor', 0, 1);
  fraction(options.stringLengthZ, 'stringLengthZ', 0, Number.MAX_VALUE);
  fraction(options.minLengthGap, 'minLengthGap', 0, Number.MAX_VALUE);
  return {
    name: VALIDATION_DETECTOR,
    description: 'Data validation: schema, nulls and null encodings, mixed types, NaN/Inf, constant columns, class imbalance, text hygiene, skipped rows',
    needs: [],
    run: (ctx) => runValidation(ctx, options),
  };
}

/** The `validation` detector with default options. */
export const validationDetector: Detector = createValidationDetector();

/** A check's issue plus every row it applies to (the issue itself lists only a sample). */
export interface ValidationHit {
  readonly issue: ValidationIssue;
  /** All affected rows when the check is row-level; findings are made from these. */
  readonly allRows?: readonly number[];
}

/** Runs every check on a dataset; returns the issues, most severe first, and the rows each applies to. */
export function validateDataset(dataset: Dataset, labels: Int32Array, classNames: readonly string[], options: ValidationOptions = {}): ValidationHit[] {
  const hits: ValidationHit[] = [];
  const add = (h: ValidationHit | null): void => {
    if (h !== null) hits.push(h);
  };
  checkRequired(dataset, options, hits);
  add(checkLabelDomain(labels, classNames, options.labelDomain));
  add(checkImbalance(labels, classNames, options.imbalanceFactor ?? DEFAULT_IMBALANCE_FACTOR));
  checkNulls(dataset, options.maxNullFraction ?? DEFAULT_MAX_NULL_FRACTION, hits);
  checkNonFinite(dataset, hits);
  for (const col of dataset.features) {
    if (col.kind === 'categorical') {
      add(checkMixedTypes(col.name, col.values));
      checkText(col.name, col.values, false, options, hits);
    }
    add(checkConstant(col, dataset.n));
  }
  if (dataset.text !== null) checkText(dataset.textColumn ?? 'text', dataset.text, true, options, hits);
  checkSkipped(dataset, hits);
  return hits.sort((a, b) => severityRank(b.issue.severity) - severityRank(a.issue.severity) || cmp(a.issue.code, b.issue.code) || cmp(a.issue.column ?? '', b.issue.column ?? ''));
}

function runValidation(ctx: DetectorContext, options: ValidationOptions): DetectorResult {
  const n = ctx.labels.length;
  if (ctx.dataset.ids.length !== n) {
    throw new DetectorError('DETECTOR_BAD_INPUT', `dataset has ${ctx.dataset.ids.length} ids but ${n} labels`);
  }
  ctx.progress(VALIDATION_DETECTOR, 0, 1);
  const hits = validateDataset(ctx.dataset, ctx.labels, ctx.classNames, options);

  // Each sample once: its issues, worst first (hits are already sorted by severity).
  const perRow = new Map<number, ValidationIssue[]>();
  for (const h of hits) {
    for (const i of h.allRows ?? []) {
      if (!(i >= 0 && i < n)) continue;
      const list = perRow.get(i);
      if (list === undefined) perRow.set(i, [h.issue]);
      else if (list[list.length - 1] !== h.issue) list.push(h.issue);
    }
  }
  const scores = new Float32Array(n);
  const findings: Finding[] = [];
  for (const [i, issues] of perRow) {
    const worst = issues[0]!;
    // The finding carries the stored float32 score, so the two agree exactly.
    scores[i] = SEVERITY_SCORE[worst.severity];
    const score = scores[i]!;
    const where = worst.column === null ? '' : ` in column "${worst.column}"`;
    findings.push({
      index: i,
      sampleId: ctx.dataset.ids[i]!,
      detector: VALIDATION_DETECTOR,
      code: worst.code,
      score,
      severity: worst.severity,
      message: `${worst.code}${where}${issues.length > 1 ? ` (+${issues.length - 1} more)` : ''}`,
      evidence: { issues: issues.map((x) => ({ code: x.code, severity: x.severity, column: x.column, message: x.message })) },
    });
  }
  findings.sort((a, b) => b.score - a.score || a.index - b.index);
  const byCode: Record<string, number> = {};
  for (const h of hits) byCode[h.issue.code] = (byCode[h.issue.code] ?? 0) + 1;
  ctx.progress(VALIDATION_DETECTOR, 1, 1);
  return {
    scores,
    findings,
    summary: {
      issues: hits.map((h) => h.issue),
      issueCounts: byCode,
      rowsFlagged: findings.length,
      rawProfile: ctx.dataset.profile !== undefined,
      thresholds: {
        maxNullFraction: options.maxNullFraction ?? DEFAULT_MAX_NULL_FRACTION,
        stringLengthZ: options.stringLengthZ ?? DEFAULT_STRING_LENGTH_Z,
        minLengthGap: options.minLengthGap ?? DEFAULT_MIN_LENGTH_GAP,
        imbalanceFactor: options.imbalanceFactor ?? DEFAULT_IMBALANCE_FACTOR,
      },
    },
  };
}

function issue(code: ValidationCode, severity: Severity, column: string | null, count: number, message: string, details: Record<string, unknown>, rows?: readonly number[]): ValidationIssue {
  return rows === undefined ? { code, severity, column, count, message, details } : { code, severity, column, rows: rows.slice(0, ISSUE_ROW_SAMPLE), count, message, details };
}

function checkRequired(dataset: Dataset, options: ValidationOptions, hits: ValidationHit[]): void {
  const present = new Set(Object.keys(dataset.roles));
  const hasLabel = Object.values(dataset.roles).includes('label');
  if (!hasLabel) {
    hits.push({ issue: issue('REQUIRED_COLUMN_MISSING', 'critical', null, 1, 'no label column', { required: 'label' }) });
  }
  for (const name of options.requiredColumns ?? []) {
    if (!present.has(name)) {
      hits.push({ issue: issue('REQUIRED_COLUMN_MISSING', 'critical', name, 1, `required column "${name}" is missing`, { available: [...present].slice(0, 50) }) });
    }
  }
}

function checkLabelDomain(labels: Int32Array, classNames: readonly string[], domain: readonly string[] | undefined): ValidationHit | null {
  if (domain === undefined) return null;
  const allowed = new Set(domain);
  const rows: number[] = [];
  const unexpected = new Map<string, number>();
  for (let i = 0; i < labels.length; i++) {
    const name = classNames[labels[i]!] ?? String(labels[i]);
    if (!allowed.has(name)) {
      rows.push(i);
      unexpected.set(name, (unexpected.get(name) ?? 0) + 1);
    }
  }
  if (rows.length === 0) return null;
  const top = [...unexpected].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0])).slice(0, 20);
  return {
    issue: issue('UNEXPECTED_LABEL', 'high', null, rows.length, `${rows.length} labels outside the allowed domain`, { unexpected: Object.fromEntries(top), distinctUnexpected: unexpected.size }, rows),
    allRows: rows,
  };
}

function checkImbalance(labels: Int32Array, classNames: readonly string[], factor: number): ValidationHit | null {
  const n = labels.length;
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) counts.set(labels[i]!, (counts.get(labels[i]!) ?? 0) + 1);
  const K = counts.size;
  if (K < 2) return null;
  let rarest = -1;
  let min = Infinity;
  for (const [k, c] of counts) if (c < min || (c === min && k < rarest)) [rarest, min] = [k, c];
  const q = min / n;
  const threshold = factor / K;
  if (!(q < threshold)) return null;
  const name = classNames[rarest] ?? String(rarest);
  return {
    issue: issue('CLASS_IMBALANCE', 'medium', null, min, `class "${name}" is ${(q * 100).toFixed(2)} % of the data (threshold ${(threshold * 100).toFixed(2)} %)`, {
      class: name,
      frequency: round6(q),
      threshold: round6(threshold),
      classes: K,
    }),
  };
}

function checkNulls(dataset: Dataset, maxFraction: number, hits: ValidationHit[]): void {
  const featureRows = new Map<string, number[]>();
  for (const col of dataset.features) {
    const rows: number[] = [];
    for (let i = 0; i < col.values.length; i++) {
      const v = col.values[i];
      if (v === null || v === undefined || (typeof v === 'number' && v !== v)) rows.push(i);
    }
    featureRows.set(col.name, rows);
  }
  const profile = dataset.profile;
  if (profile === undefined) {
    // No raw profile (images, hand-built datasets): features only, over the rows kept.
    for (const col of dataset.features) {
      const rows = featureRows.get(col.name)!;
      const f = dataset.n === 0 ? 0 : rows.length / dataset.n;
      if (f > maxFraction) hits.push({ issue: nullIssue(col.name, rows.length, dataset.n, f, maxFraction, rows) });
    }
    return;
  }
  for (const p of profile) {
    if (p.role === 'label' || p.role === 'ignore' || p.cells === 0) continue;
    const f = p.missing / p.cells;
    const sample = featureRows.get(p.name) ?? p.missingTokens.flatMap((t) => t.rows).sort((a, b) => a - b);
    if (f > maxFraction) hits.push({ issue: nullIssue(p.name, p.missing, p.cells, f, maxFraction, sample, p) });
    const tokens = p.missingTokens.filter((t) => t.token !== ABSENT_TOKEN);
    if (tokens.length >= 2) {
      // The minority encodings are the odd ones out; their rows are the examples.
      const minority = tokens.slice(1).flatMap((t) => t.rows).sort((a, b) => a - b);
      hits.push({
        issue: issue(
          'MIXED_NULL_ENCODINGS',
          'low',
          p.name,
          tokens.reduce((s, t) => s + t.count, 0),
          `missing values written ${tokens.length} ways: ${tokens.map((t) => JSON.stringify(t.token)).join(', ')}`,
          { tokens: Object.fromEntries(tokens.map((t) => [t.token, t.count])) },
          minority,
        ),
      });
    }
  }
}

function nullIssue(column: string, missing: number, cells: number, f: number, max: number, rows: readonly number[], p?: RawColumnProfile): ValidationIssue {
  const tokens = p === undefined ? undefined : Object.fromEntries(p.missingTokens.map((t) => [t.token, t.count]));
  return issue('HIGH_NULL_FRACTION', 'medium', column, missing, `${(f * 100).toFixed(1)} % of values missing (limit ${(max * 100).toFixed(1)} %)`, {
    fraction: round6(f),
    cells,
    ...(tokens === undefined ? {} : { tokens }),
  }, rows);
}

function checkNonFinite(dataset: Dataset, hits: ValidationHit[]): void {
  const profileOf = new Map((dataset.profile ?? []).map((p) => [p.name, p]));
  for (const col of dataset.features) {
    if (col.kind !== 'numeric') continue;
    const rows: number[] = [];
    for (let i = 0; i < col.values.length; i++) if (col.values[i] === Infinity || col.values[i] === -Infinity) rows.push(i);
    const p = profileOf.get(col.name);
    // NaN literals read as missing; the profile kept which rows spelled them (a sample).
    const nanRows = p === undefined ? [] : p.missingTokens.filter((t) => t.token === 'NaN' || t.token === 'nan').flatMap((t) => t.rows);
    const nan = p?.nanLiterals ?? 0;
    if (rows.length === 0 && nan === 0) continue;
    const all = [...new Set([...rows, ...nanRows])].sort((a, b) => a - b);
    hits.push({
      issue: issue(
        'NON_FINITE',
        rows.length > 0 ? 'high' : 'medium',
        col.name,
        rows.length + nan,
        `${rows.length} infinite value(s) and ${nan} NaN literal(s)`,
        { infinities: rows.length, nanLiterals: nan },
        all,
      ),
      allRows: all,
    });
  }
}

function checkMixedTypes(column: string, values: ReadonlyArray<string | null>): ValidationHit | null {
  const numericRows: number[] = [];
  const textRows: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const s = values[i];
    if (s === null || s === undefined) continue;
    (parseNumberCell(s) === undefined ? textRows : numericRows).push(i);
  }
  if (numericRows.length === 0 || textRows.length === 0) return null;
  const minority = numericRows.length <= textRows.length ? numericRows : textRows;
  const share = minority.length / (numericRows.length + textRows.length);
  const stray = share <= STRAY_TYPE_SHARE;
  return {
    issue: issue('MIXED_TYPES', 'medium', column, minority.length, `${numericRows.length} numbers and ${textRows.length} non-numbers in one column`, {
      numbers: numericRows.length,
      nonNumbers: textRows.length,
      minority: minority === numericRows ? 'numbers' : 'non-numbers',
      minorityShare: round6(share),
    }, minority),
    ...(stray ? { allRows: minority } : {}),
  };
}

function checkConstant(col: Dataset['features'][number], n: number): ValidationHit | null {
  if (n < 2) return null;
  let present = 0;
  let first: number | string | null = null;
  for (const v of col.values) {
    if (v === null || (typeof v === 'number' && v !== v)) continue;
    present++;
    if (first === null) first = v;
    else if (v !== first) return null;
  }
  const what = present === 0 ? 'every value is missing' : 'every present value is the same';
  return { issue: issue('CONSTANT_COLUMN', 'low', col.name, present, `${what}: the column carries no information`, { present, missing: n - present }) };
}

const BAD_UNICODE = /\uFFFD|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text hygiene over one text or categorical column: empty, special-only, damaged Unicode, length outliers. */
function checkText(column: string, values: ReadonlyArray<string | null>, isText: boolean, options: ValidationOptions, hits: ValidationHit[]): void {
  const empty: number[] = [];
  const special: number[] = [];
  const bad: number[] = [];
  const lengths: number[] = [];
  const lengthRows: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const s = values[i];
    if (s === null || s === undefined || s.length === 0) {
      if (isText) empty.push(i);
      continue;
    }
    if (isSpecialCharactersOnly(s)) special.push(i);
    if (BAD_UNICODE.test(s)) bad.push(i);
    lengths.push(s.length);
    lengthRows.push(i);
  }
  const rowHit = (code: ValidationCode, rows: number[], message: string): void => {
    if (rows.length > 0) hits.push({ issue: issue(code, 'medium', column, rows.length, message, { fraction: round6(rows.length / Math.max(values.length, 1)) }, rows), allRows: rows });
  };
  rowHit('EMPTY_TEXT', empty, `${empty.length} empty text value(s)`);
  rowHit('SPECIAL_CHARACTERS_ONLY', special, `${special.length} value(s) made only of punctuation, symbols or spaces`);
  rowHit('INVALID_UTF8', bad, `${bad.length} value(s) with U+FFFD or a lone surrogate (text damaged by a lossy decode)`);

  if (lengths.length < MIN_VALUES_FOR_LENGTH) return;
  // Lengths are compared on a log scale: free text is heavy-tailed (an e-mail of 40 KB is normal
  // next to a median of 3 KB), and on raw lengths the robust z flagged 6 % of SpamAssassin.
  const logs = Float64Array.from(lengths, (l) => Math.log1p(l));
  const median = quantileSorted(Float64Array.from(logs).sort(), 0.5);
  const medianLength = Math.round(Math.expm1(median));
  const dev = Float64Array.from(logs, (l) => Math.abs(l - median)).sort();
  let scale = 1.4826 * quantileSorted(dev, 0.5);
  // MAD is 0 when over half the values share one length (codes, fixed-width ids): fall back to the
  // mean absolute deviation (×1.2533, its consistency constant for a normal), as the modified z-score does.
  if (scale === 0) scale = 1.2533 * (dev.reduce((a, b) => a + b, 0) / dev.length);
  if (scale === 0) return;
  const z = options.stringLengthZ ?? DEFAULT_STRING_LENGTH_Z;
  const gap = options.minLengthGap ?? DEFAULT_MIN_LENGTH_GAP;
  const rows: number[] = [];
  for (let k = 0; k < lengths.length; k++) {
    const d = Math.abs(logs[k]! - median);
    if (d / scale > z && Math.abs(lengths[k]! - medianLength) >= gap) rows.push(lengthRows[k]!);
  }
  if (rows.length === 0) return;
  hits.push({
    issue: issue('STRING_LENGTH_OUTLIER', 'low', column, rows.length, `${rows.length} value(s) with an abnormal length (median ${medianLength})`, {
      medianLength,
      scale: round6(scale),
      z,
      minGap: gap,
    }, rows),
    allRows: rows,
  });
}

function checkSkipped(dataset: Dataset, hits: ValidationHit[]): void {
  const byCode = new Map<string, { count: number; lines: number[]; message: string }>();
  for (const s of dataset.skipped) {
    let g = byCode.get(s.code);
    if (g === undefined) {
      g = { count: 0, lines: [], message: s.message };
      byCode.set(s.code, g);
    }
    g.count++;
    if (s.line !== undefined && g.lines.length < ISSUE_ROW_SAMPLE) g.lines.push(s.line);
  }
  for (const [code, g] of [...byCode].sort((a, b) => cmp(a[0], b[0]))) {
    hits.push({
      issue: issue('SKIPPED_ROWS', 'medium', null, g.count, `${g.count} row(s) skipped while reading: ${code}`, { reason: code, lines: g.lines, firstMessage: g.message }),
    });
  }
}

function quantileSorted(a: Float64Array, q: number): number {
  if (a.length === 0) return 0;
  const pos = (a.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return a[lo]! + (a[hi]! - a[lo]!) * (pos - lo);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

