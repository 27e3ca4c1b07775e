// Guards against: a backdoor going unflagged when the net learned it; a clean class flagged because
// it has a natural sub-population; the budget silently assumed; a missing representation or bad
// option passing without a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../core/index.ts';
import { auroc } from '../../compute/index.ts';
import { DetectorError } from '../errors.ts';
import { bruteForceKnn, makeContext } from '../test-fixtures.ts';
import type { DetectorContext, LearnedRepresentation } from '../detector.ts';
import { createActivationClusteringDetector, createSpectralSignaturesDetector, createSpectreDetector } from './detectors.ts';
import type { BackdoorClassSummary } from './verdict.ts';

/**
 * Three classes of 2-D inputs (well-separated blobs) and 12-D "activations". Class 2 has a natural
 * sub-population (a third of it shifted in activation space, inputs unchanged: label-consistent).
 * `poisoned` rows of classes 1 and 2 are relabelled 0 and carry a trigger: their inputs stay where
 * they were (look-alikes of their source class), their activations move to class 0's region plus
 * a shared trigger offset, and the "net" is confident in label 0 for them.
 */
function scenario(seed: number, poisoned: number, trigger = 5): { ctx: DetectorContext; truth: Uint8Array } {
  const rng = createRng(seed);
  const perClass = 200;
  const n = 3 * perClass;
  const dim = 12;
  const labels = new Int32Array(n);
  const inputs = new Float64Array(n * 2);
  const acts = new Float32Array(n * dim);
  const probs = new Float32Array(n * 3);
  const truth = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const source = Math.floor(i / perClass);
    const poison = source > 0 && i % perClass < poisoned / 2;
    const y = poison ? 0 : source;
    labels[i] = y;
    truth[i] = poison ? 1 : 0;
    inputs[i * 2] = 10 * source + rng.normal();
    inputs[i * 2 + 1] = rng.normal();
    for (let j = 0; j < dim; j++) acts[i * dim + j] = (j === y ? 8 : 0) + (j < 4 ? 3 : 1) * rng.normal();
    if (source === 2 && !poison && i % 3 === 0) acts[i * dim + 6]! += 6;
    if (poison) acts[i * dim + 11]! += trigger;
    for (let c = 0; c < 3; c++) probs[i * 3 + c] = c === y ? 0.96 : 0.02;
  }
  const knn = bruteForceKnn(inputs, 2, 10);
  const learned: LearnedRepresentation = { activations: acts, dim, probabilities: probs, source: 'mlp', lookAlikes: null, info: { source: 'test' } };
  return { ctx: { ...makeContext({ labels, numClasses: 3, knn }), learned }, truth };
}

const classes = (summary: Readonly<Record<string, unknown>>): BackdoorClassSummary[] => summary['classes'] as BackdoorClassSummary[];

test('spectre flags the poisoned class, estimates the budget, and leaves a natural sub-population alone', async () => {
  const { ctx, truth } = scenario(1, 40);
  const result = await createSpectreDetector().run(ctx);
  const summary = classes(result.summary);
  assert.deepEqual(summary.filter((c) => c.poisoned).map((c) => c.class), ['class0']);
  const c0 = summary.find((c) => c.class === 'class0')!;
  assert.equal(c0.budgetSource, 'auto');
  assert.ok(Math.abs(c0.estimatedPoisoned - 40) <= 12, `estimated ${c0.estimatedPoisoned}`);
  const flagged = new Set(result.findings.map((f) => f.index));
  let hit = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === 1 && flagged.has(i)) hit++;
  assert.ok(hit / 40 >= 0.9, `recall ${hit / 40}`);
  assert.ok(result.findings.every((f) => f.code === 'BACKDOOR_SUSPECT' && f.evidence['class'] === 'class0'));
  assert.ok(auroc(result.scores, truth) >= 0.95);
  // Whole-data ranking: the poisoned class's rows score ≥ ½, others < ½.
  for (let i = 0; i < truth.length; i++) assert.equal(result.scores[i]! >= 0.5, ctx.labels[i] === 0);
});

test('no class is called poisoned on clean data, by any of the three detectors', async () => {
  const { ctx } = scenario(2, 0);
  for (const detector of [createSpectreDetector(), createSpectralSignaturesDetector(), createActivationClusteringDetector()]) {
    const result = await detector.run(ctx);
    assert.equal(result.findings.length, 0, detector.name);
    assert.deepEqual(classes(result.summary).filter((c) => c.poisoned), [], detector.name);
  }
});

test('spectral signatures and activation clustering find a strong trigger too', async () => {
  const { ctx, truth } = scenario(3, 40, 14);
  for (const detector of [createSpectralSignaturesDetector(), createActivationClusteringDetector()]) {
    const result = await detector.run(ctx);
    const flagged = new Set(result.findings.map((f) => f.index));
    let hit = 0;
    for (let i = 0; i < truth.length; i++) if (truth[i] === 1 && flagged.has(i)) hit++;
    assert.ok(hit / 40 >= 0.8, `${detector.name} recall ${hit / 40}`);
  }
  const ac = classes((await createActivationClusteringDetector().run(ctx)).summary).find((c) => c.class === 'class0')!;
  assert.equal(typeof ac.facts['silhouette'], 'number');
  assert.equal(typeof ac.facts['relativeSize'], 'number');
});

test('a numeric budget is used as given, in one pass', async () => {
  const { ctx } = scenario(4, 40);
  const result = await createSpectreDetector({ budget: 0.25 }).run(ctx);
  const c0 = classes(result.summary).find((c) => c.class === 'class0')!;
  assert.equal(c0.budgetSource, 'option');
  assert.equal(c0.passes, 1);
  assert.equal(c0.budget, Math.round(0.25 * c0.rows));
});

test('bad budgets and a missing representation fail with codes', async () => {
  for (const budget of [0, -0.1, 0.9, Number.NaN]) {
    assert.throws(() => createSpectreDetector({ budget }), (e: unknown) => e instanceof DetectorError && e.code === 'DETECTOR_BAD_OPTION');
  }
  const { ctx } = scenario(5, 10);
  await assert.rejects(async () => createSpectreDetector().run({ ...ctx, learned: null }), (e: unknown) => e instanceof DetectorError && e.code === 'DETECTOR_BAD_INPUT');
});
