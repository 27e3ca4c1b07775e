// Guards against: junk rows (far from every sample, as random bytes, empty text or blank images
// end up in feature space) not ranking at the top, the entropy rule firing on the wrong side or
// on uniform predictions, typical samples getting a high score (the scan takes each sample's
// maximum over detectors), scores outside [0, 1], and throws on empty or all-identical inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import { OUTLIER_CODE, createOutliersDetector, median, percentileSorted } from './outliers.ts';
import { bruteForceKnn, gaussianBlobs, makeContext } from './test-fixtures.ts';

const detector = createOutliersDetector();

test('percentile and median match numpy (linear interpolation)', () => {
  assert.equal(percentileSorted([1, 2, 3, 4], 0.25), 1.75);
  assert.equal(percentileSorted([1, 2, 3, 4], 0.75), 3.25);
  assert.equal(median([3, NaN, 1, 2]), 2);
  assert.ok(Number.isNaN(median([])));
});

function blobsWithJunk(junkProbs: 'model' | 'uniform'): { ctx: ReturnType<typeof makeContext>; junk: number[] } {
  const b = gaussianBlobs(11, 1000, 3, 6, 0);
  const rng = createRng(12);
  const pts = Array.from(b.points);
  const labels = Array.from(b.labels);
  const probs = Array.from(b.predProbs);
  const junk: number[] = [];
  for (let j = 0; j < 5; j++) {
    // Far away and far from each other: radius 40–80 around the origin, blobs sit at radius 6.
    const angle = (2 * Math.PI * j) / 5 + rng.next();
    const r = 40 + 40 * rng.next();
    junk.push(labels.length);
    pts.push(r * Math.cos(angle), r * Math.sin(angle));
    labels.push(j % 3);
    probs.push(...(junkProbs === 'uniform' ? [1 / 3, 1 / 3, 1 / 3] : [0.98, 0.01, 0.01]));
  }
  const knn = bruteForceKnn(Float64Array.from(pts), 2, 10);
  return { ctx: makeContext({ labels: Int32Array.from(labels), numClasses: 3, knn, predProbs: Float32Array.from(probs) }), junk };
}

function rankOf(scores: Float32Array, i: number): number {
  let above = 0;
  for (let j = 0; j < scores.length; j++) if (j !== i && scores[j]! >= scores[i]!) above++;
  return above;
}

test('5 far-away junk points among 1,000 blob points all land in the top 1 % and are flagged', async () => {
  const { ctx, junk } = blobsWithJunk('model');
  const res = await detector.run(ctx);
  const top = Math.floor(0.01 * res.scores.length);
  const flagged = new Map(res.findings.map((f) => [f.index, f]));
  for (const i of junk) {
    assert.ok(rankOf(res.scores, i) < top, `junk ${i} ranks ${rankOf(res.scores, i)} (score ${res.scores[i]})`);
    assert.equal(flagged.get(i)?.code, OUTLIER_CODE);
    const ev = flagged.get(i)!.evidence as { rules: string[]; meanNeighbourDistance: number; threshold: number };
    assert.ok(ev.rules.includes('knn-distance'));
    assert.ok(ev.meanNeighbourDistance > ev.threshold);
    assert.equal(flagged.get(i)!.severity, 'medium', 'far beyond the cut-off');
  }
  // The blobs' own fringe is flagged too, but only as low severity.
  const fringe = res.findings.filter((f) => !junk.includes(f.index));
  const low = fringe.filter((f) => f.severity === 'low').length;
  assert.ok(fringe.length > 0 && low >= 0.9 * fringe.length, `${low} of ${fringe.length} fringe flags are low`);
  // Typical samples score low (the kNN part is 0 up to the median distance; the entropy part 0 above the median s).
  assert.ok(median(res.scores) < 0.1, `median score ${median(res.scores)}`);
  // Datalab's Q3 + 1.7·IQR also flags the sparse fringe of 2-D Gaussian blobs (≈ 9 % here; ≈ 1 % in
  // 10-D, where distances concentrate), but the junk must outrank all of it.
  assert.ok(res.findings.length < 0.15 * res.scores.length, `${res.findings.length} flagged`);
  for (const [rank, f] of res.findings.slice(0, 5).entries()) assert.ok(junk.includes(f.index), `finding ${rank} is junk`);
  assert.ok(res.scores.every((s) => s >= 0 && s <= 1));
});

test('with a kNN graph the entropy rule only corroborates (Datalab): far junk the model is unsure of is high; uncertainty alone flags nothing', async () => {
  const { ctx, junk } = blobsWithJunk('uniform');
  const res = await detector.run(ctx);
  for (const i of junk) {
    const f = res.findings.find((x) => x.index === i)!;
    assert.deepEqual((f.evidence as { rules: string[] }).rules, ['knn-distance', 'entropy']);
    assert.equal(f.severity, 'high');
  }
  // Blob points made uncertain but not far: not flagged, and their score is the kNN part only.
  const probs = Float32Array.from(ctx.predProbs!);
  for (const i of [3, 4, 5]) probs.set([1 / 3, 1 / 3, 1 / 3], i * 3);
  const near = await detector.run({ ...ctx, predProbs: probs });
  const base = await detector.run(ctx);
  for (const i of [3, 4, 5]) {
    assert.equal(near.scores[i], base.scores[i]);
    const f = near.findings.find((x) => x.index === i);
    assert.ok(f === undefined || !(f.evidence as { rules: string[] }).rules.includes('entropy'), `row ${i} flagged for uncertainty alone`);
  }
  assert.equal((res.summary as { entropy: { role: string } }).entropy.role, 'corroborates');
});

