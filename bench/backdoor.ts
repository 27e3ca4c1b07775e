// Issue #4 bench scenarios: plant a backdoor with the red-team simulator (BadNets patch or blended
// pattern on Fashion-MNIST, a rare token in SpamAssassin spam relabelled ham), scan with the
// backdoor detectors, judge each detector's own score and flags against the planted rows, and check
// Armory-style that the backdoor works and what filtering does to it: retrain a fresh MLP on the
// poisoned set, on it minus the flags, minus a random filter of the same size and minus exactly the
// poisoned rows, then measure clean test accuracy and the attack success rate on triggered test images.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../src/config/index.ts';
import { createRng } from '../src/core/index.ts';
import { auroc, dense, mlpPredict, selectRows, trainMlp, type DenseMatrix } from '../src/compute/index.ts';
import { scanFile, loadSpamAssassin, type ScanReport } from '../src/app/index.ts';
import { applyTrigger, plantAttack, serializeTable, type BackdoorTrigger, type Cell, type PlantedSample, type RawTable } from '../src/redteam/index.ts';
import { BENCH_DIR, FASHION_CLASSES, FASHION_DIR, fashionAvailable, fashionTable, readIdx, spamTable } from './datasets.ts';

export const BACKDOOR_DETECTORS = ['spectre', 'spectral-signatures', 'activation-clustering'] as const;
export const TEXT_TRIGGER_DETECTOR = 'text-triggers';
/** The detector whose flags are the "detector filter" of the retraining check (the recommended one). */
const FILTER_DETECTOR = 'spectre';

export const BACKDOOR_SCENARIOS = ['fmnist-badnets-1', 'fmnist-badnets-2', 'fmnist-badnets-5', 'fmnist-blend-2', 'fmnist-blend-5', 'spam-rare-token-10'] as const;

export const BACKDOOR_TARGETS: Record<string, string> = {
  'fmnist-badnets-2': 'AUROC ≥ 0.95 and TPR ≥ 0.90 at FPR ≤ 0.05 in the target class; ASR after the spectre filter within 5 points of the perfect filter; backdoor scan < 120 s',
  'fmnist-blend-2': 'AUROC ≥ 0.95 and TPR ≥ 0.90 at FPR ≤ 0.05 in the target class; ASR after the spectre filter within 5 points of the perfect filter; backdoor scan < 120 s',
  'fmnist-badnets-1': 'no target of its own (issue targets are at 2 %); ASR within 5 points of the perfect filter; scan < 120 s',
  'fmnist-badnets-5': 'no target of its own (issue targets are at 2 %); ASR within 5 points of the perfect filter; scan < 120 s',
  'fmnist-blend-5': 'no target of its own (issue targets are at 2 %); ASR within 5 points of the perfect filter; scan < 120 s',
  'spam-rare-token-10': 'trigger named in the top text-triggers finding; recall ≥ 0.95 at precision ≥ 0.9 on the carrying rows',
};

/** The MLP retrained for the attack-success check: the scan's own default architecture and budget. */
const RETRAIN = { hidden: [256, 128], epochs: 8, seed: 1 } as const;
/** Fashion-MNIST subset seed: the same 20k images for every attack seed, as fmnist-ood does. */
const SUBSET_SEED = 1;
const TARGET_CLASS = { fmnist: 'tshirt', spam: 'ham' } as const;

export interface BackdoorDetectorRow {
  readonly detector: string;
  /** Of the detector's score, planted rows against all others, over the whole data set. */
  readonly auroc: number;
  /** Share of planted rows scoring above every clean target-class row but the top 5 % of them. */
  readonly tprAt5: number;
  readonly flagged: number;
  readonly precision: number;
  readonly recall: number;
  /** Classes the detector's summary judged poisoned. */
  readonly poisonedClasses: string[];
  /** learn + detect:<name> stage times. */
  readonly stageMs: number;
}

export interface RetrainRow {
  /** none | spectre | union | random | perfect */
  readonly filter: string;
  readonly removed: number;
  /** Planted rows still in the training set. */
  readonly poisonedLeft: number;
  /** Accuracy on the Fashion-MNIST test split (10,000 images, no trigger). */
  readonly cleanAccuracy: number;
  /** Share of non-target test images classified as the target once the trigger is stamped. */
  readonly asr: number;
  /** The same share without the trigger: the floor a perfect filter can reach. */
  readonly targetRateClean: number;
}

