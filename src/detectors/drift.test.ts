// Guards against a drift check that cries wolf on a batch drawn from the trusted distribution
// (sampling noise over-read as drift), misses a one-feature 1σ shift, or blames the wrong feature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import type { Dataset, FeatureColumn } from '../data/index.ts';
import type { DetectorContext } from './detector.ts';
import { makeContext } from './test-fixtures.ts';
import { buildBaseline, createDriftDetector, jensenShannonDistance, linfDistance, populationStabilityIndex, type FeatureDrift } from './drift.ts';

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