/** Seeded English-like sentences from a small vocabulary: a corpus with one character model. */
function sentences(n: number, seed: number): string[] {
  const words = ['the', 'model', 'trains', 'on', 'data', 'from', 'many', 'sources', 'and', 'each', 'label', 'is', 'checked', 'before', 'release', 'review', 'sample', 'quality'];
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Array.from({ length: 8 + rng.int(12) }, () => words[rng.int(words.length)]!).join(' '));
}

test('text: random-byte and empty rows rank above every real sentence; clean text flags nothing', async () => {
  const n = 400;
  const text = sentences(n, 5);
  const rng = createRng(6);
  const junk = [17, 123, 301];
  for (const i of junk) text[i] = Array.from({ length: 80 }, () => String.fromCharCode(0xa1 + rng.int(94))).join('');
  text[250] = '   ';
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  const res = await detector.run(makeContext({ labels, numClasses: 2, text }));
  const top = [...res.scores.keys()].sort((a, b) => res.scores[b]! - res.scores[a]!).slice(0, 4);
  assert.deepEqual(top.sort((a, b) => a - b), [17, 123, 250, 301]);
  assert.deepEqual(res.findings.map((f) => f.index).sort((a, b) => a - b), [17, 123, 250, 301]);
  const empty = res.findings.find((f) => f.index === 250)!;
  assert.equal((empty.evidence as { emptyText: boolean }).emptyText, true);
  assert.equal(res.scores[250], 1);
  const clean = await detector.run(makeContext({ labels, numClasses: 2, text: sentences(n, 7) }));
  assert.equal(clean.findings.length, 0);
  assert.ok(median(clean.scores) < 0.1);
});

test('text and kNN rules together give high severity', async () => {
  const { ctx, junk } = blobsWithJunk('model');
  const text = sentences(ctx.labels.length, 8);
  const rng = createRng(9);
  for (const i of junk) text[i] = Array.from({ length: 60 }, () => String.fromCharCode(0xa1 + rng.int(94))).join('');
  const res = await detector.run(makeContext({ labels: ctx.labels, numClasses: 3, knn: ctx.knn, text }));
  for (const i of junk) {
    const f = res.findings.find((x) => x.index === i)!;
    assert.deepEqual((f.evidence as { rules: string[] }).rules, ['knn-distance', 'text-surprisal']);
    assert.equal(f.severity, 'high');
  }
});

test('entropy rule alone: uniform rows among confident ones are flagged; all-uniform flags nothing', async () => {
  const n = 100;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  const probs = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const odd = i === 13 || i === 57;
    probs[i * 2 + labels[i]!] = odd ? 0.5 : 0.95;
    probs[i * 2 + 1 - labels[i]!] = odd ? 0.5 : 0.05;
  }
  const res = await detector.run(makeContext({ labels, numClasses: 2, predProbs: probs }));
  assert.deepEqual(
    res.findings.map((f) => [f.index, f.severity]),
    [
      [13, 'medium'],
      [57, 'medium'],
    ],
  );
  assert.ok(res.scores[13]! > 0.99);
  const flat = await detector.run(makeContext({ labels, numClasses: 2, predProbs: new Float32Array(n * 2).fill(0.5) }));
  assert.equal(flat.findings.length, 0);
});

test('clean controls raise nothing: equidistant points, all-identical points', async () => {
  // A regular 200-gon: every mean neighbour distance equal up to float rounding.
  const ring = Float64Array.from({ length: 400 }, (_, x) => (x % 2 === 0 ? Math.cos : Math.sin)((2 * Math.PI * Math.floor(x / 2)) / 200) * 10);
  const labels = Int32Array.from({ length: 200 }, (_, i) => i % 2);
  const res = await detector.run(makeContext({ labels, numClasses: 2, knn: bruteForceKnn(ring, 2, 10) }));
  assert.equal(res.findings.length, 0);
  const same = await detector.run(makeContext({ labels, numClasses: 2, knn: bruteForceKnn(new Float64Array(400).fill(3), 2, 10) }));
  assert.equal(same.findings.length, 0);
  assert.ok(same.scores.every((s) => s === 0));
});

test('degenerate inputs do not throw: no samples, one sample, no graph and no model', async () => {
  const empty = await detector.run(makeContext({ labels: new Int32Array(0), numClasses: 2, knn: bruteForceKnn(new Float64Array(0), 2, 10) }));
  assert.deepEqual([empty.scores.length, empty.findings.length], [0, 0]);
  const one = await detector.run(makeContext({ labels: Int32Array.from([0]), numClasses: 2, knn: bruteForceKnn(Float64Array.from([1, 2]), 2, 10) }));
  assert.deepEqual([one.scores.length, one.findings.length], [1, 0]);
  const none = await detector.run(makeContext({ labels: Int32Array.from([0, 1]), numClasses: 2 }));
  assert.deepEqual([none.scores.length, none.findings.length], [2, 0]);
});
