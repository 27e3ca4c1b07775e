// Guards against: a log whose stored tiles disagree with a naive Merkle recomputation, partial
// tiles that are not replaced by full ones (or the reverse), proofs from stored tiles that fail
// verification, idempotency keys that create duplicates or are forgotten after a crash, two writers
// on one log, and a damaged tile that opens silently (or is "repaired" by deleting data).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '../core/index.ts';
import { LedgerError } from './errors.ts';
import { EMPTY_ROOT, leafHash, rootFromLeafHashes, verifyConsistency, verifyInclusion } from './merkle.ts';
import { MemoryTileStorage } from './tiles.ts';
import type { StoredObject, TileStorage } from './tiles.ts';
import { checkpointBody, createLog, openLog, openLogStorage } from './log.ts';

const ORIGIN = 'example.com/trainguard/test';

function isCode(code: string): (err: unknown) => boolean {
  return (err: unknown) => err instanceof LedgerError && err.code === code;
}

function entry(i: number, tag = 'e'): Uint8Array {
  return new TextEncoder().encode(`${tag}${i}`);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tg-log-'));
}

/** Snapshot of every file under a directory (path → bytes), to show that a failed open changed nothing. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(p, readFileSync(p).toString('hex'));
    }
  };
  walk(dir);
  return out;
}

test('a new log is empty, with the empty root, and its checkpoint is the tlog-checkpoint body', async () => {
  const dir = tempDir();
  const log = await createLog(dir, { origin: ORIGIN });
  assert.equal(log.size, 0);
  assert.deepEqual(log.root, EMPTY_ROOT);
  assert.equal(log.checkpoint, `${ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n`);
  assert.equal(readFileSync(join(dir, 'checkpoint'), 'utf8'), log.checkpoint);
  await log.close();
  await assert.rejects(createLog(dir, { origin: ORIGIN }), isCode('LEDGER_EXISTS'));
  await assert.rejects(openLog(join(dir, 'nope')), isCode('LEDGER_NOT_FOUND'));
  await assert.rejects(openLog(tempDir()), isCode('LEDGER_NOT_FOUND'));
  await assert.rejects(createLog(tempDir(), { origin: 'bad\norigin' }), isCode('LEDGER_BAD_INPUT'));
});

test('differential: seeded random batches match a naive root; every entry reads back; proofs verify', async () => {
  const rng = createRng(7);
  const log = await openLogStorage(new MemoryTileStorage(), { origin: ORIGIN, create: true });
  const all: Uint8Array[] = [];
  const roots = [EMPTY_ROOT];
  // Batch sizes straddle tile boundaries: 1, 255, 256, 257 and random ones, up to ~3 tiles of level 1.
  const sizes = [1, 255, 256, 257, 1, 511];
  while (sizes.length < 30) sizes.push(1 + rng.int(300));
  for (const n of sizes) {
    const batch = Array.from({ length: n }, (_, i) => entry(all.length + i));
    const r = await log.append(batch);
    assert.deepEqual(r.indices, batch.map((_, i) => all.length + i));
    all.push(...batch);
    assert.equal(r.size, all.length);
    assert.deepEqual(r.root, rootFromLeafHashes(all.map(leafHash)));
    roots[all.length] = r.root;
    // Proofs at the current size read the right-edge tiles' cached trees, which each batch replaces.
    const naive = all.map(leafHash);
    for (const index of [all.length - 1, rng.int(all.length)]) {
      verifyInclusion(naive[index] as Uint8Array, index, all.length, await log.inclusionProof(index), r.root);
    }
  }
  const leaves = all.map(leafHash);
  for (let k = 0; k < 40; k++) {
    const size = 1 + rng.int(all.length);
    const index = rng.int(size);
    assert.deepEqual(await log.readEntry(index), all[index]);
    const expectedRoot = rootFromLeafHashes(leaves.slice(0, size));
    assert.deepEqual(await log.rootAt(size), expectedRoot);
    verifyInclusion(leaves[index] as Uint8Array, index, size, await log.inclusionProof(index, size), expectedRoot);
    const old = 1 + rng.int(size);
    verifyConsistency(old, size, rootFromLeafHashes(leaves.slice(0, old)), expectedRoot, await log.consistencyProof(old, size));
  }
  await log.verify();
  await assert.rejects(log.readEntry(all.length), isCode('LEDGER_BAD_INPUT'));
  await assert.rejects(log.inclusionProof(0, all.length + 1), isCode('LEDGER_BAD_INPUT'));
  await assert.rejects(log.consistencyProof(5, 4), isCode('LEDGER_BAD_INPUT'));
});

test('partial tiles grow into full ones, at every level (C2SP tlog-tiles layout)', async () => {
  const storage = new MemoryTileStorage();
  const log = await openLogStorage(storage, { origin: ORIGIN, create: true });
  await log.append(Array.from({ length: 255 }, (_, i) => entry(i)));
  assert.ok(storage.objects.has('tile/0/000.p/255'));
  assert.ok(storage.objects.has('tile/entries/000.p/255'));
  assert.ok(!storage.objects.has('tile/0/000'));
  await log.append([entry(255), entry(256)]);
  assert.equal(storage.objects.get('tile/0/000')?.length, 256 * 32);
  assert.ok(storage.objects.has('tile/entries/000'));
  assert.ok(storage.objects.has('tile/1/000.p/1')); // spec example for a tree of 256
  assert.ok(storage.objects.has('tile/0/001.p/1'));
  // Partials of a now-full tile are garbage: the full tile's prefix holds the same hashes.
  assert.ok(!storage.objects.has('tile/0/000.p/255'));
  assert.ok(!storage.objects.has('tile/entries/000.p/255'));
});

test('a reader holding an older checkpoint falls back to the full tile when its partial was collected', async () => {
  const dir = tempDir();
  const log = await createLog(dir, { origin: ORIGIN });
  await log.append(Array.from({ length: 255 }, (_, i) => entry(i)));
  const old = { checkpoint: log.checkpoint, root: log.root };
  await log.append(Array.from({ length: 20 }, (_, i) => entry(255 + i)));
  await log.close();
  assert.equal(existsSync(join(dir, 'tile', '0', '000.p', '255')), false);
  // As if a reader read the checkpoint just before the writer committed and collected the partial.
  writeFileSync(join(dir, 'checkpoint'), old.checkpoint);
  const reader = await openLog(dir, { readOnly: true, verify: 'full' });
  assert.equal(reader.size, 255);
  assert.deepEqual(reader.root, old.root);
  assert.deepEqual(await reader.readEntry(254), entry(254));
  verifyInclusion(leafHash(entry(7)), 7, 255, await reader.inclusionProof(7), old.root);
});

test('tree of 70,000 entries has the tiles of the C2SP example (vectors: tlog_tiles)', async () => {
  const storage = new MemoryTileStorage();
  const log = await openLogStorage(storage, { origin: ORIGIN, create: true });
  await log.append(Array.from({ length: 70000 }, (_, i) => entry(i)));
  const names = [...storage.objects.keys()];
  const fullAt = (l: number): number => names.filter((n) => new RegExp(`^tile/${l}/[x0-9/]+$`).test(n)).length;
  const partialAt = (l: number): string[] => names.filter((n) => new RegExp(`^tile/${l}/[x0-9/]+\\.p/`).test(n));
  assert.equal(fullAt(0), 273);
  assert.deepEqual(partialAt(0), ['tile/0/273.p/112']);
  assert.equal(fullAt(1), 1);
  assert.deepEqual(partialAt(1), ['tile/1/001.p/17']);
  assert.equal(fullAt(2), 0);
  assert.deepEqual(partialAt(2), ['tile/2/000.p/1']);
  assert.deepEqual(partialAt(3), []);
  assert.deepEqual(log.root, rootFromLeafHashes(Array.from({ length: 70000 }, (_, i) => leafHash(entry(i)))));
});

test('reopen: same size, root and entries; proofs from stored tiles verify; full verification passes', async () => {
  const dir = tempDir();
  const log = await createLog(dir, { origin: ORIGIN });
  const all = Array.from({ length: 700 }, (_, i) => entry(i));
  await log.append(all.slice(0, 300));
  await log.append(all.slice(300));
  const { size, root } = log;
  await log.close();
  const again = await openLog(dir, { verify: 'full', origin: ORIGIN });
  assert.equal(again.size, size);
  assert.deepEqual(again.root, root);
  for (const i of [0, 255, 256, 299, 300, 511, 512, 699]) {
    assert.deepEqual(await again.readEntry(i), all[i]);
    verifyInclusion(leafHash(all[i] as Uint8Array), i, size, await again.inclusionProof(i), root);
  }
  const more = await again.append([entry(700)]);
  assert.deepEqual(more.indices, [700]);
  await again.close();
  await assert.rejects(openLog(dir, { origin: 'other.example/log' }), isCode('LEDGER_BAD_INPUT'));
});

test('idempotency keys: a repeated key returns the original index, survives reopen, and rejects different bytes', async () => {
  const dir = tempDir();
  const log = await createLog(dir, { origin: ORIGIN });
  const a = await log.append([entry(0), entry(1)], { idempotencyKeys: ['k0', 'k1'] });
  assert.deepEqual(a.indices, [0, 1]);
  // Repeated keys, within a request and across requests; a keyless entry is always new.
  const b = await log.append([entry(1), entry(2), entry(2), entry(9)], { idempotencyKeys: ['k1', 'k2', 'k2', undefined] });
  assert.deepEqual(b.indices, [1, 2, 2, 3]);
  assert.equal(log.size, 4);
  const c = await log.append([entry(0)], { idempotencyKeys: ['k0'] });
  assert.deepEqual(c.indices, [0]);
  assert.equal(c.size, 4, 'an all-duplicate append adds nothing');
  await assert.rejects(log.append([entry(77)], { idempotencyKeys: ['k0'] }), isCode('LEDGER_IDEMPOTENCY_CONFLICT'));
  await assert.rejects(log.append([entry(1)], { idempotencyKeys: [] }), isCode('LEDGER_BAD_INPUT'));
  await assert.rejects(log.append([entry(1)], { idempotencyKeys: [''] }), isCode('LEDGER_BAD_INPUT'));
  await log.close();

  const again = await openLog(dir);
  const d = await again.append([entry(2), entry(5)], { idempotencyKeys: ['k2', 'k5'] });
  assert.deepEqual(d.indices, [2, 4]);
  assert.equal(again.size, 5);
  await again.close();
});

test('idempotency records of a batch whose checkpoint never landed are dropped on open', async () => {
  const dir = tempDir();
  const log = await createLog(dir, { origin: ORIGIN });
  await log.append([entry(0)], { idempotencyKeys: ['k0'] });
  await log.close();
  // Simulate a crash after the key journal was written but before the checkpoint: records for
  // index 1 (uncommitted) plus a torn record.
  writeFileSync(join(dir, '.state', 'idempotency'), `0 ${Buffer.from('k0').toString('base64')}\n1 ${Buffer.from('k1').toString('base64')}\n2 aw`, { flag: 'w' });
  const again = await openLog(dir);
  assert.equal(readFileSync(join(dir, '.state', 'idempotency'), 'utf8'), `0 ${Buffer.from('k0').toString('base64')}\n`);
  // k1 was never committed, so it is a new entry now (and it may carry different bytes).
  const r = await again.append([entry(42)], { idempotencyKeys: ['k1'] });
  assert.deepEqual(r.indices, [1]);
  await again.close();
});

test('single writer: a second writer fails with LEDGER_LOCKED; read-only opens work; a dead writer’s lock is taken over', async () => {
  const dir = tempDir();
  const log = await createLog(dir, { origin: ORIGIN });
  await log.append([entry(0)]);
  await assert.rejects(openLog(dir), (err: unknown) => isCode('LEDGER_LOCKED')(err) && (err as LedgerError).hint !== undefined);
  const reader = await openLog(dir, { readOnly: true });
  assert.equal(reader.size, 1);
  await assert.rejects(reader.append([entry(1)]), isCode('LEDGER_READ_ONLY'));
  await log.close();
  await assert.rejects(log.append([entry(1)]), isCode('LEDGER_CLOSED'));

  // A lock left by a process that no longer exists is stale.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(join(dir, 'LOCK'), `${dead.stdout} 00000000-0000-0000-0000-000000000000\n`);
  const next = await openLog(dir);
  assert.equal(next.size, 1);
  await next.close();
  assert.equal(existsSync(join(dir, 'LOCK')), false);

  // A lock naming this process's pid that this process does not hold was left by an earlier
  // process with the same pid (a restarted container's PID 1): stale too.
  writeFileSync(join(dir, 'LOCK'), `${process.pid} 00000000-0000-0000-0000-000000000000\n`);
  const reborn = await openLog(dir);
  assert.equal(reborn.size, 1);
  await reborn.close();

  // A lock whose owner is alive (this process's parent) is respected.
  writeFileSync(join(dir, 'LOCK'), `${process.ppid} 00000000-0000-0000-0000-000000000000\n`);
  await assert.rejects(openLog(dir), isCode('LEDGER_LOCKED'));
});

test("lock: 'commit': writers that keep the log open take turns, see each other's entries and keys, and clean up after each other", async () => {
  const dir = tempDir();
  await (await createLog(dir, { origin: ORIGIN })).close();
  const a = await openLog(dir, { lock: 'commit' });
  const b = await openLog(dir, { lock: 'commit' });
  // Neither holds the lock between commits: a default writer can open, append and close meanwhile.
  assert.equal(existsSync(join(dir, 'LOCK')), false);
  assert.deepEqual((await a.append([entry(0)], { idempotencyKeys: ['k0'] })).indices, [0]);
  assert.deepEqual((await b.append([entry(1)], { idempotencyKeys: ['k1'] })).indices, [1]);
  // b learns a's key at its next commit: a repeat returns a's index, different bytes conflict.
  assert.deepEqual((await b.append([entry(0)], { idempotencyKeys: ['k0'] })).indices, [0]);
  await assert.rejects(b.append([entry(9)], { idempotencyKeys: ['k0'] }), isCode('LEDGER_IDEMPOTENCY_CONFLICT'));
  const other = await openLog(dir);
  assert.deepEqual((await other.append([entry(2), entry(1)], { idempotencyKeys: ['k2', 'k1'] })).indices, [2, 1]);
  await other.close();
  assert.deepEqual((await a.append([entry(3)])).indices, [3]);
  // Opening removes the temp folder (a crashed writer's leftovers), which a had made: it must make it again.
  await (await openLog(dir)).close();
  assert.equal(existsSync(join(dir, '.tmp')), false);
  assert.deepEqual((await a.append([entry(4)])).indices, [4]);
  // Concurrent appends from both writers: each commit waits for the other's lock.
  const results = await Promise.all([
    ...Array.from({ length: 20 }, (_, i) => a.append([entry(100 + i)], { idempotencyKeys: [`a${i}`] })),
    ...Array.from({ length: 20 }, (_, i) => b.append([entry(200 + i)], { idempotencyKeys: [`b${i}`] })),
  ]);
  assert.deepEqual(results.flatMap((r) => r.indices).sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => 5 + i));
  assert.deepEqual((await a.append([entry(200)], { idempotencyKeys: ['b0'] })).indices, results[20]?.indices);
  assert.deepEqual((await b.append([entry(100)], { idempotencyKeys: ['a0'] })).indices, results[0]?.indices);
  assert.equal(a.size, 45);
  assert.equal(b.size, 45);
  assert.equal(a.checkpoint, b.checkpoint);
  await a.close();
  await b.close();
  const final = await openLog(dir, { verify: 'full' });
  assert.equal(final.size, 45);
  const appended = await Promise.all(Array.from({ length: 40 }, (_, i) => final.readEntry(5 + i)));
  const want = [...Array.from({ length: 20 }, (_, i) => entry(100 + i)), ...Array.from({ length: 20 }, (_, i) => entry(200 + i))];
  assert.deepEqual(appended.map((e) => Buffer.from(e).toString()).sort(), want.map((e) => Buffer.from(e).toString()).sort());
  await final.close();
});

test("lock: 'commit': key records a failed writer left past the checkpoint are dropped, never given an index", async () => {
  const dir = tempDir();
  await (await createLog(dir, { origin: ORIGIN })).close();
  const log = await openLog(dir, { lock: 'commit' });
  await log.append([entry(0)], { idempotencyKeys: ['k0'] });
  // Another writer wrote its key record for index 1, then failed before its checkpoint.
  writeFileSync(join(dir, '.state', 'idempotency'), `1 ${Buffer.from('ghost').toString('base64')}\n`, { flag: 'a' });
  assert.deepEqual((await log.append([entry(1)], { idempotencyKeys: ['k1'] })).indices, [1]);
  await log.close();
  const again = await openLog(dir);
  assert.deepEqual((await again.append([entry(2), entry(1)], { idempotencyKeys: ['ghost', 'k1'] })).indices, [2, 1]);
  await again.close();
});

test("lock: 'commit': a lock held too long fails only that append (LEDGER_LOCKED, nothing written); the next one commits", async () => {
  const dir = tempDir();
  await (await createLog(dir, { origin: ORIGIN })).close();
  const impatient = await openLog(dir, { lock: 'commit', lockWaitMs: 20 });
  const patient = await openLog(dir, { lock: 'commit' });
  const holder = await openLog(dir);
  await assert.rejects(impatient.append([entry(0)]), isCode('LEDGER_LOCKED'));
  const waiting = patient.append([entry(1)]);
  await holder.append([entry(7)]);
  await holder.close();
  assert.deepEqual((await waiting).indices, [1]);
  assert.deepEqual((await impatient.append([entry(2)])).indices, [2]);
  assert.deepEqual(await impatient.readEntry(0), entry(7));
  await impatient.close();
  await patient.close();
});

test('a damaged tile is detected on open with a code and hint, and nothing is changed', async () => {
  const dir = tempDir();
  const log = await createLog(dir, { origin: ORIGIN });
  await log.append(Array.from({ length: 600 }, (_, i) => entry(i)));
  await log.close();
  const before = snapshot(dir);
  const edgeTile = join(dir, 'tile', '0', '002.p', '88');
  const fullTile = join(dir, 'tile', '0', '000');
  const bundle = join(dir, 'tile', 'entries', '002.p', '88');

  const cases: [string, (b: Buffer) => Buffer, 'quick' | 'full'][] = [
    [edgeTile, (b) => flip(b, 40), 'quick'], // right-edge tile: the root no longer matches
    [edgeTile, (b) => b.subarray(0, b.length - 1), 'quick'], // truncated
    [bundle, (b) => flip(b, 3), 'quick'], // entry no longer matches its leaf hash
    [join(dir, 'tile', '0', '001'), (b) => flip(b, 100), 'quick'], // last full tile below the level-1 edge
    [fullTile, (b) => flip(b, 5), 'full'], // a middle tile: only full verification reads it
    [join(dir, 'tile', 'entries', '000'), (b) => flip(b, 2), 'full'], // first byte of entry 0's content
    [join(dir, 'checkpoint'), (b) => Buffer.from(b.toString('utf8').replace(/\n[^\n]{44}\n$/, `\n${Buffer.alloc(32, 1).toString('base64')}\n`)), 'quick'],
    [join(dir, 'checkpoint'), (b) => Buffer.from(b.toString('utf8').replace('\n600\n', '\n601\n')), 'quick'],
  ];
  for (const [file, damage, mode] of cases) {
    const good = readFileSync(file);
    writeFileSync(file, damage(good));
    const damaged = snapshot(dir);
    if (mode === 'full') {
      const ok = await openLog(dir); // the quick check only reads the right edge
      await ok.close();
    }
    await assert.rejects(openLog(dir, { verify: mode }), (err: unknown) => {
      assert.ok(err instanceof LedgerError, String(err));
      assert.equal(err.code, 'LEDGER_CORRUPT', `${file}: ${err.message}`);
      assert.ok(err.hint !== undefined && err.hint.length > 0);
      return true;
    });
    assert.deepEqual(snapshot(dir), damaged, 'a failed open must not modify the log');
    writeFileSync(file, good);
  }
  assert.deepEqual(snapshot(dir), before);

  // A missing tile, too.
  const missing = join(dir, 'tile', '1', '000.p', '2');
  const saved = readFileSync(missing);
  rmSync(missing);
  await assert.rejects(openLog(dir), isCode('LEDGER_CORRUPT'));
  writeFileSync(missing, saved);
  const ok = await openLog(dir, { verify: 'full' });
  assert.equal(ok.size, 600);
  await ok.close();
});

function flip(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at] = (c[at] ?? 0) ^ 1;
  return c;
}

test('entries over 65535 bytes are refused with LEDGER_ENTRY_TOO_LARGE and nothing is written', async () => {
  const log = await openLogStorage(new MemoryTileStorage(), { origin: ORIGIN, create: true });
  await assert.rejects(log.append([entry(0), new Uint8Array(65536)]), isCode('LEDGER_ENTRY_TOO_LARGE'));
  assert.equal(log.size, 0);
  const ok = await log.append([new Uint8Array(65535)]);
  assert.deepEqual(ok.indices, [0]);
});

test('signCheckpoint and verifyCheckpoint hooks: the stored note is the signer’s, and a refused note fails open', async () => {
  const dir = tempDir();
  const sign = (body: string): string => `${body}\n— ${ORIGIN} c2lnbmF0dXJl\n`;
  const log = await createLog(dir, { origin: ORIGIN, signCheckpoint: sign });
  const r = await log.append([entry(0)]);
  assert.equal(r.checkpoint, sign(checkpointBody(ORIGIN, 1, leafHash(entry(0)))));
  assert.equal(readFileSync(join(dir, 'checkpoint'), 'utf8'), r.checkpoint);
  await log.close();
  const seen: string[] = [];
  const again = await openLog(dir, { verifyCheckpoint: (note) => void seen.push(note) });
  assert.deepEqual(seen, [r.checkpoint]);
  await again.close();
  const refuse = (): void => {
    throw new LedgerError('LEDGER_BAD_SIGNATURE', 'no');
  };
  await assert.rejects(openLog(dir, { verifyCheckpoint: refuse }), isCode('LEDGER_BAD_SIGNATURE'));
  const badSigner = await openLog(dir, { signCheckpoint: () => 'something else\n' });
  await assert.rejects(badSigner.append([entry(1)]), isCode('LEDGER_BAD_INPUT'));
  await badSigner.close();
});

/** Counts checkpoint writes and can fail the n-th write, to simulate a crash between steps. */
class FlakyStorage implements TileStorage {
  readonly inner = new MemoryTileStorage();
  checkpointWrites = 0;
  failAt = Infinity;
  writes = 0;
  async read(name: string): Promise<Uint8Array | undefined> {
    return this.inner.read(name);
  }
  async write(objects: readonly StoredObject[]): Promise<void> {
    if (++this.writes >= this.failAt) throw new Error('disk gone');
    if (objects.some((o) => o.name === 'checkpoint')) this.checkpointWrites++;
    return this.inner.write(objects);
  }
  async append(name: string, data: Uint8Array): Promise<void> {
    return this.inner.append(name, data);
  }
  async truncate(name: string, length: number): Promise<void> {
    return this.inner.truncate(name, length);
  }
  async removePrefix(prefix: string): Promise<void> {
    return this.inner.removePrefix(prefix);
  }
}

