/**
 * The default key provider: KEKs in a local JSON file, created 0600 on first use. The file is the
 * whole secret, so it is refused while anyone but its owner may read or write it (as ssh does with
 * private keys), and every update replaces it atomically (temp file, fsync, rename, fsync dir).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { VaultError } from './errors.ts';
import { isValidKekId } from './format.ts';
import { openDek, sealDek, sealedWith, wrongKey } from './keys.ts';
import type { KekInfo, KekStatus, KeyProvider, WrappedKey } from './keys.ts';
import { fsyncDir } from '../core/index.ts';

const FILE_FORMAT = 'trainguard-vault-keys';
const FILE_VERSION = 1;
const KEK_SIZE = 32;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

interface KeyEntry {
  readonly id: string;
  readonly created: string;
  status: KekStatus;
  readonly key: Buffer;
}

export interface KeyFileOptions {
  /** Create the file with one fresh KEK when it does not exist (default true). */
  readonly create?: boolean;
}

/** KEKs in a local key file. Open with {@link KeyFileProvider.open}. */
export class KeyFileProvider implements KeyProvider {
  readonly path: string;
  readonly description: string;
  #entries: KeyEntry[];
  #primary: string;
  /** Serialises updates of the file within this process. */
  #writing: Promise<unknown> = Promise.resolve();

  private constructor(path: string, entries: KeyEntry[], primary: string) {
    this.path = path;
    this.description = `key file ${path}`;
    this.#entries = entries;
    this.#primary = primary;
  }

