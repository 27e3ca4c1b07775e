// Guards against: the label-issues detector blending the wrong way round (weight on the wrong
// signal), scores outside [0, 1] or not ranking, findings whose score differs from the per-sample
// score, evidence that names the wrong label or neighbours, running with neither signal, and a
// detector that no longer finds 10 % symmetric flips on easy Gaussian blobs (F1 ≥ 0.8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DetectorError,
  createDetector,
  createLabelIssueDetector,
  findLabelIssues,
  getDetector,
  labelIssueDetector,
  listDetectorNames,
} from './index.ts';
import type { DetectorResult, FilterBy } from './index.ts';
import type { KnnGraph } from '../compute/index.ts';
import { bruteForceKnn, f1Score, gaussianBlobs, makeContext } from './test-fixtures.ts';

/*
 * n = 6, classes ham (0) / spam (1). Sample 5 is labelled spam, the model says ham (0.9) and both
 * of its neighbours are ham.
 *   predProbs: (.9,.1) (.8,.2) (.7,.3) | (.2,.8) (.1,.9) (.9,.1)     labels 0 0 0 | 1 1 1
 *   kNN (k=2): 0→[1,2] 1→[0,2] 2→[0,1] 3→[4,5] 4→[3,5] 5→[0,1]
 *   q_knn:     (1,0)   (1,0)   (1,0)   (0,1)   (0,1)   (1,0)
 *   p* = ½p + ½q: (.95,.05) (.9,.1) (.85,.15) (.1,.9) (.05,.95) (.95,.05)
 * CL on p*: t0 = (.95+.9+.85)/3 = .9, t1 = (.9+.95+.05)/3 ≈ .633. Confident: 0→0, 1→0 (.9 ≥ .9−1e-6),
 * 2 none, 3→1, 4→1, 5→0 (off-diagonal). C = [[2,0],[1,2]] → calibrated [[3,0],[1,2]];
 * M = Cᵀ: prune M[0][1] = 1 from class 1 by largest p*0 − p*1 → sample 5. Noise rate 1 − 5/6.
 * Score = (1 − p*_given + max other)/2: .05 .1 .15 .1 .05 .95.
 */
const LABELS = Int32Array.from([0, 0, 0, 1, 1, 1]);
const PROBS = Float32Array.from([0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.2, 0.8, 0.1, 0.9, 0.9, 0.1]);
const KNN: KnnGraph = {
  n: 6,
  k: 2,
  indices: Int32Array.from([1, 2, 0, 2, 0, 1, 4, 5, 3, 5, 0, 1]),
  distances: Float32Array.from([0.1, 0.2, 0.1, 0.3, 0.2, 0.3, 0.1, 0.5, 0.1, 0.4, 0.6, 0.7]),
  metric: 'euclidean',
};
const NAMES = ['ham', 'spam'];

async function run(opts: Parameters<typeof createLabelIssueDetector>[0], predProbs: Float32Array | null, knn: KnnGraph | null): Promise<DetectorResult> {
  const ctx = makeContext({ labels: LABELS, numClasses: 2, predProbs, knn, classNames: NAMES });
  return createLabelIssueDetector(opts).run(ctx);
}

function near(a: number, b: number, tol = 1e-6): boolean {
  return Math.abs(a - b) <= tol;
}

test('blends model and neighbours, flags sample 5 with evidence a reviewer can judge', async () => {
  const res = await run({ filterBy: 'prune_by_noise_rate', knnWeight: 0.5 }, PROBS, KNN);
  [0.05, 0.1, 0.15, 0.1, 0.05, 0.95].forEach((s, i) => assert.ok(near(res.scores[i]!, s), `score ${i}: ${res.scores[i]}`));
  assert.equal(res.findings.length, 1);
  const f = res.findings[0]!;
  assert.equal(f.index, 5);
  assert.equal(f.sampleId, 'id-5');
  assert.equal(f.detector, 'label-issues');
  assert.equal(f.code, 'LABEL_ISSUE');
  assert.equal(f.score, res.scores[5]);
  assert.equal(f.severity, 'high');
  assert.equal(f.message, 'labelled "spam" but looks like "ham" (p=0.95); 0/2 nearest neighbours are labelled "spam"');
  const ev = f.evidence;
  assert.equal(ev['givenLabel'], 'spam');
  assert.equal(ev['suggestedLabel'], 'ham');
  assert.equal(ev['suggestedProbability'], 0.95);
  assert.equal(ev['givenLabelProbability'], 0.05);
  assert.equal(ev['selfConfidence'], 0.05);
  assert.equal(ev['normalizedMargin'], 0.05);
  assert.deepEqual(ev['modelProbabilities'], { ham: 0.9, spam: 0.1 });
  assert.deepEqual(ev['knn'], {
    agreeing: 0,
    k: 2,
    consensusLabel: 'ham',
    consensusShare: 1,
    neighbours: [
      { index: 0, id: 'id-0', label: 'ham', distance: 0.6 },
      { index: 1, id: 'id-1', label: 'ham', distance: 0.7 },
    ],
  });
  const s = res.summary;
  assert.equal(s['filterBy'], 'prune_by_noise_rate');
  assert.equal(s['knnWeight'], 0.5);
  assert.equal(s['numLabelIssues'], 1);
  assert.ok(near(s['estimatedNoiseRate'] as number, 1 / 6));
  assert.deepEqual(s['confidentJoint'], [[3, 0], [1, 2]]);
  assert.deepEqual(s['joint'], [[0.5, 0], [0.166667, 0.333333]]);
  assert.deepEqual(s['noiseMatrix'], [[0.75, 0], [0.25, 1]]);
  assert.deepEqual(s['perClassNoiseRate'], [0, 0.333333]);
  assert.deepEqual(Array.from(res.perSample!.suggestedLabel), [0, 0, 0, 1, 1, 0]);
  [0.95, 0.9, 0.85, 0.9, 0.95, 0.95].forEach((p, i) => assert.ok(near(res.perSample!.suggestedProbability[i]!, p)));
});

