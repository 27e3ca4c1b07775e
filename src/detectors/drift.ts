/**
 * Trusted baseline and drift (issue #3 §2). `buildBaseline` summarises a trusted dataset as plain
 * JSON (schema, per-feature histograms, label distribution, a small seeded reference sample);
 * the `drift` detector compares a new batch with it.
 *
 * Dataset-level measurements (drift per feature, label drift, schema violations) go in the summary;
 * row-level problems become findings:
 *
 * | code                | severity | rule                                                                   |
 * |---------------------|----------|------------------------------------------------------------------------|
 * | DRIFT_NEW_LABEL     | high     | the row's label never occurs in the trusted data                       |
 * | DRIFT_NEW_CATEGORY  | medium   | a categorical value the trusted data never had (complete lists only)   |
 * | DRIFT_OUT_OF_RANGE  | low      | a numeric value beyond the trusted [min, max] widened by `rangeMargin` |
 * | DRIFT_FAR_FROM_TRUSTED | medium | mean distance to its k nearest trusted rows > Q3 + 1.7·IQR of the trusted rows' own |
 * | DRIFT_TRUSTED_LABEL_MISMATCH | medium (high if p(given) < 0.1) | its trusted neighbours vote for another label (reference.ts) |
 *
 * Distances (defaults): numeric features by Jensen–Shannon distance (natural log, as
 * scipy.spatial.distance.jensenshannon) > 0.1; categorical features by L∞ distance > 0.1 (TFDV's
 * default); both by PSI > 0.2 (the usual "significant shift" rule of thumb). Labels by JS and L∞.
 * Text columns by the same JS / PSI test on text length, and text or embedding columns by a domain
 * classifier on the joint representation (2·AUC − 1 > 0.25, Deepchecks' default; reference.ts).
 */
import type { Finding, Severity } from '../core/index.ts';
import { createRng } from '../core/index.ts';
import type { ColumnRole, Dataset } from '../data/index.ts';
import type { Detector, DetectorContext, DetectorResult } from './detector.ts';
import { DetectorError } from './errors.ts';
import { DEFAULT_DOMAIN_THRESHOLD, scoreAgainstReference, type DomainDrift } from './reference.ts';
import { round6 } from './numbers.ts';

export const DRIFT_DETECTOR = 'drift';
export const BASELINE_SCHEMA = 'trainguard/baseline';
export const BASELINE_VERSION = 1;
export const DRIFT_CODES = ['DRIFT_NEW_LABEL', 'DRIFT_NEW_CATEGORY', 'DRIFT_OUT_OF_RANGE', 'DRIFT_FAR_FROM_TRUSTED', 'DRIFT_TRUSTED_LABEL_MISMATCH'] as const;
export type DriftCode = (typeof DRIFT_CODES)[number];

export const DEFAULT_JS_THRESHOLD = 0.1;
export const DEFAULT_LINF_THRESHOLD = 0.1;
export const DEFAULT_PSI_THRESHOLD = 0.2;
/**
 * Quantile bins per numeric feature. Sampling noise alone gives a JS distance of about
 * sqrt((B − 1)(1/n + 1/m) / 8): with 20 bins, a 500-row batch against 2,000 trusted rows sits at
 * ≈ 0.077, too close to 0.1; with 10 bins ≈ 0.053, while a 1σ mean shift gives ≈ 0.3.
 */
export const DEFAULT_BINS = 10;
export const DEFAULT_TOP_CATEGORIES = 100;
export const DEFAULT_SAMPLE_SIZE = 2000;
/** Reference-sample texts are cut to this many UTF-16 units, to keep the file small. */
export const SAMPLE_TEXT_CHARS = 1000;
/** Out-of-range values must lie beyond the trusted range by this fraction of its width. */
export const DEFAULT_RANGE_MARGIN = 0.1;
/** Probability floor for PSI, whose log term is infinite on an empty bucket. */
const PSI_EPSILON = 1e-4;

