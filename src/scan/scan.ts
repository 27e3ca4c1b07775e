import { createRng, severityRank, type Finding, type ProgressFn, type Severity, type Logger, silentLogger } from '../core/index.ts';
import type { Dataset } from '../data/index.ts';
import { crossValidatedProbabilities, knnGraph, type KnnGraph } from '../compute/index.ts';
import { featurize } from '../features/index.ts';
import { analyzeSources, BACKDOOR_DETECTORS, findImageTriggers, IMAGE_TRIGGERS_DETECTOR, createDetector, createDriftDetector, SOURCES_DETECTOR, type Baseline, type DetectorContext, type DetectorResult } from '../detectors/index.ts';
import { buildRepresentation, featurizeOptionsFor } from './representation.ts';
import { learnRepresentation, resolveEpochs, type LearnedOptions } from './learned.ts';
import { buildPreviews } from './previews.ts';
import { compareWithReference } from './reference.ts';
import { ScanError } from './errors.ts';
import { REPORT_SCHEMA, REPORT_VERSION, type ScanReport, type SampleResult, type ClassSummary, type ReportInput } from './report.ts';

export interface ScanOptions {
  readonly seed: number;
  readonly folds: number;
  readonly k: number;
  readonly filterBy: string;
  readonly knnWeight: number;
  readonly reducedDim: number;
  readonly l2?: number | undefined;
  readonly maxIter: number;
  readonly failOn: Severity;
  readonly previews: number;
  readonly detectors: readonly string[];
  readonly progress?: ProgressFn;
  readonly logger?: Logger;
  /** Tool version for the report. */
  readonly version: string;
  /** SHA-256 of the input bytes, computed by the caller that read them. */
  readonly inputSha256: string;
  /** Trusted baseline: when given, the `drift` detector runs too. */
  readonly baseline?: Baseline;
  /** Backdoor detectors: where their learned representation comes from, and their poison budget. */
  readonly backdoor?: BackdoorScanOptions;
}

export interface BackdoorScanOptions extends Omit<LearnedOptions, 'seed' | 'onEpoch'> {
  readonly budget: 'auto' | number;
}

const DEFAULT_BACKDOOR: BackdoorScanOptions = { representation: 'auto', hidden: [256, 128], epochs: 'auto', budget: 'auto' };

/**
 * Run the scan pipeline over a dataset already in memory:
 * featurize → representation (PCA / LSA) → out-of-fold probabilities → kNN graph → detectors →
 * per-sample risk → report. Deterministic for a given seed.
 */
