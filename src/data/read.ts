import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { extractArchive } from './archive.ts';
import type { Dataset, DatasetFormat, ReadOptions } from './dataset.ts';
import { readCsv } from './csv.ts';
import { DataError, fsError } from './errors.ts';
import { readImageFolder } from './images.ts';
import { readJsonl } from './jsonl.ts';
import { readParquet } from './parquet.ts';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_LINE_BYTES } from './text-stream.ts';
import type { ByteLimits } from './text-stream.ts';

const BY_EXTENSION: Readonly<Record<string, DatasetFormat>> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  // An archive of an image folder (zip, tar, tar.gz): extracted with the archive limits, then read.
  '.zip': 'images',
  '.tar': 'images',
  '.tgz': 'images',
};

/** The format a path will be read as: `options.format`, else a folder = images, else by extension. */
export async function detectFormat(path: string, format?: DatasetFormat): Promise<DatasetFormat> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw fsError(err, path);
  }
  if (format !== undefined) return format;
  if (isDir) return 'images';
  const found = path.toLowerCase().endsWith('.tar.gz') ? 'images' : BY_EXTENSION[extname(path).toLowerCase()];
  if (found === undefined) {
    throw new DataError('DATA_UNSUPPORTED_FORMAT', `cannot tell the format of "${extname(path) || path}" files`, {
      file: path,
      hint: 'use .csv, .tsv, .jsonl, .ndjson, .parquet, an image folder or its .zip/.tar/.tar.gz, or pass --format',
    });
  }
  return found;
}

/**
 * Reads a dataset file or image folder into the columnar Dataset: CSV/TSV, JSONL, Parquet, or a
 * folder of images. Every failure is a DataError with a code, a location and a hint.
 */
export async function readDataset(path: string, options: ReadOptions = {}): Promise<Dataset> {
  const format = await detectFormat(path, options.format);
  const limits = limitsOf(options);
  switch (format) {
    case 'csv':
    case 'tsv':
      return readCsv(path, format, limits, options);
    case 'jsonl':
      return readJsonl(path, limits, options);
    case 'parquet':
      return readParquet(path, limits, options);
    case 'images':
      return (await stat(path)).isDirectory() ? readImageFolder(path, limits, options) : readImageArchive(path, limits, options);
  }
}

/**
 * An image folder packed as a zip, tar or tar.gz (how the service stores and releases one):
 * extracted into a private temporary folder under the archive limits (no escaping paths, no
 * links, no bombs), read, and removed. Image paths stay relative to the folder.
 */
async function readImageArchive(path: string, limits: ByteLimits, options: ReadOptions): Promise<Dataset> {
  const size = (await stat(path)).size;
  if (size > limits.maxBytes) throw new DataError('DATA_TOO_LARGE', `archive is ${size} bytes, over the limit of ${limits.maxBytes}`, { file: path, hint: 'raise maxBytes if the file is trusted, or split it' });
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw fsError(err, path);
  }
  const dir = await mkdtemp(join(tmpdir(), 'trainguard-archive-'));
  try {
    const { root } = await extractArchive(bytes, join(dir, 'images'));
    return await readImageFolder(root, limits, options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function limitsOf(options: ReadOptions): ByteLimits {
  return {
    maxBytes: positive(options.maxBytes, DEFAULT_MAX_BYTES, 'maxBytes'),
    maxLineBytes: positive(options.maxLineBytes, DEFAULT_MAX_LINE_BYTES, 'maxLineBytes'),
  };
}

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0)) throw new DataError('DATA_BAD_OPTION', `${what} must be a positive number, got ${value}`, { hint: `omit ${what} for the default` });
  return value;
}

/**
 * Reads a CSV, TSV or JSONL file held in memory (an upload), with the same checks and results as
 * {@link readDataset} on that file; `name` stands for the file in errors. No temporary file: the
 * service's ingest used to write each upload out and read it back, four file operations that each
 * waited their turn on a busy event loop.
 */
export async function readDatasetBytes(bytes: Uint8Array, format: 'csv' | 'tsv' | 'jsonl', name: string, options: Omit<ReadOptions, 'format'> = {}): Promise<Dataset> {
  const limits = limitsOf(options);
  return format === 'jsonl' ? readJsonl(name, limits, options, bytes) : readCsv(name, format, limits, options, bytes);
}
