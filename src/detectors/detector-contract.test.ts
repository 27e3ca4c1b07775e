// Guards against: a registered detector that breaks the contract the scan relies on — scores not
// length n or outside [0, 1] (or NaN), findings that disagree with the scores or are unsorted,
// evidence or summaries that cannot be written as canonical JSON, or a throw on degenerate but
// legal data (one class, a class with one sample, uniform probabilities, no samples).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, createRng, isSeverity } from '../core/index.ts';
import { listDetectors } from './index.ts';
import type { Detector, DetectorContext } from './index.ts';
import { bruteForceKnn, makeContext } from './test-fixtures.ts';

interface Case {
  readonly name: string;
  readonly ctx: DetectorContext;
}

function randomCase(name: string, seed: number, n: number, K: number, opts: { uniform?: boolean; knn?: boolean; labels?: number[] } = {}): Case {
  const rng = createRng(seed);
  const labels = Int32Array.from(opts.labels ?? Array.from({ length: n }, () => rng.int(K)));
  const probs = new Float32Array(n * K);
  const points = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    points[i * 2] = rng.normal() + labels[i]!;
    points[i * 2 + 1] = rng.normal();
    let s = 0;
    for (let j = 0; j < K; j++) {
      const v = opts.uniform === true ? 1 : Math.exp(2 * rng.normal() + (j === labels[i] ? 1 : 0));
      probs[i * K + j] = v;
      s += v;
    }
    for (let j = 0; j < K; j++) probs[i * K + j] = probs[i * K + j]! / s;
  }
  const knn = opts.knn === false ? null : bruteForceKnn(points, 2, 5);
  // The backdoor detectors' learned representation: 6 random activations per sample, the "net's" probabilities.
  const dim = 6;
  const activations = Float32Array.from({ length: n * dim }, () => rng.normal());
  const learned = { activations, dim, probabilities: probs, source: 'mlp' as const, lookAlikes: null, info: {} };
  return { name, ctx: { ...makeContext({ labels, numClasses: K, predProbs: probs, knn }), learned } };
}

function oneHotCase(): Case {
  // Probabilities exactly 0 and 1, every label contradicted: the extremes of every formula.
  const labels = Int32Array.from([0, 1, 0, 1, 0, 1]);
  const probs = Float32Array.from(Array.from(labels).flatMap((y) => (y === 0 ? [0, 1] : [1, 0])));
  const learned = { activations: Float32Array.from(Array.from(labels).flatMap((y) => [y, 1 - y, 0])), dim: 3, probabilities: probs, source: 'mlp' as const, lookAlikes: null, info: {} };
  return { name: 'one-hot, all contradicted', ctx: { ...makeContext({ labels, numClasses: 2, predProbs: probs }), learned } };
}

const CASES: Case[] = [
  randomCase('random K=3', 1, 60, 3),
  randomCase('random K=4 without a graph', 2, 40, 4, { knn: false }),
  randomCase('one class only', 3, 20, 1),
  randomCase('a class with one sample', 4, 21, 3, { labels: [...Array.from({ length: 20 }, (_, i) => i % 2), 2] }),
  randomCase('absent class (K=3, labels 0/1)', 5, 30, 3, { labels: Array.from({ length: 30 }, (_, i) => i % 2) }),
  randomCase('uniform probabilities', 6, 30, 3, { uniform: true }),
  randomCase('two samples', 7, 2, 2, { labels: [0, 1] }),
  randomCase('no samples', 8, 0, 2, { knn: false }),
  oneHotCase(),
  knnOnlyCase(),
];

function knnOnlyCase(): Case {
  const c = randomCase('kNN graph, no model', 9, 40, 3);
  return { name: c.name, ctx: { ...c.ctx, predProbs: null } };
}

async function checkContract(detector: Detector, c: Case): Promise<void> {
  const n = c.ctx.labels.length;
  const res = await detector.run(c.ctx);
  assert.equal(res.scores.length, n, 'one score per sample');
  for (let i = 0; i < n; i++) {
    const s = res.scores[i]!;
    assert.ok(s >= 0 && s <= 1, `score ${i} = ${s} not in [0, 1]`);
  }
  const seen = new Set<number>();
  let previous = Infinity;
  for (const f of res.findings) {
    assert.ok(Number.isInteger(f.index) && f.index >= 0 && f.index < n, `finding index ${f.index}`);
    assert.ok(!seen.has(f.index), `sample ${f.index} reported twice`);
    seen.add(f.index);
    assert.equal(f.sampleId, c.ctx.dataset.ids[f.index]);
    assert.equal(f.detector, detector.name);
    assert.equal(f.score, res.scores[f.index], 'finding score equals the per-sample score');
    assert.ok(f.score <= previous, 'findings sorted by score, highest first');
    previous = f.score;
    assert.ok(isSeverity(f.severity));
    assert.ok(f.code.length > 0 && f.message.length > 0);
    assert.doesNotThrow(() => canonicalJson(f.evidence), 'evidence is canonical JSON');
  }
  assert.doesNotThrow(() => canonicalJson(res.summary), 'summary is canonical JSON');
  if (res.perSample !== undefined) {
    assert.equal(res.perSample.suggestedLabel.length, n);
    assert.equal(res.perSample.suggestedProbability.length, n);
    for (let i = 0; i < n; i++) {
      const y = res.perSample.suggestedLabel[i]!;
      assert.ok(y >= 0 && y < c.ctx.numClasses);
    }
  }
}

for (const detector of listDetectors()) {
  for (const c of CASES) {
    test(`${detector.name} keeps the detector contract: ${c.name}`, async () => {
      await checkContract(detector, c);
    });
  }
}

test('uniform probabilities flag nothing', async () => {
  const c = CASES.find((x) => x.name === 'uniform probabilities')!;
  // With no kNN vote either way (the graph is random), only the model matters: nothing stands out.
  const ctx = { ...c.ctx, knn: null };
  for (const detector of listDetectors()) assert.equal((await detector.run(ctx)).findings.length, 0, detector.name);
});
