/**
 * The three representation-based backdoor detectors, each a per-class scorer plugged into the
 * shared budget / verdict / findings driver (verdict.ts). docs/backdoors.md has the algorithms,
 * defaults and measured numbers.
 */
import { createRng } from '../../core/index.ts';
import type { Detector } from '../detector.ts';
import { DetectorError } from '../errors.ts';
import { round6 } from '../numbers.ts';
import { principalComponents, type Rows } from './linear.ts';
import { spectre, type SpectreOptions } from './spectre.ts';
import { runBackdoorDetector, type ClassScores } from './verdict.ts';

export interface BackdoorOptions {
  /** Upper bound on a class's poisoned share in (0, 0.5], or 'auto' (default) to estimate it. */
  readonly budget?: 'auto' | number;
}

function checkBudget(budget: 'auto' | number | undefined): 'auto' | number {
  if (budget === undefined || budget === 'auto') return 'auto';
  if (!(budget > 0 && budget <= 0.5)) {
    throw new DetectorError('DETECTOR_BAD_OPTION', `backdoor budget must be 'auto' or a fraction in (0, 0.5], got ${budget}`, {
      hint: 'it bounds the share of one class that may be poisoned; leave it at auto to estimate it',
    });
  }
  return budget;
}

/**
 * SPECTRE defaults: α = 4 and the 1.5 flag factor as published; the PCA search stops at 36
 * dimensions, not 100: on a ReLU net's 128 activations the trailing components of a class are
 * nearly dead, and whitening them blew the scores up (class AUROC 0.91 at 100 dims, 0.996 at 36).
 */
export const SPECTRE_DEFAULTS: SpectreOptions = { alpha: 4, maxDims: 36 };

export function createSpectreDetector(options: BackdoorOptions = {}): Detector {
  const budget = checkBudget(options.budget);
  return {
    name: 'spectre',
    description: 'SPECTRE (Hayase et al. 2021): robust covariance, whitening and QUantum Entropy scores per class on the learned representation',
    needs: ['learned', 'knn'],
    run: (ctx) =>
      runBackdoorDetector(
        {
          name: 'spectre',
          scoreName: 'SPECTRE QUE score',
          usesBudget: true,
          score: (x, b): ClassScores => {
            const r = spectre(x, b, SPECTRE_DEFAULTS);
            return { scores: r.scores, facts: { dims: r.dims, traceRatio: round6(r.traceRatio), removedByRobustCovariance: r.kept.length - r.kept.reduce((s, v) => s + v, 0) } };
          },
        },
        ctx,
        budget,
      ),
  };
}

/**
 * Spectral signatures (Tran, Li, Madry 2018), the paper's version: centre the class's
 * representations, take the top right-singular vector v, score ((r − r̄)·v)². (IBM ART and the
 * authors' `compute_corr.py` project uncentred r, which puts the class mean into v.)
 */
export function spectralSignatureScores(x: Rows): ClassScores {
  const { scores: z } = principalComponents(x, 1);
  const scores = new Float64Array(x.m);
  for (let r = 0; r < x.m; r++) scores[r] = z.d > 0 ? z.data[r * z.d]! ** 2 : 0;
  // The paper removes the top 1.5·ε·m; the shared driver flags 1.5·ε̂ from these scores.
  return { scores, facts: {} };
}

export function createSpectralSignaturesDetector(options: BackdoorOptions = {}): Detector {
  const budget = checkBudget(options.budget);
  return {
    name: 'spectral-signatures',
    description: 'spectral signatures (Tran et al. 2018): squared projection on the top singular vector of each class’s centred representations',
    needs: ['learned', 'knn'],
    run: (ctx) => runBackdoorDetector({ name: 'spectral-signatures', scoreName: 'spectral-signature score', usesBudget: true, score: spectralSignatureScores }, ctx, budget),
  };
}

/** Activation clustering defaults (Chen et al. 2018; IBM ART): 10 PCA dimensions, 2 clusters, ART's silhouette rule. */
export const AC_DIMS = 10;
export const AC_MAX_SHARE = 0.35;
export const AC_MIN_SILHOUETTE = 0.1;
/** Silhouettes are O(m²): above this many rows they are taken on a seeded sample. */
const SILHOUETTE_SAMPLE = 2000;

/**
 * Activation clustering: PCA to 10 dimensions, 2-means (k-means++ seeding, seeded), the smaller
 * cluster is the candidate. Score: d_big / (d_big + d_small) (> ½ inside the small cluster); the
 * small cluster is the candidate group the verdict tests. Facts: the relative size, the mean silhouette, and whether
 * ART's rule (size < 0.35 and silhouette > 0.1) would call the class poisoned.
 */
