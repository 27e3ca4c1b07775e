import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { AccessError } from './errors.ts';
import { ACCESS_FILE_FORMAT, accessFileSchema, stateFromFile } from './schema.ts';
import { copyState, emptyState, SerialQueue, StateAccess } from './state.ts';
import type { AccessState } from './state.ts';
import type { AccessReader, AccessStore, AccessTx } from './store.ts';
import { fsyncDir, isProcessAlive } from '../core/index.ts';

/**
 * An access store in one JSON file, `<dir>/access.json`, for the CLI and the embedded service.
 * Each transaction takes a lock file (so several CLI processes can share the directory), rereads
 * the file if another process changed it, and replaces it atomically: temp file (0600), fsync,
 * rename, fsync of the directory. A crash leaves the old or the new file, never a mix.
 * The file holds password and token hashes, so it must not be readable by others: a file with any
 * group or other permission bit is refused, as ssh refuses a private key.
 */

export const ACCESS_FILE = 'access.json';
const LOCK_SUFFIX = '.lock';

export interface FileAccessStoreOptions {
  /** How long a transaction waits for another process's lock before ACCESS_LOCKED (default 10 s). */
  readonly lockTimeoutMs?: number;
}

/** What identifies one version of the file: a rename makes a new inode, a write a new mtime. */
interface Loaded {
  readonly state: AccessState;
  readonly version: string | null;
}

export class FileAccessStore implements AccessStore {
  readonly dir: string;
  readonly path: string;
  readonly #lockPath: string;
  readonly #lockTimeoutMs: number;
  readonly #queue = new SerialQueue();
  #loaded: Loaded = { state: emptyState(), version: null };

