import type { Finding, Severity } from '../core/index.ts';
import type { ColumnRole, DatasetFormat, SkippedRow } from '../data/index.ts';

/**
 * The scan report: the one result object every reporter renders (text, JSON, CSV, HTML).
 * Its JSON form is the documented, versioned schema in docs/report-format.md; bump
 * `REPORT_VERSION` on any incompatible change.
 */
export const REPORT_SCHEMA = 'trainguard/scan-report';
export const REPORT_VERSION = 1;

export interface ScanReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly version: typeof REPORT_VERSION;
  readonly tool: { readonly name: 'trainguard'; readonly version: string };
  /** ISO-8601 time the scan finished. The only field that differs between two runs with the same seed. */
  readonly createdAt: string;
  readonly input: ReportInput;
  readonly settings: ReportSettings;
  readonly summary: ReportSummary;
  /** Wall time per stage, milliseconds. */
  readonly timings: Readonly<Record<string, number>>;
  /** One entry per sample, in input order. */
  readonly samples: readonly SampleResult[];
  /** Every finding of every detector for flagged samples, highest score first. */
  readonly findings: readonly Finding[];
  /** Previews of the top findings' samples and their neighbours, keyed by sample index. */
  readonly previews: Readonly<Record<string, SamplePreview>>;
}

export interface ReportInput {
  readonly path: string;
  readonly format: DatasetFormat;
  /** SHA-256 of the input file (for folders: of the sorted list of file digests). */
  readonly sha256: string;
  readonly rows: number;
  readonly columns: Readonly<Record<string, ColumnRole>>;
  readonly skipped: { readonly count: number; readonly byCode: Readonly<Record<string, number>>; readonly examples: readonly SkippedRow[] };
}

export interface ReportSettings {
  readonly seed: number;
  readonly folds: number;
  readonly k: number;
  readonly filterBy: string;
  readonly featureDim: number;
  readonly reducedDim: number;
  readonly model: string;
  readonly detectors: readonly string[];
  readonly failOn: Severity;
}

export interface ClassSummary {
  readonly name: string;
  readonly count: number;
  readonly flagged: number;
  /** Estimated share of this class's given labels that are wrong (1 − noise-matrix diagonal). */
  readonly estimatedNoiseRate: number;
}

export interface ReportSummary {
  readonly samples: number;
  readonly classes: readonly ClassSummary[];
  readonly flagged: number;
  /** Estimated fraction of wrong labels in the whole dataset (1 − trace of the joint). */
  readonly estimatedNoiseRate: number;
  /** Accuracy of the out-of-fold predictions against the given labels. */
  readonly outOfFoldAccuracy: number;
  /** Estimated joint distribution of (given label, true label): rows given, columns true; sums to 1. */
  readonly noiseMatrix: { readonly labels: readonly string[]; readonly joint: ReadonlyArray<readonly number[]> };
  /** Histogram of combined scores: `edges` has bins + 1 entries. */
  readonly scoreHistogram: { readonly edges: readonly number[]; readonly counts: readonly number[] };
  /** Highest severity among findings, or null if none. */
  readonly maxSeverity: Severity | null;
  /** Per-detector dataset-level facts (detector name → its summary). */
  readonly detectors: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface SampleResult {
  readonly index: number;
  readonly id: string;
  readonly externalId: string | null;
  /** 1-based line (or row / file number) in the input. */
  readonly line: number;
  readonly label: string;
  /** Combined suspicion in [0, 1]. */
  readonly score: number;
  readonly flagged: boolean;
  readonly suggestedLabel: string | null;
  readonly suggestedProbability: number | null;
  /** Detectors that flagged this sample. */
  readonly detectors: readonly string[];
  /** Each detector's own score for this sample (the combined `score` is their maximum). */
  readonly scores: Readonly<Record<string, number>>;
}

export type SamplePreview =
  | { readonly kind: 'text'; readonly label: string; readonly text: string; readonly truncated: boolean }
  | { readonly kind: 'row'; readonly label: string; readonly values: Readonly<Record<string, string | number | null>> }
  | { readonly kind: 'image'; readonly label: string; readonly path: string; readonly pngBase64: string; readonly width: number; readonly height: number };
