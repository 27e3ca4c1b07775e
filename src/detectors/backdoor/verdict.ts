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
 * Limit: a trigger that dominates the input (poisoned rows more alike each other than their source
 * class) makes the poisoned rows each other's look-alikes; the check then sees a consistent group and
 * calls no class backdoored, though the scores still rank the rows. Leaving the candidates out of
 * their own look-alikes fixed that case but called five clean Fashion-MNIST classes backdoored: a
 * natural sub-population's nearest rows outside itself are often other classes'.
 * Measured on Fashion-MNIST with 2 % BadNets / blend: mean L 0.65–0.70 in the poisoned class's
 * top-scoring group against 0.09–0.13 in its other rows; at most 0.33 against 0.23 in a clean class.
 *
 * Per class, with m rows and budget b (rows):
 * 1. the detector scores its rows (activation clustering also names its small cluster);
 * 2. candidates T = the top ⌈b⌉ rows by score (activation clustering: its small cluster);
 * 3. a_t = share with L ≥ ½ among the top t candidates, t = |T| and |T|/2 (≥ 10);
 *    r = the same share among the lower-scoring half (the class's own background rate); the class
 *    holds a backdoor when some t shows a_t − r ≥ 0.5 (effect) with the binomial tail
 *    P(X ≥ t·a_t | t, r) < 0.01 / K / 2 (significance, Bonferroni over classes and the two t);
 *    the estimated number of poisoned rows is ε̂ = max(|T|·(a − r), t·(a_t − r)) at that t;
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
  /**
   * For detectors without a budget (activation clustering): 1 for the rows it singles out (its
   * small cluster), the candidates the verdict tests. Budgeted detectors' candidates are their top
   * ⌈budget⌉ rows.
   */
  readonly candidates?: Uint8Array;
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
/**
 * Measured on Fashion-MNIST (20k, BadNets 2 %): the backdoored class's top candidates are 0.71–0.95
 * inconsistent above its background; clean classes reach 0.32 (sneakers that look like sandals, which
 * the net learned as sneakers) on the top half, and 0.55 on the top eighth — so only the whole group
 * and its top half are tested.
 */
export const MIN_EFFECT = 0.5;
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
  /** Inconsistent share among the top t candidates (t = all and half of them). */
  readonly inconsistencyAtTop: readonly { readonly top: number; readonly share: number }[];
  readonly flagged: number;
  readonly histogram: { readonly edges: number[]; readonly counts: number[] };
  readonly facts: Readonly<Record<string, unknown>>;
}

