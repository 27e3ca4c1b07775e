// Guards against: an uploaded archive that writes outside its folder (zip slip, absolute paths,
// links), a zip or gzip bomb that fills the disk or memory because declared sizes were trusted,
// duplicate or clashing entries that make what is scanned differ from what is stored, and corrupt
// or truncated uploads that extract half-way without an error.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import type { Zippable } from 'fflate';
import sharp from 'sharp';
import { pack } from 'tar-stream';
import type { Header } from 'tar-stream';

type Headers = Partial<Header> & Pick<Header, 'name'>;
import { DataError, extractArchive, readDataset } from './index.ts';
import type { ArchiveLimits } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'tg-archive-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function png(value: number): Promise<Uint8Array> {
  return sharp(Buffer.alloc(8 * 8, value), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer();
}

async function tar(entries: readonly { header: Headers; body?: Uint8Array }[]): Promise<Buffer> {
  const p = pack();
  for (const e of entries) {
    if (e.body === undefined) p.entry(e.header);
    else p.entry(e.header, e.body);
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const file = (name: string, body: Uint8Array): { header: Headers; body: Uint8Array } => ({ header: { name, size: body.length }, body });

/** A fresh box holding `dest`; after a refusal the box must still hold nothing but `dest`. */
function box(): { box: string; dest: string } {
  const b = mkdtempSync(join(dir, 'box-'));
  return { box: b, dest: join(b, 'dest') };
}

/** Every path under `root`, with its lstat. */
function walk(root: string, rel = ''): { rel: string; mode: number; kind: 'file' | 'dir' | 'other' }[] {
  const out: { rel: string; mode: number; kind: 'file' | 'dir' | 'other' }[] = [];
  for (const name of readdirSync(join(root, rel)).sort()) {
    const r = rel === '' ? name : `${rel}/${name}`;
    const s = lstatSync(join(root, r));
    out.push({ rel: r, mode: s.mode & 0o777, kind: s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other' });
    if (s.isDirectory()) out.push(...walk(root, r));
  }
  return out;
}

async function refuses(archive: Uint8Array, code: string, limits: Partial<ArchiveLimits> = {}): Promise<string> {
  const { box: b, dest } = box();
  await assert.rejects(extractArchive(archive, dest, limits), (err: unknown) => {
    assert.ok(err instanceof DataError, String(err));
    assert.equal(err.code, code, err.message);
    assert.ok((err.hint ?? '').length > 0);
    return true;
  });
  assert.ok(readdirSync(b).every((name) => name === 'dest'), 'nothing may be written beside destDir');
  if (!existsSync(dest)) return dest; // refused before it was created (an unknown format)
  assert.ok(walk(dest).every((e) => e.kind !== 'other'), 'no link or device may be created');
  return dest;
}

/** Replaces every occurrence of one same-length byte string (names appear in local and central headers). */
function patch(bytes: Uint8Array, from: string, to: string): Uint8Array {
  assert.equal(from.length, to.length);
  const out = Buffer.from(bytes);
  const f = Buffer.from(from);
  let found = 0;
  for (let i = out.indexOf(f); i >= 0; i = out.indexOf(f, i + 1)) {
    Buffer.from(to).copy(out, i);
    found++;
  }
  assert.ok(found >= 2, `patched ${found} times`);
  return out;
}

/** Central directory entry offsets of a zip (signature PK\1\2). */
function centralEntries(zip: Uint8Array): number[] {
  const b = Buffer.from(zip);
  const sig = Buffer.from([0x50, 0x4b, 1, 2]);
  const at: number[] = [];
  for (let i = b.indexOf(sig); i >= 0; i = b.indexOf(sig, i + 1)) at.push(i);
  return at;
}

test('a zip of my-images/<label>/*.png extracts 0600/0700, skips macOS junk, and reads as the dataset', async () => {
  const [a, b, c] = [await png(0), await png(128), await png(255)];
  const zip = zipSync({
    'my-images/cat/a.png': a,
    'my-images/cat/b.png': b,
    'my-images/dog/c.png': c,
    'my-images/.DS_Store': new Uint8Array([1, 2, 3]),
    '__MACOSX/my-images/cat/._a.png': new Uint8Array([0, 5, 22, 7]),
    'my-images/dog/._c.png': new Uint8Array([0, 5, 22, 7]),
  });
  const { dest } = box();
  const got = await extractArchive(zip, dest);
  assert.deepEqual(got, { files: 3, bytes: a.length + b.length + c.length, format: 'zip', root: join(dest, 'my-images') });
  assert.deepEqual(
    walk(dest).map((e) => [e.rel, e.kind, e.mode.toString(8)]),
    [
      ['my-images', 'dir', '700'],
      ['my-images/cat', 'dir', '700'],
      ['my-images/cat/a.png', 'file', '600'],
      ['my-images/cat/b.png', 'file', '600'],
      ['my-images/dog', 'dir', '700'],
      ['my-images/dog/c.png', 'file', '600'],
    ],
  );
  const d = await readDataset(got.root);
  assert.equal(d.n, 3);
  assert.deepEqual(d.labelNames, ['cat', 'dog']);
  assert.deepEqual(d.images?.paths, ['cat/a.png', 'cat/b.png', 'dog/c.png']);
});

test('tar.gz and tar (./ prefixes, folder entries, a labels.csv) extract; a class folder alone is not unwrapped', async () => {
  const [a, b] = [await png(10), await png(240)];
  const entries = [
    { header: { name: './', type: 'directory' as const } },
    { header: { name: './data/', type: 'directory' as const } },
    file('./data/one/a.png', a),
    file('./data/two/b.png', b),
  ];
  const t = await tar(entries);
  const { dest } = box();
  const got = await extractArchive(gzipSync(t), dest);
  assert.deepEqual(got, { files: 2, bytes: a.length + b.length, format: 'tar.gz', root: join(dest, 'data') });
  const d = await readDataset(got.root);
  assert.equal(d.n, 2);
  assert.deepEqual(d.labelNames, ['one', 'two']);

  const csv = Buffer.from('file,label\nimg/a.png,x\nimg/b.png,y\n');
  const flat = await tar([file('img/a.png', a), file('img/b.png', b), file('labels.csv', csv)]);
  const second = box();
  const got2 = await extractArchive(flat, second.dest);
  assert.deepEqual(got2, { files: 3, bytes: a.length + b.length + csv.length, format: 'tar', root: second.dest });
  assert.deepEqual((await readDataset(got2.root)).labelNames, ['x', 'y']);

  const single = box();
  const got3 = await extractArchive(zipSync({ 'cat/a.png': a }), single.dest);
  assert.equal(got3.root, single.dest, 'cat/ holds only files: it is a class, not a wrapper');
});

test('zip slip, absolute paths, drive letters, backslashes and NUL are refused before anything is written', async () => {
  const img = await png(1);
  const { box: b } = box();
  for (const name of ['../evil.png', 'cat/../../evil.png', `${b}/abs-evil.png`, 'C:/evil.png', 'cat\\..\\..\\evil.png', 'cat/a\0.png']) {
    const dest = await refuses(zipSync({ 'cat/ok.png': img, [name]: img }), 'DATA_ARCHIVE_ESCAPE');
    assert.deepEqual(readdirSync(dest), [], `${JSON.stringify(name)}: a zip is checked whole before writing`);
  }
  await refuses(await tar([file('cat/ok.png', img), file('../../evil.png', img)]), 'DATA_ARCHIVE_ESCAPE');
  await refuses(await tar([file('/tmp/evil.png', img)]), 'DATA_ARCHIVE_ESCAPE');
  assert.equal(existsSync(join(b, 'abs-evil.png')), false);
});

test('symbolic links, hard links and devices are refused (tar types; zip unix mode bits)', async () => {
  const img = await png(1);
  await refuses(await tar([file('cat/a.png', img), { header: { name: 'cat/b.png', type: 'symlink', linkname: '/etc/passwd' } }]), 'DATA_ARCHIVE_LINK');
  await refuses(await tar([{ header: { name: 'cat', type: 'symlink', linkname: '/tmp' } }, file('cat/x.png', img)]), 'DATA_ARCHIVE_LINK');
  await refuses(await tar([file('cat/a.png', img), { header: { name: 'cat/b.png', type: 'link', linkname: 'cat/a.png' } }]), 'DATA_ARCHIVE_LINK');
  await refuses(await tar([{ header: { name: 'cat/tty', type: 'character-device', devmajor: 4, devminor: 1 } }]), 'DATA_ARCHIVE_UNSUPPORTED');
  const link: Zippable = { 'cat/a.png': img, 'cat/b.png': [new TextEncoder().encode('/etc/passwd'), { os: 3, attrs: (0o120777 << 16) >>> 0 }] };
  await refuses(zipSync(link), 'DATA_ARCHIVE_LINK');
});

test('a 1 GiB gzip bomb (~1 MB) is refused by the file limit, and by the ratio while inflating when that is lifted', async () => {
  // Concatenated gzip members are one gzip stream: header, then 1,024 × 1 MiB of zeros, then the end blocks.
  const packer = pack();
  packer.entry({ name: 'z/zeros.png', size: 2 ** 30 }); // its body is never written: only the header is wanted
  const first = await packer[Symbol.asyncIterator]().next();
  packer.destroy();
  const header = (first.value as Buffer).subarray(0, 512);
  assert.equal(header.length, 512);
  const mib = gzipSync(Buffer.alloc(2 ** 20), { level: 9 });
  const bomb = Buffer.concat([gzipSync(header), ...Array.from({ length: 1024 }, () => mib), gzipSync(Buffer.alloc(1024))]);
  assert.ok(bomb.length < 2 ** 21, `${bomb.length} bytes`);
  await refuses(bomb, 'DATA_ARCHIVE_TOO_LARGE');
  const dest = await refuses(bomb, 'DATA_ARCHIVE_TOO_LARGE', { maxFileBytes: 2 ** 31, maxTotalBytes: 2 ** 31, maxRatio: 20 });
  assert.deepEqual(walk(dest), [], 'nothing of the bomb is written');
});

test('a zip bomb is refused from its sizes, and one that lies about its size stops inflating at the declared size', async () => {
  const zeros = new Uint8Array(16 * 2 ** 20);
  const honest = zipSync({ 'z/zeros.png': zeros }, { level: 1 });
  await refuses(honest, 'DATA_ARCHIVE_TOO_LARGE'); // 16 MiB from ~16 KiB: past the 200× ratio
  await refuses(honest, 'DATA_ARCHIVE_TOO_LARGE', { maxFileBytes: 2 ** 20, maxRatio: 10_000 });

  // Declared 1,000 bytes / 1 MiB (small entries inflate on the main thread, large ones off it), real
  // stream 16 MiB: never trust the declared size.
  for (const declared of [1000, 2 ** 20]) {
    const liar = Buffer.from(honest);
    for (const at of centralEntries(liar)) liar.writeUInt32LE(declared, at + 24);
    liar.writeUInt32LE(declared, 22);
    const dest = await refuses(liar, 'DATA_ARCHIVE_TOO_LARGE'); // stopped at the declared size, not found after
    assert.deepEqual(
      walk(dest).filter((e) => e.kind === 'file'),
      [],
    );
  }
});

/** CRC-32 as fflate stores it in a local header, so the hand-written zips below are valid. */
function crcOf(data: Uint8Array): number {
  return Buffer.from(zipSync({ x: data }, { level: 0 })).readUInt32LE(14);
}

function localHeader(name: string, data: Uint8Array): Buffer {
  const n = Buffer.from(name);
  const h = Buffer.alloc(30 + n.length);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt32LE(crcOf(data), 14);
  h.writeUInt32LE(data.length, 18);
  h.writeUInt32LE(data.length, 22);
  h.writeUInt16LE(n.length, 26);
  n.copy(h, 30);
  return h;
}

/** A stored-only zip written by hand, so central headers can point where no honest writer would. */
function handZip(locals: Uint8Array, central: readonly { name: string; offset: number; data: Uint8Array }[]): Buffer {
  const records = central.map(({ name, offset, data }) => {
    const n = Buffer.from(name);
    const r = Buffer.alloc(46 + n.length);
    r.writeUInt32LE(0x02014b50, 0);
    r.writeUInt16LE(20, 4);
    r.writeUInt16LE(20, 6);
    r.writeUInt32LE(crcOf(data), 16);
    r.writeUInt32LE(data.length, 20);
    r.writeUInt32LE(data.length, 24);
    r.writeUInt16LE(n.length, 28);
    r.writeUInt32LE(offset, 42);
    n.copy(r, 46);
    return r;
  });
  const cd = Buffer.concat(records);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(central.length, 8);
  end.writeUInt16LE(central.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(locals.length, 16);
  return Buffer.concat([locals, cd, end]);
}

test('zip entries that overlap (the overlapping-files bomb) are refused; the same entries apart extract', async () => {
  const [a, b] = [await png(3), await png(200)];
  // b's local header and data sit inside a's data: two central entries share bytes.
  const inner = Buffer.concat([localHeader('cat/b.png', b), b]);
  const outer = localHeader('cat/a.png', inner);
  const overlapping = handZip(Buffer.concat([outer, inner]), [
    { name: 'cat/a.png', offset: 0, data: inner },
    { name: 'cat/b.png', offset: outer.length, data: b },
  ]);
  await refuses(overlapping, 'DATA_ARCHIVE_BAD');

  const first = Buffer.concat([localHeader('cat/a.png', a), a]);
  const apart = handZip(Buffer.concat([first, inner]), [
    { name: 'cat/a.png', offset: 0, data: a },
    { name: 'cat/b.png', offset: first.length, data: b },
  ]);
  const got = await extractArchive(apart, box().dest);
  assert.equal(got.files, 2);
});

test('too many files, too deep or too long paths are refused', async () => {
  const img = await png(1);
  const many: Zippable = {};
  for (let i = 0; i < 6; i++) many[`cat/${i}.png`] = img;
  await refuses(zipSync(many), 'DATA_ARCHIVE_TOO_LARGE', { maxFiles: 5 });
  await refuses(await tar(Object.keys(many).map((n) => file(n, img))), 'DATA_ARCHIVE_TOO_LARGE', { maxFiles: 5 });
  const folders = ['a/', 'b/', 'c/'].map((name) => ({ header: { name, type: 'directory' as const } }));
  await refuses(await tar(folders), 'DATA_ARCHIVE_TOO_LARGE', { maxFiles: 2 });
  await refuses(zipSync({ 'a/b/c/d/e/f/g/h/i.png': img }), 'DATA_ARCHIVE_TOO_LARGE');
  await refuses(zipSync({ [`cat/${'x'.repeat(300)}.png`]: img }), 'DATA_ARCHIVE_TOO_LARGE');
  await refuses(await tar([file('cat/a.png', img), file('cat/b.png', img)]), 'DATA_ARCHIVE_TOO_LARGE', { maxTotalBytes: img.length + 1 });
});

test('corrupt, truncated, encrypted and unknown archives are refused', async () => {
  const [a, b] = [await png(3), await png(200)];
  const zip = zipSync({ 'cat/a.png': a, 'dog/b.png': b }, { level: 0 });
  await refuses(zip.subarray(0, zip.length - 30), 'DATA_ARCHIVE_BAD');
  const flipped = Buffer.from(zip);
  flipped.writeUInt8((flipped.readUInt8(30 + 9 + 20) ^ 0xff) & 0xff, 30 + 9 + 20); // a byte of cat/a.png's stored data
  await refuses(flipped, 'DATA_ARCHIVE_BAD');
  const deflated = Buffer.from(zipSync({ 'cat/a.png': a }, { level: 9 }));
  deflated.writeUInt8(deflated.readUInt8(30 + 9 + 4) ^ 0x55, 30 + 9 + 4);
  await refuses(deflated, 'DATA_ARCHIVE_BAD');
  const encrypted = Buffer.from(zip);
  for (const at of centralEntries(encrypted)) encrypted.writeUInt16LE(encrypted.readUInt16LE(at + 8) | 1, at + 8);
  await refuses(encrypted, 'DATA_ARCHIVE_UNSUPPORTED');

  const tgz = gzipSync(await tar([file('cat/a.png', a), file('dog/b.png', b)]));
  await refuses(tgz.subarray(0, tgz.length - 40), 'DATA_ARCHIVE_BAD');
  const t = await tar([file('cat/a.png', a), file('dog/b.png', b)]);
  await refuses(t.subarray(0, 512 + 100), 'DATA_ARCHIVE_BAD');
  const badSum = Buffer.from(t);
  badSum[0] = 0x64; // 'c' -> 'd' in the first name, checksum left as it was
  await refuses(badSum, 'DATA_ARCHIVE_BAD');
  await refuses(gzipSync(Buffer.from('just some text, gzipped')), 'DATA_ARCHIVE_UNSUPPORTED');
  await refuses(new Uint8Array([0x42, 0x5a, 0x68, 0x39, 1, 2, 3]), 'DATA_ARCHIVE_UNSUPPORTED');
});

test('duplicate entries, entries differing only in case, and a file/folder clash are refused', async () => {
  const [a, b] = [await png(3), await png(200)];
  await refuses(patch(zipSync({ 'cat/a.png': a, 'cat/b.png': b }), 'cat/b.png', 'cat/a.png'), 'DATA_ARCHIVE_BAD');
  await refuses(zipSync({ 'cat/a.png': a, 'cat/A.png': b }), 'DATA_ARCHIVE_BAD');
  await refuses(await tar([file('cat/a.png', a), file('cat/a.png', b)]), 'DATA_ARCHIVE_BAD');
  await refuses(await tar([file('cat', a), file('cat/a.png', b)]), 'DATA_ARCHIVE_BAD');
});

test('the destination must be a new or empty folder; limits must be positive integers', async () => {
  const { dest } = box();
  const zip = zipSync({ 'cat/a.png': await png(1) });
  await extractArchive(zip, dest);
  await assert.rejects(extractArchive(zip, dest), (err: unknown) => err instanceof DataError && err.code === 'DATA_BAD_OPTION');
  await assert.rejects(extractArchive(zip, box().dest, { maxRatio: 0 }), (err: unknown) => err instanceof DataError && err.code === 'DATA_BAD_OPTION');
  assert.equal(statSync(join(dest, 'cat', 'a.png')).mode & 0o777, 0o600);
});

test('readDataset reads an archive file (.zip, .tar.gz) as the folder it holds, under the same guards', async () => {
  const [a, b, c] = [await png(0), await png(128), await png(255)];
  const entries = { 'my-images/cat/a.png': a, 'my-images/cat/b.png': b, 'my-images/dog/c.png': c };
  const { box: b1 } = box();
  const zipPath = join(b1, 'images.zip');
  writeFileSync(zipPath, zipSync(entries));
  const tgzPath = join(b1, 'images.tar.gz');
  writeFileSync(tgzPath, gzipSync(await tar(Object.entries(entries).map(([name, body]) => file(name, body)))));
  const fromFolder = await extractArchive(zipSync(entries), join(b1, 'folder')).then((x) => readDataset(x.root));
  for (const path of [zipPath, tgzPath]) {
    const d = await readDataset(path);
    assert.deepEqual([d.ids, d.labelNames, d.images?.paths], [fromFolder.ids, fromFolder.labelNames, fromFolder.images?.paths], path);
  }
  assert.deepEqual(readdirSync(b1).sort(), ['folder', 'images.tar.gz', 'images.zip'], 'nothing is left beside the archives');
  const slip = join(b1, 'slip.zip');
  writeFileSync(slip, zipSync({ '../evil.png': a }));
  await assert.rejects(readDataset(slip), (err: unknown) => err instanceof DataError && err.code.startsWith('DATA_ARCHIVE_'));
  const big = join(b1, 'big.zip');
  writeFileSync(big, zipSync(entries));
  await assert.rejects(readDataset(big, { maxBytes: 100 }), (err: unknown) => err instanceof DataError && err.code === 'DATA_TOO_LARGE');
});
