import type { ScanReport } from '../report.ts';

/** The CSV header, one row per sample in input order. */
export const CSV_HEADER = ['id', 'externalId', 'score', 'flagged', 'label', 'suggestedLabel', 'detectors'] as const;

/**
 * One row per sample (RFC 4180: CRLF line ends, fields with a comma, quote or line break are quoted and
 * quotes doubled). Score has 6 decimals; an absent value is an empty field; detectors are joined by `;`.
 */
export function renderCsv(report: ScanReport): string {
  const lines = [CSV_HEADER.join(',')];
  for (const s of report.samples) {
    lines.push(
      [
        textCell(s.id),
        textCell(s.externalId ?? ''),
        Number.isFinite(s.score) ? s.score.toFixed(6) : '',
        s.flagged ? 'true' : 'false',
        textCell(s.label),
        textCell(s.suggestedLabel ?? ''),
        textCell(s.detectors.join(';')),
      ].join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

// A plain number cannot be a formula, so a label like `-1` stays as it is.
const PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Guard against CSV (formula) injection: this file is meant to be opened in a spreadsheet, and ids and
 * labels come from the scanned data, so a cell such as `=HYPERLINK(...)` or `@SUM(...)` would run as a
 * formula there. Following OWASP, a text cell starting with `=`, `+`, `-`, `@`, tab or CR gets a
 * leading `'`, which spreadsheets read as "this is text". Then RFC 4180 quoting.
 */
export function textCell(value: string): string {
  const guarded = /^[=+\-@\t\r]/.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}