export interface NumericBaseline {
  readonly kind: 'numeric';
  readonly name: string;
  /** Ascending, distinct bin edges (trusted quantiles 0, 1/B, ..., 1). */
  readonly edges: readonly number[];
  /** [underflow, interior bins..., overflow]: max(1, edges − 1) + 2 counts. */
  readonly counts: readonly number[];
  readonly missing: number;
  readonly min: number | null;
  readonly max: number | null;
}

export interface CategoricalBaseline {
  readonly kind: 'categorical';
  readonly name: string;
  /** The most frequent values (at most topCategories), most frequent first. */
  readonly values: readonly { readonly value: string; readonly count: number }[];
  /** Present values outside `values`; > 0 means the list is not every value seen. */
  readonly other: number;
  readonly missing: number;
}

export type FeatureBaseline = NumericBaseline | CategoricalBaseline;

/** One trusted row, enough to featurize it again: feature values in `features` order, text, embedding. */
export interface ReferenceRow {
  readonly label: string;
  readonly features: readonly (number | string | null)[];
  readonly text?: string;
  readonly embedding?: readonly number[];
}

export interface Baseline {
  readonly schema: typeof BASELINE_SCHEMA;
  readonly version: typeof BASELINE_VERSION;
  readonly source: { readonly path: string; readonly format: string; readonly rows: number };
  readonly columns: readonly { readonly name: string; readonly role: ColumnRole }[];
  readonly textColumn: string | null;
  readonly embeddingDim: number | null;
  readonly features: readonly FeatureBaseline[];
  readonly labels: { readonly names: readonly string[]; readonly counts: readonly number[] };
  readonly sample: { readonly seed: number; readonly rows: readonly ReferenceRow[] };
  /**
   * Histogram of the full (uncut) text lengths in UTF-16 units, when there is a text column; named
   * `length(<text column>)`. Optional: baselines written before it was added still load.
   */
  readonly textLength?: NumericBaseline;
}

export interface BaselineOptions {
  readonly bins?: number;
  readonly topCategories?: number;
  readonly sampleSize?: number;
  readonly seed?: number;
}

export interface DriftOptions {
  readonly jsThreshold?: number;
  readonly linfThreshold?: number;
  readonly psiThreshold?: number;
  readonly rangeMargin?: number;
  /** Domain-classifier drift score (2·AUC − 1) above which text / embedding columns have drifted. */
  readonly domainThreshold?: number;
}

