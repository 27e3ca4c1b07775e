import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import sharp from 'sharp';
import { sha256Hex } from '../core/index.ts';
import type { Dataset, ReadOptions, SkippedRow } from './dataset.ts';
import { compareLabels, sampleId } from './content-id.ts';
import { streamCsv } from './csv.ts';
import { DataError, fsError } from './errors.ts';
import type { DataSkipCode } from './errors.ts';
import { isMissing } from './missing.ts';
import type { ByteLimits } from './text-stream.ts';

const IMAGE_EXT = /\.(png|jpe?g)$/i;
/** Decodes in flight at once: enough to keep libvips busy, few enough to bound memory. */
const DECODE_CONCURRENCY = 8;
/** Refuse decompression bombs: no image may claim more pixels than this. */
const MAX_INPUT_PIXELS = 100_000_000;
/** Pixel values held at once (4 bytes each): 2^30 is 4 GiB. */
const MAX_PIXEL_VALUES = 2 ** 30;
const FILE_NAMES = ['file', 'path', 'filename', 'image'];
const LABEL_NAMES = ['label', 'labels', 'class', 'target', 'y', 'category'];

interface Entry {
  /** Path relative to the root, with forward slashes. */
  readonly rel: string;
  readonly label: string;
  readonly line: number;
  readonly externalId: string | null;
  readonly source: string | null;
  /** True when `line` is a line of labels.csv (then skipped rows name it), false for a file number. */
  readonly fromCsv: boolean;
}

interface Probe {
  readonly entry: Entry;
  readonly abs: string;
  readonly contentId: string;
  readonly width: number;
  readonly height: number;
  readonly grey: boolean;
}

/**
 * Reads an image folder: one subfolder per class (`root/<label>/*.png|jpg|jpeg`), or a `labels.csv`
 * at the root with columns `file,label` (optional `id`, `source`). Images are decoded and resized to
 * a square (default 28 when all are ≤ 28 px, else 32), grey when all are grey, as Float32 in [0, 1],
 * channel-last. An image that does not decode is skipped with its path; a path that leads outside
 * the root (`..`, absolute, or a symlink) is refused with DATA_PATH_ESCAPE.
 */
