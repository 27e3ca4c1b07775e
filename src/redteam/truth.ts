import { ATTACK_KINDS, type AttackKind, type PlantedAttack, type PlantedSample } from './inject.ts';
import type { PlantedTrigger } from './backdoor.ts';
import { RedteamError } from './errors.ts';

/** One planted sample in a truth file; `line` is where its record starts in the poisoned file. */
export interface TruthEntry extends PlantedSample {
  readonly line: number;
}

/** The truth file written beside a poisoned file: what was planted, where, and how to reproduce it. */
export interface Truth {
  readonly attack: AttackKind;
  readonly seed: number;
  readonly rate: number;
  readonly input: string;
  readonly output: string;
  readonly labelColumn: string;
  readonly idColumn: string;
  /** Data rows in the poisoned file. */
  readonly rows: number;
  /** Backdoors: the class every poisoned sample was given. */
  readonly target?: string;
  readonly planted: readonly TruthEntry[];
}

/** Validate a parsed truth file; anything off is a REDTEAM_BAD_TRUTH (it may be hand-edited or foreign). */
export function parseTruth(value: unknown, file?: string): Truth {
  const where = file === undefined ? {} : { file };
  const bad = (why: string): RedteamError => new RedteamError('REDTEAM_BAD_TRUTH', why, { ...where, hint: 'give the truth.json written by `trainguard redteam inject`' });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('the truth file is not a JSON object');
  const t = value as Record<string, unknown>;
  if (typeof t.attack !== 'string' || !(ATTACK_KINDS as readonly string[]).includes(t.attack)) throw bad('"attack" is missing or unknown');
  if (!Array.isArray(t.planted)) throw bad('"planted" must be an array');
  const planted = t.planted.map((e: unknown, i): TruthEntry => {
    if (e === null || typeof e !== 'object') throw bad(`planted[${i}] is not an object`);
    const p = e as Record<string, unknown>;
    if (typeof p.id !== 'string') throw bad(`planted[${i}].id must be a string`);
    if (typeof p.row !== 'number' || !Number.isSafeInteger(p.row) || p.row < 1) throw bad(`planted[${i}].row must be a positive integer`);
    if (typeof p.attack !== 'string' || p.attack === 'mix' || !(ATTACK_KINDS as readonly string[]).includes(p.attack)) throw bad(`planted[${i}].attack is missing or unknown`);
    if (typeof p.plantedLabel !== 'string') throw bad(`planted[${i}].plantedLabel must be a string`);
    const line = typeof p.line === 'number' && Number.isSafeInteger(p.line) && p.line >= 1 ? p.line : p.row;
    return {
      id: p.id,
      row: p.row,
      line,
      attack: p.attack as PlantedAttack,
      ...(typeof p.originalLabel === 'string' ? { originalLabel: p.originalLabel } : {}),
      plantedLabel: p.plantedLabel,
      ...(typeof p.sourceId === 'string' ? { sourceId: p.sourceId } : {}),
      // Optional: truth files written before backdoors existed have no trigger.
      ...(p.trigger === undefined ? {} : { trigger: parseTrigger(p.trigger, (why) => bad(`planted[${i}].trigger ${why}`)) }),
    };
  });
  const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    attack: t.attack as AttackKind,
    seed: num(t.seed),
    rate: num(t.rate),
    input: str(t.input),
    output: str(t.output),
    labelColumn: str(t.labelColumn),
    idColumn: str(t.idColumn),
    rows: num(t.rows),
    ...(typeof t.target === 'string' ? { target: t.target } : {}),
    planted,
  };
}

function parseTrigger(value: unknown, bad: (why: string) => RedteamError): PlantedTrigger {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('is not an object');
  const t = value as Record<string, unknown>;
  const int = (k: string): number => {
    const v = t[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(`.${k} must be a non-negative integer`);
    return v;
  };
  const text = (k: string): string => {
    const v = t[k];
    if (typeof v !== 'string') throw bad(`.${k} must be a string`);
    return v;
  };
  switch (t.kind) {
    case 'badnets': {
      const position = t.position;
      if (position !== 'corner' && position !== 'random') throw bad('.position must be corner or random');
      return { kind: 'badnets', patchSize: int('patchSize'), position, x: int('x'), y: int('y') };
    }
    case 'blend': {
      const alpha = t.alpha;
      if (typeof alpha !== 'number' || !(alpha > 0 && alpha <= 1)) throw bad('.alpha must be in (0, 1]');
      return { kind: 'blend', alpha };
    }
    case 'text-trigger': {
      const base = { kind: 'text-trigger' as const, column: text('column'), word: int('word') };
      return typeof t.sentence === 'string' ? { ...base, sentence: t.sentence } : { ...base, token: text('token') };
    }
    default:
      throw bad('.kind must be badnets, blend or text-trigger');
  }
}
