/**
 * What the three representation detectors (spectral signatures, activation clustering, SPECTRE)
 * share: running per class, estimating the poison budget ε when the user gives none, deciding
 * which classes hold a backdoor, and turning scores into findings.
 *
 * Scores alone cannot tell a backdoor from a natural sub-population: every class has a group the
 * net separates from the rest (measured on clean Fashion-MNIST classes: Ashman D 2.5–4.7, the same
 * range as the poisoned class). What a dirty-label backdoor adds is *label inconsistency the net
 * learned*: the poisoned rows are other classes' inputs carrying a trigger, so their look-alikes in
 * input space (the scan's kNN graph, built on PCA of the inputs, which a small trigger barely
 * moves) carry other labels, yet the trained net puts them in their given class with confidence.
 * Per row, consistency L = p_net(given label) × (share of input-space neighbours with another label).
 * Measured on Fashion-MNIST with 2 % BadNets / blend: mean L 0.65–0.70 in the poisoned class's
 * top-scoring group against 0.09–0.13 in its other rows; at most 0.33 against 0.23 in a clean class.
 *
 * Per class, with m rows and budget b (rows):
 * 1. the detector scores its rows and names reference rows it believes clean;
 * 2. candidates T = the top ⌈b⌉ rows by score (activation clustering: its small cluster);
 * 3. a = share of T with L ≥ ½, r = the same share among the lower-scoring half (the class's own
 *    background rate); the class holds a backdoor when a − r ≥ 0.35 (effect) and the binomial tail
 *    P(X ≥ |T|·a | |T|, r) < 0.01 / K (significance, Bonferroni over classes); the estimated number
 *    of poisoned rows is ε̂ = |T|·(a − r);
 * 4. with `budget: 'auto'`, the run starts at b = m/4 and repeats with b = ε̂ while ε̂ > b (at most
 *    four passes): the robust estimates need b ≥ the true count (a budget below it leaves poisons in
 *    the "clean" covariance and they hide), and up to a quarter of a class covers 5 % all-to-one
 *    poisoning of a 10-class set. A numeric budget is used as given (b = budget·m), in one pass.
 * Flags: in a class that holds a backdoor, the top ⌈1.5·ε̂⌉ rows (SPECTRE's and Tran et al.'s
 * 1.5 factor), severity high when the row's own L ≥ ½, medium otherwise. Scores: the row's
 * percentile among its class's rows, mapped to [0.5, 1] in backdoored classes and [0, 0.49]
 * elsewhere, so a whole-data ranking puts the backdoored class first.
 */
import type { Finding } from '../../core/index.ts';
import type { DetectorContext, DetectorResult } from '../detector.ts';
import { DetectorError } from '../errors.ts';
import { round6 } from '../numbers.ts';
import { binomialUpperTail } from '../sources.ts';
import { gather, type Rows } from './linear.ts';

/** One detector's view of one class at budget b (rows). */
export interface ClassScores {
  /** Higher = more suspicious, length m. */
  readonly scores: Float64Array;
  /** 1 for rows the detector believes clean: the reference its percentiles are taken against. */
  readonly reference: Uint8Array;
  /** Detector-specific facts for the class summary (k chosen, silhouette, …). */
  readonly facts: Readonly<Record<string, unknown>>;
}

export type ClassScorer = (x: Rows, budget: number) => ClassScores;

export interface BackdoorDetectorSpec {
  readonly name: string;
  /** What the score measures, for messages: e.g. "SPECTRE QUE score". */
  readonly scoreName: string;
  readonly score: ClassScorer;
  /** False for detectors that take no budget (activation clustering): one pass. */
  readonly usesBudget: boolean;
}

export const INITIAL_BUDGET = 0.25;
export const MAX_PASSES = 4;
export const MIN_EFFECT = 0.35;
export const ALPHA = 0.01;
export const FLAG_FACTOR = 1.5;
/** Classes smaller than this are not scored: covariance estimates need rows. */
export const MIN_CLASS_ROWS = 20;

export interface BackdoorClassSummary {
  readonly class: string;
  readonly rows: number;
  readonly poisoned: boolean;
  readonly estimatedPoisoned: number;
  /** The budget of the last pass, in rows, and how it was chosen. */
  readonly budget: number;
  readonly budgetSource: 'auto' | 'option';
  readonly passes: number;
  readonly candidates: number;
  /** Share of candidates with L ≥ ½ against the class's background share. */
  readonly candidateInconsistency: number;
  readonly backgroundInconsistency: number;
  readonly pValue: number;
  readonly flagged: number;
  readonly histogram: { readonly edges: number[]; readonly counts: number[] };
  readonly facts: Readonly<Record<string, unknown>>;
}

