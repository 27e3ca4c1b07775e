import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../core/index.ts';
import { auroc, symmetricEig } from '../../compute/index.ts';
import { spectre, que } from './spectre.ts';
import { spectralSignatureScores } from './detectors.ts';
import { covariance, type Rows } from './linear.ts';

/**
 * A class of m rows in d dims whose clean variance is large along the first few axes, with a
 * poisoned ε share shifted along a low-variance axis: the weak-signature regime where the
 * class's top singular vector is natural variation, not the poison (research/detection.md §8 B.8).
 */
function weakSignatureClass(m: number, d: number, eps: number, shift: number, seed: number): { x: Rows; poison: Uint8Array } {
  const rng = createRng(seed);
  const data = new Float64Array(m * d);
  const poison = new Uint8Array(m);
  const nPoison = Math.round(eps * m);
  for (let r = 0; r < m; r++) {
    poison[r] = r < nPoison ? 1 : 0;
    for (let j = 0; j < d; j++) {
      const sd = j < 3 ? 6 : 1;
      data[r * d + j] = sd * rng.normal();
    }
    if (poison[r] === 1) data[r * d + d - 1]! += shift;
  }
  return { x: { m, d, data }, poison };
}

function tprAtFpr(scores: ArrayLike<number>, poison: Uint8Array, fpr: number): number {
  const clean = Array.from(scores).filter((_, r) => poison[r] === 0).sort((a, b) => a - b);
  const cut = clean[Math.floor((1 - fpr) * (clean.length - 1))]!;
  let hit = 0;
  let total = 0;
  for (let r = 0; r < poison.length; r++) {
    if (poison[r] === 0) continue;
    total++;
    if (scores[r]! > cut) hit++;
  }
  return hit / total;
}

test('SPECTRE finds a weak-signature poison that spectral signatures miss', () => {
  for (const seed of [1, 2]) {
    // Shift 5 along a unit-variance axis: below the clean top singular value (sd 6 on three axes).
    const { x, poison } = weakSignatureClass(800, 16, 0.05, 5, seed);
    const budget = 0.05 * 800;
    const sp = spectre(x, budget, { maxDims: 16 });
    const ss = spectralSignatureScores(x);
    assert.ok(tprAtFpr(sp.scores, poison, 0.05) >= 0.9, `SPECTRE TPR ${tprAtFpr(sp.scores, poison, 0.05)}`);
    assert.ok(auroc(sp.scores, poison) >= 0.95);
    assert.ok(tprAtFpr(ss.scores, poison, 0.05) < 0.5, `spectral signatures TPR ${tprAtFpr(ss.scores, poison, 0.05)}`);
  }
});

test('spectral signatures catch a strong-signature poison (the Tran et al. regime)', () => {
  const { x, poison } = weakSignatureClass(800, 16, 0.1, 25, 3);
  const ss = spectralSignatureScores(x);
  assert.ok(tprAtFpr(ss.scores, poison, 0.05) >= 0.9);
});

test('QUE interpolates between Mahalanobis (α → 0) and the top direction (α large)', () => {
  const rng = createRng(4);
  const m = 400;
  const d = 5;
  const data = new Float64Array(m * d);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  // Stretch axis 0: Σ′ has one excess direction.
  for (let r = 0; r < m; r++) data[r * d]! *= 3;
  const y = { m, d, data };
  const small = que(y, 1e-6);
  // α → 0: M ∝ I, score = ‖y‖² (k-normalised by d/d).
  for (let r = 0; r < 5; r++) {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += data[r * d + j]! ** 2;
    assert.ok(Math.abs(small.scores[r]! - norm) < 1e-3 * Math.max(1, norm));
  }
  const large = que(y, 60);
  // α large: M ≈ vvᵀ for the top eigenvector v of Σ′ = (1/m)·Σ yyᵀ, score ≈ d·(v·y)².
  const { values, vectors } = symmetricEig(covariance(y), d);
  assert.ok(values[0]! > 5);
  for (let r = 0; r < 20; r++) {
    let p = 0;
    for (let j = 0; j < d; j++) p += vectors[j * d]! * data[r * d + j]!;
    assert.ok(Math.abs(large.scores[r]! - d * p * p) < 1e-6 * Math.max(1, d * p * p), `row ${r}: ${large.scores[r]} vs ${d * p * p}`);
  }
  assert.ok(large.traceRatio > small.traceRatio);
});

test('SPECTRE is deterministic and keeps the clean rows when there is no poison', () => {
  const { x } = weakSignatureClass(300, 8, 0, 0, 5);
  const a = spectre(x, 15, { maxDims: 8 });
  const b = spectre(x, 15, { maxDims: 8 });
  assert.deepEqual(Array.from(a.scores), Array.from(b.scores));
  const kept = a.kept.reduce((s, v) => s + v, 0);
  assert.ok(kept >= 300 - 2 * 15, `kept ${kept}`);
});