test('knnWeight 0 is plain confident learning on the model; no model means the kNN vote alone', async () => {
  const w0 = await run({ knnWeight: 0 }, PROBS, KNN);
  const direct = findLabelIssues(LABELS, PROBS, 2);
  assert.deepEqual(w0.findings.map((f) => f.index).sort((a, b) => a - b), Array.from(direct).flatMap((v, i) => (v === 1 ? [i] : [])));
  assert.equal(w0.summary['knnWeight'], 0);
  // Without a model: p* = q; sample 5 is (1, 0) against label 1 → flagged; no model evidence.
  const knnOnly = await run({}, null, KNN);
  assert.equal(knnOnly.summary['knnWeight'], 1);
  assert.deepEqual(knnOnly.findings.map((f) => f.index), [5]);
  assert.equal(knnOnly.findings[0]!.evidence['modelProbabilities'], null);
  // Without a graph the weight is 0 whatever was asked.
  const noGraph = await run({ knnWeight: 0.8 }, PROBS, null);
  assert.equal(noGraph.summary['knnWeight'], 0);
  assert.equal(noGraph.findings[0]!.evidence['knn'], null);
});

test('options: filterBy and scoreMethod reach the run; bad options and missing inputs are typed errors', async () => {
  const res = await run({ filterBy: 'predicted_neq_given', scoreMethod: 'self_confidence', knnWeight: 0.5 }, PROBS, KNN);
  assert.equal(res.summary['filterBy'], 'predicted_neq_given');
  assert.ok(near(res.scores[5]!, 0.95)); // 1 − p*_given
  const badOption = (e: unknown): boolean => e instanceof DetectorError && e.code === 'DETECTOR_BAD_OPTION';
  assert.throws(() => createLabelIssueDetector({ knnWeight: 2 }), badOption);
  assert.throws(() => createLabelIssueDetector({ filterBy: 'nope' as FilterBy }), badOption);
  await assert.rejects(
    async () => run({}, null, null),
    (e: unknown) => e instanceof DetectorError && e.code === 'DETECTOR_BAD_INPUT',
  );
});

test('registry: label-issues is registered, configurable by name, unknown names are DETECTOR_UNKNOWN', () => {
  assert.deepEqual(listDetectorNames(), ['activation-clustering', 'duplicates', 'label-issues', 'near-duplicates', 'outliers', 'spectral-signatures', 'spectre', 'text-triggers', 'validation']);
  assert.equal(getDetector('label-issues'), labelIssueDetector);
  assert.deepEqual(labelIssueDetector.needs, ['predProbs']);
  const d = createDetector('label-issues', { filterBy: 'both', knnWeight: 0.2 });
  assert.equal(d.name, 'label-issues');
  const unknown = (e: unknown): boolean => e instanceof DetectorError && e.code === 'DETECTOR_UNKNOWN';
  assert.throws(() => getDetector('nope'), unknown);
  assert.throws(() => createDetector('nope'), unknown);
  assert.throws(() => createDetector('label-issues', { filterBy: 'prune_by_vibes' }), (e: unknown) => e instanceof DetectorError && e.code === 'DETECTOR_BAD_OPTION');
});

test('quality: 10 % symmetric flips on 3 Gaussian blobs (n = 600) are found with F1 ≥ 0.8 and AUROC ≥ 0.95', async () => {
  // Centres 2.5σ from the origin (4.3σ apart), probabilities from the generating model, exact 10-NN graph.
  const b = gaussianBlobs(7, 600, 3, 2.5, 0.1);
  const knn = bruteForceKnn(b.points, b.dim, 10);
  const ctx = makeContext({ labels: b.labels, numClasses: 3, predProbs: b.predProbs, knn });
  for (const [name, detector] of [
    ['blend', labelIssueDetector],
    ['model only', createLabelIssueDetector({ knnWeight: 0 })],
  ] as const) {
    const res = await detector.run(ctx);
    const mask = new Uint8Array(600);
    for (const f of res.findings) mask[f.index] = 1;
    const { f1, precision, recall } = f1Score(mask, b.flipped);
    assert.ok(f1 >= 0.8, `${name}: F1 ${f1.toFixed(3)} (P ${precision.toFixed(2)}, R ${recall.toFixed(2)})`);
    const auc = auroc(res.scores, b.flipped);
    assert.ok(auc >= 0.95, `${name}: AUROC ${auc.toFixed(3)}`);
  }
});

/** AUROC by the rank-sum formula (ties count half). */
function auroc(scores: ArrayLike<number>, truth: ArrayLike<number>): number {
  let pos = 0;
  let neg = 0;
  let wins = 0;
  for (let i = 0; i < truth.length; i++) {
    if (truth[i] !== 1) continue;
    pos++;
    for (let j = 0; j < truth.length; j++) {
      if (truth[j] === 1) continue;
      if (scores[i]! > scores[j]!) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  for (let j = 0; j < truth.length; j++) if (truth[j] !== 1) neg++;
  return wins / (pos * neg);
}
