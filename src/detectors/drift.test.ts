// Guards against a drift check that cries wolf on a batch drawn from the trusted distribution
// (sampling noise over-read as drift), misses a one-feature 1σ shift, or blames the wrong feature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import type { Dataset, FeatureColumn } from '../data/index.ts';
import type { DetectorContext } from './detector.ts';
import { makeContext } from './test-fixtures.ts';
import { buildBaseline, createDriftDetector, jensenShannonDistance, linfDistance, noiseFloor, normalQuantile, populationStabilityIndex, type FeatureDrift } from './drift.ts';

const COLORS = ['red', 'green', 'blue', 'yellow'];

/** n rows: x0..x2 ~ N(0,1) (x1 shifted by `shift` σ), color categorical, labels a/b. */
function makeData(seed: number, n: number, shift = 0, extraLabel = false): DetectorContext {
  const rng = createRng(seed);
  const cols: FeatureColumn[] = [0, 1, 2].map((j) => ({
    kind: 'numeric' as const,
    name: `x${j}`,
    values: Float64Array.from({ length: n }, () => rng.normal() + (j === 1 ? shift : 0)),
  }));
  cols.push({ kind: 'categorical', name: 'color', values: Array.from({ length: n }, () => COLORS[rng.int(COLORS.length)]!) });
  const classNames = extraLabel ? ['a', 'b', 'c'] : ['a', 'b'];
  const labels = Int32Array.from({ length: n }, (_, i) => (extraLabel && i === 0 ? 2 : rng.int(2)));
  const base = makeContext({ labels, numClasses: classNames.length, classNames });
  const dataset: Dataset = { ...base.dataset, roles: { x0: 'numeric', x1: 'numeric', x2: 'numeric', color: 'categorical', label: 'label' }, features: cols };
  return { ...base, dataset };
}

function summaryOf(r: { summary: Readonly<Record<string, unknown>> }): { drifted: string[]; features: FeatureDrift[]; labels: { drifted: boolean; newLabels: string[] }; schema: { code: string; column: string }[] } {
  return r.summary as never;
}

test('a batch from the trusted distribution raises no drift over 5 seeds', async () => {
  const baseline = buildBaseline(makeData(100, 2000).dataset, { seed: 1 });
  const detector = createDriftDetector(baseline);
  let maxJs = 0;
  for (let seed = 1; seed <= 5; seed++) {
    const r = await detector.run(makeData(seed, 500));
    const s = summaryOf(r);
    assert.deepEqual(s.drifted, [], `seed ${seed}: ${JSON.stringify(s.features)}`);
    assert.equal(s.labels.drifted, false);
    assert.deepEqual(s.schema, []);
    assert.ok(r.findings.every((f) => f.severity === 'low' && f.code === 'DRIFT_OUT_OF_RANGE'));
    for (const f of s.features) if (f.metric === 'jensen-shannon') maxJs = Math.max(maxJs, f.distance);
  }
  assert.ok(maxJs < 0.09, `max JS distance ${maxJs}`);
});

test('a 1σ mean shift in one numeric feature flags exactly that feature', async () => {
  const baseline = buildBaseline(makeData(100, 2000).dataset);
  for (let seed = 1; seed <= 3; seed++) {
    const s = summaryOf(await createDriftDetector(baseline).run(makeData(seed, 500, 1)));
    assert.deepEqual(s.drifted, ['x1']);
    const x1 = s.features.find((f) => f.feature === 'x1')!;
    assert.ok(x1.distance > 0.2 && x1.psi > 0.2, JSON.stringify(x1));
  }
});

test('new labels, new categories and schema changes are reported', async () => {
  const baseline = buildBaseline(makeData(100, 2000).dataset);
  const ctx = makeData(7, 50, 0, true);
  const color = ctx.dataset.features[3]!;
  const values = [...(color.values as (string | null)[])];
  values[3] = 'purple';
  const dataset: Dataset = {
    ...ctx.dataset,
    roles: { x0: 'numeric', x1: 'categorical', color: 'categorical', label: 'label', extra: 'numeric' },
    features: [ctx.dataset.features[0]!, { kind: 'categorical', name: 'x1', values: Array.from({ length: 50 }, () => 'q') }, { kind: 'categorical', name: 'color', values }],
  };
  const r = await createDriftDetector(baseline).run({ ...ctx, dataset });
  const s = summaryOf(r);
  assert.deepEqual(s.labels.newLabels, ['c']);
  assert.equal(r.findings.find((f) => f.index === 0)?.code, 'DRIFT_NEW_LABEL');
  assert.equal(r.findings.find((f) => f.index === 3)?.code, 'DRIFT_NEW_CATEGORY');
  const codes = s.schema.map((v) => `${v.code}:${v.column}`).sort();
  assert.deepEqual(codes, ['MISSING_COLUMN:x2', 'NEW_COLUMN:extra', 'TYPE_CHANGED:x1']);
  assert.ok(r.scores[0]! > r.scores[3]! && r.scores[3]! > 0);
});

