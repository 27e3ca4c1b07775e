import { createRng, type Rng } from '../core/index.ts';
import { inferRoles, isMissing, compareLabels, type ColumnRole } from '../data/index.ts';
import { BACKDOOR_KINDS, resolveTrigger, stampRow, triggerColumns, type BackdoorKind, type BackdoorTrigger, type PlantedTrigger, type TriggerOptions } from './backdoor.ts';
import { RedteamError } from './errors.ts';
import { plantSymmetricFlips, plantTargetedFlips } from './flips.ts';
import { cellText, numberOf, profileColumns, type Cell, type RawTable } from './table.ts';

/** Attack kinds `trainguard redteam inject` plants. */
export const ATTACK_KINDS = ['symmetric', 'targeted', 'class-conditional', 'duplicate-flip', 'near-duplicate-flip', 'ood', 'mix', ...BACKDOOR_KINDS] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];
/** The kinds a planted sample can carry (`mix` plants a share of the label-noise kinds, never a backdoor). */
export type PlantedAttack = Exclude<AttackKind, 'mix'>;

/** A class-conditional noise matrix: rows are true labels, columns given labels, each row sums to 1. */
export interface NoiseMatrix {
  readonly labels: readonly string[];
  readonly matrix: readonly (readonly number[])[];
}

export interface InjectOptions extends TriggerOptions {
  readonly attack: AttackKind;
  /** Fraction of the labelled rows attacked (targeted: of class `from`; backdoors: of all rows, taken from non-target rows). */
  readonly rate: number;
  readonly seed: number;
  readonly label?: string;
  readonly id?: string;
  readonly from?: string;
  readonly to?: string;
  readonly noiseMatrix?: NoiseMatrix;
  /** Backdoors: the label every poisoned sample gets (all-to-one). */
  readonly target?: string;
  /** For error locations only. */
  readonly file?: string;
  /**
   * Ids of rows this attack must neither change nor copy: the rows an earlier attack planted and
   * their originals, when attacks are chained. Without it a second attack may copy a poisoned row
   * and, by flipping its label back, plant a "poison" that carries the right label.
   */
  readonly exclude?: ReadonlySet<string>;
}

/** One planted sample. `row` is the 1-based data row in the poisoned file. */
export interface PlantedSample {
  readonly id: string;
  readonly row: number;
  readonly attack: PlantedAttack;
  /** The label before the attack (absent for out-of-distribution junk, which never had one). */
  readonly originalLabel?: string;
  readonly plantedLabel: string;
  /** For copies: the id of the row that was copied. */
  readonly sourceId?: string;
  /** For backdoors: the trigger stamped on this row. */
  readonly trigger?: PlantedTrigger;
}

export interface InjectResult {
  readonly table: RawTable;
  /** Every planted sample, in row order. */
  readonly planted: PlantedSample[];
  readonly labelColumn: string;
  readonly idColumn: string;
  /** True when the input had no id column and `tg_id` (= row number) was added. */
  readonly addedIdColumn: boolean;
  /** For backdoors: the trigger, to stamp on clean test rows with `applyTrigger`. */
  readonly trigger?: BackdoorTrigger;
}

/** The id column added when the input has none, so the truth file can name rows. */
export const ADDED_ID_COLUMN = 'tg_id';

/** Validate a parsed noise-matrix file; anything off is a REDTEAM_BAD_NOISE_MATRIX. */
export function parseNoiseMatrix(value: unknown, file?: string): NoiseMatrix {
  const bad = (why: string): RedteamError =>
    new RedteamError('REDTEAM_BAD_NOISE_MATRIX', why, { ...(file === undefined ? {} : { file }), hint: 'expected {"labels":[...],"matrix":[[...]]}: K labels, K×K non-negative rows (true → given) that each sum to 1' });
  if (value === null || typeof value !== 'object') throw bad('the noise matrix is not a JSON object');
  const { labels, matrix } = value as { labels?: unknown; matrix?: unknown };
  if (!Array.isArray(labels) || labels.length === 0 || !labels.every((l) => typeof l === 'string')) throw bad('"labels" must be a non-empty array of strings');
  if (new Set(labels).size !== labels.length) throw bad('"labels" has a repeated label');
  const k = labels.length;
  if (!Array.isArray(matrix) || matrix.length !== k) throw bad(`"matrix" must have ${k} rows, one per label`);
  matrix.forEach((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== k) throw bad(`row ${i} of "matrix" must have ${k} entries`);
    let sum = 0;
    for (const p of row as unknown[]) {
      if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) throw bad(`row ${i} of "matrix" has an entry that is not a probability`);
      sum += p;
    }
    if (Math.abs(sum - 1) > 1e-6) throw bad(`row ${i} of "matrix" sums to ${sum}, not 1`);
  });
  return { labels: labels as string[], matrix: matrix as number[][] };
}

