// Guards against: planted near-copies (a copy nudged a little, or a text re-wrapped) going
// unreported, a near-copy with another label reported only as info, exact copies double-reported
// here (they are the duplicates detector's), a threshold of 0 when most rows are exact copies,
// false alarms on clean data, and throws on empty, single or all-identical inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import type { DetectorContext } from './detector.ts';
import { NEAR_DUPLICATE_CODE, NEAR_DUPLICATE_CONFLICT_CODE, createNearDuplicatesDetector } from './near-duplicates.ts';
import { bruteForceKnn, makeContext } from './test-fixtures.ts';

const DIM = 10;

/** n Gaussian points in 10-D (in 10-D, no two random points are within 0.13 × the median nearest distance). */
function points(n: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Array.from({ length: DIM }, () => rng.normal()));
}

function nudge(p: number[], seed: number, size = 1e-3): number[] {
  const rng = createRng(seed);
  return p.map((x) => x + size * rng.normal());
}

function context(rows: number[][], labels: number[], contentIds?: string[]): DetectorContext {
  const flat = Float64Array.from(rows.flat());
  const ctx = makeContext({ labels: Int32Array.from(labels), numClasses: 3, knn: bruteForceKnn(flat, DIM, 10) });
  return contentIds === undefined ? ctx : { ...ctx, dataset: { ...ctx.dataset, contentIds } };
}

const detector = createNearDuplicatesDetector();

test('clean data: no findings, all scores 0', async () => {
  const rows = points(300, 1);
  const res = await detector.run(context(rows, rows.map((_, i) => i % 3)));
  assert.equal(res.findings.length, 0);
  assert.ok(res.scores.every((s) => s === 0));
  assert.ok((res.summary['threshold'] as number) > 0);
});

test('planted near copies are grouped; other-label copies are high, same-label copies info', async () => {
  const rows = points(300, 2);
  const labels = rows.map((_, i) => i % 3);
  // 300: same-label copy of 5. 301, 302: copies of 10 (label 1), one relabelled 2, one kept 1 → majority 1.
  // 303: copy of 20 (label 2) relabelled 0 → a 1:1 tie, both conflict.
  rows.push(nudge(rows[5]!, 1), nudge(rows[10]!, 2), nudge(rows[10]!, 3), nudge(rows[20]!, 4));
  labels.push(labels[5]!, 2, 1, 0);
  const res = await detector.run(context(rows, labels));
  const byIndex = new Map(res.findings.map((f) => [f.index, f]));
  assert.deepEqual([...byIndex.keys()].sort((a, b) => a - b), [5, 10, 20, 300, 301, 302, 303]);
  for (const i of [5, 300, 10, 302]) {
    assert.equal(byIndex.get(i)!.code, NEAR_DUPLICATE_CODE, `row ${i}`);
    assert.equal(byIndex.get(i)!.severity, 'info');
    assert.equal(res.scores[i], Math.fround(0.2));
  }
  for (const i of [301, 20, 303]) {
    assert.equal(byIndex.get(i)!.code, NEAR_DUPLICATE_CONFLICT_CODE, `row ${i}`);
    assert.equal(byIndex.get(i)!.severity, 'high');
    assert.equal(res.scores[i], Math.fround(0.9));
  }
  const ev = byIndex.get(301)!.evidence as { members: { index: number; distance: number | null }[]; setSize: number; distance: number; threshold: number; expectedLabel: string; decidedBy: string };
  assert.deepEqual(ev.members.map((m) => m.index).sort((a, b) => a - b), [10, 302]);
  assert.equal(ev.setSize, 3);
  assert.deepEqual([ev.expectedLabel, ev.decidedBy], ['class1', 'majority']);
  assert.ok(ev.distance < ev.threshold && ev.distance > 0);
  assert.ok(ev.members.every((m) => m.distance !== null && m.distance < ev.threshold));
  assert.equal(res.summary['sets'], 3);
  assert.equal(res.summary['conflictingSets'], 2);
});