export async function runScan(dataset: Dataset, options: ScanOptions): Promise<ScanReport> {
  const progress: ProgressFn = options.progress ?? (() => undefined);
  const logger = options.logger ?? silentLogger;
  const timings: Record<string, number> = {};
  const time = async <T>(stage: string, f: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    const r = await f();
    timings[stage] = Math.round(performance.now() - t0);
    return r;
  };
  const K = dataset.labelNames.length;
  const n = dataset.n;
  if (n === 0) throw new ScanError('SCAN_EMPTY_DATASET', 'no samples could be read', { file: dataset.origin.path, hint: 'see the skipped rows above for why each row was refused' });
  if (K < 2) {
    throw new ScanError('SCAN_SINGLE_CLASS', `only one label (${dataset.labelNames[0] ?? ''}) is present: label errors cannot be estimated`, {
      file: dataset.origin.path,
      hint: 'check that --label names the right column',
    });
  }
  if (n / K < options.folds) {
    throw new ScanError('SCAN_TOO_FEW_SAMPLES', `${n} samples over ${K} classes is too few for ${options.folds}-fold cross-validation`, {
      file: dataset.origin.path,
      hint: 'scan at least folds × classes samples, or lower --folds',
    });
  }
  const rng = createRng(options.seed);

  progress('featurize', 0, 1);
  const features = await time('featurize', () => featurize(dataset, featurizeOptionsFor(dataset)));
  progress('featurize', 1, 1);
  logger.info('features', { kind: features.kind, cols: features.matrix.cols });

  progress('represent', 0, 1);
  const rep = await time('represent', () => buildRepresentation(features.matrix, options.reducedDim));
  progress('represent', 1, 1);

  const backdoor = options.backdoor ?? DEFAULT_BACKDOOR;
  const needs = new Set<string>();
  const detectors = options.detectors.map((name) => {
    const d = createDetector(name, { filterBy: options.filterBy, knnWeight: options.knnWeight, budget: backdoor.budget });
    for (const need of d.needs) needs.add(need);
    return d;
  });
  if (options.baseline !== undefined) detectors.push(createDriftDetector(options.baseline));

  let predProbs: Float32Array | null = null;
  if (needs.has('predProbs')) {
    progress('cross-validate', 0, options.folds);
    predProbs = await time('crossValidate', () =>
      crossValidatedProbabilities(rep.model, dataset.labelCodes, K, {
        folds: options.folds,
        seed: options.seed,
        ...(options.l2 === undefined ? {} : { l2: options.l2 }),
        maxIter: options.maxIter,
        onFold: (done, total) => progress('cross-validate', done, total),
      }),
    );
  }

  // The graph is cheap next to training and several detectors share it, so it is always built
  // when k is usable.
  let knn: KnnGraph | null = null;
  const k = Math.min(options.k, n - 1);
  if (k >= 1) {
    progress('neighbours', 0, n);
    knn = await time('neighbours', () =>
      knnGraph(rep.neighbours, k, { metric: rep.neighbours.cols > 3 ? 'cosine' : 'euclidean', onProgress: (d, t) => progress('neighbours', d, t) }),
    );
  }

  let learned: DetectorContext['learned'] = null;
  if (needs.has('learned')) {
    const input = features.matrix.kind === 'dense' ? features.matrix : rep.model;
    progress('learn', 0, resolveEpochs(backdoor.epochs, n));
    learned = await time('learn', () =>
      learnRepresentation(dataset, input, { ...backdoor, seed: options.seed, onEpoch: (e, total) => progress('learn', e, total) }),
    );
    logger.info('learned representation', learned.info);
  }

  // Against a baseline: score the batch against the trusted reference sample too (joint features,
  // trusted neighbours, domain classifier); the drift detector reads the result.
  let reference: DetectorContext['reference'] = null;
  const baseline = options.baseline;
  if (baseline !== undefined) {
    progress('reference', 0, 1);
    reference = await time('reference', () =>
      compareWithReference(dataset, baseline, { k: options.k, reducedDim: options.reducedDim, seed: options.seed, folds: options.folds, maxIter: options.maxIter, l2: options.l2 }),
    );
    progress('reference', 1, 1);
    if (reference.status === 'skipped') logger.info('reference sample not compared', { reason: reference.reason });
  }

  const ctx: DetectorContext = { dataset, labels: dataset.labelCodes, numClasses: K, classNames: dataset.labelNames, predProbs, knn, reference, learned, rng: rng.fork(), progress };
  const results: { name: string; result: DetectorResult }[] = [];
  for (const d of detectors) {
    progress(`detect:${d.name}`, 0, 1);
    const result = await time(`detect:${d.name}`, () => d.run(ctx));
    results.push({ name: d.name, result });
    progress(`detect:${d.name}`, 1, 1);
  }

  // Trigger localisation needs the backdoor detectors' flags: the union of them, per class.
  const backdoorFlags = new Map<number, number[]>();
  for (const { name, result } of results) {
    if (!BACKDOOR_DETECTORS.has(name)) continue;
    for (const f of result.findings) {
      const c = dataset.labelCodes[f.index] ?? 0;
      const list = backdoorFlags.get(c) ?? [];
      list.push(f.index);
      backdoorFlags.set(c, list);
    }
  }
  if (backdoorFlags.size > 0) {
    for (const [c, list] of backdoorFlags) backdoorFlags.set(c, [...new Set(list)].sort((a, b) => a - b));
    const triggers = await time(`detect:${IMAGE_TRIGGERS_DETECTOR}`, () => findImageTriggers(dataset, backdoorFlags));
    if (triggers.triggers.length > 0) results.push({ name: IMAGE_TRIGGERS_DETECTOR, result: triggers.result });
  }

  // Per-source analysis needs every detector's flags, so it runs after them (when a source column exists).
  if (dataset.sources !== null) {
    const flagged = new Uint8Array(n);
    for (const { result } of results) for (const f of result.findings) if (f.severity !== 'info') flagged[f.index] = 1;
    const sources = await time('detect:sources', () => analyzeSources(dataset, flagged, dataset.labelCodes, K, { classNames: dataset.labelNames }));
    if (sources !== null) {
      const scores = new Float32Array(n);
      for (const f of sources.findings) scores[f.index] = Math.max(scores[f.index] ?? 0, f.score);
      results.push({ name: SOURCES_DETECTOR, result: { scores, findings: sources.findings, summary: sources.summary } });
    }
  }

  return time('report', () => assembleReport(dataset, options, rep, features.matrix.cols, predProbs, knn, results, timings));
}