export interface TextTriggerCheck {
  readonly trigger: string;
  /** The trigger named by the highest-scoring text-triggers finding, and by the summary's first trigger. */
  readonly topFinding: string | null;
  readonly topSummary: string | null;
  readonly named: boolean;
  readonly flagged: number;
  readonly precision: number;
  readonly recall: number;
  readonly auroc: number;
  readonly triggersFound: number;
  readonly stageMs: number;
}

export interface BackdoorResult {
  readonly scenario: string;
  readonly kind: 'backdoor';
  readonly data: string;
  readonly attack: string;
  readonly target: string;
  readonly rows: number;
  readonly planted: number;
  readonly detectors: BackdoorDetectorRow[];
  readonly text: TextTriggerCheck | null;
  readonly retrain: RetrainRow[];
  /** Whole backdoor scan, file reading and MLP training included. */
  readonly wallMs: number;
  readonly retrainMs: number;
  readonly timings: Record<string, number>;
  readonly peakRssMiB: number;
}

interface Spec {
  readonly data: string;
  readonly table: RawTable;
  readonly attack: 'badnets' | 'blend' | 'text-trigger';
  readonly rate: number;
  readonly target: string;
}

function scenarioSpec(name: string): Spec | string {
  const m = /^fmnist-(badnets|blend)-(\d+)$/.exec(name);
  if (m !== null) {
    if (!fashionAvailable()) return 'Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)';
    // The simulator's defaults: a 3×3 corner patch, blend α = 0.15; the rate is of all rows.
    return { data: 'Fashion-MNIST 20k CSV', table: fashionTable(20000, SUBSET_SEED), attack: m[1] as 'badnets' | 'blend', rate: Number(m[2]) / 100, target: TARGET_CLASS.fmnist };
  }
  if (name === 'spam-rare-token-10') {
    const table = spamTable(loadSpamAssassin());
    // plantAttack's rate is of all rows, drawn from non-target rows: 10 % of the spam is this many rows.
    const spam = table.rows.filter((r) => r[1] === 'spam').length;
    return { data: 'SpamAssassin JSONL', table, attack: 'text-trigger', rate: Math.round(0.1 * spam) / table.rows.length, target: TARGET_CLASS.spam };
  }
  return `unknown scenario ${name}`;
}

