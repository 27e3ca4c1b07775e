export { REPORT_SCHEMA, REPORT_VERSION } from './report.ts';
export type { ScanReport, ReportInput, ReportSettings, ReportSummary, ClassSummary, SampleResult, SamplePreview } from './report.ts';
