/**
 * CSR × dense products in plain TypeScript. Hashed text has ~2^18 columns and a few thousand
 * non-zeros per row, so these loops touch only the non-zeros; there is no sparse Gemm in ONNX's
 * default domain that onnxruntime-node can feed.
 */
import type { CsrMatrix } from './matrix.ts';

/** X·B where B is X.cols × l row-major; returns X.rows × l (float64). */
export function csrTimesDense(x: CsrMatrix, b: Float64Array | Float32Array, l: number): Float64Array {
  const { rows, indptr, indices, values } = x;
  const out = new Float64Array(rows * l);
  for (let i = 0; i < rows; i++) {
    const o = i * l;
    for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
      const v = values[p]!;
      const bo = indices[p]! * l;
      for (let c = 0; c < l; c++) out[o + c] = out[o + c]! + v * b[bo + c]!;
    }
  }
  return out;
}

/** Xᵀ·Q where Q is X.rows × l row-major; returns X.cols × l (float64). */
export function csrTransposeTimesDense(x: CsrMatrix, q: Float64Array | Float32Array, l: number): Float64Array {
  const { rows, cols, indptr, indices, values } = x;
  const out = new Float64Array(cols * l);
  for (let i = 0; i < rows; i++) {
    const qo = i * l;
    for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
      const v = values[p]!;
      const o = indices[p]! * l;
      for (let c = 0; c < l; c++) out[o + c] = out[o + c]! + v * q[qo + c]!;
    }
  }
  return out;
}

/**
 * The same matrix restricted to the columns that hold a non-zero, renumbered 0..used−1, plus the
 * map back. Products with the compact matrix need memory for the used columns only.
 */
export function compactColumns(x: CsrMatrix): { matrix: CsrMatrix; original: Int32Array } {
  const map = new Int32Array(x.cols).fill(-1);
  for (const c of x.indices) map[c] = 0;
  let used = 0;
  for (let c = 0; c < x.cols; c++) if (map[c] === 0) map[c] = used++;
  const original = new Int32Array(used);
  for (let c = 0; c < x.cols; c++) if (map[c]! >= 0) original[map[c]!] = c;
  const indices = new Int32Array(x.indices.length);
  for (let p = 0; p < indices.length; p++) indices[p] = map[x.indices[p]!]!;
  return { matrix: { kind: 'csr', rows: x.rows, cols: used, indptr: x.indptr, indices, values: x.values }, original };
}
