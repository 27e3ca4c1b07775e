import { lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGunzip, inflateRaw, inflateRawSync } from 'node:zlib';
import { DataError } from './errors.ts';
import type { DataErrorCode } from './errors.ts';

/** How much an archive may hold once expanded. Every limit is enforced on bytes actually produced. */
export interface ArchiveLimits {
  /** Regular-file entries (skipped macOS junk included); folders are capped at the same number. */
  readonly maxFiles: number;
  /** Sum of all file contents, expanded. */
  readonly maxTotalBytes: number;
  /** One file's contents, expanded. */
  readonly maxFileBytes: number;
  /** Expanded bytes / archive bytes: the zip-bomb guard (zip entries' data; a .tar.gz's tar stream). */
  readonly maxRatio: number;
  /** One entry's path, in UTF-8 bytes, after `./` is dropped. */
  readonly maxPathLength: number;
  /** Path segments in one entry's path. */
  readonly maxDepth: number;
}

export const ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxFiles: 100_000,
  maxTotalBytes: 512 * 2 ** 20,
  maxFileBytes: 32 * 2 ** 20,
  maxRatio: 200,
  maxPathLength: 255,
  maxDepth: 8,
});

export type ArchiveFormat = 'zip' | 'tar' | 'tar.gz';

export interface ExtractedArchive {
  /** Regular files written. */
  readonly files: number;
  /** Bytes of file contents written. */
  readonly bytes: number;
  readonly format: ArchiveFormat;
  /**
   * The folder to read as the dataset: `destDir`, or the single top-level folder that wraps
   * everything (people zip `my-images/`), followed down while it holds only one folder.
   */
  readonly root: string;
}

/** Writes in flight at once when extracting a zip (its entries are known up front). */
const WRITE_CONCURRENCY = 8;
/**
 * Entries up to this size inflate on the main thread (well under a millisecond each; a thread-pool
 * round trip per small image cost ~30% of the throughput); larger ones inflate off it.
 */
const SYNC_INFLATE_BYTES = 256 * 1024;
/** A tar's pax / GNU long-name records: one record, and all of them together. */
const MAX_TAR_META_BYTES = 64 * 1024;
const MAX_TAR_META_TOTAL = 16 * 2 ** 20;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const inflateRawAsync = promisify(inflateRaw);

const HINT = {
  escape: 'entry paths must be relative, use forward slashes and stay inside the archive; re-create the archive from inside the image folder',
  link: 'archives may hold only files and folders; replace links with the files they point to (tar -h, or zip without -y) and upload again',
  bad: 'the archive is damaged or was not fully uploaded; re-create it and upload it again',
  unsupported: 'upload a .zip (stored or deflate, no password), a .tar or a .tar.gz of the image folder, holding only files and folders',
} as const;

/**
 * Extracts an uploaded image-folder archive (zip, tar or tar.gz, told apart by magic bytes, never by
 * name) into `destDir`, which must be empty or not exist yet. Treats the archive as hostile: refuses
 * entries that would land outside `destDir` (absolute, `..`, backslashes, drive letters, NUL), links
 * and devices, duplicate paths, encrypted or corrupt entries, and expansion past `limits`, counted
 * on the bytes inflated and stopped as soon as a limit is passed. Only regular files (0600, created
 * with `wx`, so nothing existing is followed or overwritten) and folders (0700) are written; macOS
 * junk (`__MACOSX/`, `._*`, `.DS_Store`) is skipped.
 *
 * Throws DataError: DATA_ARCHIVE_ESCAPE (a path that leaves destDir), DATA_ARCHIVE_LINK (symbolic or
 * hard link), DATA_ARCHIVE_TOO_LARGE (a limit), DATA_ARCHIVE_BAD (corrupt, truncated, duplicate or
 * clashing entries), DATA_ARCHIVE_UNSUPPORTED (another format, encryption, devices). A failure may
 * leave part of the archive written: on any failure the CALLER removes `destDir`.
 */
