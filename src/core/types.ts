/** Severity of a finding, lowest first. `--fail-on` compares against this order. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function isSeverity(s: string): s is Severity {
  return (SEVERITIES as readonly string[]).includes(s);
}

/**
 * One suspicious sample, as data. Detectors never throw on a bad sample: they return findings.
 * `evidence` is JSON-serialisable and says why, so a reviewer can judge it.
 */
export interface Finding {
  /** Row index in the dataset (0-based, in reading order). */
  readonly index: number;
  /** Content-addressed sample id (hex SHA-256). */
  readonly sampleId: string;
  /** Detector name, e.g. `label-issues`. */
  readonly detector: string;
  /** Stable machine code, e.g. `LABEL_ISSUE`. */
  readonly code: string;
  /** Suspicion in [0, 1]; higher is more suspicious. */
  readonly score: number;
  readonly severity: Severity;
  readonly message: string;
  readonly evidence: Readonly<Record<string, unknown>>;
}

/** Progress callback: a stage name and done/total units. Library code reports; only the CLI draws. */
export type ProgressFn = (stage: string, done: number, total: number) => void;

/** Library code logs through this; the CLI decides where it goes. Never log sample contents. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
};