test('a 1:1 near-copy conflict is decided by the out-of-fold model when it has a clear view', async () => {
  const rows = points(300, 2);
  const labels = rows.map((_, i) => i % 3);
  rows.push(nudge(rows[20]!, 4));
  labels.push(0); // row 20 is class 2; its near copy says class 0
  const probs = new Float32Array(301 * 3).fill(1 / 3);
  for (const i of [20, 300]) probs.set([0.1, 0.1, 0.8], i * 3);
  const res = await detector.run({ ...context(rows, labels), predProbs: probs });
  const high = res.findings.filter((f) => f.severity === 'high').map((f) => f.index);
  assert.deepEqual(high, [300]);
  const ev = res.findings.find((f) => f.index === 300)!.evidence as { expectedLabel: string; decidedBy: string };
  assert.deepEqual([ev.expectedLabel, ev.decidedBy], ['class2', 'model']);
});

test('exact copies (same content id) are left to the duplicates detector', async () => {
  const rows = points(200, 3);
  const labels = rows.map((_, i) => i % 3);
  rows.push([...rows[4]!]);
  labels.push((labels[4]! + 1) % 3);
  const contentIds = rows.map((_, i) => `c${i}`);
  contentIds[200] = 'c4';
  const res = await detector.run(context(rows, labels, contentIds));
  assert.equal(res.findings.length, 0);
});

test('when most rows are exact copies the threshold comes from the non-zero distances, and says so', async () => {
  const base = points(160, 4);
  const rows: number[][] = [];
  const contentIds: string[] = [];
  // Points 0..59 three times each (distance 0 to their copies: 180 of 281 rows have d1 = 0),
  // points 60..159 once, then one nudged copy of point 60 with another label.
  for (let c = 0; c < 3; c++) base.slice(0, 60).forEach((p, i) => (rows.push([...p]), contentIds.push(`c${i}`)));
  base.slice(60).forEach((p, i) => (rows.push([...p]), contentIds.push(`c${60 + i}`)));
  rows.push(nudge(base[60]!, 9));
  contentIds.push('nudged');
  const labels = rows.map((_, i) => (i === rows.length - 1 ? 1 : 0));
  const ctx = context(rows, labels, contentIds);
  // k = 2: the nearest neighbours of a tripled point are its two copies.
  const knn = bruteForceKnn(Float64Array.from(rows.flat()), DIM, 2);
  const res = await detector.run({ ...ctx, knn });
  assert.equal(res.summary['medianFromNonZero'], true);
  assert.ok((res.summary['threshold'] as number) > 0);
  assert.ok(res.findings.some((f) => f.index === rows.length - 1 && f.code === NEAR_DUPLICATE_CONFLICT_CODE));
});

test('text: MinHash joins a re-wrapped copy the kNN graph did not link, with another label', async () => {
  const rng = createRng(7);
  const texts = Array.from({ length: 30 }, () => Array.from({ length: 120 }, () => `w${rng.int(2000)}`).join(' '));
  texts.push(texts[2]!.replace(/ /g, '\n'));
  const labels = texts.map((_, i) => (i === 30 ? 1 : 0));
  const ctx = makeContext({ labels: Int32Array.from(labels), numClasses: 2 });
  const res = await detector.run({ ...ctx, dataset: { ...ctx.dataset, text: texts } });
  assert.deepEqual(
    res.findings.map((f) => [f.index, f.code]),
    [
      [2, NEAR_DUPLICATE_CONFLICT_CODE],
      [30, NEAR_DUPLICATE_CONFLICT_CODE],
    ],
  );
  assert.equal((res.findings[0]!.evidence as { jaccard: number }).jaccard, 1);
  const off = await createNearDuplicatesDetector({ minhash: false }).run({ ...ctx, dataset: { ...ctx.dataset, text: texts } });
  assert.equal(off.findings.length, 0);
});

test('degenerate inputs do not throw: no samples, one sample, all identical', async () => {
  const empty = await detector.run(makeContext({ labels: new Int32Array(0), numClasses: 2, knn: bruteForceKnn(new Float64Array(0), DIM, 10) }));
  assert.deepEqual([empty.scores.length, empty.findings.length], [0, 0]);
  const one = await detector.run(context(points(1, 5), [0]));
  assert.deepEqual([one.scores.length, one.findings.length], [1, 0]);
  const same = Array.from({ length: 20 }, () => Array.from({ length: DIM }, () => 1));
  const res = await detector.run(context(same, same.map((_, i) => i % 2)));
  assert.equal(res.scores.length, 20);
  assert.ok(res.scores.every((s) => s >= 0 && s <= 1));
  assert.throws(() => createNearDuplicatesDetector({ thresholdFactor: 0 }), { name: 'DetectorError', code: 'DETECTOR_BAD_OPTION' } as object);
});