export async function extractArchive(bytes: Uint8Array, destDir: string, limits: Partial<ArchiveLimits> = {}): Promise<ExtractedArchive> {
  const lim = resolveLimits(limits);
  const format = sniffFormat(bytes);
  const out = await Destination.open(destDir, lim);
  if (format === 'zip') {
    await extractZip(bytes, out, lim);
  } else {
    const source = format === 'tar' ? single(bytes) : gunzipped(bytes, lim.maxRatio * bytes.length);
    await extractTar(source, out, lim, format);
  }
  return { files: out.files, bytes: out.bytes, format, root: out.root() };
}

function resolveLimits(given: Partial<ArchiveLimits>): ArchiveLimits {
  const lim = { ...ARCHIVE_LIMITS, ...given };
  for (const [key, value] of Object.entries(lim)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new DataError('DATA_BAD_OPTION', `archive limit ${key} must be a positive integer, got ${String(value)}`, { hint: 'leave it out to use the default' });
    }
  }
  return lim;
}

function sniffFormat(b: Uint8Array): ArchiveFormat {
  if (b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6))) return 'zip';
  if (b[0] === 0x1f && b[1] === 0x8b) return 'tar.gz';
  if (b.length >= 512 && hasUstarMagic(b.subarray(0, 512))) return 'tar';
  throw new DataError('DATA_ARCHIVE_UNSUPPORTED', 'not a zip, tar or tar.gz archive', { hint: HINT.unsupported });
}

function fail(code: DataErrorCode, message: string, path?: string): DataError {
  const hint =
    code === 'DATA_ARCHIVE_ESCAPE' ? HINT.escape : code === 'DATA_ARCHIVE_LINK' ? HINT.link : code === 'DATA_ARCHIVE_UNSUPPORTED' ? HINT.unsupported : HINT.bad;
  return new DataError(code, message, path === undefined ? { hint } : { path, hint });
}

function tooLarge(message: string, path?: string): DataError {
  const hint = 'split the dataset into several smaller archives, or ask the operator to raise the archive limits';
  return new DataError('DATA_ARCHIVE_TOO_LARGE', message, path === undefined ? { hint } : { path, hint });
}

/** An entry's path, checked and split, or null for the archive root itself (`./`). */
function entrySegments(raw: string, lim: ArchiveLimits): string[] | null {
  const where = JSON.stringify(raw);
  if (raw.includes('\0')) throw fail('DATA_ARCHIVE_ESCAPE', `entry ${where} holds a NUL byte`, raw);
  if (raw.includes('\\')) throw fail('DATA_ARCHIVE_ESCAPE', `entry ${where} holds a backslash`, raw);
  if (raw.startsWith('/')) throw fail('DATA_ARCHIVE_ESCAPE', `entry ${where} is an absolute path`, raw);
  if (/^[A-Za-z]:/.test(raw)) throw fail('DATA_ARCHIVE_ESCAPE', `entry ${where} starts with a drive letter`, raw);
  // Control characters are no escape, but they would reach terminals and reports through file names.
  if (/[\x01-\x1f\x7f]/.test(raw)) throw fail('DATA_ARCHIVE_BAD', `entry ${where} holds a control character`, raw);
  const parts = raw.split('/');
  if (parts.at(-1) === '') parts.pop();
  const segments: string[] = [];
  for (const part of parts) {
    if (part === '..') throw fail('DATA_ARCHIVE_ESCAPE', `entry ${where} climbs out with ".."`, raw);
    if (part === '') throw fail('DATA_ARCHIVE_BAD', `entry ${where} has an empty path segment`, raw);
    if (part !== '.') segments.push(part);
  }
  if (segments.length === 0) return null;
  if (segments.length > lim.maxDepth) throw tooLarge(`entry ${where} is nested ${segments.length} folders deep, more than ${lim.maxDepth}`, raw);
  if (Buffer.byteLength(segments.join('/')) > lim.maxPathLength) throw tooLarge(`entry ${where} has a path longer than ${lim.maxPathLength} bytes`, raw);
  return segments;
}