test('out-of-range values become low findings; baseline round-trips through JSON', async () => {
  const baseline = buildBaseline(makeData(100, 2000).dataset, { sampleSize: 300 });
  assert.equal(baseline.schema, 'trainguard/baseline');
  assert.equal(baseline.sample.rows.length, 300);
  assert.deepEqual(JSON.parse(JSON.stringify(baseline)), baseline);
  const ctx = makeData(3, 20);
  const x0 = ctx.dataset.features[0]!.values as Float64Array;
  x0[5] = 1e6;
  const r = await createDriftDetector(JSON.parse(JSON.stringify(baseline))).run(ctx);
  const f = r.findings.find((x) => x.index === 5);
  assert.equal(f?.code, 'DRIFT_OUT_OF_RANGE');
  assert.equal(f?.severity, 'low');
});

test('distance functions: identical distributions are 0, disjoint ones are maximal', () => {
  assert.equal(jensenShannonDistance([0.5, 0.5], [0.5, 0.5]), 0);
  assert.ok(Math.abs(jensenShannonDistance([1, 0], [0, 1]) - Math.sqrt(Math.log(2))) < 1e-12);
  assert.equal(linfDistance([0.2, 0.8], [0.5, 0.5]), 0.30000000000000004);
  assert.equal(populationStabilityIndex([0.5, 0.5], [0.5, 0.5]), 0);
  assert.throws(() => createDriftDetector(buildBaseline(makeData(1, 10).dataset), { jsThreshold: -1 }), /jsThreshold/);
});

// Reference-sample scoring: the scan hands the detector the batch → trusted and trusted → trusted
// graphs; a flipped label and a row far from every trusted row must be flagged, a clean row not.
test('rows whose trusted neighbours disagree, or that are far from all trusted rows, are flagged', async () => {
  const { knnGraph, knnQuery, dense } = await import('../compute/index.ts');
  const rng = createRng(5);
  const centres = [
    [0, 0],
    [6, 0],
  ];
  const point = (c: number): number[] => [centres[c]![0]! + rng.normal(), centres[c]![1]! + rng.normal()];
  const m = 200;
  const refLabels = Int32Array.from({ length: m }, (_, j) => j % 2);
  const refX = Array.from(refLabels).flatMap((c) => point(c));
  // Batch: 40 clean rows, row 40 flipped (a point of class 0 labelled b), row 41 far away.
  const batchLabels = Int32Array.from({ length: 42 }, (_, i) => (i < 40 ? i % 2 : i === 40 ? 1 : 0));
  const batchX = [...Array.from({ length: 40 }, (_, i) => point(i % 2)).flat(), ...point(0), 30, 30];
  const refM = dense(m, 2, Float32Array.from(refX));
  const batchM = dense(42, 2, Float32Array.from(batchX));
  const reference = {
    status: 'compared' as const,
    labelNames: ['a', 'b'],
    labels: refLabels,
    knn: await knnQuery(refM, batchM, 10, { metric: 'euclidean' }),
    selfKnn: await knnGraph(refM, 10, { metric: 'euclidean' }),
    domain: null,
    representation: { method: 'identity', dim: 2, columns: ['x'], name: '(multivariate)' },
  };
  const base = makeContext({ labels: batchLabels, numClasses: 2, classNames: ['a', 'b'] });
  const baseline = buildBaseline(makeData(1, 50).dataset);
  const r = await createDriftDetector(baseline).run({ ...base, reference });
  const codes = new Map(r.findings.map((f) => [f.index, (f.evidence as { problems: { code: string }[] }).problems.map((p) => p.code)]));
  assert.deepEqual(codes.get(40), ['DRIFT_TRUSTED_LABEL_MISMATCH']);
  assert.ok(codes.get(41)?.includes('DRIFT_FAR_FROM_TRUSTED'));
  const clean = [...codes.keys()].filter((i) => i < 40);
  assert.ok(clean.length <= 1, `clean rows flagged: ${clean.join(',')}`);
  assert.ok(r.scores[40]! > 0.9 && r.scores[41]! > 0.9 && r.scores[0]! < 0.5);
  const f40 = r.findings.find((f) => f.index === 40)!;
  assert.equal((f40.evidence as { problems: { suggestedLabel: string }[] }).problems[0]!.suggestedLabel, 'a');
});

