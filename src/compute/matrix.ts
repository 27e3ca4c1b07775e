/** Dense row-major float32 matrix. */
export interface DenseMatrix {
  readonly kind: 'dense';
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

/** Compressed sparse rows (for hashed text features). */
export interface CsrMatrix {
  readonly kind: 'csr';
  readonly rows: number;
  readonly cols: number;
  /** rows + 1 offsets into indices/values. */
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;
}

export type FeatureMatrix = DenseMatrix | CsrMatrix;

/** k nearest neighbours of every row (self excluded), nearest first. */
export interface KnnGraph {
  readonly n: number;
  readonly k: number;
  /** n × k neighbour row indices. */
  readonly indices: Int32Array;
  /** n × k distances (cosine distance 1−cos, or Euclidean), ascending per row. */
  readonly distances: Float32Array;
  readonly metric: 'cosine' | 'euclidean';
}

export function dense(rows: number, cols: number, data?: Float32Array): DenseMatrix {
  const d = data ?? new Float32Array(rows * cols);
  if (d.length !== rows * cols) throw new RangeError(`dense: expected ${rows * cols} values, got ${d.length}`);
  return { kind: 'dense', rows, cols, data: d };
}