export async function readImageFolder(root: string, limits: ByteLimits, options: ReadOptions = {}): Promise<Dataset> {
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch (err) {
    throw fsError(err, root);
  }
  const skipped: SkippedRow[] = [];
  const skip = (code: DataSkipCode, message: string, where: { path?: string; line?: number }): void => {
    skipped.push({ ...where, code, message });
  };
  const labelsCsv = join(root, 'labels.csv');
  const hasLabels = await stat(labelsCsv).then(
    (s) => s.isFile(),
    () => false,
  );
  const { entries, extra } = hasLabels ? await listFromLabelsCsv(labelsCsv, limits, options, skip) : await listFromFolders(root, skip);
  if (entries.length === 0) {
    throw new DataError('DATA_NO_IMAGES', 'no images found', {
      file: root,
      hint: 'use one subfolder per class holding .png/.jpg files, or a labels.csv with columns file,label',
    });
  }

  // Pass 1: resolve each path safely, hash the original bytes, read the header (size, channels).
  const probes = await mapPool(entries, DECODE_CONCURRENCY, async (entry): Promise<Probe | null> => {
    const abs = await resolveInside(root, realRoot, entry.rel);
    if (abs === null) {
      skip('DATA_IMAGE_MISSING', 'image file does not exist', where(entry));
      return null;
    }
    try {
      const bytes = await readLimited(abs, limits.maxBytes);
      const meta = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
      if (meta.width === undefined || meta.height === undefined) throw new Error('no image size');
      const grey = meta.channels !== undefined ? meta.channels <= 2 : meta.space === 'b-w';
      return { entry, abs, contentId: sha256Hex(bytes), width: meta.width, height: meta.height, grey };
    } catch (err) {
      skip('DATA_IMAGE_DECODE', `image does not decode: ${err instanceof Error ? err.message : String(err)}`, where(entry));
      return null;
    }
  });
  const ok = probes.filter((p): p is Probe => p !== null);
  if (ok.length === 0) {
    throw new DataError('DATA_NO_IMAGES', `none of the ${entries.length} images could be read`, {
      file: root,
      hint: `first problem: ${skipped[0]?.path ?? ''} ${skipped[0]?.message ?? ''}`,
    });
  }
  const size = options.imageSize ?? (ok.every((p) => p.width <= 28 && p.height <= 28) ? 28 : 32);
  if (!Number.isInteger(size) || size < 1 || size > 4096) {
    throw new DataError('DATA_BAD_OPTION', `image size ${size} is out of range`, { file: root, hint: 'use an integer between 1 and 4096' });
  }
  const grey = options.imageGrey ?? ok.every((p) => p.grey);
  const channels: 1 | 3 = grey ? 1 : 3;
  const per = size * size * channels;
  if (ok.length * per > MAX_PIXEL_VALUES) {
    throw new DataError('DATA_TOO_LARGE', `${ok.length} images of ${size}×${size}×${channels} exceed ${MAX_PIXEL_VALUES} pixel values`, {
      file: root,
      hint: 'use a smaller imageSize, or scan the folder in parts',
    });
  }

  // Pass 2: decode and resize. Bytes are re-read and re-hashed so the pixels match the content id.
  const decoded = await mapPool(ok, DECODE_CONCURRENCY, async (p): Promise<Uint8Array | null> => {
    try {
      const bytes = await readLimited(p.abs, limits.maxBytes);
      if (sha256Hex(bytes) !== p.contentId) throw new Error('file changed while it was being read');
      let img = sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS }).flatten({ background: '#000000' }).resize(size, size, { fit: 'fill' });
      img = grey ? img.greyscale() : img.toColourspace('srgb');
      const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
      if (info.channels !== channels || data.length !== per) throw new Error(`decoded to ${info.channels} channels, expected ${channels}`);
      return data;
    } catch (err) {
      skip('DATA_IMAGE_DECODE', `image does not decode: ${err instanceof Error ? err.message : String(err)}`, where(p.entry));
      return null;
    }
  });

  const kept: Probe[] = [];
  const rasters: Uint8Array[] = [];
  for (let i = 0; i < ok.length; i++) {
    const d = decoded[i];
    if (d !== null && d !== undefined) {
      kept.push(ok[i] as Probe);
      rasters.push(d);
    }
  }
  const n = kept.length;
  if (n === 0) throw new DataError('DATA_NO_IMAGES', 'no image could be decoded', { file: root, hint: `first problem: ${skipped[0]?.message ?? ''}` });
  const pixels = new Float32Array(n * per);
  for (let i = 0; i < n; i++) {
    const r = rasters[i] as Uint8Array;
    const base = i * per;
    for (let k = 0; k < per; k++) pixels[base + k] = (r[k] ?? 0) / 255;
  }
  const labels = kept.map((p) => p.entry.label);
  const labelNames = [...new Set(labels)].sort(compareLabels);
  const codeOf = new Map(labelNames.map((l, i) => [l, i]));
  const contentIds = kept.map((p) => p.contentId);
  skipped.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || ((a.path ?? '') < (b.path ?? '') ? -1 : 1));
  return {
    origin: { path: root, format: 'images' },
    n,
    roles: extra.roles,
    contentIds,
    ids: contentIds.map((c, i) => sampleId(c, labels[i] as string)),
    externalIds: kept.map((p) => p.entry.externalId),
    labelNames,
    labelCodes: Int32Array.from(labels, (l) => codeOf.get(l) ?? 0),
    sources: extra.hasSource ? kept.map((p) => p.entry.source) : null,
    text: null,
    textColumn: null,
    features: [],
    embedding: null,
    images: { width: size, height: size, channels, pixels, paths: kept.map((p) => p.entry.rel) },
    lineNumbers: Int32Array.from(kept, (p) => p.entry.line),
    skipped,
  };
}

function where(entry: Entry): { path: string; line?: number } {
  return entry.fromCsv ? { path: entry.rel, line: entry.line } : { path: entry.rel };
}

type Skip = (code: DataSkipCode, message: string, where: { path?: string; line?: number }) => void;
interface Listing {
  entries: Entry[];
  extra: { roles: Record<string, 'image' | 'label' | 'id' | 'source' | 'ignore'>; hasSource: boolean };
}

/** `root/<label>/<image>`: classes and files in sorted order, so row order is the same on every machine. */
async function listFromFolders(root: string, skip: Skip): Promise<Listing> {
  const entries: Entry[] = [];
  let top;
  try {
    top = (await readdir(root, { withFileTypes: true })).filter((d) => !d.name.startsWith('.')).sort(byName);
  } catch (err) {
    throw fsError(err, root);
  }
  for (const d of top) {
    if (!d.isDirectory()) {
      if (IMAGE_EXT.test(d.name)) skip('DATA_MISSING_LABEL', 'image is not inside a class folder', { path: d.name });
      continue;
    }
    let files;
    try {
      files = (await readdir(join(root, d.name), { withFileTypes: true })).filter((f) => !f.name.startsWith('.')).sort(byName);
    } catch (err) {
      throw fsError(err, join(root, d.name));
    }
    for (const f of files) {
      const rel = `${d.name}/${f.name}`;
      if (f.isDirectory()) skip('DATA_NOT_AN_IMAGE', 'nested folders are not read', { path: rel });
      else if (!IMAGE_EXT.test(f.name)) skip('DATA_NOT_AN_IMAGE', 'not a .png/.jpg/.jpeg file', { path: rel });
      else entries.push({ rel, label: d.name, line: entries.length + 1, externalId: null, source: null, fromCsv: false });
    }
  }
  return { entries, extra: { roles: { image: 'image', label: 'label' }, hasSource: false } };
}

