/**
 * Given embeddings (a vector column, or vectors computed upstream) used as they are: copied into a
 * dense float32 matrix, optionally L2-normalised per row (`normalizeEmbeddings`). Non-finite
 * entries become 0 and are counted in `info.nonFinite` (the validation detector reports the rows);
 * an all-zero row stays zero when normalising.
 */
import { dense } from '../compute/index.ts';
import { FeaturesError } from './errors.ts';
import { resolveOptions } from './options.ts';
import type { FeaturizeOptions, Featurized } from './types.ts';

/** Dense n × dim copy of given embeddings, optionally L2-normalised per row. */
export function featurizeEmbedding(
  embedding: { readonly dim: number; readonly values: Float32Array },
  n: number,
  options: FeaturizeOptions = {},
): Featurized {
  const opt = resolveOptions(options);
  const { dim, values } = embedding;
  if (!Number.isSafeInteger(dim) || dim <= 0 || values.length !== n * dim) {
    throw new FeaturesError('FEATURES_BAD_INPUT', `embeddings: expected ${n} × ${dim} values, got ${values.length}`, {
      hint: 'every row needs a vector of the same length',
    });
  }
  const data = new Float32Array(values);
  let nonFinite = 0;
  for (let p = 0; p < data.length; p++) {
    if (!Number.isFinite(data[p] ?? 0)) {
      data[p] = 0;
      nonFinite++;
    }
  }
  let zeroRows = 0;
  if (opt.normalizeEmbeddings) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const v = data[i * dim + j] ?? 0;
        s += v * v;
      }
      if (s === 0) {
        zeroRows++;
        continue;
      }
      const k = 1 / Math.sqrt(s);
      for (let j = 0; j < dim; j++) data[i * dim + j] = (data[i * dim + j] ?? 0) * k;
    }
  }
  return {
    matrix: dense(n, dim, data),
    kind: 'embedding',
    featureNames: [],
    info: { dim, normalized: opt.normalizeEmbeddings, nonFinite, zeroRows },
  };
}
