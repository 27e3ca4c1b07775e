/**
 * Blobs in a Map: for tests of code built on the vault, and the fastest run of the behaviour suite
 * (its exhaustive tamper test). A stream is stored only once it has been read to its end, so a
 * failed write leaves nothing, as on the other backends.
 */
import { Readable } from 'node:stream';
import { checkBlobName } from './backend.ts';
import type { BlobBackend, BlobRead, WriteOptions } from './backend.ts';

export class MemoryBackend implements BlobBackend {
  readonly location = 'memory';
  readonly #blobs = new Map<string, Buffer>();

  async write(name: string, data: Uint8Array, options: WriteOptions = {}): Promise<boolean> {
    checkBlobName(name);
    if (options.ifAbsent === true && this.#blobs.has(name)) return false;
    this.#blobs.set(name, Buffer.from(data));
    return true;
  }

  async writeStream(name: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    checkBlobName(name);
    const chunks: Buffer[] = [];
    for await (const chunk of source) chunks.push(Buffer.from(chunk));
    this.#blobs.set(name, Buffer.concat(chunks));
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    checkBlobName(name);
    const blob = this.#blobs.get(name);
    return blob === undefined ? undefined : Buffer.from(blob);
  }

  async readStream(name: string): Promise<BlobRead | undefined> {
    const blob = await this.read(name);
    return blob === undefined ? undefined : { size: blob.byteLength, stream: Readable.from([blob], { objectMode: false }) };
  }

  async delete(name: string): Promise<boolean> {
    checkBlobName(name);
    return this.#blobs.delete(name);
  }

  async *list(prefix: string): AsyncGenerator<string> {
    checkBlobName(prefix);
    // A copy of the names, so that writes while the caller walks do not disturb the walk.
    for (const name of [...this.#blobs.keys()]) if (name.startsWith(`${prefix}/`)) yield name;
  }

  async close(): Promise<void> {
    // Nothing to release; the blobs live as long as the object.
  }
}
