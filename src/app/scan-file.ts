import type { Config } from '../config/index.ts';
import type { Logger, ProgressFn } from '../core/index.ts';
import { readDataset, type Dataset } from '../data/index.ts';
import { runScan, type ScanReport } from '../scan/index.ts';
import { digestInput } from './input-digest.ts';
import { TOOL_VERSION } from './version.ts';
import { loadBaseline } from './baseline.ts';

export interface ScanFileResult {
  readonly report: ScanReport;
  readonly dataset: Dataset;
}

/** Use case `scan`: read a dataset file or folder and scan it with the resolved config. */
export async function scanFile(path: string, config: Config, io: { progress?: ProgressFn; logger?: Logger; baseline?: string } = {}): Promise<ScanFileResult> {
  const progress = io.progress ?? (() => undefined);
  // Load the baseline before reading the data: a bad baseline file should fail fast.
  const baseline = io.baseline === undefined ? undefined : await loadBaseline(io.baseline);
  progress('read', 0, 1);
  const t0 = performance.now();
  // Read first: the reader owns the typed errors for a missing or unreadable path.
  const dataset = await readDataset(path, {
      columns: definedOnly(config.columns),
      ...(config.data.imageSize === undefined ? {} : { imageSize: config.data.imageSize }),
      ...(config.data.imageGrey === undefined ? {} : { imageGrey: config.data.imageGrey }),
      maxLineBytes: config.data.maxLineBytes,
      maxBytes: config.data.maxBytes,
    });
  const inputSha256 = await digestInput(path);
  const readMs = Math.round(performance.now() - t0);
  progress('read', 1, 1);
  const report = await runScan(dataset, {
    ...config.scan,
    backdoor: definedOnly(config.backdoor),
    progress,
    ...(io.logger === undefined ? {} : { logger: io.logger }),
    ...(baseline === undefined ? {} : { baseline }),
    version: TOOL_VERSION,
    inputSha256,
  });
  return { report: { ...report, timings: { read: readMs, ...report.timings } }, dataset };
}

/** Drop undefined keys: the config schema allows them, the reader's options (exactOptionalPropertyTypes) do not. */
function definedOnly<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
