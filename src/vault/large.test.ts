// Guards constant memory and correctness at scale: a 1 GiB object, generated on the fly from a
// seeded stream, is stored (fsync on) and read back through streams; the SHA-256 must match and
// the process's RSS must not grow by anything near the object's size. Takes ~10 s here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBackend } from './fs-backend.ts';
import { KeyFileProvider } from './key-file.ts';
import { Vault } from './vault.ts';
import { seededStream } from './vault-suite.ts';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** `size` bytes of a seeded keystream in fresh 1 MiB chunks, hashed as they are made. */
function generate(seed: number, size: number, hash: ReturnType<typeof createHash>): AsyncGenerator<Uint8Array> {
  const stream = seededStream(seed);
  const zeros = Buffer.alloc(MiB);
  return (async function* () {
    for (let at = 0; at < size; at += MiB) {
      const chunk = stream.update(zeros.subarray(0, Math.min(MiB, size - at)));
      hash.update(chunk);
      yield chunk;
    }
  })();
}

test('a 1 GiB object streams in and out in constant memory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-vault-large-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const vault = new Vault({ backend: new FileBackend(join(dir, 'data')), keys: await KeyFileProvider.open(join(dir, 'keys.json')) });

  // Warm up (hash workers, buffer pools) so the baseline includes what every large put needs.
  const warm = await vault.put(generate(0, 64 * MiB, createHash('sha256')), {});
  for await (const _ of await vault.get(warm.sha256));
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  t.after(() => clearInterval(sampler));

  const expected = createHash('sha256');
  let started = performance.now();
  const put = await vault.put(generate(1, GiB, expected), { kind: 'large' });
  const putSeconds = (performance.now() - started) / 1000;
  assert.equal(put.sha256, expected.digest('hex'));
  assert.equal(put.size, GiB);

  started = performance.now();
  const got = createHash('sha256');
  let bytes = 0;
  for await (const chunk of await vault.get(put.sha256)) {
    got.update(chunk as Buffer);
    bytes += (chunk as Buffer).byteLength;
  }
  const getSeconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  assert.equal(bytes, GiB);
  assert.equal(got.digest('hex'), put.sha256);
  const growth = (peak - baseline) / MiB;
  t.diagnostic(`put ${putSeconds.toFixed(1)} s, get ${getSeconds.toFixed(1)} s, RSS growth ${growth.toFixed(1)} MiB`);
  assert.ok(growth < 64, `RSS grew by ${growth.toFixed(1)} MiB`);
});
