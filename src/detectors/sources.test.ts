// Guards against: a poisoned source (one contributor with a much higher flag rate) going unnoticed,
// clean random splits raising false alarms, a wrong binomial tail (p-values are the evidence), and
// findings for samples that were not flagged or that belong to innocent sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, createRng } from '../core/index.ts';
import type { Dataset } from '../data/index.ts';
import { analyzeSources, binomialUpperTail, jensenShannonDistance, logGamma, SOURCE_DOMINATES_FLAGS, SOURCE_HIGH_FLAG_RATE } from './sources.ts';
import { makeContext } from './test-fixtures.ts';

interface Case {
  dataset: Dataset;
  flagged: Uint8Array;
  labels: Int32Array;
}

/** `sources` sources of `perSource` rows each; flags at `base`, and at `rates[s]` for listed sources. */
function makeCase(seed: number, sources: number, perSource: number, base: number, rates: Record<number, number> = {}): Case {
  const rng = createRng(seed);
  const n = sources * perSource;
  const labels = Int32Array.from({ length: n }, () => rng.int(3));
  const src: string[] = [];
  const flagged = new Uint8Array(n);
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  order.forEach((i, r) => {
    const s = Math.floor(r / perSource);
    src[i] = `s${s}`;
    flagged[i] = rng.next() < (rates[s] ?? base) ? 1 : 0;
  });
  const dataset = { ...makeContext({ labels, numClasses: 3 }).dataset, sources: src };
  return { dataset, flagged, labels };
}

test('binomialUpperTail matches a direct sum and the edge cases', () => {
  const direct = (k: number, n: number, p: number): number => {
    let s = 0;
    for (let j = k; j <= n; j++) s += Math.exp(logGamma(n + 1) - logGamma(j + 1) - logGamma(n - j + 1)) * p ** j * (1 - p) ** (n - j);
    return s;
  };
  for (const [k, n, p] of [[3, 10, 0.1], [0, 5, 0.5], [10, 10, 0.3], [7, 40, 0.05], [25, 50, 0.5]] as const) {
    assert.ok(Math.abs(binomialUpperTail(k, n, p) - Math.min(1, direct(k, n, p))) < 1e-12, `${k},${n},${p}`);
  }
  assert.ok(Math.abs(binomialUpperTail(3, 10, 0.1) - 0.0701908264) < 1e-9);
  assert.equal(binomialUpperTail(11, 10, 0.5), 0);
  assert.equal(binomialUpperTail(1, 10, 0), 0);
  assert.ok(Math.abs(logGamma(5) - Math.log(24)) < 1e-12);
  assert.ok(Math.abs(logGamma(0.5) - 0.5 * Math.log(Math.PI)) < 1e-12);
});

test('Jensen–Shannon distance is 0 for equal distributions and 1 for disjoint ones', () => {
  assert.equal(jensenShannonDistance([2, 4, 6], [1, 2, 3]), 0);
  assert.ok(Math.abs(jensenShannonDistance([5, 0], [0, 5]) - 1) < 1e-12);
});

test('a source with 10× the flag rate is SOURCE_HIGH_FLAG_RATE, and only its flagged samples get findings (several seeds)', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const c = makeCase(seed, 5, 400, 0.02, { 3: 0.2 });
    const out = analyzeSources(c.dataset, c.flagged, c.labels, 3)!;
    assert.deepEqual(out.summary.suspiciousSources, ['s3'], `seed ${seed}`);
    const s3 = out.summary.sources.find((s) => s.source === 's3')!;
    assert.ok(s3.highFlagRate && s3.pAdjusted < 0.01);
    assert.ok(out.findings.length > 0);
    for (const f of out.findings) {
      assert.equal(c.dataset.sources![f.index], 's3');
      assert.equal(c.flagged[f.index], 1);
      assert.equal(f.code, SOURCE_HIGH_FLAG_RATE);
      assert.equal(f.severity, 'high');
    }
    assert.equal(out.findings.length, s3.flagged);
    assert.doesNotThrow(() => canonicalJson(out.summary));
  }
});

test('a clean random split raises nothing (several seeds)', () => {
  for (const seed of [11, 12, 13, 14, 15, 16, 17, 18]) {
    const c = makeCase(seed, 5, 400, 0.05);
    const out = analyzeSources(c.dataset, c.flagged, c.labels, 3)!;
    assert.deepEqual(out.summary.suspiciousSources, [], `seed ${seed}`);
    assert.equal(out.findings.length, 0);
    for (const s of out.summary.sources) assert.ok(s.labelDistance !== null && s.labelDistance < 0.2, 'random labels: sources look alike');
  }
});

test('a small source holding most of the flags is SOURCE_DOMINATES_FLAGS even when not significant', () => {
  // 4 sources; s0 has 25 % of the rows and 6 of the 10 flags: a rate 4.5× the rest, but p is not < 0.01.
  const n = 80;
  const labels = new Int32Array(n);
  const sources = Array.from({ length: n }, (_, i) => `s${i % 4}`);
  const flagged = new Uint8Array(n);
  for (const i of [0, 4, 8, 12, 16, 20, 1, 2, 3, 5]) flagged[i] = 1;
  const dataset = { ...makeContext({ labels, numClasses: 1 }).dataset, sources };
  const out = analyzeSources(dataset, flagged, labels, 1)!;
  const s0 = out.summary.sources.find((s) => s.source === 's0')!;
  assert.ok(s0.dominatesFlags && !s0.highFlagRate, JSON.stringify(s0));
  assert.deepEqual(out.findings.map((f) => f.index), [0, 4, 8, 12, 16, 20]);
  assert.ok(out.findings.every((f) => f.code === SOURCE_DOMINATES_FLAGS && f.severity === 'medium'));
});

test('no source column gives null; missing sources form their own group; mismatched lengths throw', () => {
  const c = makeCase(1, 2, 10, 0.1);
  assert.equal(analyzeSources({ ...c.dataset, sources: null }, c.flagged, c.labels, 3), null);
  const withNull = { ...c.dataset, sources: c.dataset.sources!.map((s, i) => (i < 3 ? null : s)) };
  const out = analyzeSources(withNull, c.flagged, c.labels, 3)!;
  assert.ok(out.summary.sources.some((s) => s.source === '<none>' && s.rows === 3));
  assert.throws(() => analyzeSources(c.dataset, new Uint8Array(3), c.labels, 3), { code: 'DETECTOR_BAD_INPUT' });
});
