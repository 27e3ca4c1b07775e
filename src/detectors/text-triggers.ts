/**
 * The `text-triggers` detector: word n-grams (n ≤ 5) whose presence pins one label that the rest
 * of the text does not explain — the footprint of a BadNets-style rare-token or InsertSent backdoor
 * (a token or sentence inserted into some samples of one class, relabelled to the target class;
 * research/detection.md §4.1, §4.2 "token–label correlation mining").
 *
 * The pitfall is an ordinary predictive word ("viagra" for spam): it too is almost always seen with
 * one label. What sets a trigger apart is that its carriers' *other* words point elsewhere. So:
 * 1. Tokenize as the text featurizer does (features `tokenize`), count the document frequency of
 *    every word n-gram per class, apriori-style: an n-gram is counted only when its two
 *    (n−1)-gram halves have support ≥ minSupport (default max(5, 0.2 % of n)).
 * 2. Candidates: n-grams whose carriers are ≥ minPurity (0.9) one class c, and whose count in c is
 *    significant against the base rate P(c): Chernoff bound ln P(Bin(d, P(c)) ≥ k) ≤ −d·KL(k/d‖P(c)),
 *    or its carriers labelled c are contradicted by an out-of-fold naive Bayes on the whole text
 *    more often than class c's samples are (same bound; this one finds triggers for a majority
 *    class at 1 % poison). Bonferroni over every (n-gram, class, test) at family-wise `alpha` (0.01).
 * 3. Rest of the text: a binary multinomial naive Bayes, out of fold (5 folds), scores each carrier
 *    with the n-gram's words and its companions removed (words whose documents are ≥ 80 % carriers
 *    of the n-gram: the other words of an inserted sentence would otherwise vouch for the label).
 *    Excess = k − Σ P_rest(c | carrier); unexplained share = excess / d. A trigger has
 *    unexplained share ≥ minUnexplained (0.75); a predictive word has ≈ 0. On clean SpamAssassin
 *    the largest share among pure, significant n-grams is 0.58 (base64 debris in 17 spams); planted
 *    rare tokens and inserted sentences score 0.84–0.94.
 * 4. Nested n-grams merge: by length, shortest first, an n-gram containing an accepted trigger of
 *    the same class is dropped (the minimal trigger is named). Triggers rank by excess; one whose
 *    target-class carriers are ≥ 80 % those of a higher-ranked trigger is listed as `related` to
 *    it (two pieces of one inserted sentence) instead of standing alone.
 *
 * Every carrier labelled with a trigger's target class gets TEXT_TRIGGER: high severity when the
 * rest of its text says another class (score 0.5 + 0.5·(1 − P_rest(c))), medium otherwise. No poison
 * budget ε is assumed: a trigger may cover any share of the data; the summary reports the share
 * flagged as `estimatedPoisonRate`. Triggers inserted into samples that keep their true label
 * (clean-label) and syntactic or style triggers are out of scope for token statistics.
 */
import type { Finding } from '../core/index.ts';
import { tokenize } from '../features/index.ts';
import type { Detector, DetectorContext, DetectorResult } from './detector.ts';
import { DetectorError } from './errors.ts';
import { round6 } from './numbers.ts';

export const TEXT_TRIGGERS_DETECTOR = 'text-triggers';
export const TEXT_TRIGGER_CODE = 'TEXT_TRIGGER';

export interface TextTriggerOptions {
  /** Longest n-gram considered (1–5, default 5). */
  readonly maxN?: number;
  /** Minimum document frequency of an n-gram (default max(5, ⌈0.002·n⌉)). */
  readonly minSupport?: number;
  /** Minimum share of an n-gram's carriers in the target class (default 0.9). */
  readonly minPurity?: number;
  /** Minimum share of carriers whose label the rest of the text does not explain (default 0.75). */
  readonly minUnexplained?: number;
  /** Family-wise error rate of the enrichment test, Bonferroni-corrected (default 0.01). */
  readonly alpha?: number;
  /** Folds of the out-of-fold naive Bayes (default 5). */
  readonly folds?: number;
}

