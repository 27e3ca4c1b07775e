// Bench data: real corpora that packages ship (SpamAssassin from npm, Fashion-MNIST from Debian's
// dataset-fashion-mnist) with seeded planted attacks, written to files so the benchmark measures
// the whole scan, file reading included.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createRng } from '../src/core/index.ts';
import { plantSymmetricFlips, plantTargetedFlips, type PlantedFlips, type RawTable, type Cell } from '../src/redteam/index.ts';

export const BENCH_DIR = join(tmpdir(), 'trainguard-bench');
export const FASHION_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_CLASSES = ['tshirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'boot'];

export interface BenchFile {
  readonly path: string;
  /** Planted flags keyed by the file's id column. */
  readonly planted: Map<string, number>;
  readonly count: number;
}

export function fashionAvailable(): boolean {
  return existsSync(join(FASHION_DIR, 'train-images-idx3-ubyte.gz'));
}

/** Parse IDX (big-endian header) files as Debian ships them, gzipped. */
export function readIdx(path: string): { dims: number[]; data: Uint8Array } {
  const buf = gunzipSync(readFileSync(path));
  const ndim = buf[3] ?? 0;
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(buf.readUInt32BE(4 + 4 * d));
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + 4 + 4 * ndim, dims.reduce((a, b) => a * b, 1)) };
}

/** A seeded `size`-image subset of Fashion-MNIST train, poisoned, as CSV `id,label,px0..px783`. */
export async function writeFashionCsv(name: string, size: number, seed: number, plant: (labels: Int32Array) => PlantedFlips): Promise<BenchFile> {
  const images = readIdx(join(FASHION_DIR, 'train-images-idx3-ubyte.gz'));
  const labels = readIdx(join(FASHION_DIR, 'train-labels-idx1-ubyte.gz'));
  const total = labels.dims[0] ?? 0;
  const order = createRng(seed).shuffle(Int32Array.from({ length: total }, (_, i) => i)).subarray(0, size);
  const clean = Int32Array.from(order, (i) => labels.data[i] ?? 0);
  const planted = plant(clean);
  await mkdir(BENCH_DIR, { recursive: true });
  const path = join(BENCH_DIR, `${name}.csv`);
  const out = createWriteStream(path);
  const px = 28 * 28;
  out.write(`id,label,${Array.from({ length: px }, (_, j) => `px${j}`).join(',')}\n`);
  const map = new Map<string, number>();
  for (let r = 0; r < order.length; r++) {
    const i = order[r]!;
    const id = `train-${i}`;
    map.set(id, planted.planted[r] ?? 0);
    const row = Array.from(images.data.subarray(i * px, (i + 1) * px)).join(',');
    if (!out.write(`${id},${FASHION_CLASSES[planted.labels[r]!]},${row}\n`)) await new Promise<void>((res) => out.once('drain', () => res()));
  }
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
  return { path, planted: map, count: planted.count };
}

/** Synthetic 128-d embeddings: a seeded Gaussian mixture, 10 classes, 10 % symmetric flips, as CSV emb_0..emb_127. */
export async function writeEmbeddingCsv(name: string, n: number, dim: number, seed: number): Promise<BenchFile> {
  const rng = createRng(seed);
  const K = 10;
  const centres = Array.from({ length: K }, () => Float32Array.from({ length: dim }, () => rng.normal()));
  const clean = Int32Array.from({ length: n }, () => rng.int(K));
  const planted = plantSymmetricFlips(clean, K, 0.1, rng.fork());
  await mkdir(BENCH_DIR, { recursive: true });
  const path = join(BENCH_DIR, `${name}.csv`);
  const out = createWriteStream(path);
  out.write(`id,label,${Array.from({ length: dim }, (_, j) => `emb_${j}`).join(',')}\n`);
  const map = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const c = centres[clean[i]!]!;
    const v = Array.from({ length: dim }, (_, j) => ((c[j] ?? 0) * 0.35 + rng.normal()).toFixed(4));
    map.set(`e${i}`, planted.planted[i] ?? 0);
    if (!out.write(`e${i},c${planted.labels[i]},${v.join(',')}\n`)) await new Promise<void>((res) => out.once('drain', () => res()));
  }
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
  return { path, planted: map, count: planted.count };
}

export const plantFashionSymmetric = (seed: number) => (labels: Int32Array): PlantedFlips => plantSymmetricFlips(labels, 10, 0.1, createRng(seed));
export const plantFashionShirtToTshirt = (seed: number) => (labels: Int32Array): PlantedFlips => plantTargetedFlips(labels, 6, 0, 0.4, createRng(seed));

/** Where Debian's python3-sklearn keeps the small CSV data sets scikit-learn bundles. */
export const SKLEARN_DATA_DIR = '/usr/lib/python3/dist-packages/sklearn/datasets/data';

/** A seeded `size`-image subset of Fashion-MNIST train as a raw CSV table (`id,label,px0..px783`, text cells), for the attack simulator. */
export function fashionTable(size: number, seed: number): RawTable {
  const images = readIdx(join(FASHION_DIR, 'train-images-idx3-ubyte.gz'));
  const labels = readIdx(join(FASHION_DIR, 'train-labels-idx1-ubyte.gz'));
  const total = labels.dims[0] ?? 0;
  const order = createRng(seed).shuffle(Int32Array.from({ length: total }, (_, i) => i)).subarray(0, size);
  const px = 28 * 28;
  const columns = ['id', 'label', ...Array.from({ length: px }, (_, j) => `px${j}`)];
  const rows: Cell[][] = Array.from(order, (i) => [
    `train-${i}`,
    FASHION_CLASSES[labels.data[i] ?? 0] ?? '',
    ...Array.from(images.data.subarray(i * px, (i + 1) * px), (v) => String(v)),
  ]);
  return { format: 'csv', columns, rows };
}

/** The SpamAssassin corpus (npm package) as a raw JSONL table `id,label,source,text`. */
export function spamTable(mails: readonly { id: string; label: string; group: string; text: string }[]): RawTable {
  return { format: 'jsonl', columns: ['id', 'label', 'source', 'text'], rows: mails.map((m) => [m.id, m.label, m.group, m.text]) };
}

/** scikit-learn's bundled breast-cancer (or else wine) CSV as a raw table, or null when python3-sklearn is not installed. */
export function sklearnTable(): { name: string; table: RawTable } | null {
  for (const file of ['breast_cancer.csv', 'wine_data.csv']) {
    const path = join(SKLEARN_DATA_DIR, file);
    if (!existsSync(path)) continue;
    // Layout: a first line `n_samples,n_features,class names...`, then `features...,target index`.
    const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
    const head = (lines[0] ?? '').split(',');
    const nFeatures = Number(head[1]);
    const classNames = head.slice(2).map((s) => s.trim());
    const columns = ['id', 'label', ...Array.from({ length: nFeatures }, (_, j) => `f${j}`)];
    const rows: Cell[][] = lines.slice(1).map((line, r) => {
      const cells = line.split(',').map((s) => s.trim());
      const target = Number(cells[nFeatures]);
      return [`r${r}`, classNames[target] ?? `class_${target}`, ...cells.slice(0, nFeatures)];
    });
    return { name: file.replace(/\.csv$/, ''), table: { format: 'csv', columns, rows } };
  }
  return null;
}