export async function runBackdoorDetector(spec: BackdoorDetectorSpec, ctx: DetectorContext, budgetOption: 'auto' | number): Promise<DetectorResult> {
  const learned = ctx.learned;
  if (learned === null || learned === undefined) {
    throw new DetectorError('DETECTOR_BAD_INPUT', `${spec.name} needs a learned representation`, { hint: 'the scan builds one when a backdoor detector is selected' });
  }
  const n = ctx.labels.length;
  const K = ctx.numClasses;
  if (learned.activations.length !== n * learned.dim) {
    throw new DetectorError('DETECTOR_BAD_INPUT', `learned representation has ${learned.activations.length} values, expected ${n} × ${learned.dim}`);
  }
  const looks = lookAlikeVotes(ctx);
  const scores = new Float32Array(n);
  const findings: Finding[] = [];
  const classes: BackdoorClassSummary[] = [];
  for (let c = 0; c < K; c++) {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (ctx.labels[i] === c) idx.push(i);
    const m = idx.length;
    if (m < MIN_CLASS_ROWS) continue;
    const x = gather(learned.activations, learned.dim, idx);
    let budget = budgetOption === 'auto' ? Math.max(1, Math.round(INITIAL_BUDGET * m)) : Math.max(1, Math.round(budgetOption * m));
    let passes = 0;
    let run: ClassScores;
    let verdict: Verdict;
    for (;;) {
      passes++;
      run = spec.score(x, budget);
      verdict = await judge(run, idx, looks, K, spec.usesBudget ? budget : null);
      const more = spec.usesBudget && budgetOption === 'auto' && verdict.poisoned && verdict.estimate > budget && passes < MAX_PASSES;
      if (!more) break;
      budget = Math.min(Math.round(verdict.estimate), Math.floor(m / 2));
    }
    // Ranks among all the class's rows, not among the rows the robust estimate kept: with half the
    // class removed, percentiles against the kept rows saturate at 1 and tie every candidate.
    const pct = percentiles(run.scores);
    for (let r = 0; r < m; r++) scores[idx[r]!] = verdict.poisoned ? 0.5 + 0.5 * pct[r]! : 0.49 * pct[r]!;
    let flagged = 0;
    if (verdict.poisoned) {
      const take = Math.min(Math.ceil(FLAG_FACTOR * verdict.estimate), Math.floor(m / 2));
      const order = Int32Array.from({ length: m }, (_, r) => r).sort((a, b) => run.scores[b]! - run.scores[a]! || a - b);
      for (let t = 0; t < take; t++) {
        const r = order[t]!;
        const i = idx[r]!;
        findings.push(finding(spec, ctx, i, scores[i]!, pct[r]!, verdict.rows[r]!, verdict, budget));
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
      inconsistencyAtTop: verdict.tops.map((t) => ({ top: t.top, share: round6(t.share) })),
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
      consistency: looks.source,
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
  /** Per class row: its learned inconsistency. */
  readonly rows: readonly RowInconsistency[];
  /** The inconsistent share among the top t candidates, for t = all and ½. */
  readonly tops: readonly TopShare[];
}

interface TopShare {
  readonly top: number;
  readonly share: number;
  readonly pValue: number;
}

/** The smallest top group the verdict looks at. */
const MIN_TOP = 10;

/** Candidates: the top ⌈budget⌉ rows by score, or (no budget) the rows outside the reference. */
async function judge(run: ClassScores, idx: readonly number[], looks: LookAlikeVotes, K: number, budget: number | null): Promise<Verdict> {
  const m = run.scores.length;
  const order = Int32Array.from({ length: m }, (_, r) => r).sort((a, b) => run.scores[b]! - run.scores[a]! || a - b);
  const isCandidate = new Uint8Array(m);
  if (budget === null) isCandidate.set(run.candidates ?? new Uint8Array(m));
  else for (let t = 0; t < Math.min(m, Math.ceil(budget)); t++) isCandidate[order[t]!] = 1;
  const rows = idx.map((i) => looks.inconsistency(i));
  let cand = 0;
  let candHit = 0;
  let low = 0;
  let lowHit = 0;
  for (let t = 0; t < m; t++) {
    const r = order[t]!;
    const hit = rows[r]!.value >= 0.5 ? 1 : 0;
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
  // The poisoned rows sit at the top of the candidates; when they are fewer than the budget, the
  // whole candidate group dilutes them. So the test also looks at the top half of the candidates
  // (Bonferroni over the two), and keeps the more significant that shows the effect.
  const ranked = order.filter((row) => isCandidate[row] === 1);
  const tops: TopShare[] = [];
  for (let t = ranked.length; t >= MIN_TOP && tops.length < 2; t = Math.floor(t / 2)) {
    let hits = 0;
    for (let q = 0; q < t; q++) hits += rows[ranked[q]!]!.value >= 0.5 ? 1 : 0;
    tops.push({ top: t, share: hits / t, pValue: binomialUpperTail(hits, t, r) });
  }
  let best: TopShare | null = null;
  for (const t of tops) if (t.share - r >= MIN_EFFECT && (best === null || t.pValue < best.pValue)) best = t;
  const pValue = best?.pValue ?? (cand > 0 ? binomialUpperTail(candHit, cand, r) : 1);
  const estimate = Math.max(0, cand * (a - r), best === null ? 0 : best.top * (best.share - r));
  const poisoned = best !== null && best.pValue < ALPHA / K / Math.max(1, tops.length) && estimate >= 5;
  return { poisoned, estimate, candidates: cand, a, r, pValue, rows, tops };
}

/** Per row: the share of the rows scoring strictly lower. */
export function percentiles(scores: Float64Array): Float64Array {
  const ref = Array.from(scores).sort((a, b) => a - b);
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

interface RowInconsistency {
  /** L in [0, 1]. */
  readonly value: number;
  /** Share of the counted look-alikes with another label. */
  readonly disagreement: number;
  /** Look-alikes counted (the graph's k minus excluded ones) and those with another label. */
  readonly counted: number;
  readonly others: number;
  /** The most common other label among them, or −1. */
  readonly lookAlike: number;
}

interface LookAlikeVotes {
  inconsistency(i: number): RowInconsistency;
  readonly source: string;
}

/**
 * L = p_net(given label) × the share of a row's look-alikes (neighbours in the inputs) that carry
 * another label; either factor is 1 when unavailable.
 */
function lookAlikeVotes(ctx: DetectorContext): LookAlikeVotes {
  const n = ctx.labels.length;
  const K = ctx.numClasses;
  const knn = ctx.learned?.lookAlikes ?? ctx.knn;
  const probs = ctx.learned?.probabilities ?? null;
  const counts = new Int32Array(K);
  const where = ctx.learned?.lookAlikes ? 'look-alike graph (range-scaled inputs)' : 'the scan kNN graph';
  const source = knn === null || knn.k === 0 ? 'none (no kNN graph): every candidate counts as inconsistent' : probs === null ? `neighbour disagreement in ${where}` : `trained-net probability × neighbour disagreement in ${where}`;
  return {
    source,
    inconsistency(i) {
      const p = probs === null ? 1 : probs[i * K + ctx.labels[i]!]!;
      if (knn === null || knn.k === 0) return { value: p, disagreement: 1, counted: 0, others: 0, lookAlike: -1 };
      counts.fill(0);
      let counted = 0;
      let others = 0;
      for (const j of knn.indices.subarray(i * knn.k, (i + 1) * knn.k)) {
        if (j < 0 || j >= n) continue;
        counted++;
        const y = ctx.labels[j]!;
        if (y !== ctx.labels[i]) {
          others++;
          counts[y]!++;
        }
      }
      let best = -1;
      for (let c = 0; c < K; c++) if (counts[c]! > 0 && (best < 0 || counts[c]! > counts[best]!)) best = c;
      const disagreement = counted > 0 ? others / counted : 0;
      return { value: p * disagreement, disagreement, counted, others, lookAlike: best };
    },
  };
}

function finding(spec: BackdoorDetectorSpec, ctx: DetectorContext, i: number, score: number, pct: number, row: RowInconsistency, v: Verdict, budget: number): Finding {
  const given = ctx.classNames[ctx.labels[i]!] ?? '';
  const look = row.lookAlike >= 0 ? (ctx.classNames[row.lookAlike] ?? null) : null;
  const k = row.counted;
  const others = row.others;
  const L = row.value;
  const p = ctx.learned?.probabilities;
  const pNet = p === null || p === undefined ? null : round6(p[i * ctx.numClasses + ctx.labels[i]!]!);
  const looksLike = look !== null && others > 0 ? `; ${others}/${k} of its look-alikes are labelled '${look}'` : '';
  return {
    index: i,
    sampleId: ctx.dataset.ids[i] ?? '',
    detector: spec.name,
    code: 'BACKDOOR_SUSPECT',
    score: round6(score),
    severity: L >= 0.5 ? 'high' : 'medium',
    message: `possible backdoor sample in '${given}': ${spec.scoreName} higher than ${(pct * 100).toFixed(1)} % of the class's rows${looksLike}`,
    evidence: {
      class: given,
      percentile: round6(pct),
      netProbability: pNet,
      neighbourDisagreement: round6(row.disagreement),
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
