import type { Command } from 'commander';
import { injectFile, evaluateRedteam, type InjectFileOptions } from '../app/index.ts';
import { EXIT } from './exit.ts';
import { CliError } from './errors.ts';

type Evaluation = Awaited<ReturnType<typeof evaluateRedteam>>['evaluation'];

function num(name: string, raw: string | undefined, fallback: number, integer = false): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || (integer && !Number.isSafeInteger(v))) {
    throw new CliError('CLI_BAD_FLAG', `--${name} must be ${integer ? 'an integer' : 'a number'}, got "${raw}"`, { hint: `for example --${name} ${integer ? 7 : 0.1}` });
  }
  return v;
}

/** A flag's number, NaN when it is not one (the simulator then refuses it with its own code). */
function raw(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

interface InjectFlags {
  attack: string;
  rate?: string;
  seed?: string;
  label?: string;
  id?: string;
  from?: string;
  to?: string;
  noiseMatrix?: string;
  excludeTruth?: string;
  target?: string;
  patchSize?: string;
  patchPosition?: string;
  alpha?: string;
  trigger?: string;
  triggerSentence?: string;
  imageShape?: string;
  out: string;
  truth: string;
}

/** `trainguard redteam inject|eval`: plant attacks with known truth, then measure what a scan caught. */
export function registerRedteam(program: Command, setExit: (code: number) => void): void {
  const redteam = program.command('redteam').description('plant attacks into a dataset with known truth, and measure what a scan caught');
  redteam
    .command('inject')
    .description('write a poisoned copy of a CSV/TSV/JSONL file and a truth file listing every planted sample')
    .argument('<data>', 'dataset file (.csv, .tsv, .jsonl)')
    .requiredOption('--attack <kind>', 'symmetric|targeted|class-conditional|duplicate-flip|near-duplicate-flip|ood|mix|badnets|blend|text-trigger')
    .option('--rate <r>', 'fraction of samples attacked (targeted: of class --from; backdoors: of all samples)', '0.1')
    .option('--seed <n>', 'random seed (same seed, same bytes)', '0')
    .option('--label <col>', 'label column')
    .option('--id <col>', 'id column (default: inferred; tg_id = row number is added when there is none)')
    .option('--from <label>', 'targeted: the class relabelled')
    .option('--to <label>', 'targeted: the label it gets')
    .option('--noise-matrix <file>', 'class-conditional: {"labels":[...],"matrix":[[...]]}, rows = true, columns = given')
    .option('--target <label>', 'backdoors: the class poisoned samples get (required)')
    .option('--patch-size <k>', 'badnets: side of the square patch in pixels (default 3)')
    .option('--patch-position <where>', 'badnets: corner (bottom-right, default) or random (per sample)')
    .option('--alpha <a>', 'blend: blend ratio in (0, 1] (default 0.15)')
    .option('--trigger <token>', 'text-trigger: the rare token inserted at a random word (default tq)')
    .option('--trigger-sentence <text>', 'text-trigger: insert this sentence instead of a token')
    .option('--image-shape <WxHxC>', 'badnets/blend: pixel layout (default: k×k×1 or k×k×3 from the number of numeric columns)')
    .option('--exclude-truth <file>', 'truth file of an earlier attack: leave its planted rows and their originals alone (chained attacks)')
    .requiredOption('-o, --out <file>', 'poisoned file (.csv, .tsv or .jsonl; the format follows the extension)')
    .requiredOption('--truth <file>', 'truth file (JSON)')
    .action(async (data: string, f: InjectFlags) => {
      const options: InjectFileOptions = {
        input: data,
        output: f.out,
        truth: f.truth,
        attack: f.attack as InjectFileOptions['attack'],
        rate: num('rate', f.rate, 0.1),
        seed: num('seed', f.seed, 0, true),
        ...(f.label === undefined ? {} : { label: f.label }),
        ...(f.id === undefined ? {} : { id: f.id }),
        ...(f.from === undefined ? {} : { from: f.from }),
        ...(f.to === undefined ? {} : { to: f.to }),
        ...(f.noiseMatrix === undefined ? {} : { noiseMatrix: f.noiseMatrix }),
        ...(f.excludeTruth === undefined ? {} : { excludeTruth: f.excludeTruth }),
        ...(f.target === undefined ? {} : { target: f.target }),
        // Trigger numbers and words are checked by the attack simulator (REDTEAM_BAD_TRIGGER), not here.
        ...(f.patchSize === undefined ? {} : { patchSize: raw(f.patchSize) }),
        ...(f.patchPosition === undefined ? {} : { patchPosition: f.patchPosition as NonNullable<InjectFileOptions['patchPosition']> }),
        ...(f.alpha === undefined ? {} : { blendAlpha: raw(f.alpha) }),
        ...(f.trigger === undefined ? {} : { trigger: f.trigger }),
        ...(f.triggerSentence === undefined ? {} : { triggerSentence: f.triggerSentence }),
        ...(f.imageShape === undefined ? {} : { imageShape: f.imageShape }),
      };
      const r = await injectFile(options);
      const counts = new Map<string, number>();
      for (const p of r.truth.planted) counts.set(p.attack, (counts.get(p.attack) ?? 0) + 1);
      const detail = [...counts].map(([a, c]) => `${a} ${c}`).join(', ');
      process.stderr.write(`planted ${r.truth.planted.length} samples (${detail || 'none'}) in ${r.rowsIn} → ${r.rowsOut} rows; wrote ${f.out} and ${f.truth}\n`);
      setExit(EXIT.ok);
    });
  redteam
    .command('eval')
    .description('measure a scan report (JSON) or scores CSV against a truth file')
    .argument('<report>', 'report.json from `scan --format json`, or scores.csv from `scan --format csv`')
    .requiredOption('--truth <file>', 'truth file written by `redteam inject`')
    .option('--k <n>', 'precision@k: the k highest scores', '100')
    .option('--format <format>', 'text|json', 'text')
    .action(async (report: string, f: { truth: string; k?: string; format: string }) => {
      if (f.format !== 'text' && f.format !== 'json') throw new CliError('CLI_BAD_FLAG', `unknown --format "${f.format}"`, { hint: 'use text or json' });
      const k = num('k', f.k, 100, true);
      if (k < 1) throw new CliError('CLI_BAD_FLAG', '--k must be at least 1');
      const { truth, evaluation } = await evaluateRedteam(report, f.truth, { k });
      const body = f.format === 'json' ? `${JSON.stringify({ report, truth: f.truth, attack: truth.attack, ...evaluation }, null, 2)}\n` : renderText(evaluation, truth.attack);
      process.stdout.write(body);
      setExit(EXIT.ok);
    });
}

function renderText(e: Evaluation, attack: string): string {
  const f = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '—');
  const lines = [
    `attack ${attack}: ${e.planted} planted in ${e.samples} samples (matched by ${e.matchedBy}${e.unmatched > 0 ? `, ${e.unmatched} not in the report, counted as missed` : ''})`,
    `flagged ${e.flagged}   tp ${e.tp}   fp ${e.fp}   fn ${e.fn}`,
    '',
    'metric            value',
    `precision         ${f(e.precision)}`,
    `recall            ${f(e.recall)}`,
    `F1                ${f(e.f1)}`,
    `AUROC             ${f(e.auroc)}`,
    `average precision ${f(e.averagePrecision)}`,
    `precision@${String(e.k).padEnd(8)}${f(e.precisionAtK)}`,
    '',
    'attack               planted  caught  recall',
    ...e.perAttack.map((a) => `${a.attack.padEnd(20)} ${String(a.planted).padStart(7)} ${String(a.caught).padStart(7)}  ${f(a.recall)}`),
  ];
  return `${lines.join('\n')}\n`;
}
