// Guards against: tile paths that differ from C2SP tlog-tiles (so other clients fetch the wrong
// tile), lenient path parsing (two spellings of one tile), entry bundles that accept trailing or
// truncated bytes, and a storage that loses or half-writes objects or lets names escape its root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerError } from './errors.ts';
import {
  FileTileStorage,
  MAX_ENTRY_SIZE,
  MemoryTileStorage,
  decodeEntryBundle,
  decodeHashTile,
  encodeEntryBundle,
  encodeHashTile,
  formatTileIndex,
  formatTilePath,
  parseTilePath,
  readTileBytes,
} from './tiles.ts';
import type { TileStorage } from './tiles.ts';

const vectorsPath = join(import.meta.dirname, '../../../shared/vectors/tlog-vectors.json');
const vectors: Record<string, unknown> | undefined = existsSync(vectorsPath) ? JSON.parse(readFileSync(vectorsPath, 'utf8')) : undefined;

function isCode(code: string): (err: unknown) => boolean {
  return (err: unknown) => err instanceof LedgerError && err.code === code;
}

test('tile index is written as 3-digit groups with x on all but the last', () => {
  const table: [number, string][] = [
    [0, '000'],
    [7, '007'],
    [999, '999'],
    [1000, 'x001/000'],
    [1234067, 'x001/x234/067'],
    [2 ** 53 - 1, 'x009/x007/x199/x254/x740/991'],
  ];
  for (const [n, s] of table) assert.equal(formatTileIndex(n), s);
  assert.throws(() => formatTileIndex(-1), isCode('LEDGER_BAD_INPUT'));
  assert.throws(() => formatTileIndex(1.5), isCode('LEDGER_BAD_INPUT'));
});

test('C2SP tlog-tiles index example (vectors: tlog_tiles)', (t) => {
  const block = vectors?.['tlog_tiles'] as { index_encoding_example: { index: number; path_elements: string } } | undefined;
  if (block === undefined) return t.skip('tlog-vectors.json absent');
  assert.equal(formatTileIndex(block.index_encoding_example.index), block.index_encoding_example.path_elements);
});

test('tile paths: format and strict parse round-trip, full and partial, hashes and entries', () => {
  const table: [Parameters<typeof formatTilePath>[0], string][] = [
    [{ level: 0, index: 0, width: 256 }, 'tile/0/000'],
    [{ level: 0, index: 1, width: 5 }, 'tile/0/001.p/5'],
    [{ level: 2, index: 1234067, width: 255 }, 'tile/2/x001/x234/067.p/255'],
    [{ level: 63, index: 1000, width: 256 }, 'tile/63/x001/000'],
    [{ level: 'entries', index: 3057500, width: 256 }, 'tile/entries/x003/x057/500'],
    [{ level: 'entries', index: 12, width: 1 }, 'tile/entries/012.p/1'],
  ];
  for (const [ref, path] of table) {
    assert.equal(formatTilePath(ref), path);
    assert.deepEqual(parseTilePath(path), ref);
  }
});

test('tile paths: hostile or non-canonical spellings are rejected with LEDGER_BAD_TILE_PATH', () => {
  for (const bad of [
    'tile/0/1',
    'tile/0/0001',
    'tile/0/x000/001', // leading zero group
    'tile/0/001/002', // missing x
    'tile/0/001.p/0',
    'tile/0/001.p/256',
    'tile/0/001.p/05',
    'tile/64/000',
    'tile/00/000',
    'tile/-1/000',
    'tile/data/000',
    'tile/0/../000',
    '/tile/0/000',
    'tile/0/000/',
    'tile/entries/000.p/',
    'tile/0/x009/x007/x199/x254/x740/x992/000', // beyond 2^53
  ]) {
    assert.throws(() => parseTilePath(bad), isCode('LEDGER_BAD_TILE_PATH'), bad);
  }
});