export function activationClusteringScores(x: Rows): ClassScores {
  const { scores: z } = principalComponents(x, AC_DIMS);
  const { assign, centres } = twoMeans(z, 0);
  let ones = 0;
  for (const a of assign) ones += a;
  const small = ones <= z.m - ones ? 1 : 0;
  const size = (small === 1 ? ones : z.m - ones) / z.m;
  const scores = new Float64Array(z.m);
  const candidates = new Uint8Array(z.m);
  for (let r = 0; r < z.m; r++) {
    const dSmall = Math.sqrt(dist2(z, r, centres[small]!));
    const dBig = Math.sqrt(dist2(z, r, centres[1 - small]!));
    scores[r] = dBig + dSmall > 0 ? dBig / (dBig + dSmall) : 0.5;
    candidates[r] = assign[r] === small ? 1 : 0;
  }
  const silhouette = meanSilhouette(z, assign);
  return {
    scores,
    candidates,
    facts: { relativeSize: round6(size), silhouette: round6(silhouette), artRulePoisoned: size < AC_MAX_SHARE && silhouette > AC_MIN_SILHOUETTE },
  };
}

export function createActivationClusteringDetector(): Detector {
  return {
    name: 'activation-clustering',
    description: 'activation clustering (Chen et al. 2018): PCA-10 and 2-means per class; the small cluster, with its size and silhouette',
    needs: ['learned', 'knn'],
    run: (ctx) => runBackdoorDetector({ name: 'activation-clustering', scoreName: 'activation-cluster score', usesBudget: false, score: (x) => activationClusteringScores(x) }, ctx, 'auto'),
  };
}

function dist2(z: Rows, r: number, c: Float64Array): number {
  let s = 0;
  for (let j = 0; j < z.d; j++) s += (z.data[r * z.d + j]! - c[j]!) ** 2;
  return s;
}

/** Lloyd's 2-means with k-means++ seeding (seeded), at most 100 iterations. */
function twoMeans(z: Rows, seed: number): { assign: Uint8Array; centres: Float64Array[] } {
  const rng = createRng(seed);
  const first = Math.floor(rng.next() * z.m);
  const c0 = z.data.slice(first * z.d, (first + 1) * z.d);
  const d = Float64Array.from({ length: z.m }, (_, r) => dist2(z, r, c0));
  let total = 0;
  for (const v of d) total += v;
  let pick = rng.next() * total;
  let second = z.m - 1;
  for (let r = 0; r < z.m; r++) {
    pick -= d[r]!;
    if (pick <= 0) {
      second = r;
      break;
    }
  }
  const centres = [c0, z.data.slice(second * z.d, (second + 1) * z.d)];
  const assign = new Uint8Array(z.m);
  for (let it = 0; it < 100; it++) {
    let changed = it === 0;
    for (let r = 0; r < z.m; r++) {
      const a = dist2(z, r, centres[1]!) < dist2(z, r, centres[0]!) ? 1 : 0;
      if (a !== assign[r]) changed = true;
      assign[r] = a;
    }
    if (!changed) break;
    const sums = [new Float64Array(z.d), new Float64Array(z.d)];
    const counts = [0, 0];
    for (let r = 0; r < z.m; r++) {
      const a = assign[r]!;
      counts[a]!++;
      for (let j = 0; j < z.d; j++) sums[a]![j]! += z.data[r * z.d + j]!;
    }
    for (const a of [0, 1]) if (counts[a]! > 0) centres[a] = sums[a]!.map((v) => v / counts[a]!);
  }
  return { assign, centres };
}

/** Mean silhouette (Euclidean) over all rows, or a seeded sample of them for large classes. */
function meanSilhouette(z: Rows, assign: Uint8Array): number {
  const rows = Int32Array.from({ length: z.m }, (_, r) => r);
  const sample = z.m > SILHOUETTE_SAMPLE ? createRng(1).shuffle(rows).subarray(0, SILHOUETTE_SAMPLE) : rows;
  let sum = 0;
  for (const r of sample) {
    let sameSum = 0;
    let same = 0;
    let otherSum = 0;
    let other = 0;
    for (const q of sample) {
      if (q === r) continue;
      let s = 0;
      for (let j = 0; j < z.d; j++) s += (z.data[r * z.d + j]! - z.data[q * z.d + j]!) ** 2;
      const dd = Math.sqrt(s);
      if (assign[q] === assign[r]) {
        sameSum += dd;
        same++;
      } else {
        otherSum += dd;
        other++;
      }
    }
    if (same === 0 || other === 0) continue;
    const a = sameSum / same;
    const b = otherSum / other;
    sum += Math.max(a, b) > 0 ? (b - a) / Math.max(a, b) : 0;
  }
  return sum / sample.length;
}