test('concurrent appends are merged into few batches, each with one checkpoint', async () => {
  const storage = new FlakyStorage();
  const log = await openLogStorage(storage, { origin: ORIGIN, create: true });
  const before = storage.checkpointWrites;
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => log.append([entry(i)])));
  const indices = results.map((r) => r.indices[0]).sort((x, y) => (x ?? 0) - (y ?? 0));
  assert.deepEqual(indices, Array.from({ length: 200 }, (_, i) => i));
  assert.ok(storage.checkpointWrites - before <= 2, `${storage.checkpointWrites - before} checkpoints for 200 concurrent appends`);
  assert.deepEqual(log.root, rootFromLeafHashes(Array.from({ length: 200 }, (_, i) => leafHash(entry(i)))));
});

test('a failed write (tiles written, checkpoint not) refuses further appends; reopening recovers every acknowledged entry', async () => {
  const storage = new FlakyStorage();
  const log = await openLogStorage(storage, { origin: ORIGIN, create: true });
  await log.append(Array.from({ length: 300 }, (_, i) => entry(i)), { idempotencyKeys: Array.from({ length: 300 }, (_, i) => `k${i}`) });
  const acked = { size: log.size, root: log.root };
  storage.failAt = storage.writes + 2; // the next batch's tile write succeeds, its checkpoint write fails
  await assert.rejects(
    log.append(Array.from({ length: 300 }, (_, i) => entry(i, 'lost')), { idempotencyKeys: Array.from({ length: 300 }, (_, i) => `lost${i}`) }),
    isCode('LEDGER_IO'),
  );
  assert.ok(storage.inner.objects.has('tile/0/002.p/88'), 'the failed batch did write its tiles');
  await assert.rejects(log.append([entry(1)]), isCode('LEDGER_IO'));
  storage.failAt = Infinity;
  const again = await openLogStorage(storage, { origin: ORIGIN });
  assert.equal(again.size, acked.size);
  assert.deepEqual(again.root, acked.root);
  // The unacknowledged batch's tiles are overwritten; its keys are forgotten.
  const r = await again.append([entry(0, 'new')], { idempotencyKeys: ['lost0'] });
  assert.deepEqual(r.indices, [300]);
  assert.deepEqual(await again.readEntry(300), entry(0, 'new'));
  await again.verify();
  const dup = await again.append([entry(5)], { idempotencyKeys: ['k5'] });
  assert.deepEqual(dup.indices, [5]);
});