function isMacJunk(segments: readonly string[]): boolean {
  const base = segments.at(-1) ?? '';
  return segments.includes('__MACOSX') || base.startsWith('._') || base === '.DS_Store';
}

interface Folder {
  readonly folders: Set<string>;
  readonly files: Set<string>;
}

/**
 * The extraction target: claims each entry path once (duplicates, also after case and Unicode
 * folding, are refused so the same archive extracts the same way on every file system), creates
 * folders, writes files exclusively, and keeps the counts.
 */
class Destination {
  files = 0;
  bytes = 0;
  private fileEntries = 0;
  private readonly claimed = new Set<string>();
  private readonly tree = new Map<string, Folder>([['', { folders: new Set(), files: new Set() }]]);

  private constructor(
    private readonly dir: string,
    private readonly lim: ArchiveLimits,
  ) {}

  static async open(dir: string, lim: ArchiveLimits): Promise<Destination> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const s = await lstat(dir);
    if (!s.isDirectory() || (await readdir(dir)).length > 0) {
      throw new DataError('DATA_BAD_OPTION', 'the extraction folder must be a new, empty folder', { file: dir, hint: 'extract into a fresh temporary folder' });
    }
    return new Destination(dir, lim);
  }

  /** Checks and claims an entry; null when it is skipped (the root itself, or macOS junk). */
  claim(raw: string, kind: 'file' | 'folder'): string[] | null {
    const segments = entrySegments(raw, this.lim);
    if (kind === 'file' && ++this.fileEntries > this.lim.maxFiles) throw tooLarge(`the archive holds more than ${this.lim.maxFiles} files`);
    if (segments === null) return null;
    const key = segments.join('/').normalize('NFC').toLowerCase();
    if (this.claimed.has(key)) throw fail('DATA_ARCHIVE_BAD', `entry ${JSON.stringify(raw)} appears twice (or differs from another only in case)`, raw);
    this.claimed.add(key);
    return isMacJunk(segments) ? null : segments;
  }

  /** Creates the folders along `segments` (all of them, or all but the last) that do not exist yet. */
  async makeFolders(segments: readonly string[], count = segments.length): Promise<void> {
    let rel = '';
    for (let i = 0; i < count; i++) {
      const name = segments[i] as string;
      const child = rel === '' ? name : `${rel}/${name}`;
      if (!this.tree.has(child)) {
        if (this.tree.size > this.lim.maxFiles) throw tooLarge(`the archive holds more than ${this.lim.maxFiles} folders`);
        await this.fs(child, () => mkdir(join(this.dir, ...segments.slice(0, i + 1)), { mode: 0o700 }));
        this.tree.set(child, { folders: new Set(), files: new Set() });
        this.tree.get(rel)?.folders.add(name);
      }
      rel = child;
    }
  }

  /** Writes one file; its folders must exist (makeFolders). */
  async writeFile(segments: readonly string[], data: Uint8Array): Promise<void> {
    const rel = segments.join('/');
    await this.fs(rel, () => writeFile(join(this.dir, ...segments), data, { flag: 'wx', mode: 0o600 }));
    this.tree.get(segments.slice(0, -1).join('/'))?.files.add(segments.at(-1) as string);
    this.files++;
    this.bytes += data.length;
  }

  root(): string {
    let rel = '';
    for (;;) {
      const here = this.tree.get(rel);
      if (here === undefined || here.files.size > 0 || here.folders.size !== 1) break;
      const only = [...here.folders][0] as string;
      const child = rel === '' ? only : `${rel}/${only}`;
      const inner = this.tree.get(child);
      // A folder of files only is a class folder (root/<label>/*.png), not a wrapper.
      if (inner === undefined || (inner.folders.size === 0 && !inner.files.has('labels.csv'))) break;
      rel = child;
    }
    return rel === '' ? this.dir : join(this.dir, ...rel.split('/'));
  }

  /** A name that already exists here was written by this archive: a file/folder clash, or a case clash. */
  private async fs(rel: string, op: () => Promise<unknown>): Promise<void> {
    try {
      await op();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
        throw fail('DATA_ARCHIVE_BAD', `entry ${JSON.stringify(rel)} clashes with another entry (a file and a folder of the same name)`, rel);
      }
      throw err;
    }
  }
}

