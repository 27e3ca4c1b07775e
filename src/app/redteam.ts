import { readFile, stat, writeFile } from 'node:fs/promises';
import {
  RedteamError,
  evaluateAgainstTruth,
  parseImageShape,
  parseNoiseMatrix,
  parseScores,
  parseTable,
  parseTruth,
  plantAttack,
  serializeTable,
  tableFormatOf,
  type InjectOptions,
  type RedteamEvaluation,
  type Truth,
} from '../redteam/index.ts';

/** Files larger than this are refused: the simulator holds the whole table in memory. */
const MAX_INPUT_BYTES = 512 * 1024 ** 2;

/** The attack options of `plantAttack`, with files instead of in-memory tables and matrices. */
export interface InjectFileOptions extends Omit<InjectOptions, 'noiseMatrix' | 'file' | 'exclude' | 'imageShape' | 'triggerMode'> {
  readonly input: string;
  readonly output: string;
  readonly truth: string;
  /** Path of a JSON noise matrix (class-conditional attack). */
  readonly noiseMatrix?: string;
  /** Truth file of an earlier attack on this data: its planted rows and their originals are left alone. */
  readonly excludeTruth?: string;
  /** Image layout of the pixel columns as "WxHxC" (default: inferred from their count). */
  readonly imageShape?: string;
  /** text-trigger: insert this sentence instead of the token `trigger`. */
  readonly triggerSentence?: string;
}

export interface InjectFileResult {
  readonly truth: Truth;
  readonly rowsIn: number;
  readonly rowsOut: number;
}

async function readText(path: string, code: 'REDTEAM_BAD_INPUT' | 'REDTEAM_BAD_TRUTH' | 'REDTEAM_BAD_REPORT' | 'REDTEAM_BAD_NOISE_MATRIX'): Promise<string> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new RedteamError(code, 'not a file', { file: path });
    if (s.size > MAX_INPUT_BYTES) throw new RedteamError(code, `file is larger than ${MAX_INPUT_BYTES} bytes`, { file: path });
    return await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof RedteamError) throw err;
    throw new RedteamError(code, `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { file: path, cause: err });
  }
}

async function readJson(path: string, code: 'REDTEAM_BAD_TRUTH' | 'REDTEAM_BAD_NOISE_MATRIX'): Promise<unknown> {
  const text = await readText(path, code);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new RedteamError(code, 'not valid JSON', { file: path, cause: err });
  }
}

/**
 * Use case `redteam inject`: read a CSV/TSV/JSONL file raw, plant an attack with a seed, write the
 * poisoned file (format from the output's extension) and a truth file listing every planted sample.
 */
export async function injectFile(o: InjectFileOptions): Promise<InjectFileResult> {
  const inFormat = tableFormatOf(o.input);
  if (inFormat === null) throw new RedteamError('REDTEAM_BAD_FORMAT', 'the input must be .csv, .tsv or .jsonl', { file: o.input });
  const outFormat = tableFormatOf(o.output);
  if (outFormat === null) throw new RedteamError('REDTEAM_BAD_FORMAT', 'the output must end in .csv, .tsv or .jsonl', { file: o.output, hint: 'for example -o poisoned.csv' });
  if (o.trigger !== undefined && o.triggerSentence !== undefined) {
    throw new RedteamError('REDTEAM_BAD_TRIGGER', 'give a trigger token or a trigger sentence, not both', { hint: 'use --trigger <token> or --trigger-sentence "<text>"' });
  }
  const imageShape = o.imageShape === undefined ? undefined : parseImageShape(o.imageShape);
  const noiseMatrix = o.noiseMatrix === undefined ? undefined : parseNoiseMatrix(await readJson(o.noiseMatrix, 'REDTEAM_BAD_NOISE_MATRIX'), o.noiseMatrix);
  const earlier = o.excludeTruth === undefined ? undefined : parseTruth(await readJson(o.excludeTruth, 'REDTEAM_BAD_TRUTH'), o.excludeTruth);
  const exclude = earlier === undefined ? undefined : new Set(earlier.planted.flatMap((p) => (p.sourceId === undefined ? [p.id] : [p.id, p.sourceId])));
  const table = parseTable(await readText(o.input, 'REDTEAM_BAD_INPUT'), inFormat, o.input);
  const result = plantAttack(table, {
    attack: o.attack,
    rate: o.rate,
    seed: o.seed,
    file: o.input,
    ...(o.label === undefined ? {} : { label: o.label }),
    ...(o.id === undefined ? {} : { id: o.id }),
    ...(o.from === undefined ? {} : { from: o.from }),
    ...(o.to === undefined ? {} : { to: o.to }),
    ...(noiseMatrix === undefined ? {} : { noiseMatrix }),
    ...(exclude === undefined ? {} : { exclude }),
    ...(o.target === undefined ? {} : { target: o.target }),
    ...(imageShape === undefined ? {} : { imageShape }),
    ...(o.patchSize === undefined ? {} : { patchSize: o.patchSize }),
    ...(o.patchPosition === undefined ? {} : { patchPosition: o.patchPosition }),
    ...(o.blendAlpha === undefined ? {} : { blendAlpha: o.blendAlpha }),
    ...(o.trigger === undefined ? {} : { trigger: o.trigger, triggerMode: 'token' as const }),
    ...(o.triggerSentence === undefined ? {} : { trigger: o.triggerSentence, triggerMode: 'sentence' as const }),
  });
  const { text, lines } = serializeTable(result.table, outFormat);
  const truth: Truth = {
    attack: o.attack,
    seed: o.seed,
    rate: o.rate,
    input: o.input,
    output: o.output,
    labelColumn: result.labelColumn,
    idColumn: result.idColumn,
    rows: result.table.rows.length,
    ...(result.trigger === undefined || o.target === undefined ? {} : { target: o.target }),
    planted: result.planted.map((p) => ({ ...p, line: lines[p.row - 1] ?? p.row })),
  };
  await writeFile(o.output, text);
  await writeFile(o.truth, `${JSON.stringify(truth, null, 2)}\n`);
  return { truth, rowsIn: table.rows.length, rowsOut: result.table.rows.length };
}

/** Use case `redteam eval`: score a scan report (JSON) or scores CSV against a truth file. */
export async function evaluateRedteam(reportPath: string, truthPath: string, options: { k?: number } = {}): Promise<{ truth: Truth; evaluation: RedteamEvaluation }> {
  const truth = parseTruth(await readJson(truthPath, 'REDTEAM_BAD_TRUTH'), truthPath);
  const samples = parseScores(await readText(reportPath, 'REDTEAM_BAD_REPORT'), reportPath);
  return { truth, evaluation: evaluateAgainstTruth(samples, truth, options) };
}
