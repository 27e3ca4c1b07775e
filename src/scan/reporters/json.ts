import type { ScanReport } from '../report.ts';

/**
 * The report as pretty-printed JSON (2-space indent, trailing newline), the schema documented in
 * docs/report-format.md. Key order is the order the scan builds the object in, which is deterministic.
 * JSON has no NaN or Infinity: a non-finite number (e.g. the accuracy of an empty class) is written as
 * `null`, which is what `JSON.stringify` does by itself; readers must accept `null` wherever a number
 * may be undefined.
 */
export function renderJson(report: ScanReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