const DEFAULTS = { maxN: 5, minPurity: 0.9, minUnexplained: 0.75, alpha: 0.01, folds: 5 } as const;
/** A word whose documents are at least this share carriers of an n-gram travels with it (the rest of an inserted sentence). */
const COMPANION_SHARE = 0.8;
/** Distinct n-grams counted per length before longer n-grams are given up (bounds memory on huge corpora). */
const MAX_DISTINCT_NGRAMS = 1 << 22;
/** Naive Bayes weights kept at most (classes × words × folds): beyond it only the most frequent words vote. */
const MAX_NB_WEIGHTS = 1 << 25;
/** Carriers scored before a large candidate is judged in full, and the share of minUnexplained it must reach there. */
const PRECHECK_SAMPLE = 64;
const PRECHECK_FACTOR = 0.6;
/** Share of a trigger's carriers another, stronger trigger must also carry for the two to be reported as one. */
const RELATED_OVERLAP = 0.8;
const TRIGGERS_IN_SUMMARY = 20;
const COMPANIONS_IN_EVIDENCE = 10;

/** Build the `text-triggers` detector. */
export function createTextTriggersDetector(options: TextTriggerOptions = {}): Detector {
  const opts = checkOptions(options);
  return {
    name: TEXT_TRIGGERS_DETECTOR,
    description: 'Word n-grams (n ≤ 5) that pin one label the rest of the text does not explain (inserted backdoor triggers)',
    needs: [],
    run: (ctx) => runTextTriggers(ctx, opts),
  };
}

interface Resolved {
  readonly maxN: number;
  readonly minSupport: number | undefined;
  readonly minPurity: number;
  readonly minUnexplained: number;
  readonly alpha: number;
  readonly folds: number;
}

function checkOptions(o: TextTriggerOptions): Resolved {
  const bad = (what: string, hint: string): never => {
    throw new DetectorError('DETECTOR_BAD_OPTION', `text-triggers: bad ${what}`, { hint });
  };
  const maxN = o.maxN ?? DEFAULTS.maxN;
  if (!Number.isInteger(maxN) || maxN < 1 || maxN > 5) bad('maxN', 'an integer from 1 to 5');
  if (o.minSupport !== undefined && (!Number.isInteger(o.minSupport) || o.minSupport < 2)) bad('minSupport', 'an integer ≥ 2');
  const minPurity = o.minPurity ?? DEFAULTS.minPurity;
  if (!(minPurity > 0.5 && minPurity <= 1)) bad('minPurity', 'a share in (0.5, 1]');
  const minUnexplained = o.minUnexplained ?? DEFAULTS.minUnexplained;
  if (!(minUnexplained > 0 && minUnexplained <= 1)) bad('minUnexplained', 'a share in (0, 1]');
  const alpha = o.alpha ?? DEFAULTS.alpha;
  if (!(alpha > 0 && alpha < 1)) bad('alpha', 'a probability in (0, 1)');
  const folds = o.folds ?? DEFAULTS.folds;
  if (!Number.isInteger(folds) || folds < 2 || folds > 20) bad('folds', 'an integer from 2 to 20');
  return { maxN, minSupport: o.minSupport, minPurity, minUnexplained, alpha, folds };
}

/** An n-gram of one length that passed the support threshold. */
interface Level {
  /** For n ≥ 2: id of the (n−1)-gram prefix; for n = 1: unused. */
  readonly prefix: Int32Array;
  /** Last token id. */
  readonly last: Int32Array;
  /** Document counts per cell (label, or label + K when the model contradicts it), id × 2K. */
  readonly classCounts: Int32Array;
  readonly df: Int32Array;
}

interface Candidate {
  readonly n: number;
  readonly id: number;
  readonly tokens: number[];
  readonly target: number;
  readonly df: number;
  readonly count: number;
  readonly logP: number;
  carriers: number[];
}

interface Trigger {
  readonly text: string;
  readonly related: string[];
  readonly cand: Candidate;
  readonly pRest: Float64Array;
  readonly excess: number;
  readonly companions: string[];
}

