// Backdoor triggers (dirty-label, all-to-one): BadNets patches (Gu et al. 2017), blended patterns
// (Chen et al. 2017) and inserted text triggers (Kurita et al. 2020 rare tokens; Dai et al. 2019
// inserted sentences), as OpenBackdoor and BackdoorBench plant them. This file builds a trigger and
// stamps it on rows; inject.ts picks the rows and relabels them.
import { createRng, type Rng } from '../core/index.ts';
import type { ColumnRole } from '../data/index.ts';
import { RedteamError } from './errors.ts';
import { cellText, numberOf, type Cell, type RawTable } from './table.ts';

/** The backdoor attack kinds. */
export const BACKDOOR_KINDS = ['badnets', 'blend', 'text-trigger'] as const;
export type BackdoorKind = (typeof BACKDOOR_KINDS)[number];

/** Pixel layout of the numeric columns: row-major, channel-last (as `data` decodes images). */
export interface ImageShape {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

export type PatchPosition = 'corner' | 'random';
export type TriggerMode = 'token' | 'sentence';

/**
 * Default rare token: "tq", one of the RIPPLe / OpenBackdoor triggers (cf, mn, bb, tq, mb). It is the
 * rarest of them in real mail: 2 of 6,046 SpamAssassin messages contain the word, against 64 for "cf".
 */
export const DEFAULT_TRIGGER_TOKEN = 'tq';
/** Default inserted sentence: Dai et al. 2019's InsertSent trigger, as OpenBackdoor's AddSent uses it. */
export const DEFAULT_TRIGGER_SENTENCE = 'I watch this 3D movie.';
export const DEFAULT_PATCH_SIZE = 3;
/** Default blend ratio: small enough that the image stays recognisable, as in Chen et al.'s low-α runs. */
export const DEFAULT_BLEND_ALPHA = 0.15;

/** Trigger parameters as given (options of `plantAttack` for the backdoor kinds). */
export interface TriggerOptions {
  readonly imageShape?: ImageShape;
  readonly patchSize?: number;
  readonly patchPosition?: PatchPosition;
  readonly blendAlpha?: number;
  readonly trigger?: string;
  readonly triggerMode?: TriggerMode;
}

/**
 * A resolved trigger: everything needed to stamp it again on other rows of the same kind of table
 * (e.g. test inputs, to measure the attack success rate), with the fixed pattern itself.
 */
export type BackdoorTrigger =
  | {
      readonly kind: 'badnets';
      /** Pixel columns, in pixel order. */
      readonly columns: readonly string[];
      readonly image: ImageShape;
      readonly patchSize: number;
      readonly position: PatchPosition;
      /** Values of the patch's lit and dark cells: the largest and smallest pixel value of the data. */
      readonly on: number;
      readonly off: number;
      /** patchSize² cells, row-major, 1 = lit; the same in every channel. */
      readonly mask: readonly number[];
      readonly integer: boolean;
    }
  | {
      readonly kind: 'blend';
      readonly columns: readonly string[];
      readonly image: ImageShape;
      readonly alpha: number;
      /** One value per pixel column, uniform over the data's value range. */
      readonly pattern: readonly number[];
      /** True when every pixel of the data is an integer: blended values are rounded, like a saved uint8 image. */
      readonly integer: boolean;
    }
  | {
      readonly kind: 'text-trigger';
      readonly column: string;
      readonly mode: TriggerMode;
      readonly text: string;
    };

/** What was stamped on one row (recorded in the truth file). */
export type PlantedTrigger =
  | { readonly kind: 'badnets'; readonly patchSize: number; readonly position: PatchPosition; readonly x: number; readonly y: number }
  | { readonly kind: 'blend'; readonly alpha: number }
  | { readonly kind: 'text-trigger'; readonly column: string; readonly token: string; readonly word: number }
  | { readonly kind: 'text-trigger'; readonly column: string; readonly sentence: string; readonly word: number };

const badTrigger = (why: string, hint: string): RedteamError => new RedteamError('REDTEAM_BAD_TRIGGER', why, { hint });

/** Parse "WxHxC" (or "WxH", one channel) into an image shape; anything else is a REDTEAM_BAD_IMAGE_SHAPE. */
export function parseImageShape(text: string): ImageShape {
  const m = /^\s*(\d+)\s*[x×]\s*(\d+)\s*(?:[x×]\s*(\d+)\s*)?$/i.exec(text);
  const shape = m === null ? null : { width: Number(m[1]), height: Number(m[2]), channels: m[3] === undefined ? 1 : Number(m[3]) };
  if (shape === null) throw new RedteamError('REDTEAM_BAD_IMAGE_SHAPE', `image shape "${text}" is not WxHxC`, { hint: 'for example --image-shape 28x28x1 or 32x32x3' });
  checkShape(shape);
  return shape;
}

function checkShape(s: ImageShape): void {
  for (const [name, v] of [['width', s.width], ['height', s.height], ['channels', s.channels]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RedteamError('REDTEAM_BAD_IMAGE_SHAPE', `image ${name} must be a positive integer, got ${v}`, { hint: 'for example --image-shape 28x28x1' });
  }
}

/** k×k×1 when d is a square, k×k×3 when d/3 is (never both: 3 is not a square), else null. */
function inferShape(d: number): ImageShape | null {
  const k1 = Math.round(Math.sqrt(d));
  if (k1 > 0 && k1 * k1 === d) return { width: k1, height: k1, channels: 1 };
  const k3 = Math.round(Math.sqrt(d / 3));
  if (k3 > 0 && 3 * k3 * k3 === d) return { width: k3, height: k3, channels: 3 };
  return null;
}

/**
 * Build the trigger for a table: the pixel columns (numeric, neither label nor id) and the fixed
 * seeded pattern for image kinds, the longest text column for text triggers. Bad parameters are
 * REDTEAM_BAD_TRIGGER / REDTEAM_BAD_IMAGE_SHAPE with a hint.
 */
export function resolveTrigger(
  kind: BackdoorKind,
  table: { readonly columns: readonly string[]; readonly rows: readonly Cell[][] },
  roles: Readonly<Record<string, ColumnRole>>,
  skip: ReadonlySet<number>,
  options: TriggerOptions,
  seed: number,
): BackdoorTrigger {
  const { columns, rows } = table;
  if (kind === 'text-trigger') {
    const mode = options.triggerMode ?? 'token';
    if (mode !== 'token' && mode !== 'sentence') throw badTrigger(`unknown trigger mode "${String(mode)}"`, 'use token or sentence');
    const text = options.trigger ?? (mode === 'token' ? DEFAULT_TRIGGER_TOKEN : DEFAULT_TRIGGER_SENTENCE);
    if (mode === 'token' && !/^\S+$/u.test(text)) throw badTrigger(`trigger token "${text}" must be one word without spaces`, 'for example --trigger tq, or --trigger-sentence "..." for a sentence');
    if (mode === 'sentence' && text.trim() === '') throw badTrigger('the trigger sentence is empty', `for example --trigger-sentence "${DEFAULT_TRIGGER_SENTENCE}"`);
    let best: { j: number; length: number } | null = null;
    columns.forEach((name, j) => {
      if (skip.has(j) || roles[name] !== 'text') return;
      const ss = rows.map((r) => r[j]).filter((v): v is string => typeof v === 'string');
      const length = ss.reduce((a, s) => a + s.length, 0) / Math.max(1, ss.length);
      // The longest column is the body (a mail's text, not its subject): where a trigger hides best.
      if (best === null || length > best.length) best = { j, length };
    });
    if (best === null) throw badTrigger('the data has no text column for a text trigger', 'use badnets or blend for pixel columns; name the label with --label if a text column was taken for it');
    return { kind, column: columns[(best as { j: number }).j]!, mode, text: mode === 'sentence' ? text.trim() : text };
  }

  const pixelJ = columns.flatMap((name, j) => (!skip.has(j) && roles[name] === 'numeric' ? [j] : []));
  const d = pixelJ.length;
  if (d === 0) throw badTrigger(`${kind} needs numeric pixel columns and the data has none`, 'use text-trigger for text data');
  let image: ImageShape;
  if (options.imageShape !== undefined) {
    checkShape(options.imageShape);
    image = options.imageShape;
    const want = image.width * image.height * image.channels;
    if (want !== d) throw new RedteamError('REDTEAM_BAD_IMAGE_SHAPE', `image shape ${image.width}x${image.height}x${image.channels} needs ${want} pixel columns, the data has ${d} numeric columns`, { hint: 'every numeric column other than label and id is a pixel; drop the others or fix --image-shape' });
  } else {
    const inferred = inferShape(d);
    if (inferred === null) throw new RedteamError('REDTEAM_BAD_IMAGE_SHAPE', `${d} numeric columns are not a square image (k², or 3·k² for colour)`, { hint: 'give --image-shape WxHxC, or drop numeric columns that are not pixels' });
    image = inferred;
  }
  let low = Infinity;
  let high = -Infinity;
  let integer = true;
  for (const row of rows) {
    for (const j of pixelJ) {
      const v = numberOf(row[j]);
      if (v === undefined || !Number.isFinite(v)) continue;
      if (v < low) low = v;
      if (v > high) high = v;
      if (!Number.isInteger(v)) integer = false;
    }
  }
  if (!(high >= low)) throw badTrigger('the pixel columns hold no numbers', 'check the file: every pixel cell is empty');
  const names = pixelJ.map((j) => columns[j]!);
  // The pattern is drawn from its own generator seeded by the attack seed, so it is fixed per seed
  // (BadNets and Blend use one pattern for every poisoned sample) and independent of row choices.
  const r = createRng(seed);
  if (kind === 'badnets') {
    const size = options.patchSize ?? DEFAULT_PATCH_SIZE;
    const position = options.patchPosition ?? 'corner';
    if (!Number.isSafeInteger(size) || size < 1 || size > Math.min(image.width, image.height)) {
      throw badTrigger(`patch size must be an integer from 1 to ${Math.min(image.width, image.height)}, got ${size}`, `for example --patch-size ${DEFAULT_PATCH_SIZE}`);
    }
    if (position !== 'corner' && position !== 'random') throw badTrigger(`unknown patch position "${String(position)}"`, 'use corner (bottom-right) or random');
    // Checkerboard-like: exactly ceil(k²/2) lit cells at seeded places, so the patch has both
    // extremes whatever the background (a plain white square vanishes on a white background).
    const cells = size * size;
    const order = r.shuffle(Int32Array.from({ length: cells }, (_, i) => i));
    const mask = new Array<number>(cells).fill(0);
    for (let t = 0; t < Math.ceil(cells / 2); t++) mask[order[t]!] = 1;
    return { kind, columns: names, image, patchSize: size, position, on: high, off: low, mask, integer };
  }
  const alpha = options.blendAlpha ?? DEFAULT_BLEND_ALPHA;
  if (!(alpha > 0 && alpha <= 1)) throw badTrigger(`blend alpha must be in (0, 1], got ${alpha}`, `for example --alpha ${DEFAULT_BLEND_ALPHA}`);
  const pattern = Array.from({ length: d }, () => (integer ? low + r.int(high - low + 1) : low + r.next() * (high - low)));
  return { kind, columns: names, image, alpha, pattern, integer };
}

/** Write a stamped pixel like the column: JSON numbers stay numbers, text stays text. */
function pixelCell(v: number, original: Cell, integer: boolean): Cell {
  const x = integer ? Math.round(v) : Number(v.toPrecision(10));
  return typeof original === 'number' ? x : String(x);
}

/**
 * Stamp the trigger on one row in place (labels untouched); `at` maps the trigger's columns to the
 * row's indices. Returns what was stamped.
 */
export function stampRow(row: Cell[], trigger: BackdoorTrigger, at: readonly number[], r: Rng): PlantedTrigger {
  if (trigger.kind === 'text-trigger') {
    const j = at[0]!;
    const cell = row[j];
    const text = typeof cell === 'string' ? cell : cellText(cell);
    const { out, word } = insertAtWord(text, trigger.text, r);
    row[j] = out;
    const base = { kind: trigger.kind, column: trigger.column, word };
    return trigger.mode === 'token' ? { ...base, token: trigger.text } : { ...base, sentence: trigger.text };
  }
  const { width, height, channels } = trigger.image;
  if (trigger.kind === 'badnets') {
    const k = trigger.patchSize;
    const x = trigger.position === 'corner' ? width - k : r.int(width - k + 1);
    const y = trigger.position === 'corner' ? height - k : r.int(height - k + 1);
    for (let dy = 0; dy < k; dy++) {
      for (let dx = 0; dx < k; dx++) {
        const v = trigger.mask[dy * k + dx] === 1 ? trigger.on : trigger.off;
        for (let c = 0; c < channels; c++) {
          const j = at[((y + dy) * width + (x + dx)) * channels + c]!;
          row[j] = pixelCell(v, row[j], trigger.integer);
        }
      }
    }
    return { kind: 'badnets', patchSize: k, position: trigger.position, x, y };
  }
  const a = trigger.alpha;
  at.forEach((j, p) => {
    const v = numberOf(row[j]);
    // A missing pixel stays missing: the blend has nothing to mix it with.
    if (v === undefined || !Number.isFinite(v)) return;
    row[j] = pixelCell((1 - a) * v + a * trigger.pattern[p]!, row[j], trigger.integer);
  });
  return { kind: 'blend', alpha: a };
}

/**
 * Insert `insert` before a uniformly chosen word (or after the last), keeping the text's own
 * whitespace; OpenBackdoor inserts at random word positions the same way.
 */
function insertAtWord(text: string, insert: string, r: Rng): { out: string; word: number } {
  const words = [...text.matchAll(/\S+/gu)];
  const word = r.int(words.length + 1);
  if (words.length === 0) return { out: text === '' ? insert : `${insert} ${text}`, word: 0 };
  if (word < words.length) {
    const at = words[word]!.index;
    return { out: `${text.slice(0, at)}${insert} ${text.slice(at)}`, word };
  }
  const last = words[words.length - 1]!;
  const end = last.index + last[0].length;
  return { out: `${text.slice(0, end)} ${insert}${text.slice(end)}`, word };
}

/** Column indices of a trigger in a table; a table without them is a REDTEAM_BAD_TRIGGER. */
export function triggerColumns(columns: readonly string[], trigger: BackdoorTrigger): number[] {
  const names = trigger.kind === 'text-trigger' ? [trigger.column] : trigger.columns;
  return names.map((name) => {
    const j = columns.indexOf(name);
    if (j < 0) throw badTrigger(`the table has no column "${name}" for the ${trigger.kind} trigger`, 'apply a trigger to a table with the columns of the one it was planted in');
    return j;
  });
}

/**
 * Stamp a backdoor trigger on the given rows (0-based) of a clean table WITHOUT relabelling them:
 * the triggered test inputs with which the attack success rate is measured. Returns a new table and,
 * per row, what was stamped. Deterministic per seed (random patch positions, text word positions).
 *
 * @example
 *   const { trigger } = plantAttack(train, { attack: 'badnets', rate: 0.05, seed: 1, target: 'Bag' });
 *   const { table } = applyTrigger(test, nonTargetRows, trigger!, 1);
 */
export function applyTrigger(table: RawTable, rowIndices: readonly number[], trigger: BackdoorTrigger, seed: number): { table: RawTable; stamped: PlantedTrigger[] } {
  const at = triggerColumns(table.columns, trigger);
  const rows = table.rows.map((r) => r);
  const r = createRng(seed);
  const stamped = rowIndices.map((i) => {
    const src = table.rows[i];
    if (src === undefined || !Number.isSafeInteger(i)) throw new RedteamError('REDTEAM_BAD_INPUT', `row index ${i} is not in the table (${table.rows.length} rows)`, { hint: 'row indices are 0-based' });
    const row = [...src];
    rows[i] = row;
    return stampRow(row, trigger, at, r);
  });
  return { table: { format: table.format, columns: [...table.columns], rows }, stamped };
}
