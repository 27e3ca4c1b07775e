import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import { createRng, type ProgressFn } from '../core/index.ts';
import { plantSymmetricFlips, plantTargetedFlips, evaluateDetection, type DetectionQuality, type PlantedFlips } from '../redteam/index.ts';
import { renderReport, type ScanReport } from '../scan/index.ts';
import { loadSpamAssassin, type Mail } from './spamassassin.ts';
import { scanFile } from './scan-file.ts';

export interface DemoScenario {
  readonly name: string;
  readonly description: string;
  readonly plant: (labels: Int32Array, seed: number) => PlantedFlips;
}

const LABELS = ['ham', 'spam'] as const;

/** The two attacks the demo plants: an attacker who wants spam delivered, and plain annotation noise. */
export const DEMO_SCENARIOS: readonly DemoScenario[] = [
  {
    name: 'spam-targeted-30',
    description: '30 % of spam relabelled ham (an attacker who wants spam through the filter)',
    plant: (labels, seed) => plantTargetedFlips(labels, 1, 0, 0.3, createRng(seed)),
  },
  {
    name: 'spam-symmetric-10',
    description: '10 % of all labels flipped at random',
    plant: (labels, seed) => plantSymmetricFlips(labels, 2, 0.1, createRng(seed)),
  },
];

export interface DemoResult {
  readonly scenario: DemoScenario;
  readonly planted: number;
  readonly quality: DetectionQuality;
  readonly report: ScanReport;
  readonly dataPath: string;
  readonly reportPath: string;
  readonly seconds: number;
}

export interface PoisonedCorpus {
  readonly dataPath: string;
  readonly truthPath: string;
  readonly planted: PlantedFlips;
  readonly mails: readonly Mail[];
}

/** Write the corpus with a planted attack as JSONL (`id,label,source,text`) plus a truth file. */
export async function writePoisonedCorpus(mails: readonly Mail[], scenario: DemoScenario, seed: number, outDir: string): Promise<PoisonedCorpus> {
  await mkdir(outDir, { recursive: true });
  const clean = Int32Array.from(mails, (m) => LABELS.indexOf(m.label));
  const planted = scenario.plant(clean, seed);
  const lines = mails.map((m, i) => JSON.stringify({ id: m.id, label: LABELS[planted.labels[i]!], source: m.group, text: m.text }));
  const dataPath = join(outDir, `${scenario.name}.jsonl`);
  await writeFile(dataPath, `${lines.join('\n')}\n`);
  const truth = mails.flatMap((m, i) => (planted.planted[i] ? [{ id: m.id, trueLabel: m.label, plantedLabel: LABELS[planted.labels[i]!], attack: scenario.name }] : []));
  const truthPath = join(outDir, `${scenario.name}.truth.json`);
  await writeFile(truthPath, `${JSON.stringify({ scenario: scenario.name, seed, planted: truth }, null, 2)}\n`);
  return { dataPath, truthPath, planted, mails };
}

/**
 * Score a report against planted label flips, matching samples by their external id. Flips are
 * the label-issues detector's job, so its own flags and scores are judged (other detectors, such
 * as duplicates, flag other things).
 */
export function evaluateReport(report: ScanReport, poisoned: PoisonedCorpus, detector = 'label-issues'): DetectionQuality {
  const isPlanted = new Map(poisoned.mails.map((m, i) => [m.id, poisoned.planted.planted[i] ?? 0]));
  const scores = report.samples.map((s) => s.scores[detector] ?? s.score);
  const flagged = report.samples.map((s) => s.detectors.includes(detector));
  const truth = report.samples.map((s) => isPlanted.get(s.externalId ?? '') ?? 0);
  return evaluateDetection(scores, flagged, truth);
}

/**
 * Use case `demo`: plant label-flip attacks into the SpamAssassin corpus with a fixed seed, scan
 * each poisoned file, and measure what was caught against the planted truth.
 */
export async function runDemo(options: { outDir: string; config: Config; progress?: ProgressFn; onResult?: (r: DemoResult) => void }): Promise<DemoResult[]> {
  const mails = loadSpamAssassin();
  const results: DemoResult[] = [];
  for (const scenario of DEMO_SCENARIOS) {
    const t0 = performance.now();
    const poisoned = await writePoisonedCorpus(mails, scenario, options.config.scan.seed, options.outDir);
    const { report } = await scanFile(poisoned.dataPath, options.config, options.progress === undefined ? {} : { progress: options.progress });
    const reportPath = join(options.outDir, `${scenario.name}.report.html`);
    await writeFile(reportPath, renderReport(report, 'html', {}));
    await writeFile(join(options.outDir, `${scenario.name}.report.json`), renderReport(report, 'json', {}));
    const result: DemoResult = {
      scenario,
      planted: poisoned.planted.count,
      quality: evaluateReport(report, poisoned),
      report,
      dataPath: poisoned.dataPath,
      reportPath,
      seconds: (performance.now() - t0) / 1000,
    };
    options.onResult?.(result);
    results.push(result);
  }
  return results;
}
