// Runs ONE bench scenario in its own process (so peak memory is the scenario's own) and prints a
// JSON line with quality and timings. Driven by bench/run.ts.
import { join } from 'node:path';
import { resolveConfig } from '../src/config/index.ts';
import { scanFile, loadSpamAssassin, writePoisonedCorpus, evaluateReport, DEMO_SCENARIOS, type ScanReport } from '../src/app/index.ts';
import { evaluateDetection } from '../src/redteam/index.ts';
import { INTEGRITY_DETECTORS, INTEGRITY_SCENARIOS, runIntegrityScenario } from './integrity.ts';
import { BACKDOOR_DETECTORS, BACKDOOR_SCENARIOS, TEXT_TRIGGER_DETECTOR, runBackdoorScenario } from './backdoor.ts';
import { BENCH_DIR, writeFashionCsv, writeEmbeddingCsv, plantFashionSymmetric, plantFashionShirtToTshirt } from './datasets.ts';

/** The seed of the planted attack (and the data subset); the scan's own seed stays the config's. */
const SEED = Number(process.argv[4] ?? 1);
const name = process.argv[2] ?? '';
const overrides = JSON.parse(process.argv[3] ?? '{}') as Record<string, Record<string, unknown>>;

function labelIssueStageMs(report: ScanReport): number {
  const t = report.timings;
  return Object.entries(t)
    // Everything the label-issue pass needs; other detectors' stages are not part of it.
    .filter(([k]) => k !== 'read' && k !== 'report' && (!k.startsWith('detect:') || k === 'detect:label-issues'))
    .reduce((s, [, v]) => s + v, 0);
}

/** Label flips are the label-issues detector's job: judge its own flags and scores, not the union of all detectors. */
function labelIssueQuality(report: ScanReport, truth: number[]): ReturnType<typeof evaluateDetection> {
  return evaluateDetection(
    report.samples.map((x) => x.scores['label-issues'] ?? x.score),
    report.samples.map((x) => x.detectors.includes('label-issues')),
    truth,
  );
}

async function main(): Promise<void> {
  if ((INTEGRITY_SCENARIOS as readonly string[]).includes(name)) {
    // Issue #3 scenarios: every integrity detector runs, each judged on its own flags.
    const flags = { ...overrides, scan: { ...overrides.scan, detectors: [...INTEGRITY_DETECTORS] } };
    const result = await runIntegrityScenario(name, resolveConfig({ env: {}, flags }), SEED);
    process.stdout.write(`${JSON.stringify(typeof result === 'string' ? { scenario: name, kind: 'skipped', reason: result } : result)}\n`);
    return;
  }
  if ((BACKDOOR_SCENARIOS as readonly string[]).includes(name)) {
    // Issue #4 scenarios: only the backdoor detectors (text-triggers for text) run.
    const detectors = name.startsWith('spam-') ? [TEXT_TRIGGER_DETECTOR] : [...BACKDOOR_DETECTORS];
    const flags = { ...overrides, scan: { ...overrides.scan, detectors } };
    const result = await runBackdoorScenario(name, resolveConfig({ env: {}, flags }), SEED);
    process.stdout.write(`${JSON.stringify(typeof result === 'string' ? { scenario: name, kind: 'skipped', reason: result } : result)}\n`);
    return;
  }
  const config = resolveConfig({ env: {}, flags: overrides });
  let report: ScanReport;
  let quality;
  let wallMs: number;
  if (name.startsWith('spam-')) {
    const scenario = DEMO_SCENARIOS.find((s) => s.name === name);
    if (scenario === undefined) throw new Error(`unknown scenario ${name}`);
    const poisoned = await writePoisonedCorpus(loadSpamAssassin(), scenario, SEED, join(BENCH_DIR, 'spam'));
    const t0 = performance.now();
    ({ report } = await scanFile(poisoned.dataPath, config));
    wallMs = performance.now() - t0;
    quality = evaluateReport(report, poisoned);
  } else {
    const file =
      name === 'fmnist-symmetric-10'
        ? await writeFashionCsv(name, 20000, SEED, plantFashionSymmetric(SEED))
        : name === 'fmnist-targeted-40'
          ? await writeFashionCsv(name, 20000, SEED, plantFashionShirtToTshirt(SEED))
          : name === 'embeddings-100k'
            ? await writeEmbeddingCsv(name, 100000, 128, SEED)
            : undefined;
    if (file === undefined) throw new Error(`unknown scenario ${name}`);
    const t0 = performance.now();
    ({ report } = await scanFile(file.path, config));
    wallMs = performance.now() - t0;
    const truth = report.samples.map((s) => file.planted.get(s.externalId ?? '') ?? 0);
    quality = labelIssueQuality(report, truth);
  }
  const out = {
    scenario: name,
    rows: report.summary.samples,
    quality,
    wallMs: Math.round(wallMs),
    labelIssueStageMs: labelIssueStageMs(report),
    timings: report.timings,
    outOfFoldAccuracy: report.summary.outOfFoldAccuracy,
    estimatedNoiseRate: report.summary.estimatedNoiseRate,
    filterRule: (report.summary.detectors['label-issues'] as { filterBy?: string } | undefined)?.filterBy,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
