// `node --import tsx bench/vault.ts`: the encrypted vault's throughput — encrypt + store and read +
// decrypt of large objects on the filesystem backend (fsync on), encryption with no storage at all
// (per segment size), and the single-thread AES-256-GCM and SHA-256 ceilings that bound them.
// Medians of --runs (default 3); MB = 10^6 bytes. Never fails on a time.
// Usage: node --import tsx bench/vault.ts [--runs 3] [--sizes 256,1024] (sizes in MiB)
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FileBackend, KeyFileProvider, MemoryBackend, Vault } from '../src/vault/index.ts';
import type { BlobBackend, BlobRead, WriteOptions } from '../src/vault/index.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => (args.includes(`--${name}`) ? (args[args.indexOf(`--${name}`) + 1] ?? fallback) : fallback);
const runs = Number(arg('runs', '3'));
const sizesMiB = arg('sizes', '256,1024').split(',').map(Number);
const MiB = 1024 * 1024;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};
const mbps = (bytes: number, seconds: number): number => bytes / seconds / 1e6;
const fmt = (xs: number[]): string => `median ${Math.round(median(xs))} MB/s (runs: ${xs.map((x) => Math.round(x)).join(', ')})`;

// 64 MiB of random data, served as fresh 1 MiB views; a unique first chunk per run keeps every run
// from being a duplicate of the last (which would store nothing).
const pool = randomBytes(64 * MiB);
async function* source(size: number): AsyncGenerator<Uint8Array> {
  yield randomBytes(MiB);
  for (let at = MiB; at < size; at += MiB) {
    const off = at % pool.length;
    yield pool.subarray(off, off + Math.min(MiB, size - at));
  }
}

/** A backend that drains what it is given: encryption and hashing with no storage behind them. */
class DiscardBackend implements BlobBackend {
  readonly location = 'discard';
  readonly #headers = new MemoryBackend();
  write(name: string, data: Uint8Array, options?: WriteOptions): Promise<boolean> {
    return this.#headers.write(name, data, options);
  }
  async writeStream(_name: string, src: AsyncIterable<Uint8Array>): Promise<void> {
    for await (const _ of src);
  }
  read(name: string): Promise<Uint8Array | undefined> {
    return this.#headers.read(name);
  }
  async readStream(): Promise<BlobRead | undefined> {
    return undefined;
  }
  delete(name: string): Promise<boolean> {
    return this.#headers.delete(name);
  }
  list(prefix: string): AsyncIterable<string> {
    return this.#headers.list(prefix);
  }
  async close(): Promise<void> {}
}

async function drain(stream: Readable): Promise<number> {
  let n = 0;
  for await (const c of stream) n += (c as Buffer).byteLength;
  return n;
}

console.log(`vault benchmark: ${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores, node ${process.version}, ${runs} runs`);
const root = mkdtempSync(join(tmpdir(), 'tg-vault-bench-'));
const keys = await KeyFileProvider.open(join(root, 'keys.json'));

// Ceilings: one thread, node:crypto, 1 GiB.
{
  const seg = randomBytes(64 * 1024);
  const key = randomBytes(32);
  const iv = Buffer.alloc(12);
  const aes: number[] = [];
  const sha: number[] = [];
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    for (let i = 0; i < 16384; i++) {
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.update(seg);
      c.final();
    }
    aes.push(mbps(1024 * MiB, (performance.now() - t) / 1000));
    t = performance.now();
    const h = createHash('sha256');
    for (let i = 0; i < 16384; i++) h.update(seg);
    h.digest();
    sha.push(mbps(1024 * MiB, (performance.now() - t) / 1000));
  }
  console.log(`ceiling  AES-256-GCM, 64 KiB segments, 1 thread: ${fmt(aes)}`);
  console.log(`ceiling  SHA-256, 1 thread:                      ${fmt(sha)}`);
}

// Encryption with nothing stored: put() into a backend that discards the body.
for (const segmentSize of [64 * 1024, 256 * 1024, 1024 * 1024]) {
  const size = 1024 * MiB;
  const vault = new Vault({ backend: new DiscardBackend(), keys, segmentSize });
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    await vault.put(source(size), {});
    rates.push(mbps(size, (performance.now() - t) / 1000));
  }
  console.log(`encrypt only (AES-GCM + both SHA-256), 1 GiB, ${segmentSize / 1024} KiB segments: ${fmt(rates)}`);
}

// Encrypt + store and read + decrypt on the filesystem, fsync on.
for (const sizeMiB of sizesMiB) {
  const size = sizeMiB * MiB;
  const dir = join(root, `fs-${sizeMiB}`);
  const vault = new Vault({ backend: new FileBackend(dir), keys });
  const puts: number[] = [];
  const gets: number[] = [];
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    const { sha256 } = await vault.put(source(size), { bench: String(r) });
    puts.push(mbps(size, (performance.now() - t) / 1000));
    t = performance.now();
    const n = await drain(await vault.get(sha256));
    gets.push(mbps(n, (performance.now() - t) / 1000));
    await vault.delete(sha256);
  }
  console.log(`fs, fsync on, ${sizeMiB} MiB: encrypt + store ${fmt(puts)}`);
  console.log(`fs, fsync on, ${sizeMiB} MiB: read + decrypt + verify ${fmt(gets)} (page cache warm)`);
}
rmSync(root, { recursive: true, force: true });
