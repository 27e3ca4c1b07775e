// Runs the vault behaviour suite on the filesystem backend (the tamper test flips every 5th bit;
// the memory run flips all of them), and guards against temp files left behind by failed writes,
// blobs readable by other users, and file descriptors leaked by readers that stop early.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FileBackend } from './fs-backend.ts';
import { KeyFileProvider } from './key-file.ts';
import { Vault } from './vault.ts';
import { chunked, filesUnder, seededBytes, vaultBehaviourSuite } from './vault-suite.ts';

let root = '';
let count = 0;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'tg-vault-fs-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

vaultBehaviourSuite({
  name: 'fs',
  // Without fsync: the tamper test rewrites a blob ~1,200 times. The test below and the benchmark
  // run with fsync on.
  open: async () => new FileBackend(join(root, `store-${count++}`), { fsync: false }),
  disk: () => root,
  bitStride: 5,
});

test('fs: failed and successful writes leave no temp files; blobs are private to their owner', async () => {
  const dir = join(root, 'temps');
  const backend = new FileBackend(dir);
  await backend.write('a/b', Buffer.from('x'));
  assert.equal(await backend.write('a/b', Buffer.from('y'), { ifAbsent: true }), false);
  await backend.writeStream('a/c', chunked(seededBytes(1, 3 * 1024 * 1024), 100_000));
  async function* failing(): AsyncGenerator<Uint8Array> {
    yield seededBytes(2, 2 * 1024 * 1024);
    throw new Error('gone');
  }
  await assert.rejects(backend.writeStream('a/d', failing()), /gone/);
  const files = filesUnder(dir).map((f) => f.path);
  assert.deepEqual(files.sort(), [join(dir, 'a', 'b'), join(dir, 'a', 'c')]);
  for (const f of files) assert.equal(statSync(f).mode & 0o077, 0, f);
  assert.equal(statSync(join(dir, 'a')).mode & 0o077, 0);
});

test('fs: get streams destroyed unread or left part-read release their files', async (t) => {
  if (!existsSync('/proc/self/fd')) return t.skip('needs /proc/self/fd');
  const dir = join(root, 'fds');
  const vault = new Vault({ backend: new FileBackend(dir), keys: await KeyFileProvider.open(join(dir, 'keys.json')) });
  // Larger than the backend's small-file cutoff, so the body is read through a file descriptor.
  const { sha256 } = await vault.put(seededBytes(3, 300_000), {});
  const open = (): number => readdirSync('/proc/self/fd').length;
  const before = open();
  // Held until the end, so garbage collection cannot close what the vault failed to.
  const streams: Readable[] = [];
  for (let i = 0; i < 20; i++) {
    const s = await vault.get(sha256);
    streams.push(s);
    s.destroy();
  }
  for (let i = 0; i < 20; i++) {
    const s = await vault.get(sha256);
    streams.push(s);
    for await (const _ of s) break;
  }
  // Closing a descriptor is asynchronous: let the event loop turn until they are back, or give up.
  for (let turns = 0; turns < 1000 && open() > before; turns++) await new Promise((r) => setImmediate(r));
  assert.equal(open(), before);
  assert.equal(streams.length, 40);
});