test('Go sumdb tile-path table (vectors: sumdb_tlog) maps onto C2SP paths', (t) => {
  const block = vectors?.['sumdb_tlog'] as
    | { tile_paths: { path: string; H?: number; L?: number; N?: number; W?: number; invalid?: boolean }[] }
    | undefined;
  if (block === undefined) return t.skip('tlog-vectors.json absent');
  assert.ok(block.tile_paths.length >= 8);
  for (const v of block.tile_paths) {
    // sumdb writes tile/<H>/<L>/<N>[.p/<W>] with data tiles at L = "data"; C2SP drops H (fixed at 8,
    // so full = 256 wide) and names data tiles "entries". The N encoding is shared.
    const m = /^tile\/(-?[0-9]+)\/(.*)$/.exec(v.path);
    assert.ok(m !== null);
    const c2sp = `tile/${(m[2] ?? '').replace(/^data\//, 'entries/')}`;
    if (v.invalid === true) {
      assert.throws(() => parseTilePath(c2sp), isCode('LEDGER_BAD_TILE_PATH'), v.path);
      continue;
    }
    const full = v.W === 2 ** (v.H ?? 0);
    const ref = parseTilePath(c2sp);
    assert.deepEqual(ref, { level: v.L === -1 ? 'entries' : v.L, index: v.N, width: full ? 256 : v.W }, v.path);
    assert.equal(formatTilePath(ref), c2sp);
  }
});

test('hash tiles: round trip; wrong length is LEDGER_CORRUPT', () => {
  const hashes = Array.from({ length: 3 }, (_, i) => new Uint8Array(32).fill(i + 1));
  const bytes = encodeHashTile(hashes);
  assert.equal(bytes.length, 96);
  assert.deepEqual(decodeHashTile(bytes, 3), hashes);
  assert.throws(() => decodeHashTile(bytes.subarray(0, 95), 3), isCode('LEDGER_CORRUPT'));
  assert.throws(() => decodeHashTile(bytes, 2), isCode('LEDGER_CORRUPT'));
});

test('entry bundles: uint16 BE length prefixes, empty and maximal entries, strict decoding', () => {
  const entries = [new Uint8Array(0), Uint8Array.of(1, 2, 3), new Uint8Array(MAX_ENTRY_SIZE).fill(7)];
  const bytes = encodeEntryBundle(entries);
  assert.deepEqual([...bytes.subarray(0, 7)], [0, 0, 0, 3, 1, 2, 3]);
  assert.deepEqual([...bytes.subarray(7, 9)], [0xff, 0xff]);
  assert.deepEqual(decodeEntryBundle(bytes, 3), entries);
  assert.throws(() => decodeEntryBundle(bytes, 2), isCode('LEDGER_CORRUPT'));
  assert.throws(() => decodeEntryBundle(bytes, 4), isCode('LEDGER_CORRUPT'));
  assert.throws(() => decodeEntryBundle(bytes.subarray(0, bytes.length - 1), 3), isCode('LEDGER_CORRUPT'));
  assert.throws(() => decodeEntryBundle(Uint8Array.of(0, 3, 1, 2, 3, 0), 1), isCode('LEDGER_CORRUPT')); // torn length prefix
  assert.throws(() => encodeEntryBundle([new Uint8Array(MAX_ENTRY_SIZE + 1)]), isCode('LEDGER_ENTRY_TOO_LARGE'));
});

test('readTileBytes: a collected partial is cut from the full tile or bundle; absent when neither exists', async () => {
  const s = new MemoryTileStorage();
  const hashes = Array.from({ length: 256 }, (_, i) => new Uint8Array(32).fill(i));
  const entries = Array.from({ length: 256 }, (_, i) => new Uint8Array(i % 7).fill(i));
  await s.write([
    { name: 'tile/1/002', data: encodeHashTile(hashes) },
    { name: 'tile/entries/002', data: encodeEntryBundle(entries) },
    { name: 'tile/0/000.p/2', data: encodeHashTile(hashes.slice(0, 2)) },
  ]);
  assert.deepEqual(await readTileBytes(s, { level: 1, index: 2, width: 40 }), encodeHashTile(hashes.slice(0, 40)));
  assert.deepEqual(await readTileBytes(s, { level: 'entries', index: 2, width: 9 }), encodeEntryBundle(entries.slice(0, 9)));
  assert.deepEqual(await readTileBytes(s, { level: 0, index: 0, width: 2 }), encodeHashTile(hashes.slice(0, 2)));
  assert.equal(await readTileBytes(s, { level: 0, index: 0, width: 3 }), undefined);
  assert.equal(await readTileBytes(s, { level: 0, index: 1, width: 256 }), undefined);
  await s.write([{ name: 'tile/1/003', data: new Uint8Array(31) }]);
  await assert.rejects(readTileBytes(s, { level: 1, index: 3, width: 1 }), isCode('LEDGER_CORRUPT'));
});

