/**
 * TEST SUPPORT ONLY (not exported from index.ts): the vault's behaviour suite, run once per
 * backend (fs-backend.test.ts, s3-backend.test.ts). Guards against a backend that loses, mixes or
 * half-writes blobs, and a vault that leaks plaintext, returns partial or tampered content as
 * whole, stores duplicates, or touches bodies when it rotates keys.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobBackend } from './backend.ts';
import { VaultError } from './errors.ts';
import type { VaultErrorCode } from './errors.ts';
import { DEFAULT_SEGMENT_SIZE, OBJECT_ID_SIZE, TAG_SIZE, parseHeader } from './format.ts';
import { KeyFileProvider } from './key-file.ts';
import { Vault } from './vault.ts';

export interface SuiteTarget {
  /** Prefix of every test name: "fs", "s3". */
  readonly name: string;
  /** A fresh, empty backend. The suite closes it. */
  open(): Promise<BlobBackend>;
  /** The folder where the backend's bytes end up on disk, scanned for plaintext (none: memory). */
  disk(): string | undefined;
  /** Flip every `bitStride`-th bit in the exhaustive tamper test (1: every bit). */
  readonly bitStride: number;
}

/** Fails the test unless `err` is a VaultError with this code whose message names `name`. */
export function isVaultError(code: VaultErrorCode, name?: string): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof VaultError, `expected a VaultError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (name !== undefined) assert.ok(err.message.includes(name), `message should name ${name}: ${err.message}`);
    return true;
  };
}

/** Deterministic pseudo-random bytes (AES-256-CTR keystream of a seed). */
export function seededBytes(seed: number, size: number): Buffer {
  return seededStream(seed).update(Buffer.alloc(size));
}

export function seededStream(seed: number): { update(zeros: Buffer): Buffer } {
  const key = createHash('sha256').update(`seed:${seed}`).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function* chunked(bytes: Uint8Array, chunk: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += chunk) yield bytes.slice(at, at + chunk);
}

export async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Every file under `dir`, recursively, with its bytes. */
export function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const path = join(dir, name);
    if (statSync(path).isFile()) out.push({ path, bytes: readFileSync(path) });
  }
  return out;
}

/** The blob names of an object: its header and its body. */
export async function blobNames(backend: BlobBackend, sha: string): Promise<{ header: string; body: string }> {
  const header = `objects/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}`;
  const raw = await backend.read(header);
  assert.ok(raw !== undefined, `no header for ${sha}`);
  const id = Buffer.from(parseHeader(raw, sha).stable.objectId).toString('hex');
  assert.equal(id.length, OBJECT_ID_SIZE * 2);
  return { header, body: `bodies/${id.slice(0, 2)}/${id.slice(2, 4)}/${id}` };
}

/** All blobs of a backend, name → bytes. */
async function snapshot(backend: BlobBackend): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const prefix of ['objects', 'bodies']) {
    for await (const name of backend.list(prefix)) out.set(name, Buffer.from((await backend.read(name)) ?? new Uint8Array()).toString('hex'));
  }
  return out;
}

/** Reads a stream to its end, noting whether `end` was ever emitted. */
async function drain(stream: Readable): Promise<{ bytes: number; ended: boolean; error: unknown }> {
  let bytes = 0;
  let ended = false;
  stream.on('end', () => (ended = true));
  try {
    for await (const c of stream) bytes += (c as Buffer).byteLength;
    return { bytes, ended, error: undefined };
  } catch (error) {
    return { bytes, ended, error };
  }
}

export function vaultBehaviourSuite(target: SuiteTarget): void {
  let keysRoot = '';
  let keyFiles = 0;
  before(() => {
    keysRoot = mkdtempSync(join(tmpdir(), 'tg-vault-keys-'));
  });
  after(() => rmSync(keysRoot, { recursive: true, force: true }));

  const keyPath = (): string => join(keysRoot, `keys-${keyFiles++}.json`);

  /** A vault on a fresh backend and key file; closed when the test ends. */
  async function setup(t: { after(fn: () => Promise<void>): void }, segmentSize?: number) {
    const backend = await target.open();
    const path = keyPath();
    const keys = await KeyFileProvider.open(path);
    const vault = new Vault({ backend, keys, ...(segmentSize === undefined ? {} : { segmentSize }) });
    t.after(() => vault.close());
    return { backend, keys, vault, keyPath: path };
  }

  const name = (s: string): string => `${target.name}: ${s}`;

  test(name('backend: atomic writes, create-if-absent, streams, listing, deleting'), async (t) => {
    const backend = await target.open();
    t.after(() => backend.close());
    assert.equal(await backend.write('x/a', Buffer.from('one')), true);
    assert.equal(await backend.write('x/a', Buffer.from('two'), { ifAbsent: true }), false);
    assert.equal(Buffer.from((await backend.read('x/a')) ?? []).toString(), 'one');
    assert.equal(await backend.write('x/a', Buffer.from('three')), true);
    assert.equal(Buffer.from((await backend.read('x/a')) ?? []).toString(), 'three');
    assert.equal(await backend.write('x/b/c', new Uint8Array(0), { ifAbsent: true }), true);
    assert.equal((await backend.read('x/b/c'))?.byteLength, 0);
    assert.equal(await backend.read('x/none'), undefined);
    assert.equal(await backend.readStream('x/none'), undefined);

    // 12 MiB crosses S3 part boundaries (8 MiB parts).
    const big = seededBytes(1, 12 * 1024 * 1024 + 7);
    await backend.writeStream('x/big', chunked(big, 1024 * 1024 + 3));
    const got = await backend.readStream('x/big');
    assert.ok(got !== undefined);
    assert.equal(got.size, big.length);
    assert.equal(sha256(await collect(got.stream)), sha256(big));

    const boom = new Error('source failed');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield big.subarray(0, 9 * 1024 * 1024);
      throw boom;
    }
    await assert.rejects(backend.writeStream('x/failed', failing()), (err) => err === boom);
    assert.equal(await backend.read('x/failed'), undefined);

    const names: string[] = [];
    for await (const n of backend.list('x')) names.push(n);
    assert.deepEqual(names.sort(), ['x/a', 'x/b/c', 'x/big']);
    assert.equal(await backend.delete('x/a'), true);
    assert.equal(await backend.delete('x/a'), false);
    for (const bad of ['../x', 'A', '.tmp', 'x//y', 'x/', '']) {
      await assert.rejects(backend.write(bad, new Uint8Array(1)), isVaultError('VAULT_BAD_INPUT'));
    }
  });

  test(name('round trips at segment edges, as bytes and as streams'), async (t) => {
    const { vault } = await setup(t);
    const seg = DEFAULT_SEGMENT_SIZE;
    const sizes = [0, 1, seg - 1, seg, seg + 1, 3 * seg, 3 * seg + 5];
    for (const size of sizes) {
      const plain = seededBytes(size, size);
      const asBytes = await vault.put(plain, { case: `bytes-${size}` });
      assert.deepEqual(asBytes, { sha256: sha256(plain), size, ciphertextSha256: asBytes.ciphertextSha256, deduplicated: false });
      assert.deepEqual(Buffer.from(await vault.getBytes(asBytes.sha256)), plain);
      assert.deepEqual(await collect(await vault.get(asBytes.sha256)), plain);
      const info = await vault.stat(asBytes.sha256);
      const segments = Math.max(1, Math.ceil(size / seg));
      assert.equal(info.ciphertextSize - info.headerSize, size + segments * TAG_SIZE);
      assert.deepEqual(info.context, { case: `bytes-${size}` });
      await vault.delete(asBytes.sha256);
      // Odd chunk sizes make segments straddle chunks.
      const asStream = await vault.put(chunked(plain, 1000), {});
      assert.equal(asStream.sha256, asBytes.sha256);
      assert.equal(asStream.deduplicated, false);
      assert.deepEqual(Buffer.from(await vault.getBytes(asStream.sha256)), plain);
    }
    const listed: string[] = [];
    for await (const sha of vault.list()) listed.push(sha);
    assert.deepEqual(listed.sort(), [...new Set(sizes)].map((s) => sha256(seededBytes(s, s))).sort());
  });

  test(name('storing the same content again writes nothing new'), async (t) => {
    const { backend, vault } = await setup(t);
    const plain = seededBytes(7, 200_000);
    const first = await vault.put(plain, { dataset: 'a' });
    const before = await snapshot(backend);
    const again = await vault.put(plain, { dataset: 'b' });
    const streamed = await vault.put(chunked(plain, 4096), { dataset: 'c' });
    assert.deepEqual(again, { ...first, deduplicated: true });
    assert.deepEqual(streamed, { ...first, deduplicated: true });
    assert.deepEqual(await snapshot(backend), before);
    assert.deepEqual((await vault.stat(first.sha256)).context, { dataset: 'a' });
    // Past the size at which bytes are hashed before encrypting, the duplicate is found at commit.
    const big = seededBytes(8, 17 * 1024 * 1024);
    const bigFirst = await vault.put(big, {});
    const withBig = await snapshot(backend);
    assert.deepEqual(await vault.put(big, {}), { ...bigFirst, deduplicated: true });
    assert.deepEqual(await snapshot(backend), withBig);
  });

  test(name('delete removes header and body; missing and malformed names are typed errors'), async (t) => {
    const { backend, vault } = await setup(t);
    const { sha256: sha } = await vault.put(Buffer.from('to be shredded'), {});
    assert.equal(await vault.has(sha), true);
    assert.equal(await vault.delete(sha), true);
    assert.equal(await vault.delete(sha), false);
    assert.equal(await vault.has(sha), false);
    assert.equal((await snapshot(backend)).size, 0);
    await assert.rejects(vault.get(sha), isVaultError('VAULT_NOT_FOUND', sha));
    await assert.rejects(vault.getBytes(sha), isVaultError('VAULT_NOT_FOUND', sha));
    await assert.rejects(vault.stat(sha), isVaultError('VAULT_NOT_FOUND', sha));
    await assert.rejects(vault.get('ABC'), isVaultError('VAULT_BAD_INPUT'));
    await assert.rejects(vault.get(sha.toUpperCase()), isVaultError('VAULT_BAD_INPUT'));
    await assert.rejects(vault.put('text' as unknown as Uint8Array, {}), isVaultError('VAULT_BAD_INPUT'));
    await assert.rejects(vault.put(chunked(Buffer.from('x'), 1), { big: 'x'.repeat(600) }), isVaultError('VAULT_BAD_INPUT'));
    await assert.rejects(vault.put(Buffer.from('x'), { n: 1 } as unknown as Record<string, string>), isVaultError('VAULT_BAD_INPUT'));
    assert.equal((await snapshot(backend)).size, 0);
  });

  test(name('the bound context is checked when the reader names one'), async (t) => {
    const { vault } = await setup(t);
    const { sha256: sha } = await vault.put(Buffer.from('bound'), { dataset: 'd1', kind: 'batch' });
    assert.equal(Buffer.from(await vault.getBytes(sha, { context: { kind: 'batch', dataset: 'd1' } })).toString(), 'bound');
    await assert.rejects(vault.getBytes(sha, { context: { dataset: 'd2', kind: 'batch' } }), isVaultError('VAULT_CONTEXT_MISMATCH', sha));
    await assert.rejects(vault.get(sha, { context: {} }), isVaultError('VAULT_CONTEXT_MISMATCH', sha));
  });

  test(name('no plaintext reaches the disk, not even in temp files'), async (t) => {
    const { vault, keyPath: kp } = await setup(t);
    const marker = Buffer.from('TRAINGUARD-PLAINTEXT-MARKER-4b1f');
    const scan = (): void => {
      const disk = target.disk();
      for (const f of [...(disk === undefined ? [] : filesUnder(disk)), { path: kp, bytes: readFileSync(kp) }]) {
        assert.equal(f.bytes.includes(marker), false, `${f.path} holds plaintext`);
      }
    };
    let scannedMidway = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 40; i++) {
        yield Buffer.concat([marker, seededBytes(i, 50_000), marker]);
        // Halfway through, the body is a temp file (fs) or an upload in progress (S3): scan then.
        if (i === 20) {
          scan();
          scannedMidway = true;
        }
      }
    }
    await vault.put(source(), { dataset: 'ds' });
    await vault.put(Buffer.concat([marker, Buffer.from(' small object '), marker]), {});
    assert.ok(scannedMidway);
    scan();
  });

  test(name('every single-bit flip in a header or body is detected'), async (t) => {
    const cases = [
      { size: 100, segmentSize: undefined },
      { size: 150, segmentSize: 64 }, // three segments
    ];
    for (const c of cases) {
      const { backend, vault } = await setup(t, c.segmentSize);
      const { sha256: sha } = await vault.put(seededBytes(c.size, c.size), { dataset: 'flip' });
      for (const blob of Object.values(await blobNames(backend, sha))) {
        const original = Buffer.from((await backend.read(blob)) ?? []);
        for (let bit = 0; bit < original.length * 8; bit += target.bitStride) {
          const damaged = Buffer.from(original);
          damaged[bit >> 3] = (damaged[bit >> 3] ?? 0) ^ (1 << (bit & 7));
          await backend.write(blob, damaged);
          await assert.rejects(vault.getBytes(sha), (err: unknown) => {
            assert.ok(err instanceof VaultError, `bit ${bit} of ${blob}: ${String(err)}`);
            assert.ok(err.message.includes(sha), err.message);
            return true;
          });
        }
        await backend.write(blob, original);
      }
      assert.equal(sha256(await vault.getBytes(sha)), sha);
    }
  });

  test(name('truncation, extension, reordering and swapped headers or bodies are detected'), async (t) => {
    const seg = 64;
    const { backend, vault } = await setup(t, seg);
    const a = await vault.put(seededBytes(1, 5 * seg - 10), {});
    const b = await vault.put(seededBytes(2, 5 * seg - 10), {});
    const na = await blobNames(backend, a.sha256);
    const nb = await blobNames(backend, b.sha256);
    const bodyA = Buffer.from((await backend.read(na.body)) ?? []);
    const bodyB = Buffer.from((await backend.read(nb.body)) ?? []);
    const headerA = Buffer.from((await backend.read(na.header)) ?? []);
    const frame = seg + TAG_SIZE;
    const damaged: [string, Buffer][] = [];
    for (let k = 0; k < 5; k++) damaged.push([`cut at segment boundary ${k}`, bodyA.subarray(0, k * frame)]);
    for (let k = 0; k < 5; k++) damaged.push([`cut inside segment ${k}`, bodyA.subarray(0, k * frame + 40)]);
    damaged.push(['extended by a segment', Buffer.concat([bodyA, bodyA.subarray(0, frame)])]);
    damaged.push(['extended by one byte', Buffer.concat([bodyA, Buffer.from([0])])]);
    damaged.push(['segments 1 and 2 swapped', Buffer.concat([bodyA.subarray(0, frame), bodyA.subarray(2 * frame, 3 * frame), bodyA.subarray(frame, 2 * frame), bodyA.subarray(3 * frame)])]);
    damaged.push(['last segment moved first', Buffer.concat([bodyA.subarray(4 * frame), bodyA.subarray(0, 4 * frame)])]);
    damaged.push(["object B's body", bodyB]);
    for (const [what, body] of damaged) {
      await backend.write(na.body, body);
      await assert.rejects(vault.getBytes(a.sha256), isVaultError('VAULT_CORRUPT', a.sha256), what);
    }
    await backend.write(na.body, bodyA);
    // A's header under B's name: caught before any key is used.
    await backend.write(nb.header, headerA);
    await assert.rejects(vault.getBytes(b.sha256), isVaultError('VAULT_CORRUPT', b.sha256));
    await backend.delete(na.body);
    await assert.rejects(vault.getBytes(a.sha256), isVaultError('VAULT_CORRUPT', a.sha256));
  });

  test(name('a damaged final segment fails the stream instead of ending it'), async (t) => {
    const { backend, vault } = await setup(t, 1024);
    const plain = seededBytes(3, 10 * 1024 + 100);
    const { sha256: sha } = await vault.put(plain, {});
    const { body } = await blobNames(backend, sha);
    const bytes = Buffer.from((await backend.read(body)) ?? []);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    await backend.write(body, bytes);
    const result = await drain(await vault.get(sha));
    assert.ok(result.error instanceof VaultError && result.error.code === 'VAULT_CORRUPT', String(result.error));
    assert.equal(result.ended, false);
    assert.ok(result.bytes <= 10 * 1024, `${result.bytes} bytes`); // never the damaged last segment
  });

  test(name('rotation re-wraps headers only; the old key can then be retired and destroyed'), async (t) => {
    const { backend, keys, vault, keyPath: kp } = await setup(t);
    const oldId = (await keys.keys())[0]?.id ?? '';
    const shas: string[] = [];
    for (let i = 0; i < 5; i++) shas.push((await vault.put(seededBytes(100 + i, 1000 * i), { i: String(i) })).sha256);
    const bodiesBefore = new Map<string, string>();
    let headerBytes = 0;
    for (const sha of shas) {
      const n = await blobNames(backend, sha);
      bodiesBefore.set(n.body, sha256((await backend.read(n.body)) ?? new Uint8Array()));
      headerBytes += (await backend.read(n.header))?.byteLength ?? 0;
    }
    await assert.rejects(vault.retire(oldId), isVaultError('VAULT_KEY_STATE')); // still primary

    const summary = await vault.rotate();
    assert.notEqual(summary.kekId, oldId);
    assert.deepEqual(summary, { kekId: summary.kekId, rewrapped: 5, unchanged: 0, headerBytesWritten: headerBytes, from: { [oldId]: 5 }, failures: [] });
    for (const [body, digest] of bodiesBefore) assert.equal(sha256((await backend.read(body)) ?? new Uint8Array()), digest, `${body} changed`);
    for (const sha of shas) assert.equal((await vault.stat(sha)).kekId, summary.kekId);
    assert.deepEqual(await vault.keyUsage(), new Map([[summary.kekId, 5]]));
    assert.equal((await vault.rewrap()).unchanged, 5);

    await assert.rejects(vault.destroyKey(oldId), isVaultError('VAULT_KEY_STATE')); // not retired yet
    await vault.retire(oldId);
    await vault.destroyKey(oldId);
    const file = readFileSync(kp, 'utf8');
    assert.equal(file.includes(oldId), false);
    // A fresh process with only the new key reads everything.
    const ring = await KeyFileProvider.open(kp, { create: false });
    assert.deepEqual((await ring.keys()).map((k) => k.id), [summary.kekId]);
    const reopened = new Vault({ backend, keys: ring });
    for (let i = 0; i < shas.length; i++) assert.deepEqual(Buffer.from(await reopened.getBytes(shas[i] ?? '')), seededBytes(100 + i, 1000 * i));
  });

  test(name('a key still wrapping an object cannot be retired or destroyed'), async (t) => {
    const { keys, vault } = await setup(t);
    const oldId = (await keys.keys())[0]?.id ?? '';
    const { sha256: sha } = await vault.put(Buffer.from('held by the old key'), {});
    await keys.createKey(); // a new primary, but nothing re-wrapped yet
    await assert.rejects(vault.retire(oldId), isVaultError('VAULT_KEY_IN_USE'));
    // Retired behind the vault's back (as when a backup restores objects after retirement):
    // the key still unwraps, and destroying it is refused.
    await keys.retireKey(oldId);
    assert.equal(Buffer.from(await vault.getBytes(sha)).toString(), 'held by the old key');
    await assert.rejects(vault.destroyKey(oldId), isVaultError('VAULT_KEY_IN_USE'));
    assert.equal((await vault.rewrap()).rewrapped, 1);
    await vault.destroyKey(oldId);
    assert.equal(Buffer.from(await vault.getBytes(sha)).toString(), 'held by the old key');
    await assert.rejects(vault.retire('kek-0000000000000000'), isVaultError('VAULT_UNKNOWN_KEY'));
  });
}
