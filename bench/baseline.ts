// Issue #3 §2 bench: judge a small new batch against a trusted baseline, end to end through
// `baseline create` and `scan --baseline` (the app use cases the CLI calls).
//
// Per data set and seed: a disjoint trusted part builds the baseline; a clean batch from the same
// distribution must raise no drift; a poisoned batch (10 % symmetric flips + 3 % junk rows) is
// judged on the reference-row findings. Run: npm run bench:baseline [-- --seeds 1,2,3 --only spam,fmnist,sklearn]
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRng } from '../src/core/index.ts';
import { resolveConfig } from '../src/config/index.ts';
import { createBaselineFile, loadSpamAssassin, scanFile, type ScanReport } from '../src/app/index.ts';
import { plantAttack, serializeTable, type RawTable } from '../src/redteam/index.ts';
import { BENCH_DIR, fashionAvailable, fashionTable, sklearnTable, spamTable } from './datasets.ts';

const args = process.argv.slice(2);
const seeds = (args.includes('--seeds') ? (args[args.indexOf('--seeds') + 1] ?? '1,2,3') : '1,2,3').split(',').map(Number);
const only = args.includes('--only') ? (args[args.indexOf('--only') + 1] ?? '').split(',') : ['spam', 'fmnist', 'sklearn'];

interface Setup {
  readonly name: string;
  readonly table: RawTable;
  /** Batch rows (before planting) and trusted rows. */
  readonly batch: number;
  readonly trusted: number;
}

function setups(): (Setup | string)[] {
  const out: (Setup | string)[] = [];
  if (only.includes('spam')) out.push({ name: 'SpamAssassin', table: spamTable(loadSpamAssassin()), batch: 250, trusted: 4000 });
  if (only.includes('fmnist')) out.push(fashionAvailable() ? { name: 'Fashion-MNIST', table: fashionTable(4600, 7), batch: 250, trusted: 4000 } : 'Fashion-MNIST: not installed');
  if (only.includes('sklearn')) {
    const sk = sklearnTable();
    out.push(sk === null ? 'scikit-learn data: not installed' : { name: `scikit-learn ${sk.name}`, table: sk.table, batch: 100, trusted: 300 });
  }
  return out;
}

const config = resolveConfig({ env: {} });
const quiet = { progress: () => undefined };

async function write(table: RawTable, rows: readonly (readonly unknown[])[], name: string): Promise<string> {
  const path = join(BENCH_DIR, `${name}.${table.format}`);
  await writeFile(path, serializeTable({ ...table, rows: rows as RawTable['rows'] }, table.format).text);
  return path;
}

/** Drift findings of the report by code, as sets of external ids. */
function byCode(report: ScanReport): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of report.findings) {
    if (f.detector !== 'drift') continue;
    const ext = report.samples[f.index]?.externalId ?? '';
    for (const p of (f.evidence as { problems?: { code: string }[] }).problems ?? []) {
      let s = out.get(p.code);
      if (s === undefined) out.set(p.code, (s = new Set()));
      s.add(ext);
    }
  }
  return out;
}

const f2 = (x: number): string => x.toFixed(2);
function pr(flagged: Set<string> | undefined, truth: Set<string>): string {
  const f = flagged ?? new Set<string>();
  const tp = [...f].filter((id) => truth.has(id)).length;
  return `${f2(f.size === 0 ? 0 : tp / f.size)} / ${f2(truth.size === 0 ? 0 : tp / truth.size)}`;
}
function drifted(report: ScanReport): string[] {
  return ((report.summary.detectors['drift'] as { drifted?: string[] } | undefined)?.drifted ?? []).slice(0, 5);
}

await mkdir(BENCH_DIR, { recursive: true });
console.log(`Baseline checks (issue 3 §2) — attack seeds ${seeds.join(', ')}, node ${process.version}\n`);
console.log('| data (batch vs trusted rows) | seed | clean batch: drifted / label / far flags | poisoned: label flags on flips P / R | far flags on junk P / R | scan ms (poisoned, with reference) |');
console.log('|---|---|---|---|---|---|');
for (const s of setups()) {
  if (typeof s === 'string') {
    console.log(`| ${s} | | | | | |`);
    continue;
  }
  for (const seed of seeds) {
    const order = createRng(seed).shuffle(Array.from({ length: s.table.rows.length }, (_, i) => i));
    const trustedN = Math.min(s.trusted, s.table.rows.length - 2 * s.batch);
    const pick = (from: number, n: number): RawTable['rows'] => order.slice(from, from + n).map((i) => s.table.rows[i]!);
    const trustedPath = await write(s.table, pick(0, trustedN), `baseline-trusted-${seed}`);
    const baselinePath = join(BENCH_DIR, `baseline-${seed}.json`);
    await createBaselineFile(trustedPath, config, baselinePath, { seed });
    const cleanPath = await write(s.table, pick(trustedN, s.batch), `baseline-clean-${seed}`);
    const flips = plantAttack({ ...s.table, rows: pick(trustedN + s.batch, s.batch) }, { attack: 'symmetric', rate: 0.1, seed, label: 'label', id: 'id' });
    const junk = plantAttack(flips.table, { attack: 'ood', rate: 0.03, seed: seed + 100, label: 'label', id: 'id', exclude: new Set(flips.planted.map((p) => p.id)) });
    const poisonedPath = join(BENCH_DIR, `baseline-poisoned-${seed}.${s.table.format}`);
    await writeFile(poisonedPath, serializeTable(junk.table, s.table.format).text);

    const clean = (await scanFile(cleanPath, config, { ...quiet, baseline: baselinePath })).report;
    const t0 = performance.now();
    const poisoned = (await scanFile(poisonedPath, config, { ...quiet, baseline: baselinePath })).report;
    const ms = Math.round(performance.now() - t0);
    const c = byCode(clean);
    const p = byCode(poisoned);
    const flipIds = new Set(flips.planted.map((x) => x.id));
    const junkIds = new Set(junk.planted.map((x) => x.id));
    const d = drifted(clean);
    console.log(
      `| ${s.name} (${s.batch} vs ${trustedN}) | ${seed} | ${d.length === 0 ? 'none' : d.join(', ')} / ${c.get('DRIFT_TRUSTED_LABEL_MISMATCH')?.size ?? 0} / ${c.get('DRIFT_FAR_FROM_TRUSTED')?.size ?? 0} | ${pr(p.get('DRIFT_TRUSTED_LABEL_MISMATCH'), flipIds)} | ${pr(p.get('DRIFT_FAR_FROM_TRUSTED'), junkIds)} | ${ms} (reference ${poisoned.timings['reference'] ?? '—'}) |`,
    );
  }
}