function checkRate(rate: number): void {
  if (!(rate >= 0 && rate <= 1)) throw new RedteamError('REDTEAM_BAD_RATE', `rate must be in [0, 1], got ${rate}`, { hint: 'give a fraction such as 0.1' });
}

interface Columns {
  readonly numeric: { j: number; mean: number; std: number; asNumber: boolean }[];
  readonly text: { j: number; meanLength: number }[];
  readonly arrays: { j: number; length: number; rms: number }[];
  /** Columns blanked in junk rows (categorical, source, ...). */
  readonly blank: number[];
}

/**
 * Plant one attack into a raw table and list every planted sample. Deterministic per seed: the same
 * table, options and seed give the same table and the same list.
 */
export function plantAttack(input: RawTable, options: InjectOptions): InjectResult {
  if (!(ATTACK_KINDS as readonly string[]).includes(options.attack)) {
    throw new RedteamError('REDTEAM_BAD_ATTACK', `unknown attack "${String(options.attack)}"`, { hint: `use one of ${ATTACK_KINDS.join(', ')}` });
  }
  checkRate(options.rate);
  if (!Number.isSafeInteger(options.seed)) throw new RedteamError('REDTEAM_BAD_ATTACK', `seed must be an integer, got ${options.seed}`);
  const profiles = profileColumns(input);
  const spec = { ...(options.label === undefined ? {} : { label: options.label }), ...(options.id === undefined ? {} : { id: options.id }) };
  const roles = inferRoles(profiles, spec, options.file);

  let columns = [...input.columns];
  let rows = input.rows.map((r) => [...r]);
  let idJ = roles.id === null ? columns.indexOf(ADDED_ID_COLUMN) : columns.indexOf(roles.id);
  const addedIdColumn = idJ < 0;
  if (addedIdColumn) {
    columns = [...columns, ADDED_ID_COLUMN];
    idJ = columns.length - 1;
    rows = rows.map((r, i) => [...r, String(i + 1)]);
  }
  const labelJ = columns.indexOf(roles.label);
  const n0 = rows.length;
  const labelOf = (r: Cell[]): string => cellText(r[labelJ]);
  const eligible: number[] = [];
  const rawLabel = new Map<string, Cell>();
  for (let i = 0; i < n0; i++) {
    const cell = rows[i]![labelJ];
    const text = cellText(cell);
    if (isMissing(text)) continue;
    if (options.exclude?.has(cellText(rows[i]![idJ])) === true) continue;
    eligible.push(i);
    if (!rawLabel.has(text)) rawLabel.set(text, cell);
  }
  const classes = [...rawLabel.keys()].sort(compareLabels);
  if (classes.length < 2) {
    throw new RedteamError('REDTEAM_TOO_FEW_CLASSES', `label column "${roles.label}" has ${classes.length} class(es); flipping needs at least 2`, {
      ...(options.file === undefined ? {} : { file: options.file }),
      hint: 'name the label column with --label <col>',
    });
  }
  const classIndex = new Map(classes.map((c, k) => [c, k]));
  const K = classes.length;
  const rawFor = (label: string): Cell => rawLabel.get(label) ?? label;

  const from = options.from;
  const to = options.to;
  const wantTargeted = options.attack === 'targeted' || (options.attack === 'mix' && (from !== undefined || to !== undefined));
  if (wantTargeted) {
    if (from === undefined || to === undefined) throw new RedteamError('REDTEAM_BAD_ATTACK', 'a targeted attack needs --from and --to', { hint: `labels: ${classes.join(', ')}` });
    for (const l of [from, to]) {
      if (!classIndex.has(l)) throw new RedteamError('REDTEAM_UNKNOWN_CLASS', `label "${l}" is not in column "${roles.label}"`, { hint: `labels: ${classes.join(', ')}` });
    }
    if (from === to) throw new RedteamError('REDTEAM_UNKNOWN_CLASS', `targeted flips need two different labels, got ${from} → ${to}`);
  }
  const backdoor = (BACKDOOR_KINDS as readonly string[]).includes(options.attack);
  const target = options.target;
  if (backdoor) {
    if (target === undefined) throw new RedteamError('REDTEAM_BAD_ATTACK', `a ${options.attack} backdoor needs a target class (--target)`, { hint: `labels: ${classes.join(', ')}` });
    if (!classIndex.has(target)) throw new RedteamError('REDTEAM_UNKNOWN_CLASS', `target "${target}" is not a label in column "${roles.label}"`, { hint: `labels: ${classes.join(', ')}` });
  }
  const matrix = options.noiseMatrix;
  if (options.attack === 'class-conditional' && matrix === undefined) throw new RedteamError('REDTEAM_BAD_NOISE_MATRIX', 'a class-conditional attack needs --noise-matrix <file.json>');
  if (matrix !== undefined && (options.attack === 'class-conditional' || options.attack === 'mix')) {
    for (const c of classes) {
      if (!matrix.labels.includes(c)) throw new RedteamError('REDTEAM_UNKNOWN_CLASS', `label "${c}" of the data is not in the noise matrix`, { hint: `matrix labels: ${matrix.labels.join(', ')}` });
    }
  }

  const cols = describeColumns(columns, rows, roles.roles, labelJ, idJ, input.format === 'jsonl');
  const trigger = backdoor ? resolveTrigger(options.attack as BackdoorKind, { columns, rows }, roles.roles, new Set([labelJ, idJ]), options, options.seed) : undefined;
  const ids = new Set(rows.map((r) => cellText(r[idJ])));
  const plantedRows = new Set<number>();
  const planted: PlantedSample[] = [];
  const rng = createRng(options.seed);

  const unplanted = (): number[] => eligible.filter((i) => !plantedRows.has(i));
  const relabel = (i: number, label: string, attack: PlantedAttack): void => {
    const row = rows[i]!;
    planted.push({ id: cellText(row[idJ]), row: i + 1, attack, originalLabel: labelOf(row), plantedLabel: label });
    row[labelJ] = rawFor(label);
    plantedRows.add(i);
  };
  const otherClass = (given: string, r: Rng): string => {
    const g = classIndex.get(given) ?? 0;
    let o = r.int(K - 1);
    if (o >= g) o += 1;
    return classes[o]!;
  };
  const newId = (row: number): string => {
    if (addedIdColumn) return String(row);
    let id = `tg-${row}`;
    while (ids.has(id)) id = `${id}~`;
    ids.add(id);
    return id;
  };

  // Each attack draws from its own fork, so a kind's choices do not depend on the kinds before it in a mix.
  const symmetric = (count: number, r: Rng): void => {
    const cand = unplanted();
    if (cand.length === 0 || count === 0) return;
    const y = Int32Array.from(cand, (i) => classIndex.get(labelOf(rows[i]!))!);
    const p = plantSymmetricFlips(y, K, Math.min(1, count / cand.length), r);
    cand.forEach((i, t) => {
      if (p.planted[t]) relabel(i, classes[p.labels[t]!]!, 'symmetric');
    });
  };
  const targeted = (rate: number | null, count: number, r: Rng): void => {
    const cand = unplanted();
    const y = Int32Array.from(cand, (i) => classIndex.get(labelOf(rows[i]!))!);
    const f = classIndex.get(from!)!;
    const members = y.reduce((a, v) => a + (v === f ? 1 : 0), 0);
    if (members === 0) return;
    const p = plantTargetedFlips(y, f, classIndex.get(to!)!, rate ?? Math.min(1, count / members), r);
    cand.forEach((i, t) => {
      if (p.planted[t]) relabel(i, to!, 'targeted');
    });
  };
  const classConditional = (m: NoiseMatrix, subset: number | null, r: Rng): void => {
    let cand = unplanted();
    if (subset !== null) cand = Array.from(r.shuffle(Int32Array.from(cand)).subarray(0, subset));
    for (const i of cand.sort((a, b) => a - b)) {
      const given = labelOf(rows[i]!);
      const ti = m.labels.indexOf(given);
      const probs = m.matrix[ti]!.map((p, j) => (subset !== null && j === ti ? 0 : p));
      const total = probs.reduce((a, b) => a + b, 0);
      if (total <= 0) continue;
      let u = r.next() * total;
      let j = 0;
      while (j < probs.length - 1 && u >= probs[j]!) u -= probs[j++]!;
      if (j !== ti) relabel(i, m.labels[j]!, 'class-conditional');
    }
  };
  const sources = (count: number, r: Rng): number[] => {
    const cand = Int32Array.from(unplanted());
    r.shuffle(cand);
    return Array.from(cand.subarray(0, Math.min(count, cand.length))).sort((a, b) => a - b);
  };
  const append = (row: Cell[], attack: PlantedAttack, label: string, source: Cell[] | null): void => {
    const at = rows.length + 1;
    const id = newId(at);
    row[idJ] = id;
    row[labelJ] = rawFor(label);
    rows.push(row);
    planted.push({
      id,
      row: at,
      attack,
      ...(source === null ? {} : { originalLabel: labelOf(source), sourceId: cellText(source[idJ]) }),
      plantedLabel: label,
    });
  };
  const duplicateFlip = (count: number, r: Rng): void => {
    for (const i of sources(count, r)) {
      const src = rows[i]!;
      append([...src], 'duplicate-flip', otherClass(labelOf(src), r), src);
    }
  };
  const nearDuplicateFlip = (count: number, r: Rng): void => {
    for (const i of sources(count, r)) {
      const src = rows[i]!;
      const copy = [...src];
      for (const c of cols.numeric) {
        const v = numberOf(src[c.j]);
        if (v === undefined || !Number.isFinite(v)) continue;
        copy[c.j] = formatNumber(v + 0.01 * c.std * r.normal(), src[c.j], c.asNumber);
      }
      for (const c of cols.text) {
        const cell = src[c.j];
        if (typeof cell === 'string') copy[c.j] = editText(cell, r);
      }
      append(copy, 'near-duplicate-flip', otherClass(labelOf(src), r), src);
    }
  };
  const ood = (count: number, r: Rng): void => {
    for (let t = 0; t < count; t++) {
      const row: Cell[] = columns.map(() => '');
      for (const c of cols.numeric) {
        const scale = c.std > 0 ? c.std : Math.max(1, Math.abs(c.mean));
        const v = c.mean + (r.next() < 0.5 ? -1 : 1) * (10 + r.next()) * scale;
        row[c.j] = formatNumber(v, undefined, c.asNumber);
      }
      for (const c of cols.text) row[c.j] = junkText(Math.max(8, Math.round(c.meanLength)), r);
      for (const c of cols.arrays) {
        const scale = c.rms > 0 ? c.rms : 1;
        row[c.j] = Array.from({ length: c.length }, () => Number(((r.next() < 0.5 ? -1 : 1) * (10 + r.next()) * scale).toPrecision(8)));
      }
      for (const j of cols.blank) row[j] = '';
      append(row, 'ood', classes[r.int(K)]!, null);
    }
  };

  // All-to-one dirty-label backdoor: stamp the trigger on rows of other classes, in place, and give
  // them the target label (BadNets' recipe). The rate is of all rows, as papers state poison ratios.
  const poisonRows = (count: number, r: Rng): void => {
    const at = triggerColumns(columns, trigger!);
    const cand = Int32Array.from(unplanted().filter((i) => labelOf(rows[i]!) !== target));
    r.shuffle(cand);
    const chosen = Array.from(cand.subarray(0, Math.min(count, cand.length))).sort((a, b) => a - b);
    const place = r.fork();
    for (const i of chosen) {
      const row = rows[i]!;
      const originalLabel = labelOf(row);
      const stamped = stampRow(row, trigger!, at, place);
      row[labelJ] = rawFor(target!);
      plantedRows.add(i);
      planted.push({ id: cellText(row[idJ]), row: i + 1, attack: options.attack as PlantedAttack, originalLabel, plantedLabel: target!, trigger: stamped });
    }
  };

  const n = eligible.length;
  const total = Math.round(options.rate * n);
  switch (options.attack) {
    case 'symmetric':
      symmetric(total, rng.fork());
      break;
    case 'targeted':
      targeted(options.rate, 0, rng.fork());
      break;
    case 'class-conditional':
      classConditional(matrix!, null, rng.fork());
      break;
    case 'duplicate-flip':
      duplicateFlip(total, rng.fork());
      break;
    case 'near-duplicate-flip':
      nearDuplicateFlip(total, rng.fork());
      break;
    case 'ood':
      ood(total, rng.fork());
      break;
    case 'badnets':
    case 'blend':
    case 'text-trigger':
      poisonRows(total, rng.fork());
      break;
    case 'mix': {
      const kinds: PlantedAttack[] = ['symmetric'];
      if (wantTargeted) kinds.push('targeted');
      if (matrix !== undefined) kinds.push('class-conditional');
      kinds.push('duplicate-flip', 'near-duplicate-flip', 'ood');
      const forks = kinds.map(() => rng.fork());
      kinds.forEach((kind, s) => {
        const share = Math.floor(total / kinds.length) + (s < total % kinds.length ? 1 : 0);
        const r = forks[s]!;
        if (kind === 'symmetric') symmetric(share, r);
        else if (kind === 'targeted') targeted(null, share, r);
        else if (kind === 'class-conditional') classConditional(matrix!, share, r);
        else if (kind === 'duplicate-flip') duplicateFlip(share, r);
        else if (kind === 'near-duplicate-flip') nearDuplicateFlip(share, r);
        else ood(share, r);
      });
      break;
    }
  }
  planted.sort((a, b) => a.row - b.row);
  return { table: { format: input.format, columns, rows }, planted, labelColumn: roles.label, idColumn: columns[idJ]!, addedIdColumn, ...(trigger === undefined ? {} : { trigger }) };
}

