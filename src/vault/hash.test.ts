// Guards the worker-thread SHA-256 against node:crypto's: any chunking, the switch from held
// chunks to the worker at INLINE_LIMIT, back-pressure past the in-flight bound, and more streams
// at once than there are workers must all give the same digest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INLINE_LIMIT, Sha256Stream } from './hash.ts';
import { seededBytes, sha256 } from './vault-suite.ts';

async function digestInChunks(data: Buffer, seed: number): Promise<string> {
  const s = new Sha256Stream();
  let at = 0;
  let step = seed;
  while (at < data.length) {
    step = (step * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (step % 300_000);
    await s.update(data.subarray(at, at + n));
    at += n;
  }
  return s.digest();
}

test('digests equal node:crypto for sizes around the worker threshold and past back-pressure', async () => {
  for (const size of [0, 1, INLINE_LIMIT - 1, INLINE_LIMIT, INLINE_LIMIT + 1, 3 * 1024 * 1024 + 17, 40 * 1024 * 1024 + 3]) {
    const data = seededBytes(size, size);
    assert.equal(await digestInChunks(data, size), sha256(data), `size ${size}`);
  }
});

test('many streams at once share the workers and keep their own state', async () => {
  const inputs = [0, 1, 2, 3, 4].map((i) => seededBytes(100 + i, INLINE_LIMIT * 2 + i * 999));
  const digests = await Promise.all(inputs.map((d, i) => digestInChunks(d, i)));
  assert.deepEqual(digests, inputs.map(sha256));
});

test('an abandoned stream releases its worker; a digest is final', async () => {
  const s = new Sha256Stream();
  await s.update(seededBytes(9, INLINE_LIMIT + 10));
  s.abandon();
  await assert.rejects(s.digest(), /already digested or abandoned/);
  const t = new Sha256Stream();
  await t.update(Buffer.from('x'));
  assert.equal(await t.digest(), sha256(Buffer.from('x')));
  await assert.rejects(t.digest());
});

test('a chunk may be changed once update returns (a consumer owns what the vault yields)', async () => {
  for (const size of [1000, INLINE_LIMIT * 2]) {
    const data = seededBytes(size + 1, size);
    const s = new Sha256Stream();
    for (let at = 0; at < size; at += 65536) {
      const chunk = Buffer.from(data.subarray(at, at + 65536));
      await s.update(chunk);
      chunk.fill(0);
    }
    assert.equal(await s.digest(), sha256(data), `size ${size}`);
  }
});