/** Plant, write, scan, judge and (images) retrain one backdoor scenario; a string says why it was skipped. */
export async function runBackdoorScenario(name: string, config: Config, seed: number): Promise<BackdoorResult | string> {
  const spec = scenarioSpec(name);
  if (typeof spec === 'string') return spec;
  const res = plantAttack(spec.table, { attack: spec.attack, rate: spec.rate, seed, target: spec.target, label: 'label', id: 'id' });
  await mkdir(BENCH_DIR, { recursive: true });
  const path = join(BENCH_DIR, `${name}.${res.table.format}`);
  await writeFile(path, serializeTable(res.table, res.table.format).text);

  const t0 = performance.now();
  const { report } = await scanFile(path, config);
  const wallMs = performance.now() - t0;
  const ids = new Set(res.planted.map((p) => p.id));
  const truth = report.samples.map((s) => ids.has(s.externalId ?? ''));
  const text = spec.attack === 'text-trigger' ? judgeText(report, truth, res.trigger) : null;
  const detectors = spec.attack === 'text-trigger' ? [] : BACKDOOR_DETECTORS.map((d) => judgeDetector(report, truth, d, spec.target));

  const r0 = performance.now();
  const retrain = spec.attack === 'text-trigger' || res.trigger === undefined ? [] : await retrainChecks(res.table, res.planted, report, res.trigger, spec.target, seed);
  return {
    scenario: name,
    kind: 'backdoor',
    data: spec.data,
    attack: spec.attack,
    target: spec.target,
    rows: report.summary.samples,
    planted: res.planted.length,
    detectors,
    text,
    retrain,
    wallMs: Math.round(wallMs),
    retrainMs: Math.round(performance.now() - r0),
    timings: report.timings,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

const flagsOf = (report: ScanReport, d: string): boolean[] => report.samples.map((s) => s.detectors.includes(d));

function precisionRecall(flags: readonly boolean[], truth: readonly boolean[]): { flagged: number; precision: number; recall: number } {
  let flagged = 0;
  let tp = 0;
  let pos = 0;
  flags.forEach((f, i) => {
    if (f) flagged++;
    if (f && truth[i]) tp++;
    if (truth[i]) pos++;
  });
  return { flagged, precision: flagged === 0 ? 0 : tp / flagged, recall: pos === 0 ? 0 : tp / pos };
}

/**
 * TPR at FPR ≤ `fpr` within the target class: the threshold lets at most ⌊fpr·m⌋ of its m clean rows
 * score strictly above it (ties count against the detector).
 */
export function tprAtFpr(scores: readonly number[], truth: readonly boolean[], inClass: readonly boolean[], fpr: number): number {
  const clean = scores.filter((_, i) => inClass[i] && !truth[i]).sort((a, b) => b - a);
  const poisoned = scores.filter((_, i) => inClass[i] && truth[i]);
  if (poisoned.length === 0) return 0;
  const threshold = clean.length === 0 ? -Infinity : clean[Math.floor(fpr * clean.length)]!;
  return poisoned.filter((s) => s > threshold).length / poisoned.length;
}

function judgeDetector(report: ScanReport, truth: readonly boolean[], d: string, target: string): BackdoorDetectorRow {
  const scores = report.samples.map((s) => s.scores[d] ?? 0);
  const inClass = report.samples.map((s) => s.label === target);
  const summary = report.summary.detectors[d] as { classes?: { class: string; poisoned: boolean }[] } | undefined;
  return {
    detector: d,
    auroc: auroc(scores, truth),
    tprAt5: tprAtFpr(scores, truth, inClass, 0.05),
    ...precisionRecall(flagsOf(report, d), truth),
    poisonedClasses: (summary?.classes ?? []).filter((c) => c.poisoned).map((c) => c.class),
    stageMs: (report.timings.learn ?? 0) + (report.timings[`detect:${d}`] ?? 0),
  };
}

function judgeText(report: ScanReport, truth: readonly boolean[], trigger: BackdoorTrigger | undefined): TextTriggerCheck {
  const d = TEXT_TRIGGER_DETECTOR;
  const want = trigger?.kind === 'text-trigger' ? trigger.text : '';
  const top = report.findings.filter((f) => f.detector === d).reduce<(typeof report.findings)[number] | null>((best, f) => (best === null || f.score > best.score ? f : best), null);
  const evidenceTrigger = (e: unknown): string | null => {
    const t = (e as { trigger?: unknown } | undefined)?.trigger;
    return typeof t === 'string' ? t : null;
  };
  const summary = report.summary.detectors[d] as { triggers?: unknown[]; triggerCount?: number } | undefined;
  const topFinding = evidenceTrigger(top?.evidence);
  const scores = report.samples.map((s) => s.scores[d] ?? 0);
  return {
    trigger: want,
    topFinding,
    topSummary: evidenceTrigger(summary?.triggers?.[0]),
    named: topFinding !== null && topFinding.toLowerCase() === want.toLowerCase(),
    ...precisionRecall(flagsOf(report, d), truth),
    auroc: auroc(scores, truth),
    triggersFound: summary?.triggerCount ?? summary?.triggers?.length ?? 0,
    stageMs: report.timings[`detect:${d}`] ?? 0,
  };
}

const PX = 28 * 28;

/** Pixel columns of a Fashion-MNIST table, in pixel order, scaled /255. */
function pixelsOf(table: RawTable, rows: readonly number[]): DenseMatrix {
  const at = Array.from({ length: PX }, (_, j) => table.columns.indexOf(`px${j}`));
  const out = new Float32Array(rows.length * PX);
  rows.forEach((i, r) => {
    const row = table.rows[i]!;
    for (let j = 0; j < PX; j++) out[r * PX + j] = Number(row[at[j]!]) / 255;
  });
  return dense(rows.length, PX, out);
}

async function predictClasses(model: Awaited<ReturnType<typeof trainMlp>>, x: DenseMatrix): Promise<Int32Array> {
  const p = await mlpPredict(model, x);
  const K = model.numClasses;
  const out = new Int32Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let best = 0;
    for (let c = 1; c < K; c++) if (p.data[i * K + c]! > p.data[i * K + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/** The retraining check (Armory's poisoning scenario): no filter, the detector's, a random one of the same size, the perfect one. */
async function retrainChecks(table: RawTable, planted: readonly PlantedSample[], report: ScanReport, trigger: BackdoorTrigger, target: string, seed: number): Promise<RetrainRow[]> {
  const labelJ = table.columns.indexOf('label');
  const idJ = table.columns.indexOf('id');
  const n = table.rows.length;
  const all = Array.from({ length: n }, (_, i) => i);
  const x = pixelsOf(table, all);
  const y = Int32Array.from(table.rows, (r) => FASHION_CLASSES.indexOf(String(r[labelJ])));
  const targetCode = FASHION_CLASSES.indexOf(target);

  // Test split, raw (numbers as cells) so the simulator's own applyTrigger stamps it.
  const images = readIdx(join(FASHION_DIR, 't10k-images-idx3-ubyte.gz'));
  const labels = readIdx(join(FASHION_DIR, 't10k-labels-idx1-ubyte.gz'));
  const m = labels.dims[0] ?? 0;
  const testTable: RawTable = {
    format: 'csv',
    columns: table.columns,
    rows: Array.from({ length: m }, (_, i): Cell[] => {
      const row: Cell[] = new Array<Cell>(table.columns.length);
      row[idJ] = `test-${i}`;
      row[labelJ] = FASHION_CLASSES[labels.data[i]!]!;
      const px = images.data.subarray(i * PX, (i + 1) * PX);
      table.columns.forEach((c, j) => {
        if (c.startsWith('px')) row[j] = px[Number(c.slice(2))]!;
      });
      return row;
    }),
  };
  const testY = Int32Array.from(labels.data.subarray(0, m));
  const nonTarget = Array.from({ length: m }, (_, i) => i).filter((i) => testY[i] !== targetCode);
  const testX = pixelsOf(testTable, Array.from({ length: m }, (_, i) => i));
  const stamped = applyTrigger(testTable, nonTarget, trigger, seed).table;
  const triggeredX = pixelsOf(stamped, nonTarget);

  // Which rows each filter removes, by id.
  const plantedIds = new Set(planted.map((p) => p.id));
  const idOf = (i: number): string => String(table.rows[i]![idJ]);
  const flaggedIds = (names: readonly string[]): Set<string> => new Set(report.samples.filter((s) => names.some((d) => s.detectors.includes(d))).map((s) => s.externalId ?? ''));
  const detectorIds = flaggedIds([FILTER_DETECTOR]);
  const unionIds = flaggedIds(BACKDOOR_DETECTORS);
  const shuffled = createRng(seed + 7919).shuffle(Int32Array.from(all));
  const randomIds = new Set(Array.from(shuffled.subarray(0, detectorIds.size), idOf));
  const filters: [string, Set<string>][] = [
    ['none', new Set()],
    [FILTER_DETECTOR, detectorIds],
    ['union of 3', unionIds],
    ['random', randomIds],
    ['perfect', plantedIds],
  ];

  const out: RetrainRow[] = [];
  for (const [filter, drop] of filters) {
    const keep = Int32Array.from(all.filter((i) => !drop.has(idOf(i))));
    const model = await trainMlp(keep.length === n ? x : selectRows(x, keep), Int32Array.from(keep, (i) => y[i]!), FASHION_CLASSES.length, RETRAIN);
    const clean = await predictClasses(model, testX);
    const trig = await predictClasses(model, triggeredX);
    let correct = 0;
    for (let i = 0; i < m; i++) if (clean[i] === testY[i]) correct++;
    const hits = trig.reduce((a, c) => a + (c === targetCode ? 1 : 0), 0);
    const cleanHits = nonTarget.reduce((a, i) => a + (clean[i] === targetCode ? 1 : 0), 0);
    out.push({
      filter,
      removed: n - keep.length,
      poisonedLeft: Array.from(keep).filter((i) => plantedIds.has(idOf(i))).length,
      cleanAccuracy: correct / m,
      asr: hits / nonTarget.length,
      targetRateClean: cleanHits / nonTarget.length,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Printing: one table per scenario, every number the median over the runs (attack seeds).

const med = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const f3 = (x: number): string => (Number.isNaN(x) ? '—' : x.toFixed(3));
const s1 = (ms: number): string => (ms / 1000).toFixed(1);
const int = (x: number): string => String(Math.round(x));
const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
/** "median" or "median (min–max)" when the runs differ. */
function spread(xs: readonly number[], f: (x: number) => string = f3): string {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return xs.length > 1 && f(lo) !== f(hi) ? `${f(med(xs))} (${f(lo)}–${f(hi)})` : f(med(xs));
}

/** Markdown for one backdoor scenario over its runs (`seeds` names them when they differ). */
export function formatBackdoor(rs: readonly BackdoorResult[], seeds?: readonly string[]): string {
  const r = rs[0]!;
  const out: string[] = [];
  const over = rs.length > 1 ? `medians (min–max) over ${seeds === undefined ? `${rs.length} runs` : `attack seeds ${seeds.join(', ')}`}` : seeds === undefined ? 'one run' : `attack seed ${seeds[0]}`;
  out.push(
    `#### ${r.scenario} — ${r.data}, ${r.rows} rows, ${r.attack} → ${r.target}, planted ${spread(rs.map((x) => x.planted), int)}; backdoor scan ${spread(rs.map((x) => x.wallMs), s1)} s (${r.text === null ? 'read and MLP training incl.' : 'read incl.'}), peak RSS ${spread(rs.map((x) => x.peakRssMiB), int)} MiB — ${over}`,
  );
  out.push('');
  if (r.text !== null) {
    const t = rs.map((x) => x.text!);
    out.push('| detector | trigger | top finding names | first summary trigger | triggers found | flagged | precision | recall | AUROC | detect s |');
    out.push('|---|---|---|---|---|---|---|---|---|---|');
    out.push(
      `| ${TEXT_TRIGGER_DETECTOR} | ${[...new Set(t.map((x) => x.trigger))].join(', ')} | ${t.map((x) => x.topFinding ?? '—').join(', ')} (${t.filter((x) => x.named).length}/${t.length} named) | ${t.map((x) => x.topSummary ?? '—').join(', ')} | ${spread(t.map((x) => x.triggersFound), int)} | ${spread(t.map((x) => x.flagged), int)} | ${spread(t.map((x) => x.precision))} | ${spread(t.map((x) => x.recall))} | ${spread(t.map((x) => x.auroc))} | ${spread(t.map((x) => x.stageMs), s1)} |`,
    );
    out.push('');
    const ok = t.filter((x) => x.named && x.recall >= 0.95 && x.precision >= 0.9).length;
    out.push(`- target (trigger is the top finding; recall ≥ 0.95 at precision ≥ 0.9): ${verdict(ok, t.length)}`);
    return out.join('\n');
  }
  out.push('| detector | AUROC (all rows) | TPR @ FPR ≤ 0.05 (target class) | flagged | precision | recall | classes judged poisoned | learn + detect s |');
  out.push('|---|---|---|---|---|---|---|---|');
  for (const d of BACKDOOR_DETECTORS) {
    const ds = rs.map((x) => x.detectors.find((y) => y.detector === d)!);
    const classes = new Map<string, number>();
    for (const x of ds) for (const c of x.poisonedClasses) classes.set(c, (classes.get(c) ?? 0) + 1);
    const named = [...classes].map(([c, k]) => (rs.length > 1 ? `${c} (${k}/${rs.length})` : c)).join(', ') || 'none';
    out.push(
      `| ${d} | ${spread(ds.map((x) => x.auroc))} | ${spread(ds.map((x) => x.tprAt5))} | ${spread(ds.map((x) => x.flagged), int)} | ${spread(ds.map((x) => x.precision))} | ${spread(ds.map((x) => x.recall))} | ${named} | ${spread(ds.map((x) => x.stageMs), s1)} |`,
    );
  }
  out.push('');
  if (r.retrain.length > 0) {
    out.push(`Retrained MLP [256,128], 8 epochs, on the poisoned 20k minus each filter; Fashion-MNIST test split (10,000 images; ${r.target} excluded for ASR); retraining ${spread(rs.map((x) => x.retrainMs), s1)} s for all filters:`);
    out.push('');
    out.push('| training set | rows removed | poisoned left | clean test accuracy | attack success rate | target rate without trigger |');
    out.push('|---|---|---|---|---|---|');
    for (const f of r.retrain.map((x) => x.filter)) {
      const xs = rs.map((x) => x.retrain.find((y) => y.filter === f)!);
      out.push(`| ${f === 'none' ? 'poisoned (no filter)' : `minus ${f}`} | ${spread(xs.map((x) => x.removed), int)} | ${spread(xs.map((x) => x.poisonedLeft), int)} | ${spread(xs.map((x) => x.cleanAccuracy), pct)} | ${spread(xs.map((x) => x.asr), pct)} | ${spread(xs.map((x) => x.targetRateClean), pct)} |`);
    }
    out.push('');
  }
  // Targets, judged per run: the issue's quality targets are for 2 % poison.
  if (/-2$/.test(r.scenario)) {
    for (const d of BACKDOOR_DETECTORS) {
      const ok = rs.filter((x) => {
        const y = x.detectors.find((z) => z.detector === d)!;
        return y.auroc >= 0.95 && y.tprAt5 >= 0.9;
      }).length;
      out.push(`- ${d}: AUROC ≥ 0.95 and TPR ≥ 0.90 — ${verdict(ok, rs.length)}`);
    }
  }
  const gaps = rs.map((x) => asrGap(x)).filter((g): g is number => g !== null);
  if (gaps.length > 0) {
    const ok = gaps.filter((g) => g <= 0.05).length;
    out.push(`- ASR after the ${FILTER_DETECTOR} filter minus the perfect filter's: ${spread(gaps, (g) => `${(100 * g).toFixed(1)} pt`)} — target ≤ 5 pt: ${verdict(ok, gaps.length)}`);
  }
  const fast = rs.filter((x) => x.wallMs < 120000).length;
  out.push(`- whole backdoor scan (read, featurize, MLP training, 3 detectors) ${spread(rs.map((x) => x.wallMs), s1)} s — target < 120 s: ${verdict(fast, rs.length)}`);
  return out.join('\n');
}

/** "met" only when every run meets the target. */
const verdict = (ok: number, runs: number): string => (runs === 1 ? (ok === 1 ? 'met' : 'NOT met') : `${ok === runs ? 'met' : 'NOT met'} (met in ${ok} of ${runs} runs)`);

function asrGap(r: BackdoorResult): number | null {
  const det = r.retrain.find((x) => x.filter === FILTER_DETECTOR);
  const perfect = r.retrain.find((x) => x.filter === 'perfect');
  return det === undefined || perfect === undefined ? null : det.asr - perfect.asr;
}

/** One line per attack seed: the numbers the targets are about. */
export function formatBackdoorSeeds(rs: readonly BackdoorResult[], seeds: readonly string[]): string {
  const out: string[] = ['', `Per attack seed (${seeds.join(', ')}):`, ''];
  if (rs[0]?.text !== null) {
    out.push('| seed | planted | top finding | flagged | precision | recall | scan s |', '|---|---|---|---|---|---|---|');
    rs.forEach((r, i) => out.push(`| ${seeds[i]} | ${r.planted} | ${r.text?.topFinding ?? '—'} | ${r.text?.flagged} | ${f3(r.text?.precision ?? NaN)} | ${f3(r.text?.recall ?? NaN)} | ${s1(r.wallMs)} |`));
    return out.join('\n');
  }
  out.push(`| seed | ${BACKDOOR_DETECTORS.map((d) => `${d} AUROC / TPR / flagged (classes)`).join(' | ')} | ASR none / ${FILTER_DETECTOR} / union / random / perfect | scan s |`);
  out.push(`|---|${BACKDOOR_DETECTORS.map(() => '---|').join('')}---|---|`);
  rs.forEach((r, i) => {
    const det = BACKDOOR_DETECTORS.map((d) => {
      const y = r.detectors.find((z) => z.detector === d)!;
      return `${f3(y.auroc)} / ${f3(y.tprAt5)} / ${y.flagged} (${y.poisonedClasses.length})`;
    });
    out.push(`| ${seeds[i]} | ${det.join(' | ')} | ${r.retrain.map((x) => pct(x.asr)).join(' / ') || '—'} | ${s1(r.wallMs)} |`);
  });
  return out.join('\n');
}
