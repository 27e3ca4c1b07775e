/**
 * Picks the featurizer for a dataset. One representation, in this order of preference:
 * given embeddings (someone already chose a model for this data) → images → text (with the tabular
 * columns appended when there are any: `mixed`) → tabular columns. What was present but not used
 * is listed in `info.ignored`, so a report can say so.
 */
import type { CsrMatrix, DenseMatrix } from '../compute/index.ts';
import type { Dataset } from '../data/index.ts';
import { featurizeEmbedding } from './embedding.ts';
import { FeaturesError } from './errors.ts';
import { featurizeImages } from './image.ts';
import { resolveOptions } from './options.ts';
import { featurizeTabular } from './tabular.ts';
import { featurizeText } from './text.ts';
import type { FeaturizeOptions, Featurized } from './types.ts';

/**
 * Appends a dense block to the right of a CSR matrix (zeros skipped), each dense value times `scale`.
 * Column indices stay sorted: every dense column comes after every sparse one.
 */
export function hstackCsrDense(a: CsrMatrix, b: DenseMatrix, scale = 1): CsrMatrix {
  if (a.rows !== b.rows) throw new FeaturesError('FEATURES_BAD_INPUT', `cannot stack ${a.rows} rows beside ${b.rows}`);
  const n = a.rows;
  let extra = 0;
  for (let p = 0; p < b.data.length; p++) if (b.data[p] !== 0) extra++;
  const nnz = (a.indptr[n] ?? 0) + extra;
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let out = 0;
  for (let i = 0; i < n; i++) {
    const s = a.indptr[i] ?? 0;
    const e = a.indptr[i + 1] ?? 0;
    indices.set(a.indices.subarray(s, e), out);
    values.set(a.values.subarray(s, e), out);
    out += e - s;
    for (let j = 0; j < b.cols; j++) {
      const v = b.data[i * b.cols + j] ?? 0;
      if (v === 0) continue;
      indices[out] = a.cols + j;
      values[out] = v * scale;
      out++;
    }
    indptr[i + 1] = out;
  }
  return { kind: 'csr', rows: n, cols: a.cols + b.cols, indptr, indices, values };
}

function noFeatures(dataset: Dataset, message: string, hint: string): FeaturesError {
  return new FeaturesError('FEATURES_NO_FEATURES', message, { file: dataset.origin.path, hint });
}

/** Turns a dataset into a feature matrix: embeddings, images, text (+ tabular) or tabular, in that order. */
export function featurize(dataset: Dataset, options: FeaturizeOptions = {}): Featurized {
  resolveOptions(options); // reject bad options before any work
  const n = dataset.n;
  if (!Number.isSafeInteger(n) || n < 0) throw new FeaturesError('FEATURES_BAD_INPUT', `dataset size ${String(n)} is not a count`);
  if (n === 0) throw noFeatures(dataset, 'the dataset has no rows', 'check the file and the rows the reader skipped');
  if (dataset.text !== null && dataset.text.length !== n) {
    throw new FeaturesError('FEATURES_BAD_INPUT', `text column has ${dataset.text.length} values for ${n} rows`, { file: dataset.origin.path });
  }
  const present: string[] = [];
  if (dataset.embedding !== null) present.push('embedding');
  if (dataset.images !== null) present.push('images');
  if (dataset.text !== null) present.push('text');
  if (dataset.features.length > 0) present.push('tabular');
  const withInfo = (f: Featurized, used: readonly string[]): Featurized => ({
    ...f,
    info: { ...f.info, ignored: present.filter((p) => !used.includes(p)) },
  });

  if (dataset.embedding !== null) return withInfo(featurizeEmbedding(dataset.embedding, n, options), ['embedding']);
  if (dataset.images !== null) return withInfo(featurizeImages(dataset.images, n, options), ['images']);

  const tab = dataset.features.length > 0 ? featurizeTabular(dataset.features, n, options) : null;
  const tabUsable = tab !== null && tab.matrix.cols > 0;
  if (dataset.text !== null) {
    const text = featurizeText(dataset.text, options);
    const textNnz = text.matrix.kind === 'csr' ? (text.matrix.indptr[n] ?? 0) : 0;
    if (tab === null || !tabUsable || tab.matrix.kind !== 'dense' || text.matrix.kind !== 'csr') {
      if (textNnz === 0) {
        throw noFeatures(dataset, `the text column ${dataset.textColumn ?? ''} has no words in any row`, 'point --text at the column that holds the text');
      }
      return withInfo(tab === null ? text : { ...text, info: { ...text.info, tabular: tab.info } }, ['text']);
    }
    // Standardised columns have unit variance, so a tabular row's norm is about √d; scaling by 1/√d
    // puts it on the same footing as the unit-norm text row instead of drowning it.
    const scale = 1 / Math.sqrt(tab.matrix.cols);
    const matrix = hstackCsrDense(text.matrix, tab.matrix, scale);
    return withInfo(
      {
        matrix,
        kind: 'mixed',
        featureNames: [],
        info: { text: text.info, tabular: tab.info, tabularOffset: text.matrix.cols, tabularScale: scale, tabularFeatureNames: tab.featureNames },
      },
      ['text', 'tabular'],
    );
  }
  if (tab !== null) {
    if (!tabUsable) {
      throw noFeatures(dataset, 'no feature column is usable (all empty or identifier-like)', 'name the label and feature columns, or give a text or embedding column');
    }
    return withInfo(tab, ['tabular']);
  }
  throw noFeatures(
    dataset,
    'the dataset has no text, numeric, categorical, embedding or image column to learn from',
    'name the columns (e.g. --text, --label), or check that the file has columns besides id and label',
  );
}