test('domain classifier: drift score 2·AUC − 1 against Deepchecks’ 0.25, refused when not significant', async () => {
  const { knnGraph, knnQuery, dense } = await import('../compute/index.ts');
  const m = 100;
  const refM = dense(m, 2, Float32Array.from({ length: 2 * m }, (_, p) => p % 7));
  const run = async (n: number, separable: boolean): Promise<{ drifted: string[]; multivariate: { auc: number; score: number; drifted: boolean } }> => {
    const batchM = dense(n, 2, Float32Array.from({ length: 2 * n }, (_, p) => p % 5));
    // Separable: every batch row scores above every trusted row (AUC 1); else interleaved (AUC ½).
    const probabilities = Float32Array.from({ length: m + n }, (_, p) => (separable ? (p < m ? 0.1 : 0.9) : (p % 2) * 0.5));
    const base = makeContext({ labels: new Int32Array(n), numClasses: 1, classNames: ['a'] });
    const reference = {
      status: 'compared' as const,
      labelNames: ['a'],
      labels: new Int32Array(m),
      knn: await knnQuery(refM, batchM, 5, { metric: 'euclidean' }),
      selfKnn: await knnGraph(refM, 5, { metric: 'euclidean' }),
      domain: { probabilities, referenceRows: m, folds: 5 },
      representation: { method: 'pca', dim: 2, columns: ['body'], name: 'body' },
    };
    const baseline = buildBaseline(makeData(1, 50).dataset);
    return (await createDriftDetector(baseline).run({ ...base, reference })).summary as never;
  };
  const shifted = await run(60, true);
  assert.equal(shifted.multivariate.auc, 1);
  assert.equal(shifted.multivariate.score, 1);
  assert.ok(shifted.drifted.includes('body'));
  const same = await run(60, false);
  assert.ok(Math.abs(same.multivariate.auc - 0.5) < 0.05 && !same.drifted.includes('body'));
  // One batch row: even a perfect separation is not significant (z = 1.7 < 2.33).
  const tiny = await run(1, true);
  assert.equal(tiny.multivariate.drifted, false);
});

test('a small same-distribution batch does not drift: thresholds rise to the sampling-noise floor', async () => {
  const baseline = buildBaseline(makeData(100, 300).dataset);
  for (let seed = 1; seed <= 5; seed++) {
    const s = summaryOf(await createDriftDetector(baseline).run(makeData(seed, 60)));
    assert.deepEqual(s.drifted, [], `seed ${seed}: ${JSON.stringify(s.features)}`);
    assert.equal(s.labels.drifted, false);
  }
  // A 2σ shift still shows through the higher floor.
  const s = summaryOf(await createDriftDetector(baseline).run(makeData(1, 60, 2)));
  assert.deepEqual(s.drifted, ['x1']);
});

test('text length: stored in the baseline, compared with the batch, optional in old files', async () => {
  const withText = (seed: number, n: number, words: number): DetectorContext => {
    const ctx = makeData(seed, n);
    const rng = createRng(seed + 1000);
    const text = Array.from({ length: n }, () => 'w '.repeat(Math.max(1, Math.round(words * Math.exp(0.5 * rng.normal())))));
    return { ...ctx, dataset: { ...ctx.dataset, text, textColumn: 'body', roles: { ...ctx.dataset.roles, body: 'text' } } };
  };
  const baseline = buildBaseline(withText(100, 2000, 20).dataset);
  assert.equal(baseline.textLength?.name, 'length(body)');
  for (let seed = 1; seed <= 3; seed++) assert.deepEqual(summaryOf(await createDriftDetector(baseline).run(withText(seed, 400, 20))).drifted, []);
  assert.deepEqual(summaryOf(await createDriftDetector(baseline).run(withText(1, 400, 40))).drifted, ['length(body)']);
  const { textLength: _dropped, ...old } = baseline;
  assert.deepEqual(summaryOf(await createDriftDetector(old).run(withText(1, 400, 40))).drifted, []);
});

test('normalQuantile matches known values; the noise floor grows with fewer false alarms allowed', () => {
  assert.ok(Math.abs(normalQuantile(0.999) - 3.090232) < 1e-5);
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-5);
  assert.ok(Math.abs(normalQuantile(0.01) + 2.326348) < 1e-5);
  assert.equal(normalQuantile(0.5), 0);
  const trusted = [30, 30, 30, 30, 30, 30, 30, 30, 30, 30];
  const batch = [10, 10, 10, 10, 10, 10, 10, 10, 10, 10];
  const one = noiseFloor(trusted, batch);
  const many = noiseFloor(trusted, batch, 0.001 / 784);
  assert.ok(many.js > one.js && many.psi > one.psi && many.linf > one.linf);
});