// ---------------------------------------------------------------- zip (APPNOTE 6.3.10)

interface ZipEntry {
  readonly name: string;
  readonly segments: string[] | null;
  readonly folder: boolean;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly headerOffset: number;
  readonly dataStart: number;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/**
 * Reads the central directory (the only place that holds unix modes, so links can be seen) and
 * checks every entry before anything is written; then inflates each file with its declared size as
 * a hard output cap, and checks size and CRC-32.
 */
async function extractZip(b: Uint8Array, out: Destination, lim: ArchiveLimits): Promise<void> {
  const entries = readZipDirectory(b, out, lim);
  const files = entries.filter((e) => !e.folder && e.segments !== null);
  let total = 0;
  for (const e of entries) {
    if (e.folder) continue;
    if (e.size > lim.maxFileBytes) throw tooLarge(`entry ${JSON.stringify(e.name)} expands to ${e.size} bytes, more than ${lim.maxFileBytes}`, e.name);
    total += e.size;
  }
  if (total > lim.maxTotalBytes) throw tooLarge(`the archive expands to ${total} bytes, more than ${lim.maxTotalBytes}`);
  if (total > lim.maxRatio * b.length) throw tooLarge(`the archive expands ${Math.round(total / b.length)}× its size, more than ${lim.maxRatio}× (a zip bomb?)`);

  for (const e of entries) {
    if (e.segments !== null) await out.makeFolders(e.segments, e.folder ? e.segments.length : e.segments.length - 1);
  }
  const write = async (e: ZipEntry): Promise<void> => out.writeFile(e.segments as string[], await inflateEntry(b, e));
  // Small files several at a time, large ones one by one: at most ~maxFileBytes + 2 MiB inflated at once.
  await eachUntilFailure(files.filter((e) => e.size <= SYNC_INFLATE_BYTES), WRITE_CONCURRENCY, write);
  await eachUntilFailure(files.filter((e) => e.size > SYNC_INFLATE_BYTES), 1, write);
}

/**
 * Runs `fn` over the items, `limit` at a time; after the first failure starts nothing new and waits
 * for what is in flight before throwing, so no write lands after the caller has removed destDir.
 */
async function eachUntilFailure<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      try {
        await fn(items[next++] as T);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}

async function inflateEntry(b: Uint8Array, e: ZipEntry): Promise<Uint8Array> {
  const raw = b.subarray(e.dataStart, e.dataStart + e.compressedSize);
  let data: Uint8Array = raw;
  if (e.method === 8) {
    try {
      // maxOutputLength stops zlib as soon as it has produced more than the entry declared.
      const options = { maxOutputLength: Math.max(1, e.size) };
      data = e.size <= SYNC_INFLATE_BYTES ? inflateRawSync(raw, options) : await inflateRawAsync(raw, options);
    } catch (err) {
      // Past its declared size is past the allowance the limits were checked against: a bomb, not noise.
      if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(`entry ${JSON.stringify(e.name)} inflates to more than the ${e.size} bytes it declares`, e.name);
      throw fail('DATA_ARCHIVE_BAD', `entry ${JSON.stringify(e.name)} does not inflate`, e.name);
    }
  }
  if (data.length !== e.size) throw fail('DATA_ARCHIVE_BAD', `entry ${JSON.stringify(e.name)} is ${data.length} bytes, not the ${e.size} it declares`, e.name);
  if (crc32(data) !== e.crc) throw fail('DATA_ARCHIVE_BAD', `entry ${JSON.stringify(e.name)} fails its CRC-32 check`, e.name);
  return data;
}

function readZipDirectory(b: Uint8Array, out: Destination, lim: ArchiveLimits): ZipEntry[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const corrupt = (what: string): DataError => fail('DATA_ARCHIVE_BAD', `corrupt zip: ${what}`);
  const u16 = (o: number): number => {
    if (o < 0 || o + 2 > b.length) throw corrupt('a record runs past the end of the file');
    return view.getUint16(o, true);
  };
  const u32 = (o: number): number => {
    if (o < 0 || o + 4 > b.length) throw corrupt('a record runs past the end of the file');
    return view.getUint32(o, true);
  };
  const u64 = (o: number): number => {
    if (o < 0 || o + 8 > b.length) throw corrupt('a record runs past the end of the file');
    const v = view.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt('a 64-bit size is out of range');
    return Number(v);
  };

  // End of central directory: the last record whose comment ends exactly at the end of the file.
  let eocd = -1;
  for (let o = b.length - 22; o >= Math.max(0, b.length - 22 - 0xffff); o--) {
    if (view.getUint32(o, true) === 0x06054b50 && o + 22 + view.getUint16(o + 20, true) === b.length) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0) throw corrupt('no end-of-central-directory record (truncated upload?)');
  let disk = u16(eocd + 4);
  let cdDisk = u16(eocd + 6);
  let onDisk = u16(eocd + 8);
  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  let cdLimit = eocd;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff || onDisk === 0xffff) {
    const locator = eocd - 20;
    if (locator < 0 || u32(locator) !== 0x07064b50) throw corrupt('missing zip64 locator');
    const z = u64(locator + 8);
    if (u32(z) !== 0x06064b50) throw corrupt('missing zip64 end-of-central-directory record');
    disk = u32(z + 16);
    cdDisk = u32(z + 20);
    onDisk = u64(z + 24);
    count = u64(z + 32);
    cdSize = u64(z + 40);
    cdOffset = u64(z + 48);
    cdLimit = z;
  }
  if (disk !== 0 || cdDisk !== 0 || onDisk !== count) throw fail('DATA_ARCHIVE_UNSUPPORTED', 'multi-part (split) zip archives are not supported');
  if (count > 2 * lim.maxFiles) throw tooLarge(`the archive holds ${count} entries, more than ${lim.maxFiles} files and ${lim.maxFiles} folders`);
  const cdEnd = cdOffset + cdSize;
  if (cdEnd > cdLimit || count * 46 > cdSize) throw corrupt('the central directory is out of bounds');

  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdEnd || u32(p) !== 0x02014b50) throw corrupt('bad central directory entry');
    const flags = u16(p + 8);
    const method = u16(p + 10);
    const crc = u32(p + 16);
    let compressedSize = u32(p + 20);
    let size = u32(p + 24);
    const nameLen = u16(p + 28);
    const extraLen = u16(p + 30);
    const commentLen = u16(p + 32);
    const attrs = u32(p + 38);
    let headerOffset = u32(p + 42);
    const nameBytes = b.subarray(p + 46, p + 46 + nameLen);
    const extraEnd = p + 46 + nameLen + extraLen;
    if (extraEnd + commentLen > cdEnd) throw corrupt('a central directory entry runs past its end');
    // Zip64 extra field: 64-bit values, in this order, for exactly the fields that hold 0xffffffff.
    for (let x = p + 46 + nameLen; x + 4 <= extraEnd; ) {
      const id = u16(x);
      const len = u16(x + 2);
      if (x + 4 + len > extraEnd) throw corrupt('an extra field runs past its end');
      if (id === 0x0001) {
        let y = x + 4;
        const next = (): number => {
          if (y + 8 > x + 4 + len) throw corrupt('short zip64 extra field');
          const v = u64(y);
          y += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (headerOffset === 0xffffffff) headerOffset = next();
      }
      x += 4 + len;
    }
    p = extraEnd + commentLen;

    let name: string;
    try {
      name = utf8.decode(nameBytes);
    } catch {
      throw new DataError('DATA_ARCHIVE_BAD', `entry name ${JSON.stringify(Buffer.from(nameBytes).toString('latin1'))} is not UTF-8`, {
        hint: 're-create the archive with a tool that stores UTF-8 file names (zip 3, 7-Zip, macOS Archive Utility), or rename the files to ASCII',
      });
    }
    const type = (attrs >>> 16) & S_IFMT;
    if (type === S_IFLNK) throw fail('DATA_ARCHIVE_LINK', `entry ${JSON.stringify(name)} is a symbolic link`, name);
    if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) throw fail('DATA_ARCHIVE_UNSUPPORTED', `entry ${JSON.stringify(name)} is a device, FIFO or socket`, name);
    if ((flags & 0x41) !== 0 || method === 99) throw fail('DATA_ARCHIVE_UNSUPPORTED', `entry ${JSON.stringify(name)} is encrypted`, name);
    if (method !== 0 && method !== 8) throw fail('DATA_ARCHIVE_UNSUPPORTED', `entry ${JSON.stringify(name)} uses compression method ${method}; only stored and deflate are supported`, name);
    const folder = name.endsWith('/') || type === S_IFDIR;
    if (folder && size !== 0) throw corrupt(`folder entry ${JSON.stringify(name)} has contents`);
    if (method === 0 && compressedSize !== size) throw corrupt(`stored entry ${JSON.stringify(name)} has two different sizes`);
    const segments = out.claim(name, folder ? 'folder' : 'file');

    // The local header must repeat the name: tools that read local headers must see what we see.
    const h = headerOffset;
    if (u32(h) !== 0x04034b50) throw corrupt(`no local header for ${JSON.stringify(name)}`);
    const localNameLen = u16(h + 26);
    const dataStart = h + 30 + localNameLen + u16(h + 28);
    if (u16(h + 8) !== method || !Buffer.from(b.buffer, b.byteOffset + h + 30, Math.min(localNameLen, b.length - h - 30)).equals(nameBytes)) {
      throw corrupt(`the local header of ${JSON.stringify(name)} disagrees with the central directory`);
    }
    if (dataStart + compressedSize > cdOffset) throw corrupt(`the data of ${JSON.stringify(name)} runs into the central directory`);
    entries.push({ name, segments, folder, method, crc, compressedSize, size, headerOffset, dataStart });
  }
  if (p !== cdEnd) throw corrupt('the central directory size disagrees with its entries');

  // Entries that share bytes are the "overlapping files" zip bomb; honest writers never overlap.
  const byOffset = [...entries].sort((x, y) => x.headerOffset - y.headerOffset);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1] as ZipEntry;
    const cur = byOffset[i] as ZipEntry;
    if (cur.headerOffset < prev.dataStart + prev.compressedSize) throw corrupt(`entries ${JSON.stringify(prev.name)} and ${JSON.stringify(cur.name)} overlap`);
  }
  return entries;
}

