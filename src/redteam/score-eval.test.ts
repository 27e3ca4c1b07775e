// Guards against: an evaluation that matches report samples to the wrong planted rows, drops planted
// samples the scan skipped (inflating recall), misreads the scan's formula-guarded CSV ids, or gets
// precision/recall/F1/AUROC/precision@k wrong on a case small enough to check by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateAgainstTruth, parseScores, parseTruth, RedteamError } from './index.ts';

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);

// Six samples a..f; planted a (symmetric), c (ood), e (symmetric).
const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
const scores = [0.9, 0.8, 0.7, 0.2, 0.1, 0.05];
const flagged = [true, true, false, true, false, false];
const report = JSON.stringify({ schema: 'trainguard/scan-report', samples: ids.map((id, i) => ({ externalId: id, line: i + 2, score: scores[i], flagged: flagged[i] })) });
const truth = parseTruth({
  attack: 'mix',
  seed: 1,
  rate: 0.5,
  input: 'in.csv',
  output: 'out.csv',
  planted: [
    { id: 'a', row: 1, line: 2, attack: 'symmetric', originalLabel: 'x', plantedLabel: 'y' },
    { id: 'c', row: 3, line: 4, attack: 'ood', plantedLabel: 'y' },
    { id: 'e', row: 5, line: 6, attack: 'symmetric', originalLabel: 'y', plantedLabel: 'x' },
  ],
});

test('hand-computed precision, recall, F1, AUROC, AP, precision@k and per-attack recall', () => {
  const e = evaluateAgainstTruth(parseScores(report), truth, { k: 3 });
  assert.equal(e.matchedBy, 'externalId');
  assert.deepEqual([e.tp, e.fp, e.fn, e.flagged, e.planted, e.unmatched], [1, 2, 2, 3, 3, 0]);
  close(e.precision, 1 / 3);
  close(e.recall, 1 / 3);
  close(e.f1, 1 / 3);
  close(e.auroc, 6 / 9); // positive beats negative in 3 + 2 + 1 of 9 pairs
  close(e.averagePrecision, (1 + 2 / 3 + 3 / 5) / 3);
  close(e.precisionAtK, 2 / 3);
  close(evaluateAgainstTruth(parseScores(report), truth, { k: 2 }).precisionAtK, 1 / 2);
  assert.deepEqual(e.perAttack, [
    { attack: 'symmetric', planted: 2, caught: 1, recall: 0.5 },
    { attack: 'ood', planted: 1, caught: 0, recall: 0 },
  ]);
});

test('the scan CSV gives the same numbers; formula-guarded ids are matched; without ids, rows are matched in order', () => {
  const guarded = ['a', 'b', "'=c", 'd', 'e', 'f'];
  const csv = ['id,externalId,score,flagged,label,suggestedLabel,detectors', ...guarded.map((g, i) => `h${i},${g},${scores[i]!.toFixed(6)},${flagged[i]},x,,label-issues`)].join('\r\n');
  const t2 = parseTruth({ ...JSON.parse(JSON.stringify(truth)), planted: truth.planted.map((p) => (p.id === 'c' ? { ...p, id: '=c' } : p)) });
  const e = evaluateAgainstTruth(parseScores(csv), t2, { k: 3 });
  close(e.auroc, 6 / 9);
  close(e.recall, 1 / 3);
  const noIds = ['id,externalId,score,flagged', ...scores.map((s, i) => `h${i},,${s},${flagged[i]}`)].join('\n');
  const r = evaluateAgainstTruth(parseScores(noIds), truth, { k: 3 });
  assert.equal(r.matchedBy, 'row');
  close(r.auroc, 6 / 9);
});

test('planted samples missing from the report count as missed; none found is REDTEAM_NO_MATCH', () => {
  const more = parseTruth({ ...JSON.parse(JSON.stringify(truth)), planted: [...truth.planted, { id: 'zz', row: 7, attack: 'ood', plantedLabel: 'x' }] });
  const e = evaluateAgainstTruth(parseScores(report), more);
  assert.equal(e.unmatched, 1);
  assert.equal(e.planted, 4);
  close(e.recall, 1 / 4);
  const none = parseTruth({ attack: 'ood', planted: [{ id: 'q', row: 1, attack: 'ood', plantedLabel: 'x' }] });
  assert.throws(() => evaluateAgainstTruth(parseScores(report), none), (err: unknown) => err instanceof RedteamError && err.code === 'REDTEAM_NO_MATCH');
});

test('malformed truth and reports are typed errors', () => {
  const code = (c: string) => (err: unknown) => err instanceof RedteamError && err.code === c;
  for (const bad of [null, [], { attack: 'zap', planted: [] }, { attack: 'ood' }, { attack: 'ood', planted: [{ id: 1, row: 1, attack: 'ood', plantedLabel: 'x' }] }, { attack: 'ood', planted: [{ id: 'a', row: 0, attack: 'ood', plantedLabel: 'x' }] }]) {
    assert.throws(() => parseTruth(bad), code('REDTEAM_BAD_TRUTH'));
  }
  assert.throws(() => parseScores('{"samples": 3}'), code('REDTEAM_BAD_REPORT'));
  assert.throws(() => parseScores('{"samples": [{"score": "high", "flagged": true}]}'), code('REDTEAM_BAD_REPORT'));
  assert.throws(() => parseScores('{oops'), code('REDTEAM_BAD_REPORT'));
  assert.throws(() => parseScores('id,label\n1,a\n'), code('REDTEAM_BAD_REPORT'));
  assert.throws(() => parseScores('id,externalId,score,flagged\n1,a,abc,true\n'), code('REDTEAM_BAD_REPORT'));
});