function runTextTriggers(ctx: DetectorContext, opts: Resolved): DetectorResult {
  const { dataset, labels } = ctx;
  const n = labels.length;
  const K = ctx.numClasses;
  const scores = new Float32Array(n);
  const texts = dataset.text;
  if (texts === null || n === 0 || K < 2) {
    return { scores, findings: [], summary: { skipped: texts === null ? 'no text column' : n === 0 ? 'no samples' : 'fewer than two classes', triggers: [] } };
  }
  if (texts.length !== n || dataset.ids.length !== n) {
    throw new DetectorError('DETECTOR_BAD_INPUT', `dataset has ${texts.length} texts and ${dataset.ids.length} ids but ${n} labels`);
  }
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!(y >= 0 && y < K)) throw new DetectorError('DETECTOR_BAD_INPUT', `label code ${y} at row ${i} is outside 0..${K - 1}`);
  }
  ctx.progress(TEXT_TRIGGERS_DETECTOR, 0, 3);
  const minSupport = opts.minSupport ?? Math.max(5, Math.ceil(0.002 * n));

  // Tokens as ids, in reading order per document.
  const vocab = new Map<string, number>();
  const words: string[] = [];
  const docs: Int32Array[] = new Array<Int32Array>(n);
  for (let i = 0; i < n; i++) {
    const toks = tokenize(texts[i] ?? '');
    const ids = new Int32Array(toks.length);
    for (let j = 0; j < toks.length; j++) {
      const t = toks[j]!;
      let id = vocab.get(t);
      if (id === undefined) {
        id = words.length;
        vocab.set(t, id);
        words.push(t);
      }
      ids[j] = id;
    }
    docs[i] = ids;
  }
  const V = words.length;
  const classTotals = new Int32Array(K);
  for (let i = 0; i < n; i++) classTotals[labels[i]!]!++;
  const base = Array.from(classTotals, (c) => c / n);

  // Unigram document frequencies (per class) and each document's distinct tokens.
  const lastSeen = new Int32Array(V).fill(-1);
  const df1 = new Int32Array(V);
  const distinct: Int32Array[] = new Array<Int32Array>(n);
  for (let i = 0; i < n; i++) {
    const d = docs[i]!;
    const out: number[] = [];
    for (let j = 0; j < d.length; j++) {
      const t = d[j]!;
      if (lastSeen[t] === i) continue;
      lastSeen[t] = i;
      df1[t]!++;
      out.push(t);
    }
    distinct[i] = Int32Array.from(out);
  }
  // Each document's cell: its label, plus K when the out-of-fold model reading its whole text says
  // another class ("contradicted"). n-grams are counted per cell, so both tests below come free.
  const nb = trainNaiveBayes(distinct, df1, labels, K, opts.folds, ctx);
  const C2 = 2 * K;
  const cell = new Int32Array(n);
  const contradictedTotals = new Int32Array(K);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    let best = 0;
    for (let c = 1; c < K; c++) if (nb.logScores[i * K + c]! > nb.logScores[i * K + best]!) best = c;
    cell[i] = best === y ? y : y + K;
    if (best !== y) contradictedTotals[y]!++;
  }
  const contradictedRate = Array.from(contradictedTotals, (m, c) => (classTotals[c]! === 0 ? 0 : m / classTotals[c]!));
  const cls1 = new Int32Array(V * C2);
  for (let i = 0; i < n; i++) for (const t of distinct[i]!) cls1[t * C2 + cell[i]!]!++;

  const levels: Level[] = [{ prefix: new Int32Array(0), last: Int32Array.from({ length: V }, (_, t) => t), classCounts: cls1, df: df1 }];
  let tested = 0;
  for (let t = 0; t < V; t++) if (df1[t]! >= minSupport) tested++;
  // Per document, the id of the frequent (n−1)-gram starting at each position (−1: not frequent).
  let prevPos: Int32Array[] = docs.map((d) => d.map((t) => (df1[t]! >= minSupport ? t : -1)));
  const posByLevel: (Int32Array[] | null)[] = [prevPos];
  let truncatedAt: number | null = null;
  for (let len = 2; len <= opts.maxN; len++) {
    const prevCount = levels[len - 2]!.df.length;
    const slotOf = new Map<number, number>();
    const slotKey: number[] = [];
    const slotDf: number[] = [];
    const slotLast: number[] = [];
    const slotCls: number[] = [];
    let overflow = false;
    for (let i = 0; i < n && !overflow; i++) {
      const p = prevPos[i]!;
      const y = cell[i]!;
      for (let j = 0; j + 1 < p.length; j++) {
        const a = p[j]!;
        const b = p[j + 1]!;
        if (a < 0 || b < 0) continue;
        const key = a * prevCount + b;
        let s = slotOf.get(key);
        if (s === undefined) {
          if (slotKey.length >= MAX_DISTINCT_NGRAMS) {
            overflow = true;
            break;
          }
          s = slotKey.length;
          slotOf.set(key, s);
          slotKey.push(key);
          slotDf.push(0);
          slotLast.push(-1);
          for (let c = 0; c < C2; c++) slotCls.push(0);
        }
        if (slotLast[s] === i) continue;
        slotLast[s] = i;
        slotDf[s]!++;
        slotCls[s * C2 + y]!++;
      }
    }
    if (overflow) {
      truncatedAt = len;
      break;
    }
    const newId = new Int32Array(slotKey.length).fill(-1);
    const prefix: number[] = [];
    const last: number[] = [];
    const classCounts: number[] = [];
    const df: number[] = [];
    const prevLevel = levels[len - 2]!;
    for (let s = 0; s < slotKey.length; s++) {
      if (slotDf[s]! < minSupport) continue;
      const key = slotKey[s]!;
      const a = Math.floor(key / prevCount);
      const b = key - a * prevCount;
      newId[s] = df.length;
      prefix.push(a);
      last.push(prevLevel.last[b]!);
      df.push(slotDf[s]!);
      for (let c = 0; c < C2; c++) classCounts.push(slotCls[s * C2 + c]!);
    }
    if (df.length === 0) break;
    tested += df.length;
    levels.push({ prefix: Int32Array.from(prefix), last: Int32Array.from(last), classCounts: Int32Array.from(classCounts), df: Int32Array.from(df) });
    const nextPos: Int32Array[] = new Array<Int32Array>(n);
    for (let i = 0; i < n; i++) {
      const p = prevPos[i]!;
      const q = new Int32Array(Math.max(p.length - 1, 0)).fill(-1);
      for (let j = 0; j + 1 < p.length; j++) {
        const a = p[j]!;
        const b = p[j + 1]!;
        if (a < 0 || b < 0) continue;
        const s = slotOf.get(a * prevCount + b);
        if (s !== undefined) q[j] = newId[s]!;
      }
      nextPos[i] = q;
    }
    prevPos = nextPos;
    posByLevel.push(prevPos);
  }
  ctx.progress(TEXT_TRIGGERS_DETECTOR, 1, 3);

  // Enrichment: Chernoff bound on the binomial tail, Bonferroni over every (n-gram, class) tested.
  const logThreshold = Math.log(opts.alpha / Math.max(1, tested * C2));
  const tokensOf = (len: number, id: number): number[] => {
    const out: number[] = [];
    let l = len;
    let g = id;
    while (l >= 1) {
      const level = levels[l - 1]!;
      out.push(level.last[g]!);
      if (l === 1) break;
      g = level.prefix[g]!;
      l--;
    }
    return out.reverse();
  };
  const candidates: Candidate[] = [];
  const candidateIndex: Map<number, number>[] = levels.map(() => new Map());
  levels.forEach((level, li) => {
    for (let g = 0; g < level.df.length; g++) {
      const d = level.df[g]!;
      if (d < minSupport) continue;
      for (let c = 0; c < K; c++) {
        const m = level.classCounts[g * C2 + c + K]!;
        const k = level.classCounts[g * C2 + c]! + m;
        if (k < opts.minPurity * d) continue;
        // Enriched in c against the base rate, or its carriers labelled c contradicted by the model
        // more often than class c's samples are: the second finds triggers for a majority class.
        const logP = Math.min(-d * klBernoulli(k / d, base[c]!), -k * klBernoulli(m / k, contradictedRate[c]!));
        if (logP > logThreshold) continue;
        candidateIndex[li]!.set(g, candidates.length);
        candidates.push({ n: li + 1, id: g, tokens: tokensOf(li + 1, g), target: c, df: d, count: k, logP, carriers: [] });
      }
    }
  });
  // Carriers of each candidate (positions kept per length above).
  for (let li = 0; li < posByLevel.length; li++) {
    const idx = candidateIndex[li]!;
    if (idx.size === 0) continue;
    const pos = posByLevel[li]!;
    for (let i = 0; i < n; i++) {
      const p = pos[i]!;
      for (let j = 0; j < p.length; j++) {
        const g = p[j]!;
        if (g < 0) continue;
        const ci = idx.get(g);
        if (ci === undefined) continue;
        const cs = candidates[ci]!.carriers;
        if (cs[cs.length - 1] !== i) cs.push(i);
      }
    }
  }
  posByLevel.length = 0;
  ctx.progress(TEXT_TRIGGERS_DETECTOR, 2, 3);

  const triggers: Trigger[] = [];
  const accepted: Candidate[] = [];
  // Shortest first so that the minimal trigger is the one named.
  const order = candidates.map((_, i) => i).sort((a, b) => candidates[a]!.n - candidates[b]!.n || candidates[a]!.logP - candidates[b]!.logP);
  const scratch: Scratch = { coCount: new Int32Array(V), removed: new Uint8Array(V) };
  const seenCarriers = new Set<string>();
  for (const ci of order) {
    const cand = candidates[ci]!;
    if (accepted.some((t) => t.target === cand.target && containsRun(cand.tokens, t.tokens))) continue;
    // Chains of n-grams from one boilerplate line share their carriers: judge the set once (shortest first).
    const setKey = `${cand.target}:${cand.carriers.join(',')}`;
    if (seenCarriers.has(setKey)) continue;
    seenCarriers.add(setKey);
    // Large candidates (header lines, list footers) are mostly explained: reject them on a subsample first.
    if (cand.carriers.length > 2 * PRECHECK_SAMPLE) {
      const step = cand.carriers.length / PRECHECK_SAMPLE;
      const sample = Array.from({ length: PRECHECK_SAMPLE }, (_, r) => cand.carriers[Math.floor(r * step)]!);
      const pre = restOfText(cand, sample, nb, distinct, df1, scratch);
      let unexplained = 0;
      for (let r = 0; r < sample.length; r++) unexplained += (labels[sample[r]!] === cand.target ? 1 : 0) - pre.pRest[r * K + cand.target]!;
      if (unexplained / sample.length < PRECHECK_FACTOR * opts.minUnexplained) continue;
    }
    const rest = restOfText(cand, cand.carriers, nb, distinct, df1, scratch);
    let expected = 0;
    for (let r = 0; r < cand.carriers.length; r++) expected += rest.pRest[r * K + cand.target]!;
    const excess = cand.count - expected;
    if (excess / cand.df < opts.minUnexplained) continue;
    accepted.push(cand);
    const pTarget = new Float64Array(cand.carriers.length);
    for (let r = 0; r < cand.carriers.length; r++) pTarget[r] = rest.pRest[r * K + cand.target]!;
    triggers.push({
      text: cand.tokens.map((t) => words[t]!).join(' '),
      related: [], cand, pRest: pTarget, excess, companions: rest.companions
        .filter((t) => df1[t]! >= minSupport)
        .sort((a, b) => df1[b]! - df1[a]! || a - b)
        .map((t) => words[t]!),
    });
  }
  triggers.sort((a, b) => b.excess - a.excess || a.cand.logP - b.cand.logP);
  const groups = groupRelated(triggers, labels);

  const names = (k: number): string => ctx.classNames[k] ?? String(k);
  const bestTrigger = new Int32Array(n).fill(-1);
  const bestPRest = new Float64Array(n);
  groups.forEach((t, ti) => {
    t.cand.carriers.forEach((i, r) => {
      if (labels[i] !== t.cand.target) return;
      const score = 0.5 + 0.5 * (1 - t.pRest[r]!);
      if (bestTrigger[i]! < 0 || score > scores[i]!) {
        scores[i] = score;
        bestTrigger[i] = ti;
        bestPRest[i] = t.pRest[r]!;
      }
    });
  });
  const findings: Finding[] = [];
  for (let i = 0; i < n; i++) {
    const ti = bestTrigger[i]!;
    if (ti < 0) continue;
    const t = groups[ti]!;
    const target = names(t.cand.target);
    const contradicted = bestPRest[i]! < 0.5;
    findings.push({
      index: i,
      sampleId: dataset.ids[i]!,
      detector: TEXT_TRIGGERS_DETECTOR,
      code: TEXT_TRIGGER_CODE,
      score: scores[i]!,
      severity: contradicted ? 'high' : 'medium',
      message: contradicted
        ? `contains "${t.text}", a likely trigger for "${target}" (${t.cand.count} of ${t.cand.df} carriers labelled so); the rest of the text says otherwise`
        : `contains "${t.text}", a likely trigger for "${target}" (${t.cand.count} of ${t.cand.df} carriers labelled so)`,
      evidence: { ...triggerEvidence(t, names, logThreshold), restProbability: round6(bestPRest[i]!) },
    });
  }
  findings.sort((a, b) => b.score - a.score || a.index - b.index);
  ctx.progress(TEXT_TRIGGERS_DETECTOR, 3, 3);
  return {
    scores,
    findings,
    summary: {
      minSupport,
      ngramsTested: tested,
      candidates: candidates.length,
      truncatedAtLength: truncatedAt,
      // No poison budget is assumed: this is what the flags add up to.
      estimatedPoisonRate: round6(findings.length / n),
      triggers: groups.slice(0, TRIGGERS_IN_SUMMARY).map((t) => triggerEvidence(t, names, logThreshold)),
      triggerCount: groups.length,
    },
  };
}

