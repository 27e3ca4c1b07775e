import type { Severity } from '../../core/index.ts';
import type { ScanReport } from '../report.ts';
import { codePointLength, formatCount, formatDuration, formatFixed, formatPercent, oneLine, shortId, truncate } from './format.ts';
import { countSuspicious, rankSamples } from './ranking.ts';

export interface TextOptions {
  /** Use ANSI colours (the CLI passes true only for a TTY without NO_COLOR). Default false. */
  readonly color?: boolean;
  /** How many top samples to list. Default 20. */
  readonly top?: number;
  /** Terminal width in columns; when set, the table's last column is cut to fit. */
  readonly width?: number;
  /** Where the CLI wrote the full report, for the last line. */
  readonly reportPath?: string;
}

/** How to get the full report, shown when the CLI did not write one. Keep in sync with the CLI's flags. */
export const FULL_REPORT_HINT = 'Full report: add --format html --out report.html (or --format json / csv).';

const LABEL_WIDTH = 20;
const ID_WIDTH = 14;

// SGR codes. Severity colours follow the usual traffic-light order so `high` stands out on a dark or light terminal.
const SEVERITY_SGR: Readonly<Record<Severity, string>> = {
  critical: '1;35',
  high: '1;31',
  medium: '33',
  low: '36',
  info: '2',
};

/** The terminal summary of a scan: counts, per-class noise, timings and the top suspicious samples as a table. */
export function renderText(report: ScanReport, options: TextOptions = {}): string {
  const color = options.color ?? false;
  const top = options.top ?? 20;
  const paint = (sgr: string, s: string): string => (color && s !== '' ? `\u001b[${sgr}m${s}\u001b[0m` : s);
  const bold = (s: string): string => paint('1', s);
  const { input, summary, settings } = report;
  const lines: string[] = [];

  lines.push(`${bold('TrainGuard scan')} · ${oneLine(input.path)}`);
  lines.push(
    `  ${input.format} · sha256 ${shortId(input.sha256)} · seed ${settings.seed} · ${settings.folds} folds · k ${settings.k} · model ${oneLine(settings.model)}`,
  );
  lines.push('');

  // Rows.
  const skippedCodes = Object.entries(input.skipped.byCode)
    .map(([code, n]) => `${oneLine(code)} ${formatCount(n)}`)
    .join(', ');
  lines.push(
    `${bold('Rows')}      ${formatCount(input.rows)} read · ${formatCount(input.skipped.count)} skipped${skippedCodes === '' ? '' : ` (${skippedCodes})`}`,
  );
  for (const ex of input.skipped.examples.slice(0, 3)) {
    const where = ex.line !== undefined ? `line ${ex.line}` : ex.path !== undefined ? oneLine(ex.path) : '?';
    lines.push(`          ${paint('2', `${where}: ${oneLine(ex.code)} ${truncate(oneLine(ex.message), 80)}`)}`);
  }

  // Classes.
  lines.push(bold('Classes'));
  const classRows = summary.classes.map((c) => [
    truncate(oneLine(c.name), LABEL_WIDTH),
    formatCount(c.count),
    formatCount(c.flagged),
    formatPercent(c.estimatedNoiseRate),
  ]);
  lines.push(...table(['class', 'count', 'flagged', 'est. noise'], classRows, [false, true, true, true], '  ', bold));

  // Overall.
  const flaggedShare = summary.samples > 0 ? formatPercent(summary.flagged / summary.samples) : '-';
  const sev = summary.maxSeverity === null ? 'none' : paint(SEVERITY_SGR[summary.maxSeverity], summary.maxSeverity);
  lines.push(
    `${bold('Overall')}   estimated noise ${formatPercent(summary.estimatedNoiseRate)} · out-of-fold accuracy ${formatPercent(summary.outOfFoldAccuracy)} · flagged ${formatCount(summary.flagged)} of ${formatCount(summary.samples)} (${flaggedShare}) · max severity ${sev}`,
  );
  const timings = Object.entries(report.timings).map(([stage, ms]) => `${oneLine(stage)} ${formatDuration(ms)}`);
  if (timings.length > 0) lines.push(`${bold('Timings')}   ${timings.join(' · ')}`);
  lines.push('');

  // Top samples.
  const total = countSuspicious(report);
  const ranked = rankSamples(report, top);
  if (total === 0) {
    lines.push('No suspicious samples found.');
  } else {
    lines.push(bold(ranked.length < total ? `Top ${ranked.length} of ${formatCount(total)} suspicious samples` : `${formatCount(total)} suspicious samples`));
    const rows = ranked.map((r) => {
      const s = r.sample;
      const suggested =
        s.suggestedLabel === null
          ? '-'
          : `${truncate(oneLine(s.suggestedLabel), LABEL_WIDTH)}${s.suggestedProbability === null ? '' : ` (${formatFixed(s.suggestedProbability, 2)})`}`;
      return [
        String(r.rank),
        String(s.line),
        truncate(oneLine(s.externalId ?? shortId(s.id)), ID_WIDTH),
        truncate(oneLine(s.label), LABEL_WIDTH),
        suggested,
        formatFixed(s.score, 3),
        r.severity ?? '-',
        oneLine(s.detectors.join(', ')),
      ];
    });
    const header = ['rank', 'line', 'id', 'label', 'suggested (p)', 'score', 'severity', 'detectors'];
    const align = [true, true, false, false, false, true, false, false];
    fitLastColumn(header, rows, options.width, ' ');
    const severityPaint = (cell: string, row: number): string => {
      const s = ranked[row]?.severity;
      return s === null || s === undefined ? cell : paint(SEVERITY_SGR[s], cell);
    };
    lines.push(...table(header, rows, align, ' ', bold, { column: 6, paint: severityPaint }));
  }
  lines.push('');
  lines.push(options.reportPath !== undefined ? `Full report: ${oneLine(options.reportPath)}` : FULL_REPORT_HINT);
  return `${lines.join('\n')}\n`;
}

