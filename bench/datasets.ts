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
import { plantSymmetricFlips, plantTargetedFlips, type PlantedFlips } from '../src/redteam/index.ts';

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
function readIdx(path: string): { dims: number[]; data: Uint8Array } {
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