  /**
   * Opens the key file, creating it (mode 0600, one active KEK) when absent. Refuses a file that
   * group or others may access (VAULT_KEYFILE_PERMISSIONS) and one that does not parse
   * (VAULT_KEYFILE_CORRUPT).
   */
  static async open(path: string, options: KeyFileOptions = {}): Promise<KeyFileProvider> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(path, 'opening', err);
      if (options.create === false) {
        throw new VaultError('VAULT_NOT_FOUND', `key file ${path} does not exist`, { file: path, hint: 'check the path, or let TrainGuard create it' });
      }
      const created = await KeyFileProvider.#create(path);
      if (created !== undefined) return created;
      return KeyFileProvider.open(path, { create: false }); // another process created it first
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw corrupt(path, 'is not a regular file');
      // Checked on the open descriptor, so the file read is the file checked.
      if ((st.mode & 0o077) !== 0) {
        throw new VaultError('VAULT_KEYFILE_PERMISSIONS', `key file ${path} is accessible to group or others (mode ${(st.mode & 0o777).toString(8)})`, {
          file: path,
          hint: `chmod 600 ${path}`,
        });
      }
      const text = await fh.readFile('utf8');
      const { entries, primary } = parseKeyFile(text, path);
      return new KeyFileProvider(path, entries, primary);
    } catch (err) {
      if (err instanceof VaultError) throw err;
      throw ioError(path, 'reading', err);
    } finally {
      await fh.close();
    }
  }

  /** Creates the file exclusively; undefined when it appeared meanwhile. */
  static async #create(path: string): Promise<KeyFileProvider | undefined> {
    const entry = newEntry();
    const provider = new KeyFileProvider(path, [entry], entry.id);
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.chmod(0o600); // exact mode whatever the umask
        await fh.writeFile(provider.#serialize());
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsyncDir(dirname(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw ioError(path, 'creating', err);
    }
    return provider;
  }

  async keys(): Promise<readonly KekInfo[]> {
    const infos = this.#entries.map((e) => ({ id: e.id, created: e.created, status: e.status, primary: e.id === this.#primary }));
    return infos.sort((a, b) => Number(b.primary) - Number(a.primary) || a.created.localeCompare(b.created));
  }

  async wrap(dek: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    const entry = this.#find(this.#primary);
    return { kekId: entry.id, record: sealDek(entry.key, dek, aad) };
  }

  async unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    const entry = this.#entries.find((e) => e.id === wrapped.kekId);
    if (entry === undefined) {
      throw new VaultError('VAULT_UNKNOWN_KEY', `KEK ${wrapped.kekId} is not in ${this.description}`, {
        hint: 'open the vault with the key file that holds this key (was it destroyed, or is this another installation?)',
      });
    }
    if (!sealedWith(entry.key, wrapped.record)) {
      throw wrongKey(`KEK ${wrapped.kekId} in ${this.description}`, 'the key file holds different bytes under this id; restore the key file that wrapped the object');
    }
    return openDek(entry.key, wrapped.record, aad);
  }

  async createKey(): Promise<KekInfo> {
    return this.#update(() => {
      const entry = newEntry();
      this.#entries.push(entry);
      this.#primary = entry.id;
      return { id: entry.id, created: entry.created, status: entry.status, primary: true };
    });
  }

  async retireKey(id: string): Promise<void> {
    await this.#update(() => {
      const entry = this.#find(id);
      if (id === this.#primary) {
        throw new VaultError('VAULT_KEY_STATE', `KEK ${id} is the primary key and cannot be retired`, { hint: 'rotate first: a new primary key takes over' });
      }
      entry.status = 'retired';
    });
  }

  async destroyKey(id: string): Promise<void> {
    const removed = await this.#update(() => {
      const entry = this.#find(id);
      if (entry.status !== 'retired') {
        throw new VaultError('VAULT_KEY_STATE', `KEK ${id} is ${entry.status}; only a retired key can be destroyed`, { hint: 'retire it first' });
      }
      this.#entries = this.#entries.filter((e) => e !== entry);
      return entry;
    });
    removed.key.fill(0); // only once the file no longer holds it
  }

  #find(id: string): KeyEntry {
    const entry = this.#entries.find((e) => e.id === id);
    if (entry === undefined) throw new VaultError('VAULT_UNKNOWN_KEY', `KEK ${id} is not in ${this.description}`, { hint: 'list the keys to see their ids' });
    return entry;
  }

  /** Applies `change` to the in-memory ring and persists it; on failure the ring is restored. */
  #update<T>(change: () => T): Promise<T> {
    const run = async (): Promise<T> => {
      const entries = [...this.#entries];
      const statuses = entries.map((e) => e.status);
      const primary = this.#primary;
      try {
        const result = change();
        await this.#persist();
        return result;
      } catch (err) {
        this.#entries = entries;
        entries.forEach((e, i) => (e.status = statuses[i] ?? e.status));
        this.#primary = primary;
        throw err;
      }
    };
    const next = this.#writing.then(run, run);
    this.#writing = next.catch(() => undefined);
    return next;
  }

  async #persist(): Promise<void> {
    const dir = dirname(this.path);
    const tmp = join(dir, `.${basename(this.path)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.chmod(0o600);
        await fh.writeFile(this.#serialize());
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
      await fsyncDir(dir);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw ioError(this.path, 'writing', err);
    }
  }

  #serialize(): string {
    const keys = this.#entries.map((e) => ({ id: e.id, created: e.created, status: e.status, key: e.key.toString('base64') }));
    return `${JSON.stringify({ format: FILE_FORMAT, version: FILE_VERSION, primary: this.#primary, keys }, null, 2)}\n`;
  }
}

function newEntry(): KeyEntry {
  return { id: `kek-${randomBytes(8).toString('hex')}`, created: new Date().toISOString(), status: 'active', key: randomBytes(KEK_SIZE) };
}

function parseKeyFile(text: string, path: string): { entries: KeyEntry[]; primary: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw corrupt(path, 'is not JSON');
  }
  if (typeof doc !== 'object' || doc === null) throw corrupt(path, 'is not a JSON object');
  const { format, version, primary, keys } = doc as Record<string, unknown>;
  if (format !== FILE_FORMAT) throw corrupt(path, `has format ${JSON.stringify(format)}, expected "${FILE_FORMAT}"`);
  if (version !== FILE_VERSION) {
    throw new VaultError('VAULT_UNSUPPORTED', `key file ${path} has version ${JSON.stringify(version)}; this TrainGuard reads version ${FILE_VERSION}`, {
      file: path,
      hint: 'upgrade TrainGuard',
    });
  }
  if (!Array.isArray(keys) || keys.length === 0) throw corrupt(path, 'holds no keys');
  const entries = keys.map((k, i) => parseEntry(k, `${path}: keys[${i}]`, path));
  if (new Set(entries.map((e) => e.id)).size !== entries.length) throw corrupt(path, 'has two keys with one id');
  const p = entries.find((e) => e.id === primary);
  if (p === undefined || p.status !== 'active') throw corrupt(path, 'names no active primary key');
  return { entries, primary: p.id };
}

function parseEntry(value: unknown, where: string, path: string): KeyEntry {
  if (typeof value !== 'object' || value === null) throw corrupt(path, `${where} is not an object`);
  const { id, created, status, key } = value as Record<string, unknown>;
  if (typeof id !== 'string' || !isValidKekId(id)) throw corrupt(path, `${where} has an invalid id`);
  if (typeof created !== 'string' || Number.isNaN(Date.parse(created))) throw corrupt(path, `${where} has an invalid creation time`);
  if (status !== 'active' && status !== 'retired') throw corrupt(path, `${where} has status ${JSON.stringify(status)}`);
  if (typeof key !== 'string' || !BASE64.test(key)) throw corrupt(path, `${where} key is not base64`);
  const bytes = Buffer.from(key, 'base64');
  if (bytes.length !== KEK_SIZE || bytes.toString('base64') !== key) throw corrupt(path, `${where} key is not ${KEK_SIZE} bytes of canonical base64`);
  return { id, created, status, key: bytes };
}

function corrupt(path: string, what: string): VaultError {
  return new VaultError('VAULT_KEYFILE_CORRUPT', `key file ${path} ${what}`, { file: path, hint: 'restore the key file from its backup' });
}

function ioError(path: string, doing: string, cause: unknown): VaultError {
  const code = (cause as NodeJS.ErrnoException).code ?? 'error';
  return new VaultError('VAULT_IO', `${doing} key file ${path} failed (${code})`, { file: path, hint: 'check the path and its permissions', cause });
}

