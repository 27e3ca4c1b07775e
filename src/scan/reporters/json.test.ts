// Guards against: a JSON report that does not parse back to the same data, changes between two renders
// of the same report, or contains NaN/Infinity (invalid JSON that breaks every consumer).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ScanReport } from '../report.ts';
import { fixtureReport } from './fixture-report.ts';
import { renderJson } from './json.ts';

describe('renderJson', () => {
  it('round-trips to the same data', () => {
    const report = fixtureReport();
    const out = renderJson(report);
    assert.deepEqual(JSON.parse(out), report);
    assert.equal(renderJson(fixtureReport()), out, 'deterministic');
  });

  it('is pretty-printed with 2 spaces and ends with a newline', () => {
    const out = renderJson(fixtureReport());
    const lines = out.split('\n');
    assert.equal(lines[0], '{');
    assert.equal(lines[1], '  "schema": "trainguard/scan-report",');
    assert.ok(out.endsWith('}\n'));
  });

  it('writes non-finite numbers as null', () => {
    const base = fixtureReport();
    const report: ScanReport = {
      ...base,
      summary: { ...base.summary, outOfFoldAccuracy: Number.NaN, estimatedNoiseRate: Number.POSITIVE_INFINITY },
    };
    const parsed = JSON.parse(renderJson(report)) as { summary: Record<string, unknown> };
    assert.equal(parsed.summary['outOfFoldAccuracy'], null);
    assert.equal(parsed.summary['estimatedNoiseRate'], null);
    assert.ok(!renderJson(report).includes('NaN'));
  });
});