function triggerEvidence(t: Trigger, names: (k: number) => string, logThreshold: number): Record<string, unknown> {
  return {
    trigger: t.text,
    length: t.cand.n,
    targetLabel: names(t.cand.target),
    support: t.cand.df,
    inTarget: t.cand.count,
    purity: round6(t.cand.count / t.cand.df),
    unexplained: round6(t.excess / t.cand.df),
    logPValueBound: round6(t.cand.logP),
    logPValueThreshold: round6(logThreshold),
    companions: t.companions.slice(0, COMPANIONS_IN_EVIDENCE),
    related: t.related,
  };
}

/** Folds each trigger (ranked) into a higher-ranked one whose target-class carriers cover ≥ 80 % of its own. */
function groupRelated(ranked: readonly Trigger[], labels: Int32Array): Trigger[] {
  const kept: { trigger: Trigger; members: Set<number> }[] = [];
  for (const t of ranked) {
    const own = t.cand.carriers.filter((i) => labels[i] === t.cand.target);
    const home = kept.find((k) => k.trigger.cand.target === t.cand.target && own.filter((i) => k.members.has(i)).length >= RELATED_OVERLAP * own.length);
    if (home === undefined) kept.push({ trigger: t, members: new Set(own) });
    else home.trigger.related.push(t.text);
  }
  return kept.map((k) => k.trigger);
}

