/**
 * Dense kernels: matmul through onnxruntime for large products (MLAS runs ~80 GFLOP/s per core
 * here, ~20x the best plain-TS kernel), a plain-TS reference for small sizes and tests.
 */
import { ComputeError } from './errors.ts';
import { dense } from './matrix.ts';
import type { CsrMatrix, DenseMatrix, FeatureMatrix } from './matrix.ts';
import { floatTensor, gemmGraph, loadOrt, run, session, tensorFloat32 } from './ort.ts';

export interface MatmulOptions {
  readonly transA?: boolean;
  readonly transB?: boolean;
}

/** Below this many multiply-adds a session.run costs more than the arithmetic. */
const ORT_MIN_WORK = 1 << 17;

interface Dims {
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

function checkDense(x: DenseMatrix, what: string): void {
  if (!Number.isInteger(x.rows) || !Number.isInteger(x.cols) || x.rows < 0 || x.cols < 0) {
    throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `${what}: invalid shape ${x.rows}×${x.cols}`);
  }
  if (x.data.length !== x.rows * x.cols) {
    throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `${what}: ${x.rows}×${x.cols} matrix holds ${x.data.length} values`);
  }
}

function productDims(a: DenseMatrix, b: DenseMatrix, opts: MatmulOptions): Dims {
  checkDense(a, 'matmul A');
  checkDense(b, 'matmul B');
  const m = opts.transA === true ? a.cols : a.rows;
  const k = opts.transA === true ? a.rows : a.cols;
  const kb = opts.transB === true ? b.cols : b.rows;
  const n = opts.transB === true ? b.rows : b.cols;
  if (k !== kb) {
    throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `matmul: inner dimensions differ (${k} vs ${kb})`, {
      hint: 'check transA/transB',
    });
  }
  return { m, k, n };
}

/** op(A)·op(B) in plain TypeScript (float64 accumulation); the reference for the ORT path. */
export function matmulReference(a: DenseMatrix, b: DenseMatrix, opts: MatmulOptions = {}): DenseMatrix {
  const { m, k, n } = productDims(a, b, opts);
  // Lay A out as m×k rows and B as n×k rows so the inner loop is two contiguous dot products.
  const ar = opts.transA === true ? transposeData(a) : a.data;
  const bt = opts.transB === true ? b.data : transposeData(b);
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    const ao = i * k;
    for (let j = 0; j < n; j++) {
      const bo = j * k;
      let s0 = 0;
      let s1 = 0;
      let p = 0;
      for (; p + 1 < k; p += 2) {
        s0 += ar[ao + p]! * bt[bo + p]!;
        s1 += ar[ao + p + 1]! * bt[bo + p + 1]!;
      }
      if (p < k) s0 += ar[ao + p]! * bt[bo + p]!;
      out[i * n + j] = s0 + s1;
    }
  }
  return dense(m, n, out);
}

/** Row-major data of xᵀ. */
export function transposeData(x: DenseMatrix): Float32Array {
  const { rows, cols, data } = x;
  const out = new Float32Array(rows * cols);
  const B = 32;
  for (let i0 = 0; i0 < rows; i0 += B) {
    for (let j0 = 0; j0 < cols; j0 += B) {
      const i1 = Math.min(rows, i0 + B);
      const j1 = Math.min(cols, j0 + B);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * rows + i] = data[i * cols + j]!;
    }
  }
  return out;
}

/** op(A)·op(B): onnxruntime Gemm for large products, the TS kernel otherwise or when ORT is missing. */
export async function matmul(a: DenseMatrix, b: DenseMatrix, opts: MatmulOptions = {}): Promise<DenseMatrix> {
  const { m, k, n } = productDims(a, b, opts);
  if (m * k * n < ORT_MIN_WORK || m === 0 || n === 0 || k === 0) return matmulReference(a, b, opts);
  const ort = await loadOrt();
  if (ort === null) return matmulReference(a, b, opts);
  const tA = opts.transA === true;
  const tB = opts.transB === true;
  const s = await session(ort, `gemm:${tA ? 1 : 0}${tB ? 1 : 0}`, () => gemmGraph(tA, tB));
  const out = await run(s, { A: floatTensor(ort, a.data, [a.rows, a.cols]), B: floatTensor(ort, b.data, [b.rows, b.cols]) }, 'matmul');
  return dense(m, n, tensorFloat32(out.C, 'matmul'));
}

/**
 * op(A)·op(B) in float64 for the small, precision-sensitive products of the decompositions
 * (Gram matrices, basis rotations). ORT's double Gemm when large, a JS loop otherwise.
 */