export function runBackdoorDetector(spec: BackdoorDetectorSpec, ctx: DetectorContext, budgetOption: 'auto' | number): DetectorResult {
  const learned = ctx.learned;
  if (learned === null || learned === undefined) {
    throw new DetectorError('DETECTOR_BAD_INPUT', `${spec.name} needs a learned representation`, { hint: 'the scan builds one when a backdoor detector is selected' });
  }
  const n = ctx.labels.length;
  const K = ctx.numClasses;
  if (learned.activations.length !== n * learned.dim) {
    throw new DetectorError('DETECTOR_BAD_INPUT', `learned representation has ${learned.activations.length} values, expected ${n} × ${learned.dim}`);
  }
  const consistency = learnedInconsistency(ctx);
  const scores = new Float32Array(n);
  const findings: Finding[] = [];
  const classes: BackdoorClassSummary[] = [];
  for (let c = 0; c < K; c++) {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (ctx.labels[i] === c) idx.push(i);
    const m = idx.length;
    if (m < MIN_CLASS_ROWS) continue;
    const x = gather(learned.activations, learned.dim, idx);
    const L = idx.map((i) => consistency.value[i]!);
    let budget = budgetOption === 'auto' ? Math.max(1, Math.round(INITIAL_BUDGET * m)) : Math.max(1, Math.round(budgetOption * m));
    let passes = 0;
    let run: ClassScores;
    let verdict: Verdict;
    for (;;) {
      passes++;
      run = spec.score(x, budget);
      verdict = judge(run, L, K, spec.usesBudget ? budget : null);
      const more = spec.usesBudget && budgetOption === 'auto' && verdict.poisoned && verdict.estimate > budget && passes < MAX_PASSES;
      if (!more) break;
      budget = Math.min(Math.round(verdict.estimate), Math.floor(m / 2));
    }
    // Ranks among all the class's rows, not just the reference: with half the class outside the
    // reference, percentiles against it saturate at 1 and tie every candidate.
    const pct = percentiles(run.scores, new Uint8Array(m).fill(1));
    for (let r = 0; r < m; r++) scores[idx[r]!] = verdict.poisoned ? 0.5 + 0.5 * pct[r]! : 0.49 * pct[r]!;
    let flagged = 0;
    if (verdict.poisoned) {
      const take = Math.min(Math.ceil(FLAG_FACTOR * verdict.estimate), Math.floor(m / 2));
      const order = Int32Array.from({ length: m }, (_, r) => r).sort((a, b) => run.scores[b]! - run.scores[a]! || a - b);
      for (let t = 0; t < take; t++) {
        const r = order[t]!;
        const i = idx[r]!;
        findings.push(finding(spec, ctx, i, scores[i]!, pct[r]!, L[r]!, consistency, verdict, budget));
      }
      flagged = take;
    }
    classes.push({
      class: ctx.classNames[c] ?? String(c),
      rows: m,
      poisoned: verdict.poisoned,
      estimatedPoisoned: Math.round(verdict.estimate),
      budget,
      budgetSource: budgetOption === 'auto' ? 'auto' : 'option',
      passes,
      candidates: verdict.candidates,
      candidateInconsistency: round6(verdict.a),
      backgroundInconsistency: round6(verdict.r),
      pValue: verdict.pValue,
      flagged,
      histogram: histogram(Array.from(idx, (i) => scores[i]!)),
      facts: run.facts,
    });
  }
  return {
    scores,
    findings,
    summary: {
      representation: learned.info,
      budget: budgetOption,
      consistency: consistency.source,
      poisonedClasses: classes.filter((c) => c.poisoned).map((c) => c.class),
      classes,
    },
  };
}

interface Verdict {
  readonly poisoned: boolean;
  readonly estimate: number;
  readonly candidates: number;
  readonly a: number;
  readonly r: number;
  readonly pValue: number;
}

/** Candidates: the top ⌈budget⌉ rows by score, or (no budget) the rows outside the reference. */
function judge(run: ClassScores, L: readonly number[], K: number, budget: number | null): Verdict {
  const m = run.scores.length;
  const order = Int32Array.from({ length: m }, (_, r) => r).sort((a, b) => run.scores[b]! - run.scores[a]! || a - b);
  const isCandidate = new Uint8Array(m);
  if (budget === null) for (let r = 0; r < m; r++) isCandidate[r] = run.reference[r] === 1 ? 0 : 1;
  else for (let t = 0; t < Math.min(m, Math.ceil(budget)); t++) isCandidate[order[t]!] = 1;
  let cand = 0;
  let candHit = 0;
  let low = 0;
  let lowHit = 0;
  for (let t = 0; t < m; t++) {
    const r = order[t]!;
    const hit = L[r]! >= 0.5 ? 1 : 0;
    if (isCandidate[r] === 1) {
      cand++;
      candHit += hit;
    } else if (t >= m / 2) {
      low++;
      lowHit += hit;
    }
  }
  const a = cand > 0 ? candHit / cand : 0;
  // A floor on the background rate: a class with no inconsistent rows at all would make any one significant.
  const r = Math.max(low > 0 ? lowHit / low : 0, 1 / Math.max(1, m));
  const pValue = cand > 0 ? binomialUpperTail(candHit, cand, r) : 1;
  const estimate = Math.max(0, cand * (a - r));
  const poisoned = cand > 0 && a - r >= MIN_EFFECT && pValue < ALPHA / K && estimate >= 5;
  return { poisoned, estimate, candidates: cand, a, r, pValue };
}

