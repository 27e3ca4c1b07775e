/**
 * TEST SUPPORT ONLY (not exported from index.ts): a minimal valid `Dataset` built from columns, so
 * featurizer tests do not depend on the data readers. Ids are placeholders, not real content hashes.
 */
import { sha256Hex } from '../core/index.ts';
import type { Dataset, FeatureColumn, ImageData, ColumnRole } from '../data/index.ts';

export interface TestDatasetInput {
  readonly labels?: readonly string[];
  readonly text?: readonly string[];
  readonly features?: readonly FeatureColumn[];
  readonly embedding?: { readonly dim: number; readonly values: Float32Array };
  readonly images?: ImageData;
  /** Row count when no column says it. */
  readonly n?: number;
}

/** Builds a Dataset whose n is taken from the first column given. */
export function makeTestDataset(input: TestDatasetInput): Dataset {
  const n =
    input.n ??
    input.labels?.length ??
    input.text?.length ??
    input.features?.[0]?.values.length ??
    (input.embedding === undefined ? undefined : input.embedding.values.length / input.embedding.dim) ??
    input.images?.paths.length ??
    0;
  const labels = input.labels ?? Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 'a' : 'b'));
  const labelNames = [...new Set(labels)].sort();
  const roles: Record<string, ColumnRole> = { label: 'label' };
  if (input.text !== undefined) roles['text'] = 'text';
  for (const f of input.features ?? []) roles[f.name] = f.kind;
  const contentIds = Array.from({ length: n }, (_, i) => sha256Hex(`content ${i}`));
  return {
    origin: { path: 'test.csv', format: 'csv' },
    n,
    roles,
    contentIds,
    ids: contentIds.map((c, i) => sha256Hex(`${c} ${labels[i] ?? ''}`)),
    externalIds: Array.from({ length: n }, () => null),
    labelNames,
    labelCodes: Int32Array.from(labels, (l) => labelNames.indexOf(l)),
    sources: null,
    text: input.text ?? null,
    textColumn: input.text === undefined ? null : 'text',
    features: input.features ?? [],
    embedding: input.embedding ?? null,
    images: input.images ?? null,
    lineNumbers: Int32Array.from({ length: n }, (_, i) => i + 2),
    skipped: [],
  };
}
