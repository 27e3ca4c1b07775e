/**
 * The compute half of scoring a batch against a baseline's trusted reference sample (the drift
 * detector does the judging, see detectors/reference.ts). Trusted and batch rows are featurized
 * together, as one dataset, so standardisation, the hashed TF-IDF weights and the PCA basis are
 * shared and distances between the two sets mean the same thing as distances within one.
 */
import type { Dataset, FeatureColumn } from '../data/index.ts';
import { crossValidatedProbabilities, dense, knnGraph, knnQuery } from '../compute/index.ts';
import { featurize, FeaturesError } from '../features/index.ts';
import { SAMPLE_TEXT_CHARS, type Baseline, type ReferenceInput } from '../detectors/index.ts';
import { buildRepresentation, featurizeOptionsFor } from './representation.ts';

export interface ReferenceOptions {
  readonly k: number;
  readonly reducedDim: number;
  readonly seed: number;
  readonly folds: number;
  readonly maxIter: number;
  readonly l2?: number | undefined;
}

/** Fewer trusted rows than this make the Q3 + 1.7·IQR cut-off and the class thresholds meaningless. */
export const MIN_REFERENCE_ROWS = 10;
/**
 * Fewer batch rows than this and the domain classifier is not run: its AUC is too noisy to read
 * (the z-test in the detector would refuse it anyway; this saves the training).
 */
export const MIN_DOMAIN_ROWS = 20;

const skipped = (reason: string): ReferenceInput => ({ status: 'skipped', reason });

/** Featurize trusted and batch rows jointly, find each batch row's trusted neighbours, train the domain classifier. */
export async function compareWithReference(dataset: Dataset, baseline: Baseline, options: ReferenceOptions): Promise<ReferenceInput> {
  const rows = baseline.sample.rows;
  const m = rows.length;
  const n = dataset.n;
  if (m < MIN_REFERENCE_ROWS) return skipped(`the baseline keeps ${m} reference rows; at least ${MIN_REFERENCE_ROWS} are needed`);
  if (dataset.images !== null) return skipped('images are not kept in the baseline reference sample');

  const useText = dataset.text !== null && baseline.textColumn !== null && rows.every((r) => typeof r.text === 'string');
  const emb = dataset.embedding;
  const useEmbedding = emb !== null && baseline.embeddingDim === emb.dim && rows.every((r) => r.embedding?.length === emb.dim);
  const byName = new Map(dataset.features.map((c) => [c.name, c] as const));
  const shared: FeatureColumn[] = [];
  baseline.features.forEach((fb, idx) => {
    const col = byName.get(fb.name);
    if (col === undefined || col.kind !== fb.kind) return;
    if (col.kind === 'numeric') {
      const values = new Float64Array(m + n);
      for (let j = 0; j < m; j++) {
        const v = rows[j]!.features[idx];
        values[j] = typeof v === 'number' ? v : NaN;
      }
      values.set(col.values, m);
      shared.push({ kind: 'numeric', name: col.name, values });
    } else {
      const values: (string | null)[] = rows.map((r) => {
        const v = r.features[idx];
        return typeof v === 'string' ? v : null;
      });
      for (const v of col.values) values.push(v);
      shared.push({ kind: 'categorical', name: col.name, values });
    }
  });
  if (!useText && !useEmbedding && shared.length === 0) return skipped('the batch shares no text, embedding or feature column with the reference sample');

  let embedding: Dataset['embedding'] = null;
  if (useEmbedding) {
    const values = new Float32Array((m + n) * emb.dim);
    rows.forEach((r, j) => values.set(r.embedding ?? [], j * emb.dim));
    values.set(emb.values.subarray(0, n * emb.dim), m * emb.dim);
    embedding = { dim: emb.dim, values };
  }
  // Reference texts were cut to SAMPLE_TEXT_CHARS when the baseline was made; batch texts are cut
  // the same way, or the two sets would differ by length alone.
  const text = useText ? [...rows.map((r) => r.text ?? ''), ...(dataset.text ?? []).map((t) => t.slice(0, SAMPLE_TEXT_CHARS))] : null;
  const labelNames = [...baseline.labels.names];
  const codeOf = new Map(labelNames.map((nm, c) => [nm, c] as const));
  const labels = Int32Array.from(rows, (r) => {
    let c = codeOf.get(r.label);
    if (c === undefined) {
      c = labelNames.length;
      labelNames.push(r.label);
      codeOf.set(r.label, c);
    }
    return c;
  });
  const joint: Dataset = {
    origin: dataset.origin,
    n: m + n,
    roles: {},
    contentIds: [],
    ids: [],
    externalIds: [],
    labelNames: [],
    labelCodes: new Int32Array(m + n),
    sources: null,
    text,
    textColumn: useText ? dataset.textColumn : null,
    features: shared,
    embedding,
    images: null,
    lineNumbers: new Int32Array(m + n),
    skipped: [],
  };
  let features;
  try {
    // The options the scan itself uses for this batch (from its full texts, not the cut ones).
    features = featurize(joint, featurizeOptionsFor(dataset));
  } catch (err) {
    // Nothing usable in common (e.g. every shared column constant): not a reason to fail the scan.
    if (err instanceof FeaturesError) return skipped(`no usable joint features: ${err.message}`);
    throw err;
  }
  const rep = await buildRepresentation(features.matrix, options.reducedDim);
  const z = rep.neighbours;
  const refM = dense(m, z.cols, z.data.subarray(0, m * z.cols));
  const batchM = dense(n, z.cols, z.data.subarray(m * z.cols, (m + n) * z.cols));
  const metric = z.cols > 3 ? 'cosine' : 'euclidean';
  const k = Math.max(1, Math.min(options.k, m - 1));
  const knn = await knnQuery(refM, batchM, k, { metric });
  const selfKnn = await knnGraph(refM, k, { metric });

  const embeddingColumn = Object.entries(dataset.roles).find(([, role]) => role === 'embedding')?.[0] ?? 'embedding';
  const columns =
    features.kind === 'embedding' ? [embeddingColumn] : features.kind === 'text' ? [dataset.textColumn ?? 'text'] : features.kind === 'mixed' ? [dataset.textColumn ?? 'text', ...shared.map((c) => c.name)] : shared.map((c) => c.name);
  const name = features.kind === 'embedding' || features.kind === 'text' ? (columns[0] ?? features.kind) : '(multivariate)';

  // Tabular features already have their own per-feature tests; the domain classifier is for the
  // columns that have none (text, embeddings), which is also why tabular-only data skips it.
  let domain: { probabilities: Float32Array; referenceRows: number; folds: number } | null = null;
  if ((features.kind === 'text' || features.kind === 'mixed' || features.kind === 'embedding') && n >= MIN_DOMAIN_ROWS) {
    const y = Int32Array.from({ length: m + n }, (_, p) => (p < m ? 0 : 1));
    const folds = Math.max(2, Math.min(options.folds, Math.floor(Math.min(m, n) / 2)));
    const probs = await crossValidatedProbabilities(z, y, 2, { folds, seed: options.seed, maxIter: options.maxIter, ...(options.l2 === undefined ? {} : { l2: options.l2 }) });
    domain = { probabilities: Float32Array.from({ length: m + n }, (_, p) => probs[p * 2 + 1] ?? 0), referenceRows: m, folds };
  }
  return {
    status: 'compared',
    labelNames,
    labels,
    knn,
    selfKnn,
    domain,
    representation: { method: rep.method, dim: z.cols, columns, name },
  };
}
