export { dense } from './matrix.ts';
export type { DenseMatrix, CsrMatrix, FeatureMatrix, KnnGraph } from './matrix.ts';
