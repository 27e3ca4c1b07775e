// Guards against: the rank_by_noise_rate rule flagging a sample whose given label is the model's
// argmax, spending a budget other than confident learning's calibrated count, or not following the
// ranking; and the `auto` rule choosing the per-pair budget for spread noise (or the global one
// for noise concentrated in one class pair).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLabelIssueDetector, numLabelIssues, RANK_BY_NOISE_RATE } from './index.ts';
import { gaussianBlobs, makeContext } from './test-fixtures.ts';
import { createRng } from '../core/index.ts';

test('rank_by_noise_rate flags the calibrated count of lowest-margin samples, never an argmax-given one', async () => {
  const b = gaussianBlobs(3, 600, 3, 2.5, 0.1);
  const ctx = makeContext({ labels: b.labels, numClasses: 3, predProbs: b.predProbs });
  const res = await createLabelIssueDetector({ filterBy: RANK_BY_NOISE_RATE }).run(ctx);
  const count = numLabelIssues(b.labels, b.predProbs, 3, { method: 'off_diagonal_calibrated' });
  let candidates = 0;
  for (let i = 0; i < 600; i++) {
    const y = b.labels[i]!;
    const p = b.predProbs.subarray(i * 3, i * 3 + 3);
    if (Math.max(...p) > p[y]! + 1e-6) candidates++;
  }
  assert.equal(res.findings.length, Math.min(count, candidates));
  const flagged = new Set(res.findings.map((f) => f.index));
  let lowestUnflagged = Infinity;
  let highestFlaggedMargin = -Infinity;
  for (let i = 0; i < 600; i++) {
    const y = b.labels[i]!;
    const p = Array.from(b.predProbs.subarray(i * 3, i * 3 + 3));
    const margin = p[y]! - Math.max(...p.filter((_, k) => k !== y));
    if (flagged.has(i)) {
      assert.ok(margin < 0, `flagged sample ${i} has its given label as argmax`);
      highestFlaggedMargin = Math.max(highestFlaggedMargin, margin);
    } else if (margin < 0) lowestUnflagged = Math.min(lowestUnflagged, margin);
  }
  assert.ok(highestFlaggedMargin <= lowestUnflagged, 'flagged set is not a prefix of the ranking');
  assert.equal(res.summary['filterBy'], RANK_BY_NOISE_RATE);
});

test('auto picks the global ranking for spread noise and the per-pair budget for a targeted flip', async () => {
  const spread = gaussianBlobs(5, 900, 3, 2.5, 0.1);
  const a = await createLabelIssueDetector().run(makeContext({ labels: spread.labels, numClasses: 3, predProbs: spread.predProbs }));
  assert.equal(a.summary['filterBy'], 'rank_by_noise_rate');
  const ca = a.summary['noiseConcentration'] as { ratio: number; z: number };
  assert.ok(ca.ratio < 1.5 || ca.z < 3, JSON.stringify(ca));

  // Targeted: 30 % of class 0 relabelled 1, nothing else.
  const t = gaussianBlobs(5, 900, 3, 2.5, 0);
  const rng = createRng(9);
  const labels = Int32Array.from(t.labels);
  for (let i = 0; i < 900; i++) if (t.trueLabels[i] === 0 && rng.next() < 0.3) labels[i] = 1;
  const b = await createLabelIssueDetector().run(makeContext({ labels, numClasses: 3, predProbs: t.predProbs }));
  assert.equal(b.summary['filterBy'], 'prune_by_noise_rate');
  const cb = b.summary['noiseConcentration'] as { ratio: number; z: number };
  assert.ok(cb.ratio >= 1.5 && cb.z >= 3, JSON.stringify(cb));
});
