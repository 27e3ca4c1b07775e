/**
 * Small float64 linear-algebra helpers shared by PCA and the randomized SVD: a symmetric EVD
 * (ml-matrix) and orthonormalisation of tall row-major matrices by CholeskyQR2, which is two
 * passes of Gram + Cholesky + triangular solve and runs row by row (cache-friendly in JS).
 */
import { EVD, Matrix } from 'ml-matrix';
import { matmul64 } from './kernels.ts';

export interface SymmetricEig {
  /** Eigenvalues, descending. */
  readonly values: Float64Array;
  /** n×n row-major; column j is the eigenvector of values[j]. */
  readonly vectors: Float64Array;
}

/** Eigen-decomposition of a symmetric n×n row-major matrix, eigenvalues descending. */
export function symmetricEig(a: Float64Array, n: number): SymmetricEig {
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const r = new Array<number>(n);
    // Symmetrise: float32 products leave the two triangles a rounding error apart.
    for (let j = 0; j < n; j++) r[j] = 0.5 * (a[i * n + j]! + a[j * n + i]!);
    rows.push(r);
  }
  const evd = new EVD(new Matrix(rows), { assumeSymmetric: true });
  const ev = evd.realEigenvalues;
  const vec = evd.eigenvectorMatrix;
  const order = ev.map((_, i) => i).sort((p, q) => ev[q]! - ev[p]! || p - q);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = ev[src]!;
    for (let i = 0; i < n; i++) vectors[i * n + dst] = vec.get(i, src);
  });
  return { values, vectors };
}

/**
 * Upper-triangular R with RᵀR = G (Cholesky), and R⁻¹. A column whose pivot is (numerically) zero
 * depends on earlier ones; it gets a zero row in R and a zero column in R⁻¹, so Y·R⁻¹ sets it to
 * zero instead of failing. That keeps rank-deficient inputs (e.g. sparse data with fewer distinct
 * rows than the columns asked for) working.
 */
function choleskyInverse(g: Float64Array, cols: number): Float64Array {
  let maxDiag = 0;
  for (let i = 0; i < cols; i++) maxDiag = Math.max(maxDiag, g[i * cols + i]!);
  const floor = maxDiag * 1e-13;
  const r = new Float64Array(cols * cols);
  const live = new Uint8Array(cols);
  for (let j = 0; j < cols; j++) {
    let s = g[j * cols + j]!;
    for (let p = 0; p < j; p++) s -= r[p * cols + j]! * r[p * cols + j]!;
    if (!(s > floor)) continue;
    live[j] = 1;
    const rjj = Math.sqrt(s);
    r[j * cols + j] = rjj;
    for (let c = j + 1; c < cols; c++) {
      let t = g[j * cols + c]!;
      for (let p = 0; p < j; p++) t -= r[p * cols + j]! * r[p * cols + c]!;
      r[j * cols + c] = t / rjj;
    }
  }
  // Back-substitution R·X = I, one column at a time, over live indices only.
  const x = new Float64Array(cols * cols);
  for (let c = 0; c < cols; c++) {
    if (live[c] === 0) continue;
    x[c * cols + c] = 1 / r[c * cols + c]!;
    for (let i = c - 1; i >= 0; i--) {
      if (live[i] === 0) continue;
      let t = 0;
      for (let p = i + 1; p <= c; p++) t += r[i * cols + p]! * x[p * cols + c]!;
      x[i * cols + c] = -t / r[i * cols + i]!;
    }
  }
  return x;
}

/**
 * Orthonormalise the columns of a tall row-major matrix (CholeskyQR: Q = Y·R⁻¹ with RᵀR = YᵀY,
 * both products in float64 through ORT). Two passes (CholeskyQR2) give orthonormality to
 * rounding as long as cond(Y) ≲ 1e6; one pass is enough inside subspace iterations.
 */
export async function orthonormalizeColumns(y: Float64Array, rows: number, cols: number, passes = 2): Promise<Float64Array> {
  let q = y;
  for (let p = 0; p < passes; p++) {
    const g = await matmul64(q, rows, cols, q, rows, cols, { transA: true });
    q = await matmul64(q, rows, cols, choleskyInverse(g, cols), cols, cols);
  }
  return q;
}

export function toFloat32(a: Float64Array): Float32Array {
  return Float32Array.from(a);
}

export function toFloat64(a: Float32Array): Float64Array {
  return Float64Array.from(a);
}

/**
 * f(A) = V·diag(f(λ))·Vᵀ for a symmetric n×n row-major A: the matrix square root, inverse square
 * root and exponential all come from one eigendecomposition (exact for symmetric matrices,
 * unlike an element-wise shortcut).
 */
export function symmetricMatrixFunction(a: Float64Array, n: number, f: (lambda: number) => number): Float64Array {
  const { values, vectors } = symmetricEig(a, n);
  const fl = Float64Array.from(values, f);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += vectors[i * n + p]! * fl[p]! * vectors[j * n + p]!;
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}
