/**
 * Tabular features: numeric columns standardised, categorical columns one-hot encoded.
 *
 * - Numeric: mean and (population) std over the finite values; NaN and ±Infinity count as missing
 *   (the validation detector reports them; they must never reach a learner). Missing values are
 *   imputed with the mean (0 after standardising), and every column with any missing value gets a
 *   0/1 indicator column `name__missing`. A column with std 0 becomes a column of zeros. Values are
 *   scaled by the column's largest magnitude first, so 1e308 does not overflow the variance.
 * - Categorical: distinct values ranked by frequency (ties by value, so the order is stable).
 *   At most `maxCategories` columns: with more distinct values, the top maxCategories−1 keep a
 *   column each and the rest share `name=__other__`. Missing (null) gets `name=__missing__`.
 * - A column with no value at all is dropped (`info.dropped`, reason `empty`).
 * - Identifier-like columns (more than `maxCategories` distinct values and more than half of the
 *   non-missing values distinct) are dropped and listed in `info.dropped`: one-hot or hashed, a
 *   near-unique value is noise that only lets a model memorise rows and distorts neighbours.
 *   Hashing them into buckets was the alternative; it keeps the noise.
 */
import { dense } from '../compute/index.ts';
import type { FeatureColumn } from '../data/index.ts';
import { FeaturesError } from './errors.ts';
import { resolveOptions } from './options.ts';
import type { FeaturizeOptions, Featurized } from './types.ts';

export const OTHER = '__other__';
export const MISSING = '__missing__';

/** One output block: fills its columns of row-major `out` (width `stride`) starting at `offset`. */
interface Block {
  readonly names: string[];
  write(out: Float32Array, stride: number, offset: number): void;
}

export interface DroppedColumn {
  readonly column: string;
  readonly reason: 'identifier-like' | 'empty';
  readonly distinct: number;
}

function numericBlock(name: string, values: Float64Array, n: number): { block: Block; missing: number; constant: boolean } {
  let scale = 0;
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i] ?? Number.NaN;
    if (Number.isFinite(v)) {
      const a = Math.abs(v);
      if (a > scale) scale = a;
    } else {
      missing++;
    }
  }
  const present = n - missing;
  // Mean and variance of v / scale, which lies in [-1, 1] (Welford, stable for large n).
  let mean = 0;
  let m2 = 0;
  if (scale > 0) {
    let k = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i] ?? Number.NaN;
      if (!Number.isFinite(v)) continue;
      const x = v / scale;
      k++;
      const d = x - mean;
      mean += d / k;
      m2 += d * (x - mean);
    }
  }
  const std = present > 0 ? Math.sqrt(m2 / present) : 0;
  // Below this the spread is rounding noise in the mean, not signal.
  const constant = !(std > 1e-12);
  const names = missing > 0 ? [name, `${name}__missing`] : [name];
  const block: Block = {
    names,
    write(out, stride, offset) {
      for (let i = 0; i < n; i++) {
        const v = values[i] ?? Number.NaN;
        const ok = Number.isFinite(v);
        out[i * stride + offset] = ok && !constant ? (v / scale - mean) / std : 0;
        if (missing > 0) out[i * stride + offset + 1] = ok ? 0 : 1;
      }
    },
  };
  return { block, missing, constant };
}

function categoricalBlock(
  name: string,
  values: ReadonlyArray<string | null>,
  n: number,
  maxCategories: number,
): { block: Block | null; distinct: number; missing: number; other: number } {
  const freq = new Map<string, number>();
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) missing++;
    else freq.set(v, (freq.get(v) ?? 0) + 1);
  }
  const distinct = freq.size;
  const present = n - missing;
  if (distinct > maxCategories && distinct > 0.5 * present) return { block: null, distinct, missing, other: 0 };
  const ranked = [...freq.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const keep = distinct > maxCategories ? ranked.slice(0, maxCategories - 1) : ranked;
  const column = new Map<string, number>();
  keep.forEach(([v], j) => column.set(v, j));
  const hasOther = keep.length < distinct;
  let other = 0;
  for (let j = keep.length; j < ranked.length; j++) other += ranked[j]?.[1] ?? 0;
  const names = keep.map(([v]) => `${name}=${v}`);
  const otherAt = hasOther ? names.push(`${name}=${OTHER}`) - 1 : -1;
  const missingAt = missing > 0 ? names.push(`${name}=${MISSING}`) - 1 : -1;
  const block: Block = {
    names,
    write(out, stride, offset) {
      for (let i = 0; i < n; i++) {
        const v = values[i];
        const j = v === null || v === undefined ? missingAt : (column.get(v) ?? otherAt);
        out[i * stride + offset + j] = 1;
      }
    },
  };
  return { block, distinct, missing, other };
}

/** Dense standardised / one-hot features of tabular columns, n rows (see the module comment). */
export function featurizeTabular(columns: readonly FeatureColumn[], n: number, options: FeaturizeOptions = {}): Featurized {
  const opt = resolveOptions(options);
  const blocks: Block[] = [];
  const dropped: DroppedColumn[] = [];
  const constant: string[] = [];
  const withMissing: string[] = [];
  const otherCounts: Record<string, number> = {};
  for (const col of columns) {
    if (col.values.length !== n) {
      throw new FeaturesError('FEATURES_BAD_INPUT', `column ${col.name} has ${col.values.length} values for ${n} rows`, {
        hint: 'every feature column must have one value per row (missing = NaN or null)',
      });
    }
    if (col.kind === 'numeric') {
      const r = numericBlock(col.name, col.values, n);
      if (r.missing === n && n > 0) {
        // Only missing values: a constant indicator would say nothing.
        dropped.push({ column: col.name, reason: 'empty', distinct: 0 });
        continue;
      }
      blocks.push(r.block);
      if (r.constant) constant.push(col.name);
      if (r.missing > 0) withMissing.push(col.name);
    } else {
      const r = categoricalBlock(col.name, col.values, n, opt.maxCategories);
      if (r.block === null) {
        dropped.push({ column: col.name, reason: 'identifier-like', distinct: r.distinct });
        continue;
      }
      if (r.distinct === 0) {
        dropped.push({ column: col.name, reason: 'empty', distinct: 0 });
        continue;
      }
      blocks.push(r.block);
      if (r.missing > 0) withMissing.push(col.name);
      if (r.other > 0) otherCounts[col.name] = r.other;
    }
  }
  const featureNames = blocks.flatMap((b) => b.names);
  const d = featureNames.length;
  if (n * d > 2 ** 31) {
    throw new FeaturesError('FEATURES_BAD_INPUT', `tabular features would be ${n} × ${d}, too large for one matrix`, {
      hint: 'lower maxCategories or ignore some columns',
    });
  }
  const data = new Float32Array(n * d);
  let offset = 0;
  for (const b of blocks) {
    b.write(data, d, offset);
    offset += b.names.length;
  }
  return {
    matrix: dense(n, d, data),
    kind: 'tabular',
    featureNames,
    info: { columns: columns.length, features: d, dropped, constantColumns: constant, columnsWithMissing: withMissing, otherCounts },
  };
}
