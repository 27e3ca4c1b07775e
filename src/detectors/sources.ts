/**
 * Per-source analysis (research/detection.md §6.4 item 13, provenance): given which samples the
 * detectors flagged, does one source (annotator, contributor, scrape) hold more than its share?
 * A poisoner rarely controls the whole dataset; they control a source.
 *
 * Per source: rows, flagged, flag rate, share of rows and of flags, a one-sided exact binomial
 * p-value P(X ≥ flagged | rows, overall flag rate), Bonferroni-adjusted over the sources, and the
 * Jensen–Shannon distance (base 2, in [0, 1]) between its label distribution and the rest's.
 *
 * | code                    | severity | rule                                                                  |
 * |-------------------------|----------|-----------------------------------------------------------------------|
 * | SOURCE_HIGH_FLAG_RATE   | high     | adjusted p < `alpha` (0.01) and its flag rate above the overall rate  |
 * | SOURCE_DOMINATES_FLAGS  | medium   | ≥ 50 % of all flags from < 50 % of the rows (≥ 10 flags overall)      |
 *
 * Findings: one per flagged sample of an offending source (Finding needs a sample), with the source's
 * statistics as evidence; a sample of a source meeting both rules gets SOURCE_HIGH_FLAG_RATE. The
 * per-source table is in `summary.sources`. Samples without a source form the group `<none>`.
 */
import type { Finding, Severity } from '../core/index.ts';
import type { Dataset } from '../data/index.ts';
import { DetectorError } from './errors.ts';
import { round6 } from './numbers.ts';

export const SOURCES_DETECTOR = 'sources';
export const SOURCE_HIGH_FLAG_RATE = 'SOURCE_HIGH_FLAG_RATE';
export const SOURCE_DOMINATES_FLAGS = 'SOURCE_DOMINATES_FLAGS';
/** Family-wise significance level for SOURCE_HIGH_FLAG_RATE (after Bonferroni). */
export const DEFAULT_SOURCE_ALPHA = 0.01;
/** Share of flags (and, below it, of rows) for SOURCE_DOMINATES_FLAGS. */
export const DOMINANCE_SHARE = 0.5;
/** Fewer flags than this overall say nothing about which source they came from. */
export const MIN_FLAGS_FOR_DOMINANCE = 10;
/** The group of samples whose source is missing. */
export const NO_SOURCE = '<none>';

export interface SourceStats {
  readonly source: string;
  readonly rows: number;
  readonly flagged: number;
  readonly flagRate: number;
  readonly rowShare: number;
  readonly flagShare: number;
  /** One-sided exact binomial tail P(X ≥ flagged) at the overall flag rate. */
  readonly pValue: number;
  /** pValue × number of sources, capped at 1 (Bonferroni). */
  readonly pAdjusted: number;
  /** Jensen–Shannon distance between this source's label distribution and the rest's; null when there is no rest. */
  readonly labelDistance: number | null;
  readonly labelCounts: Readonly<Record<string, number>>;
  readonly highFlagRate: boolean;
  readonly dominatesFlags: boolean;
}

export interface SourceAnalysis {
  readonly findings: Finding[];
  readonly summary: {
    readonly sources: readonly SourceStats[];
    readonly overallFlagRate: number;
    readonly flagged: number;
    readonly rows: number;
    readonly alpha: number;
    readonly suspiciousSources: readonly string[];
  };
}

export interface SourceAnalysisOptions {
  /** Family-wise level for SOURCE_HIGH_FLAG_RATE (default 0.01). */
  readonly alpha?: number;
  /** Names for the label codes (default: dataset.labelNames). */
  readonly classNames?: readonly string[];
}

/**
 * Tests each source's flag count against the overall flag rate and compares its labels with the
 * rest; returns null when the dataset has no source column. Throws DETECTOR_BAD_INPUT on lengths
 * that disagree.
 */