/** Write a perturbed number like the original: JSON numbers stay numbers; text keeps its decimals plus three. */
function formatNumber(v: number, original: Cell, asNumber: boolean): Cell {
  if (asNumber || typeof original === 'number') return Number(v.toPrecision(10));
  if (typeof original === 'string') {
    const dot = original.indexOf('.');
    const decimals = dot < 0 || /e/i.test(original) ? 0 : original.length - dot - 1;
    return v.toFixed(Math.min(15, decimals + 3));
  }
  return String(Number(v.toPrecision(10)));
}

function describeColumns(columns: readonly string[], rows: readonly Cell[][], roles: Readonly<Record<string, ColumnRole>>, labelJ: number, idJ: number, json: boolean): Columns {
  const out: Columns = { numeric: [], text: [], arrays: [], blank: [] };
  columns.forEach((name, j) => {
    if (j === labelJ || j === idJ) return;
    const role = roles[name];
    const values = rows.map((r) => r[j]);
    if (role === 'numeric') {
      const xs = values.map(numberOf).filter((v): v is number => v !== undefined && Number.isFinite(v));
      const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
      out.numeric.push({ j, mean, std, asNumber: json && values.some((v) => typeof v === 'number') });
    } else if (role === 'text') {
      const ss = values.filter((v): v is string => typeof v === 'string');
      out.text.push({ j, meanLength: ss.reduce((a, s) => a + s.length, 0) / Math.max(1, ss.length) });
    } else if (values.some((v) => Array.isArray(v))) {
      const arrays = values.filter((v): v is readonly unknown[] => Array.isArray(v));
      const nums = arrays.flatMap((a) => a.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)));
      out.arrays.push({ j, length: arrays[0]?.length ?? 0, rms: Math.sqrt(nums.reduce((a, x) => a + x * x, 0) / Math.max(1, nums.length)) });
    } else out.blank.push(j);
  });
  return out;
}

