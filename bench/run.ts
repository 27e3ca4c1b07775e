// `npm run bench`: detection quality and speed per scenario, medians over runs. Prints numbers;
// never fails on a time. Usage: npm run bench [-- --runs 3] [-- --only fmnist-symmetric-10,...]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fashionAvailable } from './datasets.ts';
import { INTEGRITY_SCENARIOS, INTEGRITY_TARGETS, formatIntegrity, formatIntegritySeeds, type IntegrityResult } from './integrity.ts';
import { BACKDOOR_SCENARIOS, BACKDOOR_TARGETS, formatBackdoor, formatBackdoorSeeds, type BackdoorResult } from './backdoor.ts';

interface Result {
  scenario: string;
  rows: number;
  quality: { precision: number; recall: number; f1: number; auroc: number; averagePrecision: number; planted: number; flagged: number };
  wallMs: number;
  labelIssueStageMs: number;
  timings: Record<string, number>;
  outOfFoldAccuracy: number;
  peakRssMiB: number;
}

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 3) || 3;
const onlyArg = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const overrides = args.includes('--config') ? (args[args.indexOf('--config') + 1] ?? '{}') : '{}';
// --seeds 1,2,3: plant each attack with several seeds (one run each) to see how much quality varies.
const seeds = args.includes('--seeds') ? (args[args.indexOf('--seeds') + 1] ?? '1').split(',') : undefined;

// Reference numbers from the issue: cleanlab + 5-fold logistic regression on the same kind of data.
const TARGETS: Record<string, string> = {
  'spam-symmetric-10': 'cleanlab F1 0.95; label stage ≤ 10 s',
  'spam-targeted-30': '—',
  'fmnist-symmetric-10': 'cleanlab F1 0.64, AUROC 0.98; label stage ≤ 6 s; scan < 20 s',
  'fmnist-targeted-40': 'cleanlab F1 0.32',
  'embeddings-100k': 'scan < 180 s',
};

let scenarios = ['spam-symmetric-10', 'spam-targeted-30', 'fmnist-symmetric-10', 'fmnist-targeted-40', 'embeddings-100k', ...INTEGRITY_SCENARIOS, ...BACKDOOR_SCENARIOS];
if (!fashionAvailable()) {
  console.log('Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): skipping its scenarios');
  scenarios = scenarios.filter((s) => !s.startsWith('fmnist'));
}
if (onlyArg !== undefined) scenarios = scenarios.filter((s) => onlyArg.split(',').includes(s));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

const all: Record<string, Result[]> = {};
/** Issue #3 scenarios (per-detector tables); one entry per run, or why the scenario was skipped. */
const integrity: Record<string, IntegrityResult[]> = {};
const skipped: Record<string, string> = {};
/** Issue #4 scenarios: one entry per run. */
const backdoor: Record<string, BackdoorResult[]> = {};
for (const scenario of scenarios) {
  all[scenario] = [];
  for (let r = 0; r < (seeds?.length ?? runs); r++) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'scenario.ts'), scenario, overrides, seeds?.[r] ?? '1'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    });
    const line = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Result | IntegrityResult | BackdoorResult | { kind: 'skipped'; reason: string };
    if ('kind' in line) {
      delete all[scenario];
      if (line.kind === 'skipped') {
        skipped[scenario] = line.reason;
        console.error(`${scenario}: skipped — ${line.reason}`);
        break;
      }
      if (line.kind === 'backdoor') (backdoor[scenario] ??= []).push(line);
      else (integrity[scenario] ??= []).push(line);
      console.error(`${scenario} ${seeds === undefined ? `run ${r + 1}/${runs}` : `attack seed ${seeds[r]}`}: wall ${(line.wallMs / 1000).toFixed(1)} s`);
      continue;
    }
    const result = line;
    all[scenario].push(result);
    console.error(`${scenario} ${seeds === undefined ? `run ${r + 1}/${runs}` : `attack seed ${seeds[r]}`}: F1 ${result.quality.f1.toFixed(3)} AUROC ${result.quality.auroc.toFixed(3)} wall ${(result.wallMs / 1000).toFixed(1)} s`);
  }
}

