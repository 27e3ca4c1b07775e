// Guards against: a kNN label vote that counts the sample itself (not leave-one-out), lets padded
// (−1), self or out-of-range neighbour indices vote, breaks ties against the given label, or
// divides by zero when a row has no usable neighbour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetectorError, knnConsensus } from './index.ts';
import type { KnnGraph } from '../compute/index.ts';

const LABELS = Int32Array.from([0, 0, 1, 1, 1]);
// Row i lists its 3 neighbours, nearest first. Row 1 holds itself and a −1 pad; row 4 holds nothing usable.
const GRAPH: KnnGraph = {
  n: 5,
  k: 3,
  indices: Int32Array.from([1, 2, 3, 0, 1, -1, 3, 0, 1, 2, 0, 4, -1, 7, 4]),
  distances: Float32Array.from([0.1, 0.2, 0.3, 0.1, 0, 9, 0.1, 0.2, 0.3, 0.1, 0.3, 0.4, 9, 9, 0]),
  metric: 'euclidean',
};

test('votes are the neighbours’ label shares, leave-one-out, invalid neighbours skipped', () => {
  const c = knnConsensus(LABELS, GRAPH, 2);
  const third = 1 / 3;
  // 0: labels of 1,2,3 = 0,1,1 → (1/3, 2/3). 1: only 0 is valid → (1, 0). 2: 3,0,1 → 1,0,0 → (2/3, 1/3).
  // 3: 2,0,4 → 1,0,1 → (1/3, 2/3). 4: no valid neighbour → uniform (1/2, 1/2).
  const expected = [third, 2 * third, 1, 0, 2 * third, third, third, 2 * third, 0.5, 0.5];
  expected.forEach((v, x) => assert.ok(Math.abs(c.distributions[x]! - v) < 1e-12, `${x}`));
  assert.deepEqual(Array.from(c.voters), [3, 1, 3, 3, 0]);
  assert.deepEqual(Array.from(c.agreeing), [1, 1, 1, 2, 0]);
  assert.deepEqual(Array.from(c.consensusLabel), [1, 0, 0, 1, 1]);
  const suspicion = [2 * third, 0, 2 * third, third, 0.5];
  suspicion.forEach((v, i) => assert.ok(Math.abs(c.suspicion[i]! - v) < 1e-12, `${i}`));
});

test('a tied vote goes to the given label', () => {
  // With k = 2, row 0 sees 1 (label 0) and 2 (label 1): a tie → the given label 0 keeps it.
  const c = knnConsensus(LABELS, GRAPH, 2, { k: 2 });
  assert.equal(c.consensusLabel[0], 0);
  assert.equal(c.consensusShare[0], 0.5);
  // Row 2 (given 1) sees 3 (label 1) and 0 (label 0): tie → 1.
  assert.equal(c.consensusLabel[2], 1);
});

test('a graph for another dataset or a bad k is a typed error', () => {
  assert.throws(() => knnConsensus(LABELS.subarray(1), GRAPH, 2), (e: unknown) => e instanceof DetectorError && e.code === 'DETECTOR_BAD_INPUT');
  assert.throws(() => knnConsensus(LABELS, GRAPH, 2, { k: 4 }), (e: unknown) => e instanceof DetectorError && e.code === 'DETECTOR_BAD_OPTION');
  assert.throws(() => knnConsensus(Int32Array.from([0, 0, 1, 1, 2]), GRAPH, 2), (e: unknown) => e instanceof DetectorError && e.code === 'DETECTOR_BAD_INPUT');
});
