// Issue #3 bench scenarios: plant attacks with the red-team simulator (label flips, exact and near
// duplicates with flipped labels, junk rows), scan with the integrity detectors, and judge each
// detector's own flags and scores against the planted truth, per attack kind.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../src/config/index.ts';
import { scanFile, loadSpamAssassin, type ScanReport } from '../src/app/index.ts';
import { evaluateDetection, plantAttack, serializeTable, type AttackKind, type PlantedAttack, type PlantedSample, type RawTable } from '../src/redteam/index.ts';
import { BENCH_DIR, fashionAvailable, fashionTable, sklearnTable, spamTable } from './datasets.ts';

export const INTEGRITY_DETECTORS = ['label-issues', 'duplicates', 'near-duplicates', 'outliers', 'validation'] as const;

/** The attack kinds each detector is meant to catch: its AUROC is of these against the clean rows. */
export const DETECTOR_KINDS: Record<string, readonly PlantedAttack[]> = {
  'label-issues': ['symmetric', 'targeted', 'class-conditional'],
  duplicates: ['duplicate-flip'],
  // Exact copies are the duplicates detector's; near-duplicates leaves them out by design.
  'near-duplicates': ['near-duplicate-flip'],
  outliers: ['ood'],
  validation: ['ood'],
};

export const INTEGRITY_SCENARIOS = ['spam-mix-10', 'spam-duplicates', 'spam-ood', 'fmnist-ood', 'sklearn-mix-10'] as const;

export const INTEGRITY_TARGETS: Record<string, string> = {
  'spam-mix-10': 'dup+near-dup flips: recall ≥ 0.98 at precision ≥ 0.9; junk rows all in top 1 % of outliers',
  'spam-duplicates': 'dup+near-dup flips: recall ≥ 0.98 at precision ≥ 0.9',
  'spam-ood': 'junk rows all in top 1 % of outliers',
  'fmnist-ood': 'junk rows all in top 1 % of outliers; whole scan < 90 s',
  'sklearn-mix-10': 'dup+near-dup flips: recall ≥ 0.98 at precision ≥ 0.9; junk rows all in top 1 % of outliers',
};

export interface DetectorRow {
  readonly detector: string;
  readonly flagged: number;
  /** Flags that are planted rows, over all flags. */
  readonly precision: number;
  /** As `precision`, but a flag on the original row a planted copy was made from also counts (both members of a conflicting pair are flagged by design). */
  readonly pairPrecision: number;
  readonly recall: Partial<Record<PlantedAttack, number>>;
  /** AUROC of the detector's own score, its attack kinds (DETECTOR_KINDS) against clean rows; null without either. */
  readonly auroc: number | null;
}

export interface IntegrityResult {
  readonly scenario: string;
  readonly kind: 'integrity';
  /** The clean data the attacks were planted into. */
  readonly data: string;
  readonly rows: number;
  readonly planted: Partial<Record<PlantedAttack, number>>;
  readonly detectors: DetectorRow[];
  /** Duplicates + near-duplicates flags combined, against duplicate-flip + near-duplicate-flip rows. */
  readonly duplicatePairs: { recall: number; precision: number; pairPrecision: number } | null;
  /** Junk rows in the outliers ranking (1 = most outlying). */
  readonly ood: { planted: number; worstRank: number; topOnePercent: number; allInTopOnePercent: boolean } | null;
  readonly wallMs: number;
  readonly timings: Record<string, number>;
  readonly peakRssMiB: number;
}

/** A (table, attacks) pair: each attack is planted in turn on the previous result. */
function scenarioInput(name: string): { data: string; table: RawTable; attacks: { attack: AttackKind; rate: number }[] } | string {
  if (name === 'spam-mix-10') return { data: 'SpamAssassin JSONL', table: spamTable(loadSpamAssassin()), attacks: [{ attack: 'mix', rate: 0.1 }] };
  if (name === 'spam-duplicates') {
    return { data: 'SpamAssassin JSONL', table: spamTable(loadSpamAssassin()), attacks: [{ attack: 'duplicate-flip', rate: 0.03 }, { attack: 'near-duplicate-flip', rate: 0.03 }] };
  }
  if (name === 'spam-ood') return { data: 'SpamAssassin JSONL', table: spamTable(loadSpamAssassin()), attacks: [{ attack: 'ood', rate: 0.01 }] };
  if (name === 'fmnist-ood') {
    if (!fashionAvailable()) return 'Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)';
    return { data: 'Fashion-MNIST 20k CSV', table: fashionTable(20000, 1), attacks: [{ attack: 'ood', rate: 0.01 }] };
  }
  if (name === 'sklearn-mix-10') {
    const sk = sklearnTable();
    if (sk === null) return 'scikit-learn data sets not installed (apt-get install python3-sklearn)';
    return { data: `scikit-learn ${sk.name} CSV`, table: sk.table, attacks: [{ attack: 'mix', rate: 0.1 }] };
  }
  return `unknown scenario ${name}`;
}