/** `labels.csv` with `file,label[,id][,source]`; lines are its line numbers. */
async function listFromLabelsCsv(file: string, limits: ByteLimits, options: ReadOptions, skip: Skip): Promise<Listing> {
  const spec = options.columns ?? {};
  const entries: Entry[] = [];
  let idx = { file: -1, label: -1, id: -1, source: -1 };
  let header: string[] = [];
  await streamCsv(file, limits, 'auto', {
    header(names) {
      header = names;
      const find = (given: string | undefined, cands: readonly string[], what: string, required: boolean): number => {
        if (given !== undefined) {
          const i = names.indexOf(given);
          if (i === -1) throw new DataError('DATA_UNKNOWN_COLUMN', `${what} column "${given}" does not exist in labels.csv`, { file, hint: `available columns: ${names.join(', ')}` });
          return i;
        }
        const i = names.findIndex((n) => cands.includes(n.trim().toLowerCase()));
        if (i === -1 && required) {
          throw new DataError(what === 'label' ? 'DATA_NO_LABEL_COLUMN' : 'DATA_UNKNOWN_COLUMN', `labels.csv has no ${what} column`, {
            file,
            hint: `columns found: ${names.join(', ')}; labels.csv needs columns file,label`,
          });
        }
        return i;
      };
      idx = {
        file: find(spec.image, FILE_NAMES, 'file', true),
        label: find(spec.label, LABEL_NAMES, 'label', true),
        id: find(spec.id, ['id', 'uid', 'uuid', 'sample_id', '_id'], 'id', false),
        source: find(spec.source, ['source', 'origin', 'contributor', 'annotator'], 'source', false),
      };
    },
    record(fields, line) {
      if (fields.length !== header.length) {
        skip('DATA_RAGGED_ROW', `expected ${header.length} fields, found ${fields.length}`, { line });
        return;
      }
      const rel = (fields[idx.file] ?? '').trim();
      const label = fields[idx.label] ?? '';
      if (isMissing(label)) {
        skip('DATA_MISSING_LABEL', 'no label', { path: rel, line });
        return;
      }
      const opt = (i: number): string | null => (i < 0 || isMissing(fields[i]) ? null : (fields[i] as string));
      entries.push({ rel: rel.replaceAll('\\', '/'), label, line, externalId: opt(idx.id), source: opt(idx.source), fromCsv: true });
    },
  });
  const roleOf = (i: number): Listing['extra']['roles'][string] =>
    i === idx.file ? 'image' : i === idx.label ? 'label' : i === idx.id ? 'id' : i === idx.source ? 'source' : 'ignore';
  // fromEntries: a header cell named "__proto__" must stay a plain key.
  const roles: Listing['extra']['roles'] = Object.fromEntries(header.map((h, i) => [h, roleOf(i)]));
  return { entries, extra: { roles, hasSource: idx.source >= 0 } };
}

/**
 * The real path of `rel` under the root, or null when it does not exist. Throws DATA_PATH_ESCAPE for
 * a path that is absolute, climbs out with `..`, or resolves (through a symlink) outside the root:
 * a labels.csv is input, and must not make us read /etc/passwd into a report.
 */
async function resolveInside(root: string, realRoot: string, rel: string): Promise<string | null> {
  const escape = (why: string): DataError =>
    new DataError('DATA_PATH_ESCAPE', `image path ${JSON.stringify(rel)} ${why}`, { path: rel, file: root, hint: 'image paths must be relative and stay inside the dataset folder' });
  if (rel === '' || rel.includes('\0')) throw escape('is empty or holds a NUL byte');
  if (isAbsolute(rel) || /^[a-zA-Z]:/.test(rel) || rel.startsWith('/') || rel.startsWith('\\')) throw escape('is absolute');
  const abs = resolve(realRoot, rel);
  if (!isInside(realRoot, abs)) throw escape('leads outside the dataset folder');
  let real: string;
  try {
    real = await realpath(abs);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return null;
    throw fsError(err, abs);
  }
  if (!isInside(realRoot, real)) throw escape('is a link that leads outside the dataset folder');
  return real;
}

function isInside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r !== '' && r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r);
}

async function readLimited(file: string, maxBytes: number): Promise<Buffer> {
  const s = await stat(file);
  if (!s.isFile()) throw new Error('not a regular file');
  if (s.size > maxBytes) throw new Error(`file is larger than ${maxBytes} bytes`);
  return readFile(file);
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Maps with at most `limit` promises in flight; results keep input order. */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
