import type { Rng } from '../core/index.ts';
import { dense, fitPca, transformPca, randomizedSvd, l2NormalizeRows, type DenseMatrix, type FeatureMatrix } from '../compute/index.ts';

/**
 * The two views of the data a scan needs:
 * - `model`: what the classifier is trained on. Dense inputs wider than `reducedDim` are projected
 *   by PCA (a 784-pixel image keeps ~90 % of its variance in 128 components, and the 5-fold
 *   training is then 6× cheaper); sparse hashed text stays sparse — the linear model is strongest there.
 * - `neighbours`: a dense, L2-normalised representation for the cosine kNN graph. Sparse text goes
 *   through a randomized truncated SVD (latent semantic analysis), dense data through the same PCA.
 */
export interface Representation {
  readonly model: FeatureMatrix;
  readonly neighbours: DenseMatrix;
  readonly reducedDim: number;
  readonly method: 'pca' | 'lsa' | 'identity';
  /** Fraction of variance kept by PCA, when PCA ran. */
  readonly explainedVariance: number | null;
}

export async function buildRepresentation(matrix: FeatureMatrix, reducedDim: number, rng: Rng): Promise<Representation> {
  if (matrix.kind === 'csr') {
    const k = Math.max(2, Math.min(reducedDim, matrix.rows - 1, matrix.cols));
    const { u, s } = await randomizedSvd(matrix, k, { rng, oversample: 10, powerIterations: 2 });
    const z = dense(u.rows, u.cols, new Float32Array(u.data));
    for (let i = 0; i < z.rows; i++) {
      for (let j = 0; j < z.cols; j++) z.data[i * z.cols + j] = (z.data[i * z.cols + j] ?? 0) * (s[j] ?? 0);
    }
    return { model: matrix, neighbours: l2NormalizeRows(z), reducedDim: k, method: 'lsa', explainedVariance: null };
  }
  if (matrix.cols <= reducedDim) {
    const copy = dense(matrix.rows, matrix.cols, new Float32Array(matrix.data));
    return { model: matrix, neighbours: l2NormalizeRows(copy), reducedDim: matrix.cols, method: 'identity', explainedVariance: null };
  }
  const k = Math.max(2, Math.min(reducedDim, matrix.rows - 1));
  const pca = await fitPca(matrix, k);
  const z = await transformPca(pca, matrix);
  let kept = 0;
  for (const v of pca.explainedVariance) kept += v;
  const neighbours = l2NormalizeRows(dense(z.rows, z.cols, new Float32Array(z.data)));
  return { model: z, neighbours, reducedDim: k, method: 'pca', explainedVariance: pca.totalVariance > 0 ? kept / pca.totalVariance : null };
}
