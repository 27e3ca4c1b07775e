/**
 * Small dense float64 helpers for the backdoor detectors, which work one class at a time on a few
 * thousand rows of ≤ a few hundred dimensions: row-major m×d matrices, plain loops.
 */
import { symmetricEig } from '../../compute/index.ts';

/** Row-major m×d float64 matrix. */
export interface Rows {
  readonly m: number;
  readonly d: number;
  readonly data: Float64Array;
}

/** The rows of `source` (float32, n×d) at `index`, as float64. */
export function gather(source: Float32Array, d: number, index: readonly number[] | Int32Array): Rows {
  const data = new Float64Array(index.length * d);
  for (let r = 0; r < index.length; r++) {
    const i = index[r]!;
    for (let j = 0; j < d; j++) data[r * d + j] = source[i * d + j]!;
  }
  return { m: index.length, d, data };
}

/** Column means over the rows with keep[r] = 1 (all rows when keep is omitted). */
export function columnMeans(x: Rows, keep?: Uint8Array): Float64Array {
  const mean = new Float64Array(x.d);
  let count = 0;
  for (let r = 0; r < x.m; r++) {
    if (keep !== undefined && keep[r] === 0) continue;
    count++;
    for (let j = 0; j < x.d; j++) mean[j]! += x.data[r * x.d + j]!;
  }
  for (let j = 0; j < x.d; j++) mean[j]! /= Math.max(1, count);
  return mean;
}

/** x with `mean` subtracted from every row (a new matrix). */
export function centre(x: Rows, mean: Float64Array): Rows {
  const data = new Float64Array(x.data.length);
  for (let r = 0; r < x.m; r++) for (let j = 0; j < x.d; j++) data[r * x.d + j] = x.data[r * x.d + j]! - mean[j]!;
  return { m: x.m, d: x.d, data };
}

/** Second-moment matrix (1/count)·Σ (x_r − μ)(x_r − μ)ᵀ over kept rows (d×d row-major); μ = 0 when omitted. */
export function covariance(x: Rows, keep?: Uint8Array, mean?: Float64Array): Float64Array {
  const { m, d } = x;
  const c = new Float64Array(d * d);
  const row = new Float64Array(d);
  let count = 0;
  for (let r = 0; r < m; r++) {
    if (keep !== undefined && keep[r] === 0) continue;
    count++;
    for (let j = 0; j < d; j++) row[j] = x.data[r * d + j]! - (mean?.[j] ?? 0);
    for (let i = 0; i < d; i++) {
      const v = row[i]!;
      if (v === 0) continue;
      for (let j = i; j < d; j++) c[i * d + j]! += v * row[j]!;
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = c[i * d + j]! / Math.max(1, count);
      c[i * d + j] = v;
      c[j * d + i] = v;
    }
  }
  return c;
}

/** x·B for a d×k row-major B. */
export function multiply(x: Rows, b: Float64Array, k: number): Rows {
  const { m, d } = x;
  const out = new Float64Array(m * k);
  for (let r = 0; r < m; r++) {
    for (let p = 0; p < d; p++) {
      const v = x.data[r * d + p]!;
      if (v === 0) continue;
      for (let j = 0; j < k; j++) out[r * k + j]! += v * b[p * k + j]!;
    }
  }
  return { m, d: k, data: out };
}

/**
 * Centred rows projected on their top `k` principal directions, with the eigenvalues (descending).
 * `k` is capped at the data's rank so every kept direction has positive variance.
 */
export function principalComponents(x: Rows, k: number, relativeFloor = 1e-9): { scores: Rows; values: Float64Array } {
  const xc = centre(x, columnMeans(x));
  const { values, vectors } = symmetricEig(covariance(xc), x.d);
  const top = values[0] ?? 0;
  let rank = 0;
  while (rank < Math.min(k, x.d) && (values[rank] ?? 0) > top * relativeFloor) rank++;
  const basis = new Float64Array(x.d * rank);
  for (let p = 0; p < x.d; p++) for (let j = 0; j < rank; j++) basis[p * rank + j] = vectors[p * x.d + j]!;
  return { scores: multiply(xc, basis, rank), values: values.slice(0, rank) };
}
