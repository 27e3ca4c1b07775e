/**
 * Blobs as files under a root folder. Every write goes to a dot-prefixed temp file in the target's
 * own folder, is fsynced, renamed (or, for create-if-absent, hard-linked) into place, and the folder
 * is fsynced: after a crash a blob is either whole or absent, never partly written.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { link, mkdir, open, opendir, readFile, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { checkBlobName } from './backend.ts';
import type { BlobBackend, BlobRead, WriteOptions } from './backend.ts';
import { VaultError } from './errors.ts';
import { fsyncDir } from '../core/index.ts';

export interface FileBackendOptions {
  /** fsync files and folders (default true). Turn off only for throwaway stores. */
  readonly fsync?: boolean;
}

/** Bytes gathered per writev: few syscalls, and one batch in flight while the next is produced. */
const WRITE_BATCH = 1024 * 1024;
const READ_CHUNK = 1024 * 1024;
/** Files up to this size are read synchronously (see #readSmall). */
const SMALL_FILE = 64 * 1024;

export class FileBackend implements BlobBackend {
  readonly root: string;
  readonly location: string;
  readonly #fsync: boolean;
  readonly #knownDirs = new Set<string>();

  constructor(root: string, options: FileBackendOptions = {}) {
    this.root = root;
    this.location = root;
    this.#fsync = options.fsync ?? true;
  }

