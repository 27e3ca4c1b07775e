/**
 * The encrypted, content-addressed blob store. An object is two blobs: a small header named by the
 * plaintext's SHA-256 (`objects/ab/cd/<sha256>`) and an encrypted body named by a random object id
 * (`bodies/ef/01/<id>`). Bodies are written under fresh names and headers are committed
 * create-if-absent, so concurrent puts of one content never mix one's header with another's body;
 * rotation rewrites headers only; deleting the header crypto-shreds the object.
 */
import { constants } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobBackend } from './backend.ts';
import { VaultError } from './errors.ts';
import type { VaultErrorCode } from './errors.ts';
import {
  DEFAULT_SEGMENT_SIZE,
  DEK_SIZE,
  NONCE_PREFIX_SIZE,
  OBJECT_ID_SIZE,
  bodySize,
  checkSegmentSize,
  encodeContext,
  encodeHeader,
  encodeStable,
  isSha256Hex,
  parseHeader,
  wrapAad,
} from './format.ts';
import type { ObjectDigest, ObjectHeader, VaultContext } from './format.ts';
import type { KekInfo, KeyProvider } from './keys.ts';
import { decryptBody, deriveSegmentKey, encryptBody } from './segments.ts';

export interface VaultOptions {
  readonly backend: BlobBackend;
  readonly keys: KeyProvider;
  /** Plaintext bytes per segment for new objects: default 1 MiB, 64 B..16 MiB. Recorded per object. */
  readonly segmentSize?: number;
}

/** Bytes, or a stream of byte chunks (a node Readable without an encoding, an async generator). */
export type PutSource = Uint8Array | AsyncIterable<Uint8Array>;

export interface PutResult {
  /** SHA-256 of the plaintext, lowercase hex: the object's name. */
  readonly sha256: string;
  /** Plaintext bytes. */
  readonly size: number;
  /** SHA-256 of the encrypted body; rotation leaves it unchanged. */
  readonly ciphertextSha256: string;
  /** True when the content was already stored: nothing new was written and the stored copy's values are returned. */
  readonly deduplicated: boolean;
}

export interface ObjectInfo {
  readonly sha256: string;
  readonly size: number;
  readonly ciphertextSha256: string;
  /** Stored bytes: body and header. */
  readonly ciphertextSize: number;
  readonly headerSize: number;
  readonly kekId: string;
  readonly context: VaultContext;
  readonly segmentSize: number;
}

export interface GetOptions {
  /** When given, the object's bound context must equal it (VAULT_CONTEXT_MISMATCH otherwise). */
  readonly context?: VaultContext;
}

/** One object rotation could not re-wrap; it stays under its old KEK (which then cannot be retired). */
export interface RewrapFailure {
  readonly sha256: string;
  readonly code: VaultErrorCode;
  readonly message: string;
}

/** What a rotation did; the app layer records it in the ledger. */
export interface RotationSummary {
  /** The primary KEK every object is now wrapped under. */
  readonly kekId: string;
  /** Objects whose header was rewritten. */
  readonly rewrapped: number;
  /** Objects already under the primary KEK. */
  readonly unchanged: number;
  /** Bytes of headers written; no body byte was read or written. */
  readonly headerBytesWritten: number;
  /** Re-wrapped objects by the KEK they were under before. */
  readonly from: Readonly<Record<string, number>>;
  readonly failures: readonly RewrapFailure[];
}

/** Bytes put as a buffer up to this size are hashed first, so a duplicate is never encrypted. */
const PRECHECK_LIMIT = 16 * 1024 * 1024;
/** Headers re-wrapped at once: enough to hide S3 round trips, few enough to be gentle on a disk. */
const REWRAP_CONCURRENCY = 8;