export async function matmul64(
  a: Float64Array,
  aRows: number,
  aCols: number,
  b: Float64Array,
  bRows: number,
  bCols: number,
  opts: MatmulOptions = {},
): Promise<Float64Array> {
  const tA = opts.transA === true;
  const tB = opts.transB === true;
  const m = tA ? aCols : aRows;
  const k = tA ? aRows : aCols;
  const n = tB ? bRows : bCols;
  if ((tB ? bCols : bRows) !== k) throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `matmul64: inner dimensions differ`);
  const ort = m * k * n >= ORT_MIN_WORK ? await loadOrt() : null;
  if (ort !== null) {
    const s = await session(ort, `gemm64:${tA ? 1 : 0}${tB ? 1 : 0}`, () => gemmGraph(tA, tB, true));
    const out = await run(s, { A: new ort.Tensor('float64', a, [aRows, aCols]), B: new ort.Tensor('float64', b, [bRows, bCols]) }, 'matmul64');
    const c = out.C?.data;
    if (!(c instanceof Float64Array)) throw new ComputeError('COMPUTE_RUNTIME_FAILED', 'onnxruntime returned no double output');
    return c;
  }
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const av = tA ? a[p * aCols + i]! : a[i * aCols + p]!;
      if (av === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] = out[i * n + j]! + av * (tB ? b[j * bCols + p]! : b[p * bCols + j]!);
    }
  }
  return out;
}

/** Copy the given rows (in the given order) of a dense or CSR matrix. */
export function selectRows(x: DenseMatrix, rows: Int32Array): DenseMatrix;
export function selectRows(x: CsrMatrix, rows: Int32Array): CsrMatrix;
export function selectRows(x: FeatureMatrix, rows: Int32Array): FeatureMatrix;
export function selectRows(x: FeatureMatrix, rows: Int32Array): FeatureMatrix {
  for (const r of rows) {
    if (r < 0 || r >= x.rows) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `selectRows: row ${r} outside 0..${x.rows - 1}`);
  }
  if (x.kind === 'dense') {
    const c = x.cols;
    const out = new Float32Array(rows.length * c);
    rows.forEach((r, i) => out.set(x.data.subarray(r * c, r * c + c), i * c));
    return dense(rows.length, c, out);
  }
  let nnz = 0;
  for (const r of rows) nnz += x.indptr[r + 1]! - x.indptr[r]!;
  const indptr = new Int32Array(rows.length + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let at = 0;
  rows.forEach((r, i) => {
    const s = x.indptr[r]!;
    const e = x.indptr[r + 1]!;
    indices.set(x.indices.subarray(s, e), at);
    values.set(x.values.subarray(s, e), at);
    at += e - s;
    indptr[i + 1] = at;
  });
  return { kind: 'csr', rows: rows.length, cols: x.cols, indptr, indices, values };
}

/** Scale each row to unit L2 norm in place (zero rows stay zero); returns x. */
export function l2NormalizeRows(x: DenseMatrix): DenseMatrix {
  const { rows, cols, data } = x;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += data[o + j]! * data[o + j]!;
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < cols; j++) data[o + j] = data[o + j]! * inv;
    }
  }
  return x;
}

/** Throw COMPUTE_NON_FINITE at the first NaN/±Inf, naming the row. */
export function assertFinite(values: Float32Array, cols: number, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      const where = cols > 0 ? `row ${Math.floor(i / cols)}` : `stored value ${i}`;
      throw new ComputeError('COMPUTE_NON_FINITE', `${what}: non-finite value at ${where}`, {
        hint: 'impute or drop NaN/Inf values before scanning',
      });
    }
  }
}

/** Validate CSR structure (offsets monotone, indices in range) so kernels can index without checks. */
export function checkCsr(x: CsrMatrix, what: string): void {
  const { rows, cols, indptr, indices, values } = x;
  if (indptr.length !== rows + 1 || indptr[0] !== 0 || indptr[rows] !== indices.length || indices.length !== values.length) {
    throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `${what}: malformed CSR matrix (${rows}×${cols})`);
  }
  for (let i = 0; i < rows; i++) {
    if (indptr[i + 1]! < indptr[i]!) throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `${what}: CSR offsets decrease at row ${i}`);
  }
  for (const c of indices) {
    if (c < 0 || c >= cols) throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `${what}: CSR column ${c} outside 0..${cols - 1}`);
  }
  assertFinite(values, 0, what);
}

export function checkFeatures(x: FeatureMatrix, what: string): void {
  if (x.kind === 'dense') {
    checkDense(x, what);
    assertFinite(x.data, x.cols, what);
  } else {
    checkCsr(x, what);
  }
}

export { checkDense };