function positiveInt(v: number | undefined, what: string, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < min) throw new DetectorError('DETECTOR_BAD_OPTION', `${what} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

/** Summarise a trusted dataset as a JSON-serialisable baseline (deterministic for a seed). */
export function buildBaseline(dataset: Dataset, options: BaselineOptions = {}): Baseline {
  const bins = positiveInt(options.bins, 'bins', DEFAULT_BINS, 1);
  const top = positiveInt(options.topCategories, 'topCategories', DEFAULT_TOP_CATEGORIES, 1);
  const sampleSize = positiveInt(options.sampleSize, 'sampleSize', DEFAULT_SAMPLE_SIZE, 0);
  const seed = options.seed ?? 0;
  const features: FeatureBaseline[] = dataset.features.map((col) => {
    if (col.kind === 'numeric') return numericBaseline(col.name, col.values, bins);
    const freq = new Map<string, number>();
    let missing = 0;
    for (const v of col.values) {
      if (v === null) missing++;
      else freq.set(v, (freq.get(v) ?? 0) + 1);
    }
    const sorted = [...freq.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const kept = sorted.slice(0, top);
    const other = sorted.slice(top).reduce((s, [, c]) => s + c, 0);
    return { kind: 'categorical', name: col.name, values: kept.map(([value, count]) => ({ value, count })), other, missing };
  });
  const labelCounts = new Array<number>(dataset.labelNames.length).fill(0);
  for (const y of dataset.labelCodes) labelCounts[y] = (labelCounts[y] ?? 0) + 1;

  // Seeded sample without replacement, kept in reading order so the file diff-reads well.
  const rng = createRng(seed);
  const picked = rng
    .shuffle(Array.from({ length: dataset.n }, (_, i) => i))
    .slice(0, Math.min(sampleSize, dataset.n))
    .sort((a, b) => a - b);
  const emb = dataset.embedding;
  const rows: ReferenceRow[] = picked.map((i) => {
    const row: { label: string; features: (number | string | null)[]; text?: string; embedding?: number[] } = {
      label: dataset.labelNames[dataset.labelCodes[i] ?? 0] ?? '',
      features: dataset.features.map((c) => {
        const v = c.values[i];
        if (c.kind === 'numeric') return typeof v === 'number' && Number.isFinite(v) ? v : null;
        return typeof v === 'string' ? v : null;
      }),
    };
    if (dataset.text !== null) row.text = (dataset.text[i] ?? '').slice(0, SAMPLE_TEXT_CHARS);
    if (emb !== null) row.embedding = Array.from(emb.values.subarray(i * emb.dim, (i + 1) * emb.dim), (x) => Number(x.toPrecision(6)));
    return row;
  });

  return {
    schema: BASELINE_SCHEMA,
    version: BASELINE_VERSION,
    source: { path: dataset.origin.path, format: dataset.origin.format, rows: dataset.n },
    columns: Object.entries(dataset.roles).map(([name, role]) => ({ name, role })),
    textColumn: dataset.textColumn,
    embeddingDim: emb?.dim ?? null,
    features,
    labels: { names: [...dataset.labelNames], counts: labelCounts },
    sample: { seed, rows },
    ...(dataset.text === null ? {} : { textLength: numericBaseline(textLengthName(dataset.textColumn), Float64Array.from(dataset.text, (t) => t.length), bins) }),
  };
}

/** Name of the text-length pseudo-feature in reports. */
export function textLengthName(textColumn: string | null): string {
  return `length(${textColumn ?? 'text'})`;
}

/** Quantile-binned histogram of a numeric column (NaN = missing). */
function numericBaseline(name: string, values: Float64Array, bins: number): NumericBaseline {
  const present: number[] = [];
  let missing = 0;
  for (const v of values) {
    if (Number.isFinite(v)) present.push(v);
    else missing++;
  }
  present.sort((a, b) => a - b);
  const edges: number[] = [];
  if (present.length > 0) {
    for (let i = 0; i <= bins; i++) {
      const q = quantileSorted(present, i / bins);
      if (edges.length === 0 || q > edges[edges.length - 1]!) edges.push(q);
    }
  }
  const counts = new Array<number>(bucketCount(edges)).fill(0);
  for (const v of present) counts[bucketOf(edges, v)]! += 1;
  return { kind: 'numeric', name, edges, counts, missing, min: present[0] ?? null, max: present.at(-1) ?? null };
}

/** Linear-interpolated quantile of an ascending array (numpy's default). */
function quantileSorted(sorted: readonly number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function bucketCount(edges: readonly number[]): number {
  return Math.max(1, edges.length - 1) + 2;
}

/** 0 = underflow, last = overflow, interior bins are [e_i, e_{i+1}) with the top edge inclusive. */
function bucketOf(edges: readonly number[], x: number): number {
  const last = bucketCount(edges) - 1;
  if (edges.length === 0) return last;
  if (x < edges[0]!) return 0;
  if (x > edges[edges.length - 1]!) return last;
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  // lo = number of edges ≤ x (≥ 1 here).
  return Math.min(lo - 1, Math.max(0, edges.length - 2)) + 1;
}

function normalise(counts: readonly number[]): number[] {
  const total = counts.reduce((s, c) => s + c, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

/** Jensen–Shannon distance (natural log): sqrt of the JS divergence, in [0, sqrt(ln 2)]. */
export function jensenShannonDistance(p: readonly number[], q: readonly number[]): number {
  let d = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] ?? 0;
    const b = q[i] ?? 0;
    const m = (a + b) / 2;
    if (a > 0) d += 0.5 * a * Math.log(a / m);
    if (b > 0) d += 0.5 * b * Math.log(b / m);
  }
  return Math.sqrt(Math.max(0, d));
}

/** L∞ distance: the largest difference of any one bucket's frequency. */
export function linfDistance(p: readonly number[], q: readonly number[]): number {
  let d = 0;
  for (let i = 0; i < Math.max(p.length, q.length); i++) d = Math.max(d, Math.abs((p[i] ?? 0) - (q[i] ?? 0)));
  return d;
}

/** Population stability index of `actual` against `expected`, empty buckets floored at 1e-4. */
export function populationStabilityIndex(expected: readonly number[], actual: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] ?? 0;
    const a = actual[i] ?? 0;
    if (e === 0 && a === 0) continue;
    const ee = Math.max(e, PSI_EPSILON);
    const aa = Math.max(a, PSI_EPSILON);
    s += (aa - ee) * Math.log(aa / ee);
  }
  return s;
}

export interface FeatureDrift {
  readonly feature: string;
  readonly kind: 'numeric' | 'categorical';
  /** JS distance for numeric features, L∞ for categorical ones. */
  readonly metric: 'jensen-shannon' | 'l-infinity';
  readonly distance: number;
  readonly threshold: number;
  readonly psi: number;
  readonly psiThreshold: number;
  readonly drifted: boolean;
}

export interface SchemaViolation {
  readonly code: 'MISSING_COLUMN' | 'TYPE_CHANGED' | 'ROLE_CHANGED' | 'NEW_COLUMN';
  readonly column: string;
  readonly expected: string | null;
  readonly actual: string | null;
}

/** Build the `drift` detector against a trusted baseline. */
export function createDriftDetector(baseline: Baseline, options: DriftOptions = {}): Detector {
  const check = (v: number | undefined, what: string): void => {
    if (v !== undefined && !(v >= 0 && Number.isFinite(v))) throw new DetectorError('DETECTOR_BAD_OPTION', `${what} must be a finite number ≥ 0, got ${v}`);
  };
  check(options.jsThreshold, 'jsThreshold');
  check(options.linfThreshold, 'linfThreshold');
  check(options.psiThreshold, 'psiThreshold');
  check(options.rangeMargin, 'rangeMargin');
  check(options.domainThreshold, 'domainThreshold');
  return {
    name: DRIFT_DETECTOR,
    description:
      'Drift against a trusted baseline: per-feature, text-length and label distribution distances (JS, L∞, PSI), a domain classifier for text and embeddings, schema violations, new labels and categories, out-of-range values, rows far from or disagreeing with the trusted sample',
    needs: [],
    run: (ctx) => runDrift(ctx, baseline, options),
  };
}

const SEVERITY_SCORE: Readonly<Record<Severity, number>> = { critical: 1, high: 0.9, medium: 0.6, low: 0.3, info: 0.1 };

function runDrift(ctx: DetectorContext, baseline: Baseline, options: DriftOptions): DetectorResult {
  const jsT = options.jsThreshold ?? DEFAULT_JS_THRESHOLD;
  const linfT = options.linfThreshold ?? DEFAULT_LINF_THRESHOLD;
  const psiT = options.psiThreshold ?? DEFAULT_PSI_THRESHOLD;
  const margin = options.rangeMargin ?? DEFAULT_RANGE_MARGIN;
  const domainT = options.domainThreshold ?? DEFAULT_DOMAIN_THRESHOLD;
  const ds = ctx.dataset;
  const n = ctx.labels.length;
  if (ds.ids.length !== n) throw new DetectorError('DETECTOR_BAD_INPUT', `dataset has ${ds.ids.length} ids but ${n} labels`);
  ctx.progress(DRIFT_DETECTOR, 0, 1);

  const rowHits: { index: number; code: DriftCode; severity: Severity; message: string; evidence: Record<string, unknown> }[] = [];

  // Schema: every trusted column must still be there with the same role; new columns are noted.
  const schema: SchemaViolation[] = [];
  for (const { name, role } of baseline.columns) {
    const now = ds.roles[name];
    if (now === undefined) schema.push({ code: 'MISSING_COLUMN', column: name, expected: role, actual: null });
    else if (now !== role) schema.push({ code: isFeatureRole(role) && isFeatureRole(now) ? 'TYPE_CHANGED' : 'ROLE_CHANGED', column: name, expected: role, actual: now });
  }
  const known = new Set(baseline.columns.map((c) => c.name));
  for (const name of Object.keys(ds.roles)) if (!known.has(name)) schema.push({ code: 'NEW_COLUMN', column: name, expected: null, actual: ds.roles[name] ?? null });

  const features: FeatureDrift[] = [];
  // One family of tests: the features plus the text length share the false-alarm budget.
  const featureAlpha = NOISE_ALPHA / Math.max(1, baseline.features.length + (baseline.textLength === undefined ? 0 : 1));
  const byName = new Map(ds.features.map((c) => [c.name, c] as const));
  const skippedFeatures: string[] = [];
  for (const fb of baseline.features) {
    const col = byName.get(fb.name);
    if (col === undefined || col.kind !== fb.kind) {
      skippedFeatures.push(fb.name);
      continue;
    }
    if (fb.kind === 'numeric' && col.kind === 'numeric') {
      const counts = new Array<number>(fb.counts.length).fill(0);
      let missing = 0;
      const width = fb.min === null || fb.max === null ? 0 : fb.max - fb.min;
      for (let i = 0; i < col.values.length; i++) {
        const v = col.values[i]!;
        if (!Number.isFinite(v)) {
          missing++;
          continue;
        }
        counts[bucketOf(fb.edges, v)]! += 1;
        if (fb.min !== null && fb.max !== null && (v < fb.min - margin * width || v > fb.max + margin * width)) {
          rowHits.push({
            index: i,
            code: 'DRIFT_OUT_OF_RANGE',
            severity: 'low',
            message: `${fb.name} = ${v} is outside the trusted range [${fb.min}, ${fb.max}]`,
            evidence: { column: fb.name, value: v, trustedMin: fb.min, trustedMax: fb.max, margin },
          });
        }
      }
      features.push(numericDrift(fb, counts, missing, jsT, psiT, featureAlpha));
    } else if (fb.kind === 'categorical' && col.kind === 'categorical') {
      const index = new Map(fb.values.map((v, k) => [v.value, k] as const));
      const complete = fb.other === 0;
      const counts = new Array<number>(fb.values.length + 2).fill(0); // values..., other, missing
      for (let i = 0; i < col.values.length; i++) {
        const v = col.values[i];
        if (v === null || v === undefined) {
          counts[fb.values.length + 1]! += 1;
          continue;
        }
        const k = index.get(v);
        if (k !== undefined) counts[k]! += 1;
        else {
          counts[fb.values.length]! += 1;
          if (complete) {
            rowHits.push({
              index: i,
              code: 'DRIFT_NEW_CATEGORY',
              severity: 'medium',
              message: `${fb.name} = "${v.slice(0, 80)}" never occurs in the trusted data`,
              evidence: { column: fb.name, value: v.slice(0, 200), trustedValues: fb.values.length },
            });
          }
        }
      }
      features.push(histogramDrift(fb.name, 'categorical', [...fb.values.map((v) => v.count), fb.other, fb.missing], counts, linfT, psiT, featureAlpha));
    }
  }

  // Text length: the same numeric test on each text's full length.
  let textLength: FeatureDrift | null = null;
  if (baseline.textLength !== undefined && ds.text !== null) {
    const tb = baseline.textLength;
    const counts = new Array<number>(tb.counts.length).fill(0);
    for (const t of ds.text) counts[bucketOf(tb.edges, t.length)]! += 1;
    textLength = numericDrift(tb, counts, 0, jsT, psiT, featureAlpha);
  }

  // The trusted reference sample: rows far from it or whose trusted neighbours disagree, and the
  // domain classifier for text and embedding columns.
  const reference = ctx.reference ?? null;
  const ref = reference?.status === 'compared' ? scoreAgainstReference(ctx.labels, ctx.classNames, reference, domainT) : null;
  if (ref !== null) for (const h of ref.problems) rowHits.push(h);
  const multivariate: DomainDrift | null = ref?.domain ?? null;

  // Labels: distributions over the union of trusted and batch label names.
  const names = [...new Set([...baseline.labels.names, ...ctx.classNames])];
  const at = new Map(names.map((nm, k) => [nm, k] as const));
  const trusted = new Array<number>(names.length).fill(0);
  baseline.labels.names.forEach((nm, k) => (trusted[at.get(nm)!] = baseline.labels.counts[k] ?? 0));
  const batch = new Array<number>(names.length).fill(0);
  const trustedLabels = new Set(baseline.labels.names);
  for (let i = 0; i < n; i++) {
    const name = ctx.classNames[ctx.labels[i] ?? 0] ?? '';
    batch[at.get(name) ?? 0]! += 1;
    if (!trustedLabels.has(name)) {
      rowHits.push({ index: i, code: 'DRIFT_NEW_LABEL', severity: 'high', message: `label "${name.slice(0, 80)}" never occurs in the trusted data`, evidence: { label: name.slice(0, 200), trustedLabels: baseline.labels.names.slice(0, 50) } });
    }
  }
  const lp = normalise(trusted);
  const lq = normalise(batch);
  const labelFloor = noiseFloor(trusted, batch);
  const labelJs = jensenShannonDistance(lp, lq);
  const labelLinf = linfDistance(lp, lq);
  const labelPsi = populationStabilityIndex(lp, lq);
  const newLabels = ctx.classNames.filter((nm) => !trustedLabels.has(nm) && batch[at.get(nm)!]! > 0);

  // One finding per sample: its worst problem gives code and severity, all problems go in the evidence.
  const scores = new Float32Array(n);
  const perRow = new Map<number, typeof rowHits>();
  for (const h of rowHits) {
    const list = perRow.get(h.index);
    if (list === undefined) perRow.set(h.index, [h]);
    else list.push(h);
  }
  const findings: Finding[] = [];
  for (const [index, hits] of [...perRow.entries()].sort((a, b) => a[0] - b[0])) {
    const worst = hits.reduce((w, h) => (SEVERITY_SCORE[h.severity] > SEVERITY_SCORE[w.severity] ? h : w));
    const score = round6(Math.max(SEVERITY_SCORE[worst.severity], ref?.scores[index] ?? 0));
    scores[index] = score;
    findings.push({
      index,
      sampleId: ds.ids[index] ?? '',
      detector: DRIFT_DETECTOR,
      code: worst.code,
      score,
      severity: worst.severity,
      message: hits.length === 1 ? worst.message : `${worst.message} (+${hits.length - 1} more)`,
      evidence: { problems: hits.map((h) => ({ code: h.code, severity: h.severity, ...h.evidence })) },
    });
  }
  // Rows without a problem still carry their continuous distance / label score, for ranking.
  if (ref !== null) for (let i = 0; i < n; i++) if (!perRow.has(i)) scores[i] = ref.scores[i] ?? 0;
  const count = (code: DriftCode): number => rowHits.filter((h) => h.code === code).length;
  const drifted = features.filter((f) => f.drifted).map((f) => f.feature);
  if (textLength?.drifted === true) drifted.push(textLength.feature);
  if (multivariate?.drifted === true) drifted.push(multivariate.name);
  ctx.progress(DRIFT_DETECTOR, 1, 1);
  return {
    scores,
    findings,
    summary: {
      baselineRows: baseline.source.rows,
      batchRows: n,
      thresholds: { jensenShannon: jsT, lInfinity: linfT, psi: psiT, rangeMargin: margin, domainClassifier: domainT },
      drifted,
      features,
      textLength,
      multivariate,
      reference: reference === null ? null : reference.status === 'skipped' ? { skipped: reference.reason } : (ref?.summary ?? null),
      skippedFeatures,
      labels: {
        jensenShannon: round6(labelJs),
        lInfinity: round6(labelLinf),
        psi: round6(labelPsi),
        thresholds: { jensenShannon: round6(Math.max(jsT, labelFloor.js)), lInfinity: round6(Math.max(linfT, labelFloor.linf)), psi: round6(Math.max(psiT, labelFloor.psi)) },
        drifted: labelJs > Math.max(jsT, labelFloor.js) || labelLinf > Math.max(linfT, labelFloor.linf) || labelPsi > Math.max(psiT, labelFloor.psi),
        newLabels,
      },
      schema,
      rowProblems: {
        newLabel: count('DRIFT_NEW_LABEL'),
        newCategory: count('DRIFT_NEW_CATEGORY'),
        outOfRange: count('DRIFT_OUT_OF_RANGE'),
        farFromTrusted: count('DRIFT_FAR_FROM_TRUSTED'),
        trustedLabelMismatch: count('DRIFT_TRUSTED_LABEL_MISMATCH'),
      },
    },
  };
}

function numericDrift(fb: NumericBaseline, counts: readonly number[], missing: number, jsT: number, psiT: number, alpha: number): FeatureDrift {
  return histogramDrift(fb.name, 'numeric', [...fb.counts, fb.missing], [...counts, missing], jsT, psiT, alpha);
}

/**
 * Trusted vs batch histogram of one feature: Jensen–Shannon distance for numeric features, L∞ for
 * categorical ones, PSI for both; each threshold raised to the sampling-noise floor.
 */
function histogramDrift(feature: string, kind: 'numeric' | 'categorical', trustedCounts: readonly number[], batchCounts: readonly number[], distanceT: number, psiT: number, alpha: number): FeatureDrift {
  const p = normalise(trustedCounts);
  const q = normalise(batchCounts);
  const distance = kind === 'numeric' ? jensenShannonDistance(p, q) : linfDistance(p, q);
  const psi = populationStabilityIndex(p, q);
  const floor = noiseFloor(trustedCounts, batchCounts, alpha);
  const t = Math.max(distanceT, kind === 'numeric' ? floor.js : floor.linf);
  const tp = Math.max(psiT, floor.psi);
  const metric = kind === 'numeric' ? 'jensen-shannon' : 'l-infinity';
  return { feature, kind, metric, distance: round6(distance), threshold: round6(t), psi: round6(psi), psiThreshold: round6(tp), drifted: distance > t || psi > tp };
}

/** False-alarm probability of the noise floor, for the whole batch (split over the features compared). */
export const NOISE_ALPHA = 0.001;

/**
 * What sampling noise alone reaches with probability `alpha` when the batch and the trusted data
 * share one distribution (two-sample histograms with n and m rows over B occupied buckets):
 * PSI and 8·JSD ≈ χ²(B − 1)·(1/n + 1/m), and any one bucket's frequency gap is at most
 * z·√(¼(1/n + 1/m)). A small batch's distances are noisy: a 100-row batch against 300 trusted rows
 * reaches JS 0.12 and PSI 0.12 on average with no drift at all, so the fixed thresholds (tuned for
 * batches of ~500) are raised to this floor; for 500 rows against 2,000 it is below them (JS 0.08,
 * PSI 0.05, L∞ 0.08 at alpha 0.001) and changes nothing. The caller divides NOISE_ALPHA by the
 * number of features tested (Bonferroni): with 784 pixel columns each tested at 0.001, a clean
 * Fashion-MNIST batch drifted on one pixel in one seed of three.
 */
export function noiseFloor(trustedCounts: readonly number[], batchCounts: readonly number[], alpha = NOISE_ALPHA): { js: number; psi: number; linf: number } {
  const m = trustedCounts.reduce((s, c) => s + c, 0);
  const n = batchCounts.reduce((s, c) => s + c, 0);
  if (m === 0 || n === 0) return { js: 0, psi: 0, linf: 0 };
  let occupied = 0;
  for (let i = 0; i < Math.max(trustedCounts.length, batchCounts.length); i++) if ((trustedCounts[i] ?? 0) > 0 || (batchCounts[i] ?? 0) > 0) occupied++;
  const df = Math.max(1, occupied - 1);
  const z = normalQuantile(1 - alpha);
  // Wilson–Hilferty approximation of the χ² quantile.
  const a = 2 / (9 * df);
  const chi2 = df * Math.pow(1 - a + z * Math.sqrt(a), 3);
  const v = 1 / n + 1 / m;
  return { js: Math.sqrt((chi2 * v) / 8), psi: chi2 * v, linf: z * Math.sqrt(0.25 * v) };
}

/** Standard normal quantile for p in (0, 1) (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number): number => (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

function isFeatureRole(r: string): boolean {
  return r === 'numeric' || r === 'categorical';
}

