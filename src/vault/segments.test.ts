// Guards the STREAM construction itself, below the vault's early size check: a body cut at any
// segment boundary or inside a segment, extended, reordered, decrypted under another header or
// key, or fed in any chunking must fail (or round-trip) exactly as the format says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { VaultError } from './errors.ts';
import { TAG_SIZE, bodySize, encodeStable } from './format.ts';
import type { ObjectDigest, StableHeader } from './format.ts';
import { decryptBody, deriveSegmentKey, encryptBody } from './segments.ts';
import { chunked, collect, seededBytes, sha256 } from './vault-suite.ts';

const SEG = 64;

function stableHeader(segmentSize = SEG, context: Record<string, string> = { dataset: 'd' }): StableHeader {
  return encodeStable({ segmentSize, objectId: randomBytes(16), noncePrefix: randomBytes(7), context });
}

async function seal(plain: Uint8Array, stable: StableHeader, chunk = 1000): Promise<{ body: Buffer; digest: ObjectDigest; key: Buffer }> {
  const key = deriveSegmentKey(randomBytes(32), stable);
  const enc = encryptBody(chunked(plain, chunk), key, stable);
  const body = await collect(enc.chunks);
  return { body, digest: enc.digest(), key };
}

function open(body: Uint8Array, key: Uint8Array, stable: StableHeader, digest: ObjectDigest, chunk = 777): Promise<Buffer> {
  return collect(decryptBody(chunked(body, chunk), key, stable, digest, 'obj'));
}

const corrupt = (err: unknown): boolean => err instanceof VaultError && err.code === 'VAULT_CORRUPT' && err.message.includes('obj');

test('round trips at segment edges and in any chunking; sizes and digests are exact', async () => {
  for (const size of [0, 1, SEG - 1, SEG, SEG + 1, 7 * SEG, 7 * SEG + 3]) {
    const plain = seededBytes(size, size);
    const stable = stableHeader();
    for (const chunk of [1, 13, SEG, 4096]) {
      const { body, digest, key } = await seal(plain, stable, chunk);
      assert.equal(body.length, bodySize(size, SEG));
      assert.deepEqual(digest, { size, sha256: sha256(plain), ciphertextSha256: sha256(body) });
      assert.deepEqual(await open(body, key, stable, digest, chunk + 2), plain);
    }
  }
});

test('empty plaintext is one empty final segment', async () => {
  const stable = stableHeader();
  const { body, digest, key } = await seal(new Uint8Array(0), stable);
  assert.equal(body.length, TAG_SIZE);
  assert.deepEqual(await open(body, key, stable, digest), Buffer.alloc(0));
  await assert.rejects(open(new Uint8Array(0), key, stable, digest), corrupt);
});

test('truncation at every boundary and inside every segment, and extension, fail authentication', async () => {
  const stable = stableHeader();
  const plain = seededBytes(9, 6 * SEG); // a multiple: the final segment is full
  const { body, digest, key } = await seal(plain, stable);
  const frame = SEG + TAG_SIZE;
  for (let cut = 0; cut < body.length; cut++) {
    await assert.rejects(open(body.subarray(0, cut), key, stable, digest), corrupt, `cut at ${cut}`);
  }
  // The STREAM rule alone, with a header that agrees with the cut: the new final segment was
  // sealed with last = 0.
  for (let k = 1; k < 6; k++) {
    const shorter = { ...digest, size: k * SEG, sha256: sha256(plain.subarray(0, k * SEG)) };
    await assert.rejects(open(body.subarray(0, k * frame), key, stable, shorter), corrupt, `boundary ${k}`);
  }
  const longer = { ...digest, size: 7 * SEG };
  await assert.rejects(open(Buffer.concat([body, body.subarray(0, frame)]), key, stable, longer), corrupt);
});

test('reordered, duplicated or foreign segments fail; so do another key or another stable header', async () => {
  const stable = stableHeader();
  const plain = seededBytes(4, 4 * SEG + 10);
  const { body, digest, key } = await seal(plain, stable);
  const frame = SEG + TAG_SIZE;
  const seg = (i: number): Buffer => body.subarray(i * frame, (i + 1) * frame);
  const cases: [string, Buffer][] = [
    ['swap 0 and 1', Buffer.concat([seg(1), seg(0), body.subarray(2 * frame)])],
    ['duplicate 2 over 3', Buffer.concat([body.subarray(0, 3 * frame), seg(2), body.subarray(4 * frame)])],
  ];
  for (const [what, damaged] of cases) await assert.rejects(open(damaged, key, stable, digest), corrupt, what);
  const other = await seal(plain, stableHeader());
  await assert.rejects(open(Buffer.concat([seg(0), other.body.subarray(frame)]), key, stable, digest), corrupt, 'spliced');
  await assert.rejects(open(body, other.key, stable, digest), corrupt, 'other key');
  // Same DEK, a stable header differing only in its context: the segment key differs.
  const dek = randomBytes(32);
  const sealed = await collect(encryptBody(chunked(plain, 100), deriveSegmentKey(dek, stable), stable).chunks);
  const moved = encodeStable({ segmentSize: SEG, objectId: stable.objectId, noncePrefix: stable.noncePrefix, context: { dataset: 'e' } });
  await assert.rejects(open(sealed, deriveSegmentKey(dek, moved), moved, digest), corrupt, 'other context');
});

test('a header that misstates the plaintext fails before the final segment is released', async () => {
  const stable = stableHeader();
  const plain = seededBytes(5, 3 * SEG);
  const { body, digest, key } = await seal(plain, stable);
  const released: number[] = [];
  const wrongHash = { ...digest, sha256: sha256(Buffer.from('something else')) };
  await assert.rejects(
    (async () => {
      for await (const p of decryptBody(chunked(body, 50), key, stable, wrongHash, 'obj')) released.push(p.byteLength);
    })(),
    corrupt,
  );
  assert.deepEqual(released, [SEG, SEG]);
  await assert.rejects(open(body, key, stable, { ...digest, size: 3 * SEG - 1 }), corrupt);
});

test('the input stream must yield bytes', async () => {
  const stable = stableHeader();
  async function* text(): AsyncGenerator<Uint8Array> {
    yield 'abc' as unknown as Uint8Array;
  }
  const enc = encryptBody(text(), deriveSegmentKey(randomBytes(32), stable), stable);
  await assert.rejects(collect(enc.chunks), (err) => err instanceof VaultError && err.code === 'VAULT_BAD_INPUT');
  assert.throws(() => enc.digest());
});