/** Plant, write, scan and judge one integrity scenario; a string says why it was skipped. */
export async function runIntegrityScenario(name: string, config: Config, seed: number): Promise<IntegrityResult | string> {
  const input = scenarioInput(name);
  if (typeof input === 'string') return input;
  let table = input.table;
  const planted: PlantedSample[] = [];
  input.attacks.forEach(({ attack, rate }, s) => {
    // A chained attack must not touch or copy the rows an earlier one planted, nor their originals.
    const exclude = new Set(planted.flatMap((p) => (p.sourceId === undefined ? [p.id] : [p.id, p.sourceId])));
    const result = plantAttack(table, { attack, rate, seed: seed + 1000 * s, label: 'label', id: 'id', exclude });
    table = result.table;
    planted.push(...result.planted);
  });
  await mkdir(BENCH_DIR, { recursive: true });
  const path = join(BENCH_DIR, `${name}.${table.format}`);
  await writeFile(path, serializeTable(table, table.format).text);

  const t0 = performance.now();
  const { report } = await scanFile(path, config);
  const wallMs = performance.now() - t0;
  return {
    scenario: name,
    kind: 'integrity',
    data: input.data,
    rows: report.summary.samples,
    ...judge(report, planted),
    wallMs: Math.round(wallMs),
    timings: report.timings,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

function judge(report: ScanReport, planted: readonly PlantedSample[]): Pick<IntegrityResult, 'planted' | 'detectors' | 'duplicatePairs' | 'ood'> {
  const kindById = new Map(planted.map((p) => [p.id, p.attack]));
  const sources = new Set(planted.flatMap((p) => (p.sourceId === undefined ? [] : [p.sourceId])));
  const kinds = report.samples.map((s) => kindById.get(s.externalId ?? ''));
  const isSource = report.samples.map((s) => sources.has(s.externalId ?? ''));
  const counts: Partial<Record<PlantedAttack, number>> = {};
  for (const k of kinds) if (k !== undefined) counts[k] = (counts[k] ?? 0) + 1;
  const present = Object.keys(counts) as PlantedAttack[];

  const flagsOf = (names: readonly string[]): boolean[] => report.samples.map((s) => names.some((d) => s.detectors.includes(d)));
  const precisionOf = (flags: readonly boolean[], hit: (i: number) => boolean): number => {
    const n = flags.reduce((a, f) => a + (f ? 1 : 0), 0);
    return n === 0 ? 0 : flags.reduce((a, f, i) => a + (f && hit(i) ? 1 : 0), 0) / n;
  };
  const recallOf = (flags: readonly boolean[], want: readonly PlantedAttack[]): number => {
    const idx = kinds.flatMap((k, i) => (k !== undefined && want.includes(k) ? [i] : []));
    return idx.length === 0 ? 0 : idx.filter((i) => flags[i]).length / idx.length;
  };

  const detectors = INTEGRITY_DETECTORS.map((d): DetectorRow => {
    const flags = flagsOf([d]);
    const recall: Partial<Record<PlantedAttack, number>> = {};
    for (const k of present) recall[k] = recallOf(flags, [k]);
    // Own score ranking: its kinds against clean rows (other attacks left out of both sides).
    const own = DETECTOR_KINDS[d] ?? [];
    const keep = report.samples.flatMap((_, i) => (kinds[i] === undefined || own.includes(kinds[i]) ? [i] : []));
    const truth = keep.map((i) => (kinds[i] === undefined ? 0 : 1));
    const positives = truth.reduce((a: number, b) => a + b, 0);
    const auroc =
      positives === 0 || positives === truth.length
        ? null
        : evaluateDetection(
            keep.map((i) => report.samples[i]!.scores[d] ?? 0),
            keep.map((i) => flags[i]!),
            truth,
          ).auroc;
    return {
      detector: d,
      flagged: flags.filter(Boolean).length,
      precision: precisionOf(flags, (i) => kinds[i] !== undefined),
      pairPrecision: precisionOf(flags, (i) => kinds[i] !== undefined || isSource[i]!),
      recall,
      auroc,
    };
  });

  const dupKinds: PlantedAttack[] = ['duplicate-flip', 'near-duplicate-flip'];
  const dupFlags = flagsOf(['duplicates', 'near-duplicates']);
  const duplicatePairs = present.some((k) => dupKinds.includes(k))
    ? {
        recall: recallOf(dupFlags, dupKinds),
        precision: precisionOf(dupFlags, (i) => kinds[i] !== undefined),
        pairPrecision: precisionOf(dupFlags, (i) => kinds[i] !== undefined || isSource[i]!),
      }
    : null;

  let ood: IntegrityResult['ood'] = null;
  if (counts.ood !== undefined) {
    // Rank 1 = highest outlier score; ties share the best rank of their group.
    const score = report.samples.map((s) => s.scores.outliers ?? 0);
    const sorted = [...score].sort((a, b) => b - a);
    const rankOf = (v: number): number => sorted.findIndex((x) => x <= v) + 1;
    const worstRank = Math.max(...kinds.flatMap((k, i) => (k === 'ood' ? [rankOf(score[i]!)] : [])));
    const topOnePercent = Math.ceil(0.01 * score.length);
    // Where more than 1 % of the rows are junk, the best a ranking can do is put them all first.
    ood = { planted: counts.ood, worstRank, topOnePercent, allInTopOnePercent: worstRank <= Math.max(topOnePercent, counts.ood) };
  }
  return { planted: counts, detectors, duplicatePairs, ood };
}

const f3 = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : x.toFixed(3));

/** Markdown tables for one integrity scenario's result. */
export function formatIntegrity(r: IntegrityResult): string {
  const kinds = Object.keys(r.planted) as PlantedAttack[];
  const out: string[] = [];
  out.push(`#### ${r.scenario} — ${r.data}, ${r.rows} rows after planting, planted ${kinds.map((k) => `${k} ${r.planted[k]}`).join(', ')}; scan ${(r.wallMs / 1000).toFixed(1)} s, peak RSS ${r.peakRssMiB} MiB`);
  out.push('');
  out.push(`| detector | flagged | precision | precision (pair-aware) | ${kinds.map((k) => `recall ${k}`).join(' | ')} | AUROC (own kinds) |`);
  out.push(`|---|---|---|---|${kinds.map(() => '---|').join('')}---|`);
  for (const d of r.detectors) {
    out.push(`| ${d.detector} | ${d.flagged} | ${f3(d.precision)} | ${f3(d.pairPrecision)} | ${kinds.map((k) => f3(d.recall[k])).join(' | ')} | ${f3(d.auroc)} (${(DETECTOR_KINDS[d.detector] ?? []).join(', ')}) |`);
  }
  out.push('');
  if (r.duplicatePairs !== null) {
    const p = r.duplicatePairs;
    const ok = p.recall >= 0.98 && p.precision >= 0.9;
    out.push(`- duplicates + near-duplicates vs planted dup/near-dup flips: recall ${f3(p.recall)}, precision ${f3(p.precision)} (pair-aware ${f3(p.pairPrecision)}) — target recall ≥ 0.98 at precision ≥ 0.9: ${ok ? 'met' : 'NOT met'}${!ok && p.recall >= 0.98 && p.pairPrecision >= 0.9 ? ' (met pair-aware)' : ''}`);
  }
  if (r.ood !== null) {
    const more = r.ood.planted > r.ood.topOnePercent ? ` (more junk than 1 % of rows: met when every junk row outranks every clean row)` : '';
    out.push(`- junk rows: ${r.ood.planted} planted, worst outlier rank ${r.ood.worstRank} of ${r.rows} (top 1 % = ${r.ood.topOnePercent}) — target all in top 1 %: ${r.ood.allInTopOnePercent ? 'met' : 'NOT met'}${more}`);
  }
  if (r.scenario.startsWith('fmnist')) out.push(`- whole scan ${(r.wallMs / 1000).toFixed(1)} s — target < 90 s: ${r.wallMs < 90000 ? 'met' : 'NOT met'}`);
  return out.join('\n');
}

const med = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Per attack seed and median: the numbers the issue's targets are about. */
export function formatIntegritySeeds(rs: readonly IntegrityResult[], seeds: readonly string[]): string {
  const out: string[] = ['', `Across attack seeds ${seeds.join(', ')}:`, '', '| seed | dup+near-dup recall | precision | pair-aware | junk worst rank / planted / top 1 % | outliers AUROC | label-issues AUROC |', '|---|---|---|---|---|---|---|'];
  const auroc = (r: IntegrityResult, d: string): number | null => r.detectors.find((x) => x.detector === d)?.auroc ?? null;
  rs.forEach((r, i) => {
    const p = r.duplicatePairs;
    out.push(`| ${seeds[i]} | ${f3(p?.recall)} | ${f3(p?.precision)} | ${f3(p?.pairPrecision)} | ${r.ood === null ? '—' : `${r.ood.worstRank} / ${r.ood.planted} / ${r.ood.topOnePercent}${r.ood.allInTopOnePercent ? ' (met)' : ' (NOT met)'}`} | ${f3(auroc(r, 'outliers'))} | ${f3(auroc(r, 'label-issues'))} |`);
  });
  const pick = (f: (r: IntegrityResult) => number | null | undefined): string => {
    const xs = rs.map(f).filter((x): x is number => x !== null && x !== undefined);
    return xs.length === 0 ? '—' : `${f3(med(xs))} (min ${f3(Math.min(...xs))})`;
  };
  out.push(`| median | ${pick((r) => r.duplicatePairs?.recall)} | ${pick((r) => r.duplicatePairs?.precision)} | ${pick((r) => r.duplicatePairs?.pairPrecision)} | ${rs.filter((r) => r.ood?.allInTopOnePercent === true).length} of ${rs.filter((r) => r.ood !== null).length} seeds met | ${pick((r) => auroc(r, 'outliers'))} | ${pick((r) => auroc(r, 'label-issues'))} |`);
  return out.join('\n');
}
