// Guards against: the --format dispatcher sending a format to the wrong renderer or dropping its options.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { fixtureReport } from './fixture-report.ts';
import { REPORT_FORMATS, isReportFormat, renderCsv, renderHtml, renderJson, renderReport, renderText } from './index.ts';

describe('renderReport', () => {
  it('dispatches every format with its options', () => {
    const r = fixtureReport();
    assert.deepEqual(REPORT_FORMATS, ['text', 'json', 'csv', 'html']);
    assert.equal(renderReport(r, 'text', { top: 1, color: true }), renderText(r, { top: 1, color: true }));
    assert.equal(renderReport(r, 'json'), renderJson(r));
    assert.equal(renderReport(r, 'csv'), renderCsv(r));
    assert.equal(renderReport(r, 'html', { top: 2 }), renderHtml(r, { top: 2 }));
    assert.notEqual(renderReport(r, 'html', { top: 2 }), renderHtml(r));
  });

  it('recognises formats', () => {
    assert.ok(isReportFormat('html'));
    assert.ok(!isReportFormat('HTML'));
    assert.ok(!isReportFormat('pdf'));
  });
});