  private constructor(dir: string, options: FileAccessStoreOptions) {
    this.dir = dir;
    this.path = join(dir, ACCESS_FILE);
    this.#lockPath = this.path + LOCK_SUFFIX;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  }

  /** Opens (creating the directory, 0700, if needed) and validates the store in `dir`. */
  static async open(dir: string, options: FileAccessStoreOptions = {}): Promise<FileAccessStore> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw ioError(`cannot create the access store directory ${dir}`, dir, err);
    }
    const store = new FileAccessStore(dir, options);
    await store.#current();
    return store;
  }

  async read<T>(fn: (reader: AccessReader) => Promise<T>): Promise<T> {
    return fn(new StateAccess(await this.#current()));
  }

  transaction<T>(fn: (tx: AccessTx) => Promise<T>): Promise<T> {
    return this.#queue.run(async () => {
      const release = await this.#lock();
      try {
        const working = copyState(await this.#current());
        const tx = new StateAccess(working);
        const result = await fn(tx);
        if (tx.changed) this.#loaded = { state: working, version: await this.#write(working) };
        return result;
      } finally {
        await release();
      }
    });
  }

  /** The committed state, reread when the file changed since it was last read or written. */
  async #current(): Promise<AccessState> {
    let st: BigIntStats;
    try {
      st = await stat(this.path, { bigint: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`cannot read ${this.path}`, this.path, err);
      // Never treat a vanished file as an empty store: that would reopen bootstrap to anyone.
      if (this.#loaded.version !== null) {
        throw new AccessError('ACCESS_CORRUPT', `access store ${this.path} has disappeared`, {
          path: this.path,
          hint: 'restore access.json from a backup; TrainGuard does not recreate a store that existed',
        });
      }
      return this.#loaded.state;
    }
    checkMode(this.path, st);
    const version = versionOf(st);
    if (version !== this.#loaded.version) this.#loaded = { state: await this.#load(), version };
    return this.#loaded.state;
  }

  async #load(): Promise<AccessState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      throw ioError(`cannot read ${this.path}`, this.path, err);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw corrupt(this.path, `is not JSON (${(err as Error).message})`, err);
    }
    const parsed = accessFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
      throw corrupt(this.path, `is not a valid access store${where}: ${issue?.message ?? 'invalid'}`, parsed.error);
    }
    return stateFromFile(parsed.data);
  }

  /** Replaces the file atomically; returns the new file's version. */
  async #write(state: AccessState): Promise<string> {
    const text = `${JSON.stringify({ format: ACCESS_FILE_FORMAT, ...state }, null, 1)}\n`;
    const temp = join(this.dir, `.${ACCESS_FILE}.${process.pid}.${randomUUID()}.tmp`);
    try {
      const fh = await open(temp, 'wx', 0o600);
      try {
        await fh.chmod(0o600); // whatever the umask: the file holds credential hashes
        await fh.writeFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(temp, this.path);
      await fsyncDir(this.dir);
      // Stat after the rename (which changes ctime); we hold the lock, so no one else wrote since.
      return versionOf(await stat(this.path, { bigint: true }));
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw ioError(`cannot write ${this.path}`, this.path, err);
    }
  }

  /**
   * Takes `<file>.lock`, waiting while another live process holds it. The lock is made by linking a
   * complete temp file, so it never exists without its owner's pid; a lock left by a dead process is
   * moved aside and checked, so two processes cannot both take it.
   */
  async #lock(): Promise<() => Promise<void>> {
    const token = `${process.pid} ${randomUUID()}\n`;
    const temp = join(this.dir, `.${ACCESS_FILE}.lock.${process.pid}.${randomUUID()}.tmp`);
    const deadline = Date.now() + this.#lockTimeoutMs;
    try {
      const fh = await open(temp, 'wx', 0o600);
      try {
        await fh.writeFile(token, 'utf8');
      } finally {
        await fh.close();
      }
      for (let attempt = 0; ; attempt++) {
        try {
          await link(temp, this.#lockPath);
          return async () => {
            const held = await readFile(this.#lockPath, 'utf8').catch(() => undefined);
            if (held === token) await unlink(this.#lockPath).catch(() => undefined);
          };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const held = await readFile(this.#lockPath, 'utf8').catch(() => undefined);
        if (held === undefined) continue; // released meanwhile
        const pid = Number(/^([1-9][0-9]*) /.exec(held)?.[1] ?? NaN);
        if (Number.isSafeInteger(pid) && !isProcessAlive(pid)) {
          await this.#breakStaleLock(held);
          continue;
        }
        if (Date.now() >= deadline) {
          throw new AccessError('ACCESS_LOCKED', `access store ${this.dir} is locked by ${Number.isSafeInteger(pid) ? `process ${pid}` : 'an unknown process'}`, {
            path: this.#lockPath,
            hint: `another trainguard process is changing users or grants; retry, or delete ${this.#lockPath} if no such process runs`,
          });
        }
        await delay(Math.min(5 * 2 ** attempt, 100));
      }
    } catch (err) {
      if (err instanceof AccessError) throw err;
      throw ioError(`cannot lock ${this.#lockPath}`, this.#lockPath, err);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async #breakStaleLock(held: string): Promise<void> {
    const aside = join(this.dir, `.${ACCESS_FILE}.lock.stale.${process.pid}.${randomUUID()}`);
    try {
      await rename(this.#lockPath, aside);
    } catch {
      return; // another contender moved it first
    }
    const moved = await readFile(aside, 'utf8').catch(() => undefined);
    if (moved !== held) await link(aside, this.#lockPath).catch(() => undefined); // a live lock: put it back
    await unlink(aside).catch(() => undefined);
  }
}

function versionOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

function checkMode(path: string, st: BigIntStats): void {
  if (process.platform === 'win32') return; // no POSIX mode bits; rely on the directory's ACL
  if ((st.mode & 0o077n) !== 0n) {
    throw new AccessError('ACCESS_INSECURE_FILE', `access store ${path} is accessible to other users (mode ${(st.mode & 0o777n).toString(8)})`, {
      path,
      hint: `it holds password and token hashes: run chmod 600 ${path}`,
    });
  }
}

function corrupt(path: string, what: string, cause: unknown): AccessError {
  return new AccessError('ACCESS_CORRUPT', `access store ${path} ${what}`, {
    path,
    cause,
    hint: 'restore access.json from a backup; TrainGuard never resets or rewrites a damaged store',
  });
}

function ioError(message: string, path: string, cause: unknown): AccessError {
  return new AccessError('ACCESS_IO', `${message}: ${(cause as Error).message}`, {
    path,
    cause,
    hint: 'check that the directory exists and that this user may read and write it',
  });
}
