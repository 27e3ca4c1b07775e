import { ComputeError } from './errors.ts';
import { dense, type CsrMatrix, type DenseMatrix } from './matrix.ts';

/**
 * Signed count sketch of a sparse matrix's columns into `dim` dense columns (Weinberger et al.'s
 * feature hashing, applied a second time): column j goes to bucket h(j) with sign s(j), so inner
 * products are preserved in expectation. It turns 2^18 hashed text columns into a dense block
 * that the ORT kernels (PCA, kNN) handle in milliseconds, where a sparse randomized SVD over
 * 2^18 columns took minutes.
 */
export function sketchColumns(x: CsrMatrix, dim: number, seed = 0x9e3779b9): DenseMatrix {
  if (!Number.isInteger(dim) || dim < 1) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `sketchColumns: dim must be a positive integer, got ${dim}`);
  const bucket = new Int32Array(x.cols);
  const sign = new Float32Array(x.cols);
  for (let j = 0; j < x.cols; j++) {
    const h = mix32(j ^ seed);
    bucket[j] = (h >>> 1) % dim;
    sign[j] = (h & 1) === 0 ? 1 : -1;
  }
  const out = new Float32Array(x.rows * dim);
  for (let i = 0; i < x.rows; i++) {
    const base = i * dim;
    for (let p = x.indptr[i]!; p < x.indptr[i + 1]!; p++) {
      const j = x.indices[p]!;
      out[base + bucket[j]!] = out[base + bucket[j]!]! + sign[j]! * x.values[p]!;
    }
  }
  return dense(x.rows, dim, out);
}

/** murmur3's 32-bit finaliser: a cheap, well-mixed hash of an integer. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
