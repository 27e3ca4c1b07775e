// Guards against: a planted attack that changes fewer labels than it claims (a label "flipped" to
// itself), touches classes it should not, or differs between two runs with the same seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import { plantSymmetricFlips, plantTargetedFlips, RedteamError } from './index.ts';

const labels = Int32Array.from({ length: 1000 }, (_, i) => i % 4);

test('symmetric flips change exactly rate·n labels, each to another class', () => {
  const r = plantSymmetricFlips(labels, 4, 0.1, createRng(7));
  assert.equal(r.count, 100);
  let changed = 0;
  for (let i = 0; i < labels.length; i++) {
    if (r.planted[i]) {
      assert.notEqual(r.labels[i], labels[i]);
      changed++;
    } else assert.equal(r.labels[i], labels[i]);
  }
  assert.equal(changed, 100);
  assert.deepEqual(plantSymmetricFlips(labels, 4, 0.1, createRng(7)).labels, r.labels);
});

test('targeted flips only move the source class to the target', () => {
  const r = plantTargetedFlips(labels, 1, 2, 0.4, createRng(3));
  assert.equal(r.count, 100);
  for (let i = 0; i < labels.length; i++) {
    if (r.planted[i]) {
      assert.equal(labels[i], 1);
      assert.equal(r.labels[i], 2);
    }
  }
});

test('bad rates are refused', () => {
  assert.throws(() => plantSymmetricFlips(labels, 4, 1.5, createRng(1)), (e: unknown) => e instanceof RedteamError && e.code === 'REDTEAM_BAD_RATE');
  assert.throws(() => plantTargetedFlips(labels, 1, 1, 0.1, createRng(1)), (e: unknown) => e instanceof RedteamError && e.code === 'REDTEAM_UNKNOWN_CLASS');
});
