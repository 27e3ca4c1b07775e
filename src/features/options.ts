import { FeaturesError } from './errors.ts';
import type { FeaturizeOptions } from './types.ts';

/** FeaturizeOptions with every default filled in and every value checked. */
export interface ResolvedOptions {
  readonly hashBits: number;
  readonly charNgrams: readonly [number, number] | false;
  readonly wordNgrams: readonly [number, number];
  readonly maxCategories: number;
  readonly normalizeEmbeddings: boolean;
  readonly placeholders: boolean;
  readonly maxTextChars: number;
  readonly imageScaling: 'global' | 'per-pixel';
}

export const DEFAULT_OPTIONS: ResolvedOptions = {
  hashBits: 18,
  charNgrams: [3, 5],
  wordNgrams: [1, 2],
  maxCategories: 32,
  normalizeEmbeddings: false,
  placeholders: true,
  maxTextChars: 100_000,
  imageScaling: 'global',
};

function bad(option: string, message: string, hint: string): FeaturesError {
  return new FeaturesError('FEATURES_BAD_INPUT', `option ${option}: ${message}`, { hint });
}

function intIn(option: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw bad(option, `expected an integer in [${lo}, ${hi}], got ${String(v)}`, `set ${option} between ${lo} and ${hi}`);
  }
  return v;
}

function range(option: string, v: unknown, lo: number, hi: number): readonly [number, number] {
  if (!Array.isArray(v) || v.length !== 2) throw bad(option, 'expected [min, max]', `e.g. ${option}: [${lo}, ${Math.min(hi, lo + 1)}]`);
  const a = intIn(`${option}[0]`, v[0], lo, hi);
  const b = intIn(`${option}[1]`, v[1], lo, hi);
  if (a > b) throw bad(option, `min ${a} > max ${b}`, 'put the smaller length first');
  return [a, b];
}

/** Checks options (they may come from a config file) and fills in defaults. */
export function resolveOptions(options: FeaturizeOptions = {}): ResolvedOptions {
  const o = options as Record<string, unknown>;
  const d = DEFAULT_OPTIONS;
  const bool = (name: string, fallback: boolean): boolean => {
    const v = o[name];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw bad(name, `expected true or false, got ${String(v)}`, `set ${name} to true or false`);
    return v;
  };
  const scaling = o['imageScaling'] ?? d.imageScaling;
  if (scaling !== 'global' && scaling !== 'per-pixel') throw bad('imageScaling', `unknown value ${String(scaling)}`, "use 'global' or 'per-pixel'");
  return {
    // 2^22 columns already need 16 MiB per scratch array; wider buys little for hashed n-grams.
    hashBits: o['hashBits'] === undefined ? d.hashBits : intIn('hashBits', o['hashBits'], 2, 22),
    charNgrams: o['charNgrams'] === undefined ? d.charNgrams : o['charNgrams'] === false ? false : range('charNgrams', o['charNgrams'], 1, 8),
    wordNgrams: o['wordNgrams'] === undefined ? d.wordNgrams : range('wordNgrams', o['wordNgrams'], 1, 4),
    maxCategories: o['maxCategories'] === undefined ? d.maxCategories : intIn('maxCategories', o['maxCategories'], 2, 10_000),
    normalizeEmbeddings: bool('normalizeEmbeddings', d.normalizeEmbeddings),
    placeholders: bool('placeholders', d.placeholders),
    maxTextChars: o['maxTextChars'] === undefined ? d.maxTextChars : intIn('maxTextChars', o['maxTextChars'], 1, 100_000_000),
    imageScaling: scaling,
  };
}
