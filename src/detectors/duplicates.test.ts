// Guards against: exact copies going unreported, the first (kept) copy being flagged as a
// duplicate, a conflicting-label group reported without every copy (so a reviewer cannot see both
// labels), the copy with the expected label being flagged when the model or the majority clears it
// (a planted 1:1 flip would otherwise flag the innocent original too), unbounded evidence for a row repeated many times, and throws on empty input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFLICTING_LABELS_CODE, EXACT_DUPLICATE_CODE, createDuplicatesDetector } from './duplicates.ts';
import type { DetectorContext } from './detector.ts';
import { makeContext } from './test-fixtures.ts';

function withContent(labels: number[], contentIds: string[], numClasses = 2, predProbs: number[] | null = null): DetectorContext {
  const ctx = makeContext({ labels: Int32Array.from(labels), numClasses, predProbs: predProbs === null ? null : Float32Array.from(predProbs) });
  return { ...ctx, dataset: { ...ctx.dataset, contentIds } };
}

const detector = createDuplicatesDetector();

test('no duplicates: no findings, all scores 0', async () => {
  const ctx = makeContext({ labels: Int32Array.from([0, 1, 0, 1, 1]), numClasses: 2 });
  const res = await detector.run(ctx);
  assert.equal(res.findings.length, 0);
  assert.deepEqual(Array.from(res.scores), [0, 0, 0, 0, 0]);
  assert.equal(res.summary['groups'], 0);
  assert.deepEqual([detector.name, detector.needs.length], ['duplicates', 0]);
});

test('same-label copies: every copy after the first is EXACT_DUPLICATE (low, 0.3)', async () => {
  const ctx = withContent([0, 1, 0, 1, 0], ['a', 'b', 'a', 'c', 'a']);
  const res = await detector.run(ctx);
  assert.deepEqual(
    res.findings.map((f) => [f.index, f.code, f.severity, f.score]),
    [
      [2, EXACT_DUPLICATE_CODE, 'low', Math.fround(0.3)],
      [4, EXACT_DUPLICATE_CODE, 'low', Math.fround(0.3)],
    ],
  );
  assert.equal(res.scores[0], 0, 'the first copy is the one to keep');
  const ev = res.findings[0]!.evidence as { group: { index: number; id: string }[]; labels: Record<string, number> };
  assert.deepEqual(
    ev.group.map((g) => g.index),
    [0, 2, 4],
  );
  assert.equal(ev.group[1]!.id, 'id-2');
  assert.deepEqual(ev.labels, { class0: 3 });
  assert.deepEqual([res.summary['groups'], res.summary['duplicateRows'], res.summary['conflictingGroups']], [1, 2, 0]);
});

test('copies with different labels, no model: the majority label is expected; the odd copy is high, the rest info, all copies in evidence', async () => {
  const ctx = withContent([0, 1, 1, 0, 0, 1], ['x', 'y', 'x', 'z', 'x', 'w']);
  const res = await detector.run(ctx);
  assert.deepEqual(
    res.findings.map((f) => [f.index, f.code, f.severity, f.score]),
    [
      [2, CONFLICTING_LABELS_CODE, 'high', 1],
      [0, CONFLICTING_LABELS_CODE, 'info', Math.fround(0.2)],
      [4, CONFLICTING_LABELS_CODE, 'info', Math.fround(0.2)],
    ],
  );
  assert.deepEqual(res.findings.map((f) => (f.evidence as { expectedLabel: string; decidedBy: string }).decidedBy), ['majority', 'majority', 'majority']);
  for (const f of res.findings) {
    const ev = f.evidence as { group: { index: number; label: string }[]; labels: Record<string, number> };
    assert.deepEqual(
      ev.group.map((g) => [g.index, g.label]),
      [
        [0, 'class0'],
        [2, 'class1'],
        [4, 'class0'],
      ],
    );
    assert.deepEqual(ev.labels, { class0: 2, class1: 1 });
  }
  assert.deepEqual([res.summary['groups'], res.summary['duplicateRows'], res.summary['conflictingGroups'], res.summary['suspectRows']], [1, 2, 1, 1]);
});

test('a 1:1 conflict: the out-of-fold model decides which copy is suspect; a torn model or none flags both', async () => {
  const labels = [0, 1, 0, 1];
  const ids = ['p', 'p', 'q', 'r'];
  // Both copies of p look like class 0 to the model: the copy labelled 1 is the suspect.
  const decided = await detector.run(withContent(labels, ids, 2, [0.9, 0.1, 0.85, 0.15, 0.5, 0.5, 0.5, 0.5]));
  assert.deepEqual(
    decided.findings.map((f) => [f.index, f.severity]),
    [
      [1, 'high'],
      [0, 'info'],
    ],
  );
  const ev = decided.findings[0]!.evidence as { expectedLabel: string; decidedBy: string; modelSupport: Record<string, number> };
  assert.deepEqual([ev.expectedLabel, ev.decidedBy], ['class0', 'model']);
  assert.deepEqual(ev.modelSupport, { class0: 0.875, class1: 0.125 });
  // Margin 0.1 < 0.2: the model is torn, and a 1:1 count is a tie.
  const torn = await detector.run(withContent(labels, ids, 2, [0.55, 0.45, 0.55, 0.45, 0.5, 0.5, 0.5, 0.5]));
  assert.deepEqual(torn.findings.map((f) => [f.index, f.severity, (f.evidence as { decidedBy: string }).decidedBy]), [
    [0, 'high', 'undecided'],
    [1, 'high', 'undecided'],
  ]);
  const none = await detector.run(withContent(labels, ids));
  assert.deepEqual(none.findings.map((f) => f.severity), ['high', 'high']);
});

test('the model outweighs a planted majority: three flipped copies against one original', async () => {
  const labels = [0, 1, 1, 1, 0];
  const probs = [0.9, 0.1, 0.8, 0.2, 0.8, 0.2, 0.8, 0.2, 0.6, 0.4];
  const res = await detector.run(withContent(labels, ['a', 'a', 'a', 'a', 'b'], 2, probs));
  assert.deepEqual(
    res.findings.filter((f) => f.severity === 'high').map((f) => f.index),
    [1, 2, 3],
  );
});

test('a row repeated 60 times lists 50 copies in evidence but reports the true group size', async () => {
  const ctx = withContent(
    Array.from({ length: 60 }, () => 1),
    Array.from({ length: 60 }, () => 'same'),
  );
  const res = await detector.run(ctx);
  assert.equal(res.findings.length, 59);
  const ev = res.findings[0]!.evidence as { group: unknown[]; groupSize: number };
  assert.equal(ev.group.length, 50);
  assert.equal(ev.groupSize, 60);
});

test('degenerate inputs: no samples, one sample', async () => {
  const empty = await detector.run(makeContext({ labels: new Int32Array(0), numClasses: 2 }));
  assert.deepEqual([empty.scores.length, empty.findings.length], [0, 0]);
  const one = await detector.run(makeContext({ labels: Int32Array.from([1]), numClasses: 2 }));
  assert.deepEqual([one.scores.length, one.findings.length], [1, 0]);
});
