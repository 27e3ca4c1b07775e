import type { ScanReport } from '../report.ts';
import { renderCsv } from './csv.ts';
import { renderHtml } from './html.ts';
import type { HtmlOptions } from './html.ts';
import { renderJson } from './json.ts';
import { renderText } from './text.ts';
import type { TextOptions } from './text.ts';

export { renderText, FULL_REPORT_HINT } from './text.ts';
export type { TextOptions } from './text.ts';
export { renderJson } from './json.ts';
export { renderCsv, CSV_HEADER } from './csv.ts';
export { renderHtml, reportCsp } from './html.ts';
export type { HtmlOptions } from './html.ts';

/** The output formats of `trainguard scan --format`. */
export const REPORT_FORMATS = ['text', 'json', 'csv', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function isReportFormat(s: string): s is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(s);
}

/** Options for every format; each renderer reads only its own (`top` means 20 rows for text, 200 cards for HTML by default). */
export type RenderOptions = TextOptions & HtmlOptions;

/** Render a report in the given format; the caller writes the string (all formats are UTF-8 text). */
export function renderReport(report: ScanReport, format: ReportFormat, options: RenderOptions = {}): string {
  switch (format) {
    case 'text':
      return renderText(report, options);
    case 'json':
      return renderJson(report);
    case 'csv':
      return renderCsv(report);
    case 'html':
      return renderHtml(report, options.top === undefined ? {} : { top: options.top });
  }
}