/** Out-of-fold binary multinomial naive Bayes: per document the class log scores, and the per-fold word weights. */
interface NaiveBayes {
  readonly K: number;
  readonly fold: Int32Array;
  /** Column of each token in the weight table, −1 when it has no weight. */
  readonly column: Int32Array;
  readonly cols: number;
  /** weights[(f · K + c) · cols + col] = ln θ(c, word) trained without fold f. */
  readonly weights: Float64Array;
  /** n × K out-of-fold log scores over all of a document's distinct words. */
  readonly logScores: Float64Array;
}

function trainNaiveBayes(distinct: readonly Int32Array[], df: Int32Array, labels: Int32Array, K: number, folds: number, ctx: DetectorContext): NaiveBayes {
  const n = labels.length;
  const V = df.length;
  // Words seen once cannot generalise across folds; beyond the memory cap keep the most frequent.
  let keep = Array.from({ length: V }, (_, t) => t).filter((t) => df[t]! >= 2);
  const cap = Math.floor(MAX_NB_WEIGHTS / (K * (folds + 1)));
  if (keep.length > cap) keep = keep.sort((a, b) => df[b]! - df[a]! || a - b).slice(0, cap);
  const column = new Int32Array(V).fill(-1);
  keep.forEach((t, c) => (column[t] = c));
  const cols = keep.length;
  // Plain shuffled folds, not compute's stratifiedFolds: the clean-data result depends on the split
  // (with stratified folds a table-markup n-gram crossed the threshold on clean SpamAssassin).
  const fold = new Int32Array(n);
  const perm = ctx.rng.fork().shuffle(Array.from({ length: n }, (_, i) => i));
  perm.forEach((i, r) => (fold[i] = r % folds));
  const total = new Float64Array(K * cols);
  const byFold = new Float64Array(folds * K * cols);
  const docsTotal = new Float64Array(K);
  const docsByFold = new Float64Array(folds * K);
  const wordsTotal = new Float64Array(K);
  const wordsByFold = new Float64Array(folds * K);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    const f = fold[i]!;
    docsTotal[y]!++;
    docsByFold[f * K + y]!++;
    for (const t of distinct[i]!) {
      const col = column[t]!;
      if (col < 0) continue;
      total[y * cols + col]!++;
      byFold[(f * K + y) * cols + col]!++;
      wordsTotal[y]!++;
      wordsByFold[f * K + y]!++;
    }
  }
  const weights = new Float64Array(folds * K * cols);
  const priors = new Float64Array(folds * K);
  for (let f = 0; f < folds; f++) {
    let docs = 0;
    for (let c = 0; c < K; c++) docs += docsTotal[c]! - docsByFold[f * K + c]!;
    for (let c = 0; c < K; c++) {
      priors[f * K + c] = Math.log((docsTotal[c]! - docsByFold[f * K + c]! + 1) / (docs + K));
      const denom = Math.log(wordsTotal[c]! - wordsByFold[f * K + c]! + cols);
      const o = (f * K + c) * cols;
      for (let col = 0; col < cols; col++) weights[o + col] = Math.log(total[c * cols + col]! - byFold[o + col]! + 1) - denom;
    }
  }
  const logScores = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    const f = fold[i]!;
    for (let c = 0; c < K; c++) {
      let s = priors[f * K + c]!;
      const o = (f * K + c) * cols;
      for (const t of distinct[i]!) {
        const col = column[t]!;
        if (col >= 0) s += weights[o + col]!;
      }
      logScores[i * K + c] = s;
    }
  }
  return { K, fold, column, cols, weights, logScores };
}