/** One behaviour suite, run against every TileStorage implementation. */
function storageSuite(name: string, make: () => TileStorage): void {
  test(`${name}: read of a missing object is undefined; write creates and atomically replaces`, async () => {
    const s = make();
    assert.equal(await s.read('tile/0/000'), undefined);
    await s.write([
      { name: 'tile/0/000', data: Uint8Array.of(1) },
      { name: 'tile/entries/x001/000.p/3', data: Uint8Array.of(2, 3) },
    ]);
    assert.deepEqual(await s.read('tile/0/000'), Uint8Array.of(1));
    assert.deepEqual(await s.read('tile/entries/x001/000.p/3'), Uint8Array.of(2, 3));
    await s.write([{ name: 'tile/0/000', data: Uint8Array.of(9, 9) }]);
    assert.deepEqual(await s.read('tile/0/000'), Uint8Array.of(9, 9));
    await s.write([]);
  });

  test(`${name}: append grows a journal; truncate cuts it`, async () => {
    const s = make();
    await s.append('.state/j', Uint8Array.of(1, 2));
    await s.append('.state/j', Uint8Array.of(3));
    assert.deepEqual(await s.read('.state/j'), Uint8Array.of(1, 2, 3));
    await s.truncate('.state/j', 1);
    assert.deepEqual(await s.read('.state/j'), Uint8Array.of(1));
  });

  test(`${name}: removePrefix deletes exactly the objects under the prefix`, async () => {
    const s = make();
    await s.write([
      { name: 'tile/0/000.p/1', data: Uint8Array.of(1) },
      { name: 'tile/0/000.p/2', data: Uint8Array.of(2) },
      { name: 'tile/0/000', data: Uint8Array.of(3) },
      { name: 'tile/0/000.px', data: Uint8Array.of(4) },
    ]);
    await s.removePrefix('tile/0/000.p');
    await s.removePrefix('tile/9/absent.p');
    assert.equal(await s.read('tile/0/000.p/1'), undefined);
    assert.equal(await s.read('tile/0/000.p/2'), undefined);
    assert.deepEqual(await s.read('tile/0/000'), Uint8Array.of(3));
    assert.deepEqual(await s.read('tile/0/000.px'), Uint8Array.of(4));
    await assert.rejects(s.removePrefix('..'), isCode('LEDGER_BAD_INPUT'));
    // Writing beneath a removed prefix again works (the filesystem must recreate the directory).
    await s.write([{ name: 'tile/0/000.p/3', data: Uint8Array.of(5) }]);
    assert.deepEqual(await s.read('tile/0/000.p/3'), Uint8Array.of(5));
  });

  test(`${name}: names that could escape the root are refused`, async () => {
    const s = make();
    for (const bad of ['../x', '/etc/passwd', 'a//b', 'a/./b', '', 'tile/..']) {
      await assert.rejects(s.read(bad), isCode('LEDGER_BAD_INPUT'), bad);
      await assert.rejects(s.write([{ name: bad, data: new Uint8Array(1) }]), isCode('LEDGER_BAD_INPUT'), bad);
    }
  });

  test(`${name}: the caller may reuse its buffer after write`, async () => {
    const s = make();
    const buf = Uint8Array.of(5);
    await s.write([{ name: 'checkpoint', data: buf }]);
    buf[0] = 6;
    assert.deepEqual(await s.read('checkpoint'), Uint8Array.of(5));
  });
}

storageSuite('MemoryTileStorage', () => new MemoryTileStorage());
storageSuite('FileTileStorage', () => new FileTileStorage(mkdtempSync(join(tmpdir(), 'tg-tiles-'))));

test('FileTileStorage leaves no temp files behind and clearTemp removes a crashed writer’s', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tg-tiles-'));
  const s = new FileTileStorage(root);
  await s.write([{ name: 'tile/1/000.p/1', data: Uint8Array.of(1) }]);
  assert.deepEqual(readdirSync(join(root, '.tmp')), []);
  assert.deepEqual(readFileSync(join(root, 'tile', '1', '000.p', '1')), Buffer.of(1));
  await s.append('.tmp/leftover', Uint8Array.of(1));
  await s.clearTemp();
  assert.equal(existsSync(join(root, '.tmp')), false);
  await s.write([{ name: 'checkpoint', data: Uint8Array.of(2) }]); // recreates .tmp after clearing
  assert.deepEqual(await s.read('checkpoint'), Uint8Array.of(2));
});