export function analyzeSources(
  dataset: Dataset,
  flagged: Uint8Array,
  labels: Int32Array,
  numClasses: number,
  options: SourceAnalysisOptions = {},
): SourceAnalysis | null {
  const sources = dataset.sources;
  if (sources === null) return null;
  const n = labels.length;
  if (flagged.length !== n || sources.length !== n || dataset.ids.length !== n) {
    throw new DetectorError('DETECTOR_BAD_INPUT', `sources (${sources.length}), flags (${flagged.length}), labels (${n}) and ids (${dataset.ids.length}) differ in length`);
  }
  const alpha = options.alpha ?? DEFAULT_SOURCE_ALPHA;
  if (!(alpha > 0 && alpha < 1)) throw new DetectorError('DETECTOR_BAD_OPTION', `alpha must be in (0, 1), got ${alpha}`);
  const classNames = options.classNames ?? dataset.labelNames;
  const K = Math.max(numClasses, 1);

  const groups = new Map<string, { rows: number[]; flagged: number; labels: Float64Array }>();
  const totalLabels = new Float64Array(K);
  let totalFlagged = 0;
  for (let i = 0; i < n; i++) {
    const key = sources[i] ?? NO_SOURCE;
    let g = groups.get(key);
    if (g === undefined) {
      g = { rows: [], flagged: 0, labels: new Float64Array(K) };
      groups.set(key, g);
    }
    g.rows.push(i);
    const y = labels[i]!;
    if (y >= 0 && y < K) {
      g.labels[y]!++;
      totalLabels[y]!++;
    }
    if (flagged[i] === 1) {
      g.flagged++;
      totalFlagged++;
    }
  }
  const p0 = n === 0 ? 0 : totalFlagged / n;
  const S = groups.size;
  const stats: SourceStats[] = [];
  const rest = new Float64Array(K);
  for (const [source, g] of [...groups].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    const rows = g.rows.length;
    const rate = g.flagged / rows;
    const pValue = binomialUpperTail(g.flagged, rows, p0);
    const pAdjusted = Math.min(1, pValue * S);
    for (let k = 0; k < K; k++) rest[k] = totalLabels[k]! - g.labels[k]!;
    const restRows = n - rows;
    const rowShare = n === 0 ? 0 : rows / n;
    const flagShare = totalFlagged === 0 ? 0 : g.flagged / totalFlagged;
    const labelCounts: Record<string, number> = {};
    for (let k = 0; k < K; k++) if (g.labels[k]! > 0) labelCounts[classNames[k] ?? String(k)] = g.labels[k]!;
    stats.push({
      source,
      rows,
      flagged: g.flagged,
      flagRate: round6(rate),
      rowShare: round6(rowShare),
      flagShare: round6(flagShare),
      pValue: roundP(pValue),
      pAdjusted: roundP(pAdjusted),
      labelDistance: restRows === 0 ? null : round6(jensenShannonDistance(g.labels, rest)),
      labelCounts,
      highFlagRate: S > 1 && rate > p0 && pAdjusted < alpha,
      dominatesFlags: S > 1 && totalFlagged >= MIN_FLAGS_FOR_DOMINANCE && flagShare >= DOMINANCE_SHARE && rowShare < DOMINANCE_SHARE,
    });
  }

  const findings: Finding[] = [];
  for (const s of stats) {
    if (!s.highFlagRate && !s.dominatesFlags) continue;
    const code = s.highFlagRate ? SOURCE_HIGH_FLAG_RATE : SOURCE_DOMINATES_FLAGS;
    const severity: Severity = s.highFlagRate ? 'high' : 'medium';
    const score = s.highFlagRate ? 0.9 : 0.6;
    const message = s.highFlagRate
      ? `source "${s.source}" has flag rate ${(s.flagRate * 100).toFixed(1)} % vs ${(p0 * 100).toFixed(1)} % overall (adjusted p=${s.pAdjusted.toPrecision(2)})`
      : `source "${s.source}" holds ${(s.flagShare * 100).toFixed(0)} % of the flags from ${(s.rowShare * 100).toFixed(0)} % of the rows`;
    const { labelCounts: _omit, ...evidence } = s;
    for (const i of groups.get(s.source)!.rows) {
      if (flagged[i] !== 1) continue;
      findings.push({ index: i, sampleId: dataset.ids[i]!, detector: SOURCES_DETECTOR, code, score, severity, message, evidence: { ...evidence, overallFlagRate: round6(p0) } });
    }
  }
  findings.sort((a, b) => b.score - a.score || a.index - b.index);
  return {
    findings,
    summary: {
      sources: stats,
      overallFlagRate: round6(p0),
      flagged: totalFlagged,
      rows: n,
      alpha,
      suspiciousSources: stats.filter((s) => s.highFlagRate || s.dominatesFlags).map((s) => s.source),
    },
  };
}

/** P(X ≥ k) for X ~ Binomial(n, p), summed exactly from the pmf at k upwards (log-space start, ratio recurrence). */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const logPmf = logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
  let term = Math.exp(logPmf);
  let sum = term;
  const odds = p / (1 - p);
  for (let j = k; j < n; j++) {
    term *= ((n - j) / (j + 1)) * odds;
    sum += term;
    // Past the mode the terms only shrink: stop once they no longer change the sum.
    if (j > n * p && term < sum * 1e-17) break;
  }
  return Math.min(1, sum);
}

/** log C(n, k) via log-gamma. */
function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; ~15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** √JS divergence (base 2) between two count vectors, normalised to distributions; 0 when either is empty. */
export function jensenShannonDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sa = 0;
  let sb = 0;
  for (let k = 0; k < a.length; k++) {
    sa += a[k]!;
    sb += b[k]!;
  }
  if (sa === 0 || sb === 0) return 0;
  let js = 0;
  for (let k = 0; k < a.length; k++) {
    const p = a[k]! / sa;
    const q = b[k]! / sb;
    const m = (p + q) / 2;
    if (p > 0) js += 0.5 * p * Math.log2(p / m);
    if (q > 0) js += 0.5 * q * Math.log2(q / m);
  }
  return Math.sqrt(Math.max(0, Math.min(1, js)));
}


/** p-values keep 3 significant digits (rounding to 1e-6 would turn 1e-12 into 0). */
function roundP(p: number): number {
  return p === 0 ? 0 : Number(p.toPrecision(3));
}