  #path(name: string): string {
    checkBlobName(name);
    return join(this.root, ...name.split('/'));
  }

  async write(name: string, data: Uint8Array, options: WriteOptions = {}): Promise<boolean> {
    const target = this.#path(name);
    const dir = dirname(target);
    const tmp = tempPath(dir);
    let renamed = false;
    try {
      await this.#ensureDir(dir);
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await writeAll(fh, [data]);
        if (this.#fsync) await fh.sync();
      } finally {
        await fh.close();
      }
      if (options.ifAbsent === true) {
        // link() fails with EEXIST instead of replacing: an atomic create-if-absent.
        try {
          await link(tmp, target);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
          throw err;
        }
      } else {
        await rename(tmp, target);
        renamed = true;
      }
      await this.#syncDir(dir);
      return true;
    } catch (err) {
      throw ioError('writing', name, err);
    } finally {
      if (!renamed) await unlink(tmp).catch(() => undefined);
    }
  }

  async writeStream(name: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    const target = this.#path(name);
    const dir = dirname(target);
    const tmp = tempPath(dir);
    let fh: FileHandle | undefined;
    let inFlight: Promise<void> = Promise.resolve();
    let sourceFailed = false;
    let iterator: AsyncIterator<Uint8Array> | undefined;
    try {
      await this.#ensureDir(dir);
      fh = await open(tmp, 'wx', 0o600);
      let batch: Uint8Array[] = [];
      let batchBytes = 0;
      iterator = source[Symbol.asyncIterator]();
      for (;;) {
        let step: IteratorResult<Uint8Array>;
        try {
          step = await iterator.next();
        } catch (err) {
          sourceFailed = true;
          throw err;
        }
        if (step.done === true) break;
        batch.push(step.value);
        batchBytes += step.value.byteLength;
        if (batchBytes >= WRITE_BATCH) {
          await inFlight;
          inFlight = writeAll(fh, batch);
          inFlight.catch(() => undefined); // observed by the next await; never an unhandled rejection
          batch = [];
          batchBytes = 0;
        }
      }
      await inFlight;
      await writeAll(fh, batch);
      if (this.#fsync) await fh.sync();
      await fh.close();
      fh = undefined;
      await rename(tmp, target);
      await this.#syncDir(dir);
    } catch (err) {
      // Close the source too (it may hold a file, or the vault's hash workers).
      if (!sourceFailed) await iterator?.return?.().catch(() => undefined);
      await inFlight.catch(() => undefined);
      await fh?.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      if (sourceFailed) throw err;
      throw ioError('writing', name, err);
    }
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    const path = this.#path(name);
    try {
      return (await this.#readSmall(path)) ?? (await readFile(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError('reading', name, err);
    }
  }

  async readStream(name: string): Promise<BlobRead | undefined> {
    const path = this.#path(name);
    let fh: FileHandle;
    try {
      const small = await this.#readSmall(path);
      if (small !== undefined) return { size: small.byteLength, stream: Readable.from([small], { objectMode: false }) };
      fh = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError('reading', name, err);
    }
    try {
      const { size } = await fh.stat();
      // The stream owns the descriptor from here and closes it at end, on error or on destroy.
      return { size, stream: fh.createReadStream({ highWaterMark: READ_CHUNK }) };
    } catch (err) {
      await fh.close();
      throw ioError('reading', name, err);
    }
  }

  /**
   * A file of at most {@link SMALL_FILE} bytes, read synchronously; undefined for a larger one.
   * Synchronous on purpose: an async read is four thread-pool round trips (~0.5 ms measured here)
   * against ~30 µs, and every get reads a header of a few hundred bytes.
   */
  async #readSmall(path: string): Promise<Buffer | undefined> {
    const fd = openSync(path, 'r');
    try {
      if (fstatSync(fd).size > SMALL_FILE) return undefined;
      return readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  async delete(name: string): Promise<boolean> {
    const path = this.#path(name);
    try {
      await unlink(path);
      await this.#syncDir(dirname(path));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw ioError('deleting', name, err);
    }
  }

  async *list(prefix: string): AsyncGenerator<string> {
    const start = this.#path(prefix);
    const stack: [dir: string, name: string][] = [[start, prefix]];
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      const [dir, name] = top;
      // Each folder is read whole before its names are handed out, so rewriting a blob while the
      // caller walks (rotation does) cannot make the walk skip or repeat an entry.
      const entries: { name: string; dir: boolean }[] = [];
      try {
        for await (const e of await opendir(dir)) {
          if (!e.name.startsWith('.') && (e.isFile() || e.isDirectory())) entries.push({ name: e.name, dir: e.isDirectory() });
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw ioError('listing', name, err);
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : 1));
      for (const e of entries) if (!e.dir) yield `${name}/${e.name}`;
      for (const e of entries.reverse()) if (e.dir) stack.push([join(dir, e.name), `${name}/${e.name}`]);
    }
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  async #syncDir(dir: string): Promise<void> {
    if (this.#fsync) await fsyncDir(dir);
  }

  /** mkdir -p that fsyncs the parent of each folder it creates, so new entries survive a crash. */
  async #ensureDir(dir: string): Promise<void> {
    if (this.#knownDirs.has(dir)) return;
    const first = await mkdir(dir, { recursive: true, mode: 0o700 });
    if (first !== undefined) {
      const created: string[] = [];
      for (let d = dir; ; d = dirname(d)) {
        created.push(d);
        if (d === first || d === dirname(d)) break;
      }
      for (const d of created.reverse()) await this.#syncDir(dirname(d));
    }
    this.#knownDirs.add(dir);
  }
}

function tempPath(dir: string): string {
  return join(dir, `.tmp-${process.pid}-${randomBytes(8).toString('hex')}`);
}

/** writev until every byte is written (a regular file may still take a short write). */
async function writeAll(fh: FileHandle, buffers: Uint8Array[]): Promise<void> {
  let rest = buffers.filter((b) => b.byteLength > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await fh.writev(rest);
    const next: Uint8Array[] = [];
    for (const b of rest) {
      if (bytesWritten >= b.byteLength) bytesWritten -= b.byteLength;
      else {
        next.push(b.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    rest = next;
  }
}

function ioError(doing: string, name: string, cause: unknown): VaultError {
  if (cause instanceof VaultError) return cause;
  const code = (cause as NodeJS.ErrnoException).code ?? 'error';
  const hint =
    code === 'ENOSPC' ? 'the disk is full; free space and retry'
    : code === 'EACCES' || code === 'EPERM' ? 'check the permissions of the vault folder'
    : 'check the vault folder and retry';
  return new VaultError('VAULT_IO', `${doing} ${name} failed (${code})`, { path: name, hint, cause });
}
