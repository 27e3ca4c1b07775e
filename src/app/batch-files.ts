/**
 * A stored batch as the readers and the scan need it: a file (CSV, TSV, JSONL, Parquet) or a folder
 * of images (an uploaded zip/tar archive, extracted with limits). The plaintext goes to a private
 * temporary folder (0700, files 0600) for the shortest time and is removed whatever happens.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { extractArchive, readDataset, readDatasetBytes, type Dataset } from '../data/index.ts';

/** Batch formats and the file extension the readers know them by; `images` is an archive of an image folder. */
export const BATCH_FORMATS: Readonly<Record<string, string>> = { csv: '.csv', tsv: '.tsv', jsonl: '.jsonl', parquet: '.parquet', images: '' };

export function isBatchFormat(format: string): boolean {
  return Object.hasOwn(BATCH_FORMATS, format);
}

/** Runs `fn` with the batch on disk: the path of its file, or of the extracted image folder. */
export async function withBatchOnDisk<T>(bytes: Uint8Array, format: string, fn: (path: string) => Promise<T>): Promise<T> {
  if (format !== 'images') return withFileOnDisk(bytes, `batch${BATCH_FORMATS[format] ?? '.csv'}`, fn);
  return withPrivateDir(async (dir) => fn((await extractArchive(bytes, join(dir, 'images'))).root));
}

/** Runs `fn` with `bytes` as the file `name` (a plain name) in a private temporary folder. */
export async function withFileOnDisk<T>(bytes: Uint8Array, name: string, fn: (path: string) => Promise<T>): Promise<T> {
  return withPrivateDir(async (dir) => {
    const path = join(dir, name);
    await writeFile(path, bytes, { mode: 0o600 });
    return fn(path);
  });
}

/** A fresh 0700 temporary folder for `fn`, removed whatever happens. */
async function withPrivateDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'trainguard-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function readBatch(bytes: Uint8Array, format: string): Promise<Dataset> {
  if (format === 'csv' || format === 'tsv' || format === 'jsonl') return readDatasetBytes(bytes, format, `batch${BATCH_FORMATS[format]}`, { columns: {} });
  return withBatchOnDisk(bytes, format, (path) => readDataset(path, { columns: {} }));
}

/** One sample as a reviewer sees it. */
export interface SampleContent {
  readonly kind: 'text' | 'row' | 'image';
  /** Every value of the row by column (text, features, id, source), as strings. */
  readonly values: Readonly<Record<string, string>>;
  readonly text?: string;
  readonly textColumn?: string;
  /** The image as the detectors saw it (resized to side × side); trigger boxes are in these pixels. */
  readonly image?: { readonly width: number; readonly height: number; readonly side: number };
}

/** The content of row `index` of a read batch. */
export function sampleContent(dataset: Dataset, index: number): SampleContent {
  const values: Record<string, string> = {};
  const externalId = dataset.externalIds[index];
  if (externalId !== null && externalId !== undefined) values['id'] = externalId;
  const source = dataset.sources?.[index];
  if (source !== null && source !== undefined) values['source'] = source;
  for (const f of dataset.features) {
    const v = f.values[index];
    values[f.name] = v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v)) ? '' : String(v);
  }
  if (dataset.text !== null && dataset.textColumn !== null) {
    const text = dataset.text[index] ?? '';
    values[dataset.textColumn] = text;
    return { kind: 'text', values, text, textColumn: dataset.textColumn };
  }
  if (dataset.images !== null) {
    values['file'] = dataset.images.paths[index] ?? '';
    return { kind: 'image', values, image: { width: dataset.images.width, height: dataset.images.height, side: dataset.images.width } };
  }
  return { kind: 'row', values };
}

/** Row `index` of a read image batch as a PNG, at the size the detectors saw it. */
export async function samplePng(dataset: Dataset, index: number): Promise<Buffer> {
  const images = dataset.images;
  if (images === null) throw new RangeError('the batch holds no images');
  const { width, height, channels } = images;
  const size = width * height * channels;
  const raw = Buffer.alloc(size);
  const from = images.pixels.subarray(index * size, (index + 1) * size);
  for (let i = 0; i < size; i++) raw[i] = Math.round(Math.min(1, Math.max(0, from[i] ?? 0)) * 255);
  return sharp(raw, { raw: { width, height, channels } }).png().toBuffer();
}
