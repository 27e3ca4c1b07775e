// Guards against: the backdoor stage training on the wrong input or returning mis-shaped
// activations; a representation mode that cannot work passing silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import { dense } from '../compute/index.ts';
import type { Dataset } from '../data/index.ts';
import { learnRepresentation } from './learned.ts';
import { ScanError } from './errors.ts';

/** A minimal in-memory dataset (the readers are tested elsewhere). */
function makeTestDataset(input: { labels: string[]; embedding?: { dim: number; values: Float32Array } }): Dataset {
  const n = input.labels.length;
  const labelNames = [...new Set(input.labels)].sort();
  return {
    origin: { path: 'memory.csv', format: 'csv' },
    n,
    roles: { label: 'label' },
    contentIds: input.labels.map((_, i) => `content-${i}`),
    ids: input.labels.map((_, i) => `id-${i}`),
    externalIds: input.labels.map(() => null),
    labelNames,
    labelCodes: Int32Array.from(input.labels, (l) => labelNames.indexOf(l)),
    sources: null,
    text: null,
    textColumn: null,
    features: [],
    embedding: input.embedding ?? null,
    images: null,
    lineNumbers: Int32Array.from({ length: n }, (_, i) => i + 2),
    skipped: [],
  };
}

function blobs(n: number): { labels: string[]; x: Float32Array } {
  const rng = createRng(3);
  const labels: string[] = [];
  const x = new Float32Array(n * 6);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    labels.push(`c${c}`);
    for (let j = 0; j < 6; j++) x[i * 6 + j] = (j === c ? 4 : 0) + rng.normal();
  }
  return { labels, x };
}

test('the MLP representation: penultimate activations, the net’s probabilities and a look-alike graph', async () => {
  const { labels, x } = blobs(90);
  const dataset = makeTestDataset({ labels });
  const rep = await learnRepresentation(dataset, dense(90, 6, x), { representation: 'mlp', hidden: [16, 8], epochs: 300, seed: 1 });
  assert.equal(rep.source, 'mlp');
  assert.equal(rep.dim, 8);
  assert.equal(rep.activations.length, 90 * 8);
  assert.equal(rep.probabilities?.length, 90 * 3);
  assert.ok((rep.info['trainingAccuracy'] as number) > 0.9, `accuracy ${rep.info['trainingAccuracy']}`);
  assert.equal(rep.lookAlikes?.n, 90);
  assert.equal(rep.lookAlikes?.k, 10);
  // Seeded: the same activations again.
  const again = await learnRepresentation(dataset, dense(90, 6, x), { representation: 'mlp', hidden: [16, 8], epochs: 300, seed: 1 });
  assert.deepEqual(Array.from(again.activations), Array.from(rep.activations));
});

test('given embeddings are used as they are', async () => {
  const { labels, x } = blobs(30);
  const dataset = makeTestDataset({ labels, embedding: { dim: 6, values: x } });
  const rep = await learnRepresentation(dataset, dense(30, 6, x), { representation: 'auto', hidden: [8], epochs: 1, seed: 0 });
  assert.equal(rep.source, 'embedding');
  assert.equal(rep.probabilities, null);
  assert.deepEqual(Array.from(rep.activations), Array.from(x));
});

test('modes that cannot work fail with SCAN_BAD_OPTION', async () => {
  const { labels, x } = blobs(30);
  const dataset = makeTestDataset({ labels });
  for (const representation of ['embedding', 'onnx'] as const) {
    await assert.rejects(
      learnRepresentation(dataset, dense(30, 6, x), { representation, hidden: [8], epochs: 1, seed: 0 }),
      (e: unknown) => e instanceof ScanError && e.code === 'SCAN_BAD_OPTION',
    );
  }
});
