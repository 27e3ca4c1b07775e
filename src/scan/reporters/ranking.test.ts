// Guards against: a sample flagged by two detectors listed twice, an unstable order between runs,
// and a reporter crashing on malformed detector evidence (evidence is untyped JSON).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Finding } from '../../core/index.ts';
import type { ScanReport } from '../report.ts';
import { fixtureReport } from './fixture-report.ts';
import { countSuspicious, findNeighbours, rankSamples } from './ranking.ts';

function finding(evidence: Record<string, unknown>): Finding {
  return { index: 0, sampleId: 'x', detector: 'd', code: 'C', score: 0.5, severity: 'low', message: '', evidence };
}

describe('rankSamples', () => {
  it('groups findings by sample and orders by score', () => {
    const ranked = rankSamples(fixtureReport());
    assert.deepEqual(
      ranked.map((r) => [r.rank, r.sample.index, r.severity, r.findings.length]),
      [
        [1, 2, 'high', 2],
        [2, 7, 'medium', 1],
        [3, 9, 'low', 1],
      ],
    );
    assert.deepEqual(
      ranked[0]!.neighbours.map((n) => [n.index, n.label]),
      [
        [4, 'spam'],
        [5, 'spam'],
        [1, 'ham'],
      ],
    );
    assert.equal(countSuspicious(fixtureReport()), 3);
    assert.equal(rankSamples(fixtureReport(), 2).length, 2);
  });

  it('breaks ties by index and keeps flagged samples without findings', () => {
    const base = fixtureReport();
    const report: ScanReport = {
      ...base,
      samples: base.samples.map((s) => (s.index === 0 || s.index === 7 ? { ...s, flagged: true, score: 0.74 } : s)),
    };
    assert.deepEqual(
      rankSamples(report).map((r) => r.sample.index),
      [2, 0, 7, 9],
    );
    assert.equal(rankSamples(report)[1]!.severity, null);
  });

  it('ignores malformed kNN evidence', () => {
    assert.deepEqual(findNeighbours([finding({ knn: 'nope' })]), []);
    assert.deepEqual(findNeighbours([finding({ knn: { neighbours: [null, { index: 'a' }, { index: 1.5 }] } })]), []);
    assert.deepEqual(findNeighbours([finding({ knn: { neighbours: [{ index: 3, label: 7 }] } })]), [
      { index: 3, id: '', label: '7', distance: Number.NaN },
    ]);
  });
});