/** Per row: the share of reference rows scoring strictly lower. */
export function percentiles(scores: Float64Array, reference: Uint8Array): Float64Array {
  const ref: number[] = [];
  for (let r = 0; r < scores.length; r++) if (reference[r] === 1) ref.push(scores[r]!);
  ref.sort((a, b) => a - b);
  const out = new Float64Array(scores.length);
  if (ref.length === 0) return out;
  for (let r = 0; r < scores.length; r++) {
    let lo = 0;
    let hi = ref.length;
    const s = scores[r]!;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ref[mid]! < s) lo = mid + 1;
      else hi = mid;
    }
    out[r] = lo / ref.length;
  }
  return out;
}

interface Consistency {
  /** L per row in [0, 1]. */
  readonly value: Float64Array;
  /** Share of input-space neighbours with another label, per row. */
  readonly disagreement: Float64Array;
  /** For evidence: the most common other label among the neighbours, per row (−1 if none). */
  readonly lookAlike: Int32Array;
  readonly source: string;
}

/** L = p_net(given label) × input-space neighbour disagreement (either factor 1 when unavailable). */
function learnedInconsistency(ctx: DetectorContext): Consistency {
  const n = ctx.labels.length;
  const K = ctx.numClasses;
  const disagreement = new Float64Array(n);
  const lookAlike = new Int32Array(n).fill(-1);
  const knn = ctx.learned?.lookAlikes ?? ctx.knn;
  if (knn !== null && knn.k > 0) {
    const counts = new Int32Array(K);
    for (let i = 0; i < n; i++) {
      counts.fill(0);
      let other = 0;
      for (let t = 0; t < knn.k; t++) {
        const j = knn.indices[i * knn.k + t]!;
        if (j < 0 || j >= n) continue;
        const y = ctx.labels[j]!;
        if (y !== ctx.labels[i]) {
          other++;
          counts[y]!++;
        }
      }
      disagreement[i] = other / knn.k;
      let best = -1;
      for (let c = 0; c < K; c++) if (counts[c]! > 0 && (best < 0 || counts[c]! > counts[best]!)) best = c;
      lookAlike[i] = best;
    }
  } else {
    disagreement.fill(1);
  }
  const probs = ctx.learned?.probabilities ?? null;
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) value[i] = disagreement[i]! * (probs === null ? 1 : probs[i * K + ctx.labels[i]!]!);
  const space = ctx.learned?.lookAlikes ? 'look-alike graph (range-scaled inputs)' : 'the scan kNN graph';
  const source = knn === null ? 'none (no kNN graph): every candidate counts as inconsistent' : probs === null ? `neighbour disagreement in ${space}` : `trained-net probability × neighbour disagreement in ${space}`;
  return { value, disagreement, lookAlike, source };
}

function finding(spec: BackdoorDetectorSpec, ctx: DetectorContext, i: number, score: number, pct: number, L: number, c: Consistency, v: Verdict, budget: number): Finding {
  const given = ctx.classNames[ctx.labels[i]!] ?? '';
  const look = c.lookAlike[i]! >= 0 ? (ctx.classNames[c.lookAlike[i]!] ?? null) : null;
  const k = (ctx.learned?.lookAlikes ?? ctx.knn)?.k ?? 0;
  const others = Math.round(c.disagreement[i]! * k);
  const p = ctx.learned?.probabilities;
  const pNet = p === null || p === undefined ? null : round6(p[i * ctx.numClasses + ctx.labels[i]!]!);
  const looks = look !== null && others > 0 ? `; ${others}/${k} of its look-alikes are labelled '${look}'` : '';
  return {
    index: i,
    sampleId: ctx.dataset.ids[i] ?? '',
    detector: spec.name,
    code: 'BACKDOOR_SUSPECT',
    score: round6(score),
    severity: L >= 0.5 ? 'high' : 'medium',
    message: `possible backdoor sample in '${given}': ${spec.scoreName} higher than ${(pct * 100).toFixed(1)} % of the class's rows${looks}`,
    evidence: {
      class: given,
      percentile: round6(pct),
      netProbability: pNet,
      neighbourDisagreement: round6(c.disagreement[i]!),
      looksLike: look,
      learnedInconsistency: round6(L),
      estimatedPoisonedInClass: Math.round(v.estimate),
      budget,
    },
  };
}

function histogram(values: readonly number[], bins = 20): { edges: number[]; counts: number[] } {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))]! += 1;
  return { edges: Array.from({ length: bins + 1 }, (_, b) => b / bins), counts };
}