async function assembleReport(
  dataset: Dataset,
  options: ScanOptions,
  rep: Awaited<ReturnType<typeof buildRepresentation>>,
  featureDim: number,
  predProbs: Float32Array | null,
  knn: KnnGraph | null,
  results: readonly { name: string; result: DetectorResult }[],
  timings: Record<string, number>,
): Promise<ScanReport> {
  const n = dataset.n;
  const K = dataset.labelNames.length;
  // Per-sample risk: the strongest signal any detector gives (detectors' scores are all in [0, 1]).
  const score = new Float32Array(n);
  const flaggedBy: string[][] = Array.from({ length: n }, () => []);
  for (const { name, result } of results) {
    for (let i = 0; i < n; i++) score[i] = Math.max(score[i] ?? 0, result.scores[i] ?? 0);
    for (const f of result.findings) {
      // Info findings (e.g. same-label near duplicates) are context for a reviewer, not a flag.
      if (f.severity === 'info') continue;
      const by = flaggedBy[f.index];
      // A detector may report several findings for one sample; list it once.
      if (by !== undefined && by.at(-1) !== name) by.push(name);
    }
  }
  const labelIssues = results.find((r) => r.name === 'label-issues')?.result;
  const suggested = labelIssues?.perSample?.suggestedLabel ?? null;
  const suggestedP = labelIssues?.perSample?.suggestedProbability ?? null;

  const samples: SampleResult[] = [];
  for (let i = 0; i < n; i++) {
    const code = dataset.labelCodes[i] ?? 0;
    const flagged = (flaggedBy[i]?.length ?? 0) > 0;
    const s = suggested?.[i];
    samples.push({
      index: i,
      id: dataset.ids[i] ?? '',
      externalId: dataset.externalIds[i] ?? null,
      line: dataset.lineNumbers[i] ?? i + 1,
      label: dataset.labelNames[code] ?? '',
      score: round6(score[i] ?? 0),
      flagged,
      suggestedLabel: s === undefined || s < 0 ? null : (dataset.labelNames[s] ?? null),
      suggestedProbability: suggestedP === null || s === undefined || s < 0 ? null : round6(suggestedP[i] ?? 0),
      detectors: flaggedBy[i] ?? [],
      scores: Object.fromEntries(results.map((r) => [r.name, round6(r.result.scores[i] ?? 0)])),
    });
  }

  const findings: Finding[] = results.flatMap((r) => r.result.findings).sort((a, b) => b.score - a.score || a.index - b.index);
  const perClass = countPerClass(dataset.labelCodes, K);
  const flaggedPerClass = new Array<number>(K).fill(0);
  for (const s of samples) if (s.flagged) flaggedPerClass[dataset.labelCodes[s.index] ?? 0]! += 1;

  const liSummary = (labelIssues?.summary ?? {}) as { joint?: number[][]; perClassNoiseRate?: number[]; estimatedNoiseRate?: number };
  const joint = liSummary.joint ?? identityJoint(perClass, n);
  const classes: ClassSummary[] = dataset.labelNames.map((name, c) => ({
    name,
    count: perClass[c] ?? 0,
    flagged: flaggedPerClass[c] ?? 0,
    estimatedNoiseRate: round6(liSummary.perClassNoiseRate?.[c] ?? 0),
  }));

  let correct = 0;
  if (predProbs !== null) {
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < K; c++) if ((predProbs[i * K + c] ?? 0) > (predProbs[i * K + best] ?? 0)) best = c;
      if (best === dataset.labelCodes[i]) correct++;
    }
  }

  const bins = 20;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) counts[Math.min(bins - 1, Math.floor((score[i] ?? 0) * bins))]! += 1;

  let maxSeverity: Severity | null = null;
  for (const f of findings) if (maxSeverity === null || severityRank(f.severity) > severityRank(maxSeverity)) maxSeverity = f.severity;

  const byCode: Record<string, number> = {};
  for (const s of dataset.skipped) byCode[s.code] = (byCode[s.code] ?? 0) + 1;
  const input: ReportInput = {
    path: dataset.origin.path,
    format: dataset.origin.format,
    sha256: options.inputSha256,
    rows: n,
    columns: dataset.roles,
    skipped: { count: dataset.skipped.length, byCode, examples: dataset.skipped.slice(0, 20) },
  };

  const previews = await buildPreviews(dataset, findings, knn, options.previews);

  return {
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    tool: { name: 'trainguard', version: options.version },
    createdAt: new Date().toISOString(),
    input,
    settings: {
      seed: options.seed,
      folds: options.folds,
      k: knn?.k ?? 0,
      filterBy: options.filterBy,
      featureDim,
      reducedDim: rep.reducedDim,
      model: `multinomial logistic regression (L2) on ${rep.method === 'sketch-pca' ? `hashed TF-IDF sketched to ${rep.model.cols} dims` : rep.method === 'pca' ? `PCA-${rep.reducedDim}` : 'features'}`,
      detectors: results.map((r) => r.name),
      failOn: options.failOn,
    },
    summary: {
      samples: n,
      classes,
      flagged: samples.filter((s) => s.flagged).length,
      estimatedNoiseRate: round6(liSummary.estimatedNoiseRate ?? 0),
      outOfFoldAccuracy: predProbs === null ? 0 : round6(correct / n),
      noiseMatrix: { labels: dataset.labelNames, joint: joint.map((row) => row.map(round6)) },
      scoreHistogram: { edges: Array.from({ length: bins + 1 }, (_, i) => i / bins), counts },
      maxSeverity,
      detectors: Object.fromEntries(results.map((r) => [r.name, r.result.summary])),
    },
    timings,
    samples,
    findings,
    previews,
  };
}

/** True when the report holds a finding at or above `failOn` (CLI exit code 1). */
export function hasFailingFindings(report: ScanReport, failOn: Severity): boolean {
  return report.summary.maxSeverity !== null && severityRank(report.summary.maxSeverity) >= severityRank(failOn);
}

function countPerClass(codes: Int32Array, K: number): number[] {
  const c = new Array<number>(K).fill(0);
  for (const y of codes) c[y] = (c[y] ?? 0) + 1;
  return c;
}

function identityJoint(perClass: readonly number[], n: number): number[][] {
  return perClass.map((count, i) => perClass.map((_, j) => (i === j ? count / n : 0)));
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