/** Scratch arrays shared by every `restOfText` call (length V each, left zeroed). */
interface Scratch {
  readonly coCount: Int32Array;
  readonly removed: Uint8Array;
}

/**
 * P(class | carrier's text without the n-gram's words and their companions), carriers × K, for the
 * carriers listed (all of the candidate's, or a subsample: companion counts then scale up).
 */
function restOfText(cand: Candidate, carriers: readonly number[], nb: NaiveBayes, distinct: readonly Int32Array[], df: Int32Array, scratch: Scratch): { pRest: Float64Array; companions: number[] } {
  const { K, cols } = nb;
  const { coCount, removed } = scratch;
  const scale = cand.carriers.length / carriers.length;
  const touched: number[] = [];
  for (const i of carriers) {
    for (const t of distinct[i]!) {
      if (coCount[t] === 0) touched.push(t);
      coCount[t]!++;
    }
  }
  const marked: number[] = [];
  for (const t of cand.tokens) {
    if (removed[t] === 0) marked.push(t);
    removed[t] = 1;
  }
  const companions: number[] = [];
  for (const t of touched) {
    if (removed[t] === 0 && coCount[t]! * scale >= COMPANION_SHARE * df[t]!) {
      removed[t] = 1;
      marked.push(t);
      companions.push(t);
    }
  }
  for (const t of touched) coCount[t] = 0;
  const pRest = new Float64Array(carriers.length * K);
  const s = new Float64Array(K);
  for (let r = 0; r < carriers.length; r++) {
    const i = carriers[r]!;
    const f = nb.fold[i]!;
    for (let c = 0; c < K; c++) s[c] = nb.logScores[i * K + c]!;
    for (const t of distinct[i]!) {
      if (removed[t] === 0) continue;
      const col = nb.column[t]!;
      if (col < 0) continue;
      for (let c = 0; c < K; c++) s[c] = s[c]! - nb.weights[(f * K + c) * cols + col]!;
    }
    let m = -Infinity;
    for (let c = 0; c < K; c++) m = Math.max(m, s[c]!);
    let z = 0;
    for (let c = 0; c < K; c++) z += Math.exp(s[c]! - m);
    for (let c = 0; c < K; c++) pRest[r * K + c] = Math.exp(s[c]! - m) / z;
  }
  for (const t of marked) removed[t] = 0;
  return { pRest, companions };
}

/** KL(q ‖ p) between Bernoulli distributions, for q ≥ p (0 otherwise). */
function klBernoulli(q: number, p: number): number {
  if (q <= p || p <= 0) return 0;
  if (p >= 1) return 0;
  const a = q === 0 ? 0 : q * Math.log(q / p);
  const b = q === 1 ? 0 : (1 - q) * Math.log((1 - q) / (1 - p));
  return a + b;
}

/** Whether `needle` occurs as a contiguous run inside `hay`. */
function containsRun(hay: readonly number[], needle: readonly number[]): boolean {
  outer: for (let s = 0; s + needle.length <= hay.length; s++) {
    for (let j = 0; j < needle.length; j++) if (hay[s + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