/** Two small edits a near-duplicate spammer makes: doubled whitespace, a case change, punctuation. */
function editText(s: string, r: Rng): string {
  let t = s;
  for (let e = 0; e < 2; e++) {
    const kind = r.int(3);
    if (kind === 0) {
      const spaces = [...t.matchAll(/ /g)].map((m) => m.index);
      const at = spaces.length === 0 ? t.length : spaces[r.int(spaces.length)]!;
      t = `${t.slice(0, at)} ${t.slice(at)}`;
    } else if (kind === 1) {
      const letters = [...t.matchAll(/[A-Za-z]/g)].map((m) => m.index);
      if (letters.length === 0) t = `${t}!`;
      else {
        const at = letters[r.int(letters.length)]!;
        const c = t[at]!;
        t = t.slice(0, at) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + t.slice(at + 1);
      }
    } else t = /[.!?,;]$/.test(t) ? t.slice(0, -1) : `${t}${'.!?,'[r.int(4)]!}`;
  }
  return t === s ? `${s} ` : t;
}

/** Random bytes shown as Latin-1 text, control bytes replaced by printable ASCII: junk no corpus contains. */
function junkText(length: number, r: Rng): string {
  let s = '';
  for (let i = 0; i < length; i++) {
    const b = r.int(256);
    s += String.fromCharCode(b < 0x20 || (b >= 0x7f && b < 0xa0) ? 0x21 + (b % 94) : b);
  }
  return s;
}