const f3 = (x: number): string => x.toFixed(3);
const s1 = (ms: number): string => (ms / 1000).toFixed(1);
if (Object.keys(all).length > 0) {
  console.log(`\nTrainGuard label-issue benchmark — medians of ${seeds === undefined ? `${runs} run(s)` : `attack seeds ${seeds.join(',')}`}, node ${process.version}\n`);
  console.log('| scenario | rows | planted | flagged | precision | recall | F1 | AUROC | AP | OOF acc | label stage s | scan s (read incl.) | peak RSS MiB | reference |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [scenario, rs] of Object.entries(all)) {
    const first = rs[0];
    if (first === undefined) continue;
    console.log(
      `| ${scenario} | ${first.rows} | ${first.quality.planted} | ${first.quality.flagged} | ${f3(first.quality.precision)} | ${f3(first.quality.recall)} | ${f3(first.quality.f1)} | ${f3(first.quality.auroc)} | ${f3(first.quality.averagePrecision)} | ${f3(first.outOfFoldAccuracy)} | ${s1(median(rs.map((r) => r.labelIssueStageMs)))} | ${s1(median(rs.map((r) => r.wallMs)))} | ${median(rs.map((r) => r.peakRssMiB))} | ${TARGETS[scenario] ?? ''} |`,
    );
  }
  if (seeds !== undefined) {
    console.log('\nPer attack seed (F1 / AUROC):');
    for (const [scenario, rs] of Object.entries(all)) {
      const f1s = rs.map((r) => r.quality.f1);
      console.log(`  ${scenario}: ${rs.map((r, i) => `seed ${seeds[i]}: ${f3(r.quality.f1)} / ${f3(r.quality.auroc)}`).join(', ')}; median F1 ${f3(median(f1s))}, min ${f3(Math.min(...f1s))}`);
    }
  }
  console.log('\nWith one attack seed, quality is identical across runs (everything is seeded); times are medians. Stage timings of the last run:');
  for (const [scenario, rs] of Object.entries(all)) console.log(`  ${scenario}: ${JSON.stringify(rs.at(-1)?.timings)}`);
}
if (Object.keys(integrity).length > 0 || Object.keys(skipped).length > 0) {
  console.log('\nIntegrity detectors (issue 3) — detectors label-issues,duplicates,near-duplicates,outliers,validation; quality of the first run (with --seeds, per seed and medians below each table), scan times are medians');
  for (const [scenario, rs] of Object.entries(integrity)) {
    const last = rs.at(-1);
    if (last === undefined) continue;
    console.log(`\n${formatIntegrity({ ...rs[0]!, wallMs: median(rs.map((r) => r.wallMs)) })}\n- targets: ${INTEGRITY_TARGETS[scenario] ?? ''}\n- stage timings: ${JSON.stringify(last.timings)}`);
    if (seeds !== undefined && rs.length > 1) console.log(formatIntegritySeeds(rs, seeds));
  }
  for (const [scenario, reason] of Object.entries(skipped)) console.log(`\n${scenario}: skipped — ${reason}`);
}
if (Object.keys(backdoor).length > 0) {
  console.log('\nBackdoor detectors (issue 4) — spectre, spectral-signatures, activation-clustering on Fashion-MNIST; text-triggers on SpamAssassin');
  for (const [scenario, rs] of Object.entries(backdoor)) {
    console.log(`\n${formatBackdoor(rs, seeds)}\n- targets: ${BACKDOOR_TARGETS[scenario] ?? ''}\n- stage timings (last run): ${JSON.stringify(rs.at(-1)?.timings)}`);
    if (seeds !== undefined && rs.length > 1) console.log(formatBackdoorSeeds(rs, seeds));
  }
}
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results', 'latest.json'), JSON.stringify({ ...all, ...integrity, ...backdoor }, null, 2));
