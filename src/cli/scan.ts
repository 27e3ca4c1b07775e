import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { resolveConfig } from '../config/index.ts';
import { scanFile, renderReport, hasFailingFindings } from '../app/index.ts';
import { EXIT } from './exit.ts';
import { createProgress } from './progress.ts';
import { collectScanFlags, type ScanFlags, FORMATS, type Format } from './flags.ts';
import { CliError } from './errors.ts';

export function registerScan(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('scan')
    .description('scan a dataset file (CSV/TSV, JSONL, Parquet) or image folder for mislabeled samples')
    .argument('<path>', 'dataset file or image folder');
  addScanOptions(cmd)
    .option('--format <format>', `output format: ${FORMATS.join('|')}`, 'text')
    .option('-o, --out <path>', 'write the report here instead of stdout')
    .option('--top <n>', 'findings shown in the terminal table')
    .option('-q, --quiet', 'no progress bars')
    .option('--no-color', 'no ANSI colours in the terminal summary')
    .option('--baseline <file>', 'trusted baseline (from `baseline create`): adds the drift detector')
    .action(async (path: string, flags: ScanFlags & { format: string; out?: string; quiet?: boolean; color: boolean; baseline?: string }) => {
      if (!(FORMATS as readonly string[]).includes(flags.format)) {
        throw new CliError('CLI_BAD_FLAG', `unknown --format "${flags.format}"`, { hint: `use one of ${FORMATS.join(', ')}` });
      }
      const format = flags.format as Format;
      const config = resolveConfig({ file: flags.config, flags: collectScanFlags(flags) });
      const bars = createProgress(flags.quiet !== true);
      let result;
      try {
        result = await scanFile(path, config, { progress: bars.progress, ...(flags.baseline === undefined ? {} : { baseline: flags.baseline }) });
      } finally {
        bars.stop();
      }
      const color = flags.color && flags.out === undefined && process.stdout.isTTY === true && format === 'text';
      const output = renderReport(result.report, format, { color, top: config.scan.top });
      if (flags.out === undefined) process.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
      else {
        await writeFile(flags.out, output);
        process.stderr.write(`wrote ${format} report to ${flags.out}\n`);
      }
      setExit(hasFailingFindings(result.report, config.scan.failOn) ? EXIT.findings : EXIT.ok);
    });
}

/** Options shared by commands that run a scan (scan, demo). */
export function addScanOptions(cmd: Command): Command {
  return cmd
    .option('--label <col>', 'label column')
    .option('--text <col>', 'text column')
    .option('--id <col>', 'id column (kept as externalId)')
    .option('--source <col>', 'source column')
    .option('--embedding <col>', 'embedding column (array or emb_0..emb_n prefix)')
    .option('--image <col>', 'image path column')
    .option('--ignore <cols>', 'comma-separated columns to ignore')
    .option('--fail-on <severity>', 'exit 1 if a finding is at or above: info|low|medium|high|critical')
    .option('--seed <n>', 'random seed (scans are reproducible per seed)')
    .option('--folds <n>', 'cross-validation folds')
    .option('--k <n>', 'neighbours in the kNN graph')
    .option('--filter-by <mode>', 'confident-learning filter: prune_by_noise_rate|prune_by_class|both|confident_learning|predicted_neq_given|low_self_confidence|low_normalized_margin')
    .option('--knn-weight <w>', 'weight of kNN label consensus blended into model probabilities (0..1)')
    .option('--reduced-dim <n>', 'PCA / LSA dimension for wide features')
    .option('--image-size <px>', 'resize images to this square size')
    .option('--detectors <list>', 'comma-separated detectors to run (docs/cli.md lists them), e.g. label-issues,spectre')
    .option('--backdoor-budget <eps>', "backdoor detectors: upper bound on a class's poisoned share (0..0.5], or auto to estimate it")
    .option('--backdoor-model <onnx>', 'backdoor detectors: take activations from this ONNX model instead of training an MLP')
    .option('--backdoor-output <name>', 'backdoor detectors: the ONNX output to read (default: the first)')
    .option('--backdoor-layout <layout>', 'backdoor detectors: ONNX input layout flat|nchw|nhwc')
    .option('--config <file>', 'config file (default: ./trainguard.config.json if present)');
}