function headerName(sha256: string): string {
  return `objects/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}

function bodyName(objectId: Uint8Array): string {
  const id = Buffer.from(objectId).toString('hex');
  return `bodies/${id.slice(0, 2)}/${id.slice(2, 4)}/${id}`;
}

function corrupt(name: string, what: string): VaultError {
  return new VaultError('VAULT_CORRUPT', `object ${name}: ${what}`, {
    path: name,
    hint: 'the stored object was damaged or tampered with; restore it from a replica or delete it',
  });
}

export class Vault {
  readonly #backend: BlobBackend;
  readonly #keys: KeyProvider;
  readonly #segmentSize: number;
  /** Per-object queue: header commits, rewraps and deletes of one object never interleave. */
  readonly #locks = new Map<string, Promise<void>>();
  /** KEKs that wrapped a data key whose header is not committed yet. */
  readonly #wrapping = new Map<string, number>();

  constructor(options: VaultOptions) {
    this.#backend = options.backend;
    this.#keys = options.keys;
    this.#segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    checkSegmentSize(this.#segmentSize);
  }

  /**
   * Encrypts and stores `source`, named by its SHA-256. Streams in constant memory. Storing content
   * that is already there writes nothing new (the first store's context stays bound to it).
   */
  async put(source: PutSource, context: VaultContext): Promise<PutResult> {
    encodeContext(context);
    if (source instanceof Uint8Array && source.byteLength <= PRECHECK_LIMIT) {
      // Small bytes are hashed before anything is encrypted, so a duplicate costs one header read.
      const existing = await this.#existing(createHash('sha256').update(source).digest('hex'));
      return existing ?? this.#store(single(source), context);
    }
    if (source instanceof Uint8Array) return this.#store(single(source), context);
    if (typeof (source as Partial<AsyncIterable<Uint8Array>> | null)?.[Symbol.asyncIterator] !== 'function') {
      throw new VaultError('VAULT_BAD_INPUT', 'put needs a Uint8Array or an async iterable of Uint8Array chunks', { hint: 'pass bytes or a readable stream' });
    }
    return this.#store(source, context);
  }

  /**
   * Opens an object as a byte stream. Key and header problems reject the promise; damage in the
   * body makes the stream error, at the latest in place of its end: a consumer that sees `end` got
   * exactly the stored content.
   */
  async get(sha256: string, options: GetOptions = {}): Promise<Readable> {
    const { chunks, release } = await this.#openBody(sha256, options);
    const stream = Readable.from(chunks, { objectMode: false });
    // Destroyed before its first read, the generator never runs its cleanup: release here too.
    stream.once('close', release);
    return stream;
  }

  /** The whole object in memory; returns only if every byte authenticated and the SHA-256 matched. */
  async getBytes(sha256: string, options: GetOptions = {}): Promise<Uint8Array> {
    const { digest, chunks, release } = await this.#openBody(sha256, options);
    if (digest.size > constants.MAX_LENGTH) {
      release();
      throw new VaultError('VAULT_BAD_INPUT', `object ${sha256} is ${digest.size} bytes, more than one buffer holds`, { path: sha256, hint: 'read it with get() as a stream' });
    }
    const out = Buffer.allocUnsafe(digest.size);
    let at = 0;
    for await (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.byteLength;
    }
    return out;
  }

  /** True when an object of this name is stored (its header is present; nothing is decrypted). */
  async has(sha256: string): Promise<boolean> {
    checkName(sha256);
    return (await this.#backend.read(headerName(sha256))) !== undefined;
  }

  /** An object's metadata from its authenticated header (the data key is unwrapped to check it). */
  async stat(sha256: string): Promise<ObjectInfo> {
    const { header, dek, headerSize } = await this.#open(sha256);
    dek.fill(0);
    return {
      sha256,
      size: header.digest.size,
      ciphertextSha256: header.digest.ciphertextSha256,
      ciphertextSize: bodySize(header.digest.size, header.stable.segmentSize) + headerSize,
      headerSize,
      kekId: header.kekId,
      context: header.stable.context,
      segmentSize: header.stable.segmentSize,
    };
  }

  /**
   * Deletes an object: the header (and with it the wrapped data key) first, so that once this
   * returns no stored byte can be decrypted even if removing the body failed. False when absent.
   */
  async delete(sha256: string): Promise<boolean> {
    checkName(sha256);
    return this.#withLock(sha256, async () => {
      const raw = await this.#backend.read(headerName(sha256));
      if (raw === undefined) return false;
      let body: string | undefined;
      try {
        body = bodyName(parseHeader(raw, sha256).stable.objectId);
      } catch (err) {
        // A damaged header still goes; its body, if any, is unreadable without it.
        if (!(err instanceof VaultError)) throw err;
      }
      await this.#backend.delete(headerName(sha256));
      if (body !== undefined) await this.#backend.delete(body);
      return true;
    });
  }

  /** The names (plaintext SHA-256) of all stored objects, in no promised order. */
  async *list(): AsyncGenerator<string> {
    for await (const name of this.#backend.list('objects')) {
      const sha = name.slice(name.lastIndexOf('/') + 1);
      if (isSha256Hex(sha) && name === headerName(sha)) yield sha;
    }
  }

  /** Objects per KEK id, read from every header. A header that does not parse fails the scan. */
  async keyUsage(): Promise<Map<string, number>> {
    const usage = new Map<string, number>();
    for await (const sha of this.list()) {
      const raw = await this.#backend.read(headerName(sha));
      if (raw === undefined) continue; // deleted while listing
      const { kekId } = parseHeader(raw, sha);
      usage.set(kekId, (usage.get(kekId) ?? 0) + 1);
    }
    return usage;
  }

  /**
   * Adds a KEK, makes it primary and re-wraps every object's data key under it. Only headers are
   * rewritten; bodies are neither read nor written. Needs a provider with a key lifecycle.
   */
  async rotate(): Promise<RotationSummary> {
    if (this.#keys.createKey === undefined) {
      throw new VaultError('VAULT_UNSUPPORTED', `${this.#keys.description} cannot create keys`, {
        hint: 'to change a passphrase, open the vault with { passphrase: new, previous: [old] } and call rewrap()',
      });
    }
    await this.#keys.createKey();
    return this.rewrap();
  }

  /**
   * Re-wraps every object not under the primary KEK (finishes an interrupted rotation, or moves
   * objects to a new passphrase). Objects that cannot be re-wrapped are reported, not skipped
   * silently; storage failures abort.
   */
  async rewrap(): Promise<RotationSummary> {
    const primary = (await this.#keys.keys()).find((k) => k.primary);
    if (primary === undefined) throw new VaultError('VAULT_KEY_STATE', `${this.#keys.description} has no primary key`, { hint: 'create a key first' });
    let rewrapped = 0;
    let unchanged = 0;
    let headerBytesWritten = 0;
    const from: Record<string, number> = {};
    const failures: RewrapFailure[] = [];
    await forEachLimit(this.list(), REWRAP_CONCURRENCY, (sha) =>
      this.#withLock(sha, async () => {
        const raw = await this.#backend.read(headerName(sha));
        if (raw === undefined) return; // deleted meanwhile
        let header: ObjectHeader;
        let dek: Uint8Array;
        try {
          ({ header, dek } = await this.#authenticate(raw, sha));
        } catch (err) {
          if (!(err instanceof VaultError) || err.code === 'VAULT_IO') throw err;
          failures.push({ sha256: sha, code: err.code, message: err.message });
          return;
        }
        try {
          if (header.kekId === primary.id) {
            unchanged += 1;
            return;
          }
          const wrapped = await this.#keys.wrap(dek, wrapAad(header.stable, header.digest));
          const bytes = encodeHeader({ ...header, kekId: wrapped.kekId, wrapRecord: wrapped.record });
          await this.#backend.write(headerName(sha), bytes);
          rewrapped += 1;
          headerBytesWritten += bytes.byteLength;
          from[header.kekId] = (from[header.kekId] ?? 0) + 1;
        } finally {
          dek.fill(0);
        }
      }),
    );
    failures.sort((a, b) => a.sha256.localeCompare(b.sha256));
    return { kekId: primary.id, rewrapped, unchanged, headerBytesWritten, from, failures };
  }

  /** Retires a KEK; refuses (VAULT_KEY_IN_USE) while any object is wrapped under it. */
  async retire(kekId: string): Promise<void> {
    const retireKey = this.#keys.retireKey?.bind(this.#keys);
    if (retireKey === undefined) throw this.#noLifecycle();
    if ((await this.#keyInfo(kekId)).primary) {
      throw new VaultError('VAULT_KEY_STATE', `KEK ${kekId} is the primary key and cannot be retired`, { hint: 'rotate first: a new primary key takes over' });
    }
    await this.#checkUnused(kekId);
    await retireKey(kekId);
  }

  /** Erases a retired KEK from the provider; refuses while any object is wrapped under it. */
  async destroyKey(kekId: string): Promise<void> {
    const destroyKey = this.#keys.destroyKey?.bind(this.#keys);
    if (destroyKey === undefined) throw this.#noLifecycle();
    const { status } = await this.#keyInfo(kekId);
    if (status !== 'retired') {
      throw new VaultError('VAULT_KEY_STATE', `KEK ${kekId} is ${status}; only a retired key can be destroyed`, { hint: 'retire it first' });
    }
    await this.#checkUnused(kekId);
    await destroyKey(kekId);
  }

  async close(): Promise<void> {
    await this.#backend.close();
  }

  #noLifecycle(): VaultError {
    return new VaultError('VAULT_UNSUPPORTED', `${this.#keys.description} has no key lifecycle`, { hint: 'use a key file provider to retire or destroy keys' });
  }

  /** The provider's record of a KEK; checked before the object scan so that a wrong id fails fast. */
  async #keyInfo(kekId: string): Promise<KekInfo> {
    const info = (await this.#keys.keys()).find((k) => k.id === kekId);
    if (info === undefined) {
      throw new VaultError('VAULT_UNKNOWN_KEY', `KEK ${kekId} is not in ${this.#keys.description}`, { hint: 'list the keys to see their ids' });
    }
    return info;
  }

  async #checkUnused(kekId: string): Promise<void> {
    const stored = (await this.keyUsage()).get(kekId) ?? 0;
    const pending = this.#wrapping.get(kekId) ?? 0;
    if (stored + pending > 0) {
      throw new VaultError('VAULT_KEY_IN_USE', `KEK ${kekId} still wraps ${stored + pending} object(s)`, {
        hint: 'run a rotation (or rewrap) so they move to the primary key, then try again',
      });
    }
  }

  async #store(source: AsyncIterable<Uint8Array>, context: VaultContext): Promise<PutResult> {
    const stable = encodeStable({
      segmentSize: this.#segmentSize,
      objectId: randomBytes(OBJECT_ID_SIZE),
      noncePrefix: randomBytes(NONCE_PREFIX_SIZE),
      context,
    });
    const body = bodyName(stable.objectId);
    const dek = randomBytes(DEK_SIZE);
    const segmentKey = deriveSegmentKey(dek, stable);
    let digest: ObjectDigest;
    try {
      const encryption = encryptBody(source, segmentKey, stable);
      await this.#backend.writeStream(body, encryption.chunks);
      digest = encryption.digest();
    } catch (err) {
      dek.fill(0);
      throw err;
    } finally {
      segmentKey.fill(0);
    }
    let kekId: string | undefined;
    // Our body is garbage unless our header commits. Once a header write has been attempted and
    // failed it may still have landed, so the body is kept then (an orphan beats a dangling header).
    let bodyIsGarbage = true;
    try {
      const wrapped = await this.#keys.wrap(dek, wrapAad(stable, digest));
      kekId = wrapped.kekId;
      this.#wrapping.set(kekId, (this.#wrapping.get(kekId) ?? 0) + 1);
      const header = encodeHeader({ stable, digest, kekId, wrapRecord: wrapped.record });
      const sha = digest.sha256;
      return await this.#withLock(sha, async () => {
        bodyIsGarbage = false;
        if (await this.#backend.write(headerName(sha), header, { ifAbsent: true })) return { ...digest, deduplicated: false };
        bodyIsGarbage = true; // already stored: ours is a duplicate
        const existing = await this.#existing(sha);
        if (existing === undefined) {
          throw new VaultError('VAULT_IO', `object ${sha} was deleted while being stored`, { path: sha, hint: 'another process changed the store; retry' });
        }
        return existing;
      });
    } finally {
      dek.fill(0);
      if (kekId !== undefined) this.#wrapping.set(kekId, (this.#wrapping.get(kekId) ?? 1) - 1);
      if (bodyIsGarbage) await this.#backend.delete(body).catch(() => undefined);
    }
  }

  /** The stored object's put result, if this content is already stored. */
  async #existing(sha256: string): Promise<PutResult | undefined> {
    const raw = await this.#backend.read(headerName(sha256));
    if (raw === undefined) return undefined;
    const { header, dek } = await this.#authenticate(raw, sha256);
    dek.fill(0);
    return { sha256, size: header.digest.size, ciphertextSha256: header.digest.ciphertextSha256, deduplicated: true };
  }

  async #open(sha256: string): Promise<{ header: ObjectHeader; dek: Uint8Array; headerSize: number }> {
    checkName(sha256);
    const raw = await this.#backend.read(headerName(sha256));
    if (raw === undefined) {
      throw new VaultError('VAULT_NOT_FOUND', `object ${sha256} is not in the vault at ${this.#backend.location}`, {
        path: sha256,
        hint: 'check the SHA-256; list the vault to see what it holds',
      });
    }
    return { ...(await this.#authenticate(raw, sha256)), headerSize: raw.byteLength };
  }

  /** Parses a header and unwraps its data key, which authenticates every header byte but the record's own. */
  async #authenticate(raw: Uint8Array, sha256: string): Promise<{ header: ObjectHeader; dek: Uint8Array }> {
    const header = parseHeader(raw, sha256);
    // The name is in the authenticated digest: a header moved to another name is caught here.
    if (header.digest.sha256 !== sha256) throw corrupt(sha256, 'header belongs to another object');
    try {
      const dek = await this.#keys.unwrap({ kekId: header.kekId, record: header.wrapRecord }, wrapAad(header.stable, header.digest));
      if (dek.byteLength !== DEK_SIZE) throw corrupt(sha256, 'unwrapped data key has the wrong length');
      return { header, dek };
    } catch (err) {
      if (!(err instanceof VaultError) || err.path === sha256) throw err;
      throw new VaultError(err.code, `object ${sha256}: ${err.message}`, { path: sha256, ...(err.hint === undefined ? {} : { hint: err.hint }), cause: err });
    }
  }

  async #openBody(
    sha256: string,
    options: GetOptions,
  ): Promise<{ digest: ObjectDigest; chunks: AsyncGenerator<Uint8Array>; release: () => void }> {
    const { header, dek } = await this.#open(sha256);
    let segmentKey: Buffer;
    try {
      if (options.context !== undefined) {
        const want = Buffer.from(encodeContext(options.context));
        if (!want.equals(encodeContext(header.stable.context))) {
          throw new VaultError('VAULT_CONTEXT_MISMATCH', `object ${sha256} is bound to another context`, {
            path: sha256,
            hint: 'read it with the context it was stored with (see stat())',
          });
        }
      }
      segmentKey = deriveSegmentKey(dek, header.stable);
    } finally {
      dek.fill(0);
    }
    const body = await this.#backend.readStream(bodyName(header.stable.objectId)).catch((err: unknown) => {
      segmentKey.fill(0);
      throw err;
    });
    const expected = bodySize(header.digest.size, header.stable.segmentSize);
    if (body === undefined || body.size !== expected) {
      segmentKey.fill(0);
      body?.stream.destroy();
      throw corrupt(sha256, body === undefined ? 'body is missing' : `body is ${body.size} bytes; its header implies ${expected} (truncated or extended)`);
    }
    const location = this.#backend.location;
    const stream = body.stream;
    const release = (): void => {
      segmentKey.fill(0);
      stream.destroy();
    };
    async function* chunks(): AsyncGenerator<Uint8Array> {
      try {
        yield* decryptBody(stream, segmentKey, header.stable, header.digest, sha256);
      } catch (err) {
        if (err instanceof VaultError) throw err;
        throw new VaultError('VAULT_IO', `reading object ${sha256} from ${location} failed`, { path: sha256, hint: 'check the storage and retry', cause: err });
      } finally {
        release();
      }
    }
    return { digest: header.digest, chunks: chunks(), release };
  }

  async #withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(name) ?? Promise.resolve();
    let release = (): void => undefined;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.#locks.set(name, tail);
    await before;
    try {
      return await fn();
    } finally {
      release();
      if (this.#locks.get(name) === tail) this.#locks.delete(name);
    }
  }
}

function checkName(sha256: string): void {
  if (typeof sha256 !== 'string' || !isSha256Hex(sha256)) {
    throw new VaultError('VAULT_BAD_INPUT', `"${String(sha256)}" is not an object name`, { hint: 'objects are named by the lowercase hex SHA-256 of their content' });
  }
}

async function* single(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Runs `fn` over an async iterable with at most `limit` calls at once; the first failure stops it. */
async function forEachLimit<T>(items: AsyncIterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { err: unknown } | undefined;
  for await (const item of items) {
    if (failure !== undefined) break;
    const p: Promise<void> = fn(item).then(
      () => void running.delete(p),
      (err: unknown) => {
        running.delete(p);
        failure ??= { err };
      },
    );
    running.add(p);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure.err;
}
