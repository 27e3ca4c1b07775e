/**
 * Where encrypted blobs live. A backend stores opaque named blobs and knows nothing of keys or
 * formats; the vault names them (`objects/ab/cd/<sha256>` for headers, `bodies/ef/01/<id>` for
 * bodies). Implementations: the filesystem (fs-backend.ts) and S3-compatible storage
 * (s3-backend.ts), and memory (memory-backend.ts); one behaviour suite (vault-suite.ts) runs the
 * vault on each.
 */
import type { Readable } from 'node:stream';
import { VaultError } from './errors.ts';

export interface WriteOptions {
  /** Write only if no blob has the name; `write` then returns false and changes nothing. */
  readonly ifAbsent?: boolean;
}

export interface BlobRead {
  /** Stored size in bytes, known before the first byte is read. */
  readonly size: number;
  /** The bytes; destroy it to stop reading early. */
  readonly stream: Readable;
}

export interface BlobBackend {
  /** Where the blobs are, for messages ("/var/lib/trainguard/vault", "s3://bucket/prefix/"). */
  readonly location: string;
  /** Stores a small blob atomically: readers see the old blob or the new one, never a mix. */
  write(name: string, data: Uint8Array, options?: WriteOptions): Promise<boolean>;
  /**
   * Stores a stream atomically in constant memory. If `source` throws, nothing is stored and its
   * error is rethrown; if storing fails, nothing is stored and `source` is closed (`return()`).
   */
  writeStream(name: string, source: AsyncIterable<Uint8Array>): Promise<void>;
  /** A whole blob, or undefined when there is none. */
  read(name: string): Promise<Uint8Array | undefined>;
  /** A blob as a stream, or undefined when there is none. */
  readStream(name: string): Promise<BlobRead | undefined>;
  /** Removes a blob; false when there was none. */
  delete(name: string): Promise<boolean>;
  /** Names under a folder (`objects`), in no promised order; safe to run while blobs are rewritten. */
  list(prefix: string): AsyncIterable<string>;
  /** Releases connections; the backend is unusable afterwards. */
  close(): Promise<void>;
}

const NAME = /^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_-]*)*$/;

/**
 * Blob names are lowercase path segments that never start with a dot, so they cannot escape the
 * root, collide with the filesystem backend's dot-prefixed temp files or mean different things on
 * a case-insensitive filesystem.
 */
export function checkBlobName(name: string): void {
  if (name.length > 512 || !NAME.test(name)) {
    throw new VaultError('VAULT_BAD_INPUT', `invalid blob name ${JSON.stringify(name)}`, { hint: 'names are lowercase [a-z0-9_-] segments joined by /' });
  }
}