interface CellPaint {
  readonly column: number;
  readonly paint: (cell: string, row: number) => string;
}

/** Aligned table; widths come from the plain text, colour is applied after padding so it does not skew them. */
function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  rightAlign: readonly boolean[],
  indent: string,
  headerPaint: (s: string) => string,
  cellPaint?: CellPaint,
): string[] {
  const widths = header.map((h, c) => Math.max(codePointLength(h), ...rows.map((r) => codePointLength(r[c] ?? ''))));
  const pad = (s: string, c: number): string => {
    const gap = ' '.repeat(Math.max(0, (widths[c] ?? 0) - codePointLength(s)));
    return rightAlign[c] === true ? gap + s : s + gap;
  };
  const last = header.length - 1;
  const join = (cells: readonly string[]): string => `${indent}${cells.join('  ')}`.trimEnd();
  const out = [join(header.map((h, c) => headerPaint(c === last ? h : pad(h, c))))];
  rows.forEach((r, i) => {
    out.push(
      join(
        r.map((cell, c) => {
          const padded = c === last && rightAlign[c] !== true ? cell : pad(cell, c);
          return cellPaint !== undefined && cellPaint.column === c ? cellPaint.paint(padded, i) : padded;
        }),
      ),
    );
  });
  return out;
}

/** Cut the last column so each line fits in `width` columns (at least 10 columns stay for it). */
function fitLastColumn(header: string[], rows: string[][], width: number | undefined, indent: string): void {
  if (width === undefined || !Number.isFinite(width)) return;
  const last = header.length - 1;
  let used = indent.length + 2 * last;
  for (let c = 0; c < last; c++) {
    used += Math.max(codePointLength(header[c] ?? ''), ...rows.map((r) => codePointLength(r[c] ?? '')));
  }
  const room = Math.max(10, Math.floor(width) - used);
  for (const r of rows) r[last] = truncate(r[last] ?? '', room);
}