let crcTable: Uint32Array | undefined;
/** CRC-32 (IEEE), as zip stores it. zlib.crc32 needs Node 20.15; engines allow 20.9. */
function crc32(data: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = (t[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------- tar (POSIX ustar + pax, GNU)

async function* single(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** The gunzipped stream, refused once it passes `cap` bytes; the inflater is destroyed when left early. */
async function* gunzipped(bytes: Uint8Array, cap: number): AsyncGenerator<Uint8Array> {
  const gz = createGunzip({ chunkSize: 64 * 1024 });
  gz.end(bytes);
  let produced = 0;
  try {
    for await (const chunk of gz as AsyncIterable<Buffer>) {
      produced += chunk.length;
      if (produced > cap) throw tooLarge(`the archive expands more than ${Math.round(cap / bytes.length)}× its size (a gzip bomb?)`);
      yield chunk;
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw fail('DATA_ARCHIVE_BAD', `corrupt or truncated gzip data: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    gz.destroy();
  }
}

/** Exact-length reads over a stream of chunks. */
class ByteQueue {
  private head: Uint8Array = new Uint8Array(0);
  /** The source has no more chunks. */
  ended = false;
  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  /** Exactly n bytes, or null when the stream ended cleanly before the first of them. */
  async take(n: number): Promise<Uint8Array | null> {
    if (this.head.length >= n) {
      const got = this.head.subarray(0, n);
      this.head = this.head.subarray(n);
      return got;
    }
    const parts = [this.head];
    let have = this.head.length;
    while (have < n) {
      const next = await this.source.next();
      if (next.done === true) {
        this.ended = true;
        if (have === 0) return null;
        throw fail('DATA_ARCHIVE_BAD', 'the tar archive is truncated (incomplete upload?)');
      }
      parts.push(next.value);
      have += next.value.length;
    }
    const all = Buffer.concat(parts, have);
    this.head = all.subarray(n);
    return all.subarray(0, n);
  }

  async must(n: number): Promise<Uint8Array> {
    const got = await this.take(n);
    if (got === null && n > 0) throw fail('DATA_ARCHIVE_BAD', 'the tar archive is truncated (incomplete upload?)');
    return got ?? new Uint8Array(0);
  }
}

function hasUstarMagic(h: Uint8Array): boolean {
  // "ustar\0" (POSIX) or "ustar " (GNU).
  return h[257] === 0x75 && h[258] === 0x73 && h[259] === 0x74 && h[260] === 0x61 && h[261] === 0x72 && (h[262] === 0 || h[262] === 0x20);
}

async function extractTar(chunks: AsyncGenerator<Uint8Array>, out: Destination, lim: ArchiveLimits, format: ArchiveFormat): Promise<void> {
  const q = new ByteQueue(chunks);
  const corrupt = (what: string): DataError => fail('DATA_ARCHIVE_BAD', `corrupt tar: ${what}`);
  let pending: { path?: string; size?: number } = {};
  let metaRecords = 0;
  let metaBytes = 0;
  let total = 0;
  try {
    const notTar = (): DataError => fail('DATA_ARCHIVE_UNSUPPORTED', `the ${format === 'tar.gz' ? 'gzip data does not hold' : 'file is not'} a ustar/pax/GNU tar archive`);
    for (let first = true; ; first = false) {
      let h: Uint8Array | null;
      try {
        h = await q.take(512);
      } catch (err) {
        // Less than one block of data: gzip of something else, not a truncated tar.
        throw first && q.ended ? notTar() : err;
      }
      if (h === null) throw corrupt('no end-of-archive marker (truncated upload?)');
      if (h.every((x) => x === 0)) return;
      if (!hasUstarMagic(h)) {
        if (first) throw notTar();
        throw corrupt('a header without the ustar magic');
      }
      if (!checksumOk(h)) throw corrupt('a header fails its checksum');
      const type = String.fromCharCode(h[156] as number);
      const headerSize = tarNumber(h, 124, 12, corrupt);
      const padded = async (n: number): Promise<Uint8Array> => {
        const body = await q.must(n);
        await q.must((512 - (n % 512)) % 512);
        return body;
      };

      if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
        metaBytes += 512 + headerSize;
        if (headerSize > MAX_TAR_META_BYTES || metaBytes > MAX_TAR_META_TOTAL || ++metaRecords > 4) throw corrupt('too many or too large pax / long-name records');
        const body = await padded(headerSize);
        if (type === 'x') pending = { ...pending, ...parsePax(body, corrupt) };
        else if (type === 'L') pending = { ...pending, path: decodeName(body.subarray(0, nulAt(body, 0, body.length))) };
        continue; // 'g' (global) holds nothing we use; 'K' names a link target, and links are refused.
      }
      metaRecords = 0;
      const name = pending.path ?? ustarName(h);
      const size = pending.size ?? headerSize;
      pending = {};

      if (type === '1' || type === '2') throw fail('DATA_ARCHIVE_LINK', `entry ${JSON.stringify(name)} is a ${type === '1' ? 'hard' : 'symbolic'} link`, name);
      const folder = type === '5' || ((type === '0' || type === '\0') && name.endsWith('/') && size === 0);
      if (!folder && type !== '0' && type !== '\0' && type !== '7') {
        const what = type === '3' || type === '4' ? 'a device' : type === '6' ? 'a FIFO' : `of tar type ${JSON.stringify(type)}`;
        throw fail('DATA_ARCHIVE_UNSUPPORTED', `entry ${JSON.stringify(name)} is ${what}; only files and folders are supported`, name);
      }
      const segments = out.claim(name, folder ? 'folder' : 'file');
      if (folder) {
        if (size !== 0) throw corrupt(`folder entry ${JSON.stringify(name)} has contents`);
        if (segments !== null) await out.makeFolders(segments);
        continue;
      }
      if (size > lim.maxFileBytes) throw tooLarge(`entry ${JSON.stringify(name)} is ${size} bytes, more than ${lim.maxFileBytes}`, name);
      total += size;
      if (total > lim.maxTotalBytes) throw tooLarge(`the archive holds more than ${lim.maxTotalBytes} bytes of files`);
      const data = await padded(size);
      if (segments === null) continue;
      await out.makeFolders(segments, segments.length - 1);
      await out.writeFile(segments, data);
    }
  } finally {
    await chunks.return(undefined);
  }
}

function checksumOk(h: Uint8Array): boolean {
  const stored = Number.parseInt(Buffer.from(h.subarray(148, 156)).toString('latin1').replace(/[\0 ]+/g, ' ').trim(), 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : (h[i] as number);
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return stored === unsigned || stored === signed;
}

/** An octal field, or GNU base-256 when the top bit is set. */
function tarNumber(h: Uint8Array, at: number, len: number, corrupt: (w: string) => DataError): number {
  const first = h[at] as number;
  if (first & 0x80) {
    if (first !== 0x80) throw corrupt('a negative size');
    let v = 0;
    for (let i = at + 1; i < at + len; i++) v = v * 256 + (h[i] as number);
    if (!Number.isSafeInteger(v)) throw corrupt('a size out of range');
    return v;
  }
  const text = Buffer.from(h.subarray(at, at + len)).toString('latin1').replace(/\0.*$/s, '').trim();
  if (!/^[0-7]*$/.test(text)) throw corrupt('a size that is not an octal number');
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function nulAt(b: Uint8Array, from: number, to: number): number {
  const i = b.subarray(from, to).indexOf(0);
  return i < 0 ? to : from + i;
}

function decodeName(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw fail('DATA_ARCHIVE_BAD', `entry name ${JSON.stringify(Buffer.from(bytes).toString('latin1'))} is not UTF-8`);
  }
}

/** name, with the POSIX prefix field in front (GNU headers keep other data there). */
function ustarName(h: Uint8Array): string {
  const name = decodeName(h.subarray(0, nulAt(h, 0, 100)));
  if (h[262] !== 0) return name;
  const prefix = decodeName(h.subarray(345, nulAt(h, 345, 500)));
  return prefix === '' ? name : `${prefix}/${name}`;
}

/** pax records: "<len> <key>=<value>\n"; only path and size matter here. */
function parsePax(body: Uint8Array, corrupt: (w: string) => DataError): { path?: string; size?: number } {
  const found: { path?: string; size?: number } = {};
  for (let p = 0; p < body.length && body[p] !== 0; ) {
    const space = body.indexOf(0x20, p);
    const len = space < 0 ? NaN : Number(Buffer.from(body.subarray(p, space)).toString('latin1'));
    if (!Number.isSafeInteger(len) || len <= space - p + 1 || p + len > body.length || body[p + len - 1] !== 0x0a) throw corrupt('a malformed pax record');
    const record = decodeName(body.subarray(space + 1, p + len - 1));
    const eq = record.indexOf('=');
    if (eq < 0) throw corrupt('a malformed pax record');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') found.path = value;
    else if (key === 'size') {
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw corrupt('a pax size that is not a number');
      found.size = Number(value);
    } else if (key.startsWith('GNU.sparse.')) throw fail('DATA_ARCHIVE_UNSUPPORTED', 'sparse files in tar archives are not supported');
    p += len;
  }
  return found;
}
