import type { Command } from 'commander';
import { resolveConfig } from '../config/index.ts';
import { createBaselineFile } from '../app/index.ts';
import { EXIT } from './exit.ts';
import { addScanOptions } from './scan.ts';
import { collectScanFlags, type ScanFlags } from './flags.ts';
import { CliError } from './errors.ts';

function count(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(v) || v < min) throw new CliError('CLI_BAD_FLAG', `--${name} must be an integer ≥ ${min}, got "${raw}"`, { hint: `for example --${name} 10` });
  return v;
}

/** `trainguard baseline create <data> -o baseline.json`: summarise trusted data for later drift scans. */
export function registerBaseline(program: Command, setExit: (code: number) => void): void {
  const baseline = program.command('baseline').description('summarise trusted data so new batches can be checked for drift (scan --baseline)');
  const create = baseline
    .command('create')
    .description('write a baseline (schema, histograms, label distribution, reference sample) from a trusted dataset')
    .argument('<data>', 'trusted dataset file (CSV/TSV, JSONL, Parquet) or image folder')
    .requiredOption('-o, --out <file>', 'baseline file to write (JSON)')
    .option('--bins <n>', 'quantile bins per numeric feature (default 10)')
    .option('--top-categories <n>', 'categorical values kept per feature (default 100)')
    .option('--sample-size <n>', 'rows kept in the reference sample (default 2000)');
  addScanOptions(create).action(async (data: string, flags: ScanFlags & { out: string; bins?: string; topCategories?: string; sampleSize?: string }) => {
    const config = resolveConfig({ file: flags.config, flags: collectScanFlags(flags) });
    const bins = count('bins', flags.bins, 1);
    const top = count('top-categories', flags.topCategories, 1);
    const size = count('sample-size', flags.sampleSize, 0);
    const b = await createBaselineFile(data, config, flags.out, {
      ...(bins === undefined ? {} : { bins }),
      ...(top === undefined ? {} : { topCategories: top }),
      ...(size === undefined ? {} : { sampleSize: size }),
    });
    process.stderr.write(`wrote baseline of ${b.source.rows} rows (${b.features.length} features, ${b.labels.names.length} labels, ${b.sample.rows.length} reference rows) to ${flags.out}\n`);
    setExit(EXIT.ok);
  });
}
