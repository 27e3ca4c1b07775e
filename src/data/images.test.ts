// Guards against: image folders read in a machine-dependent order, an image that does not decode
// aborting the scan (or vanishing without a trace), and a labels.csv that makes us read files
// outside the dataset folder (`../x.png`, absolute paths, symlinks).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { DataError, readDataset } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'tg-img-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function png(file: string, size: number, value: number, channels: 1 | 3 = 1): Promise<void> {
  const raw = Buffer.alloc(size * size * channels, value);
  const img = sharp(raw, { raw: { width: size, height: size, channels } });
  await (channels === 1 ? img.toColourspace('b-w') : img).png().toFile(file);
}

async function jpeg(file: string, size: number, rgb: [number, number, number]): Promise<void> {
  const raw = Buffer.alloc(size * size * 3);
  for (let i = 0; i < size * size; i++) raw.set(rgb, i * 3);
  await sharp(raw, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 95 }).toFile(file);
}

const classes = join(dir, 'classes');
before(async () => {
  for (const c of ['10', '2']) mkdirSync(join(classes, c), { recursive: true });
  await png(join(classes, '2', 'b.png'), 8, 255);
  await png(join(classes, '2', 'a.png'), 8, 0);
  await png(join(classes, '10', 'c.png'), 20, 128);
  writeFileSync(join(classes, '10', 'broken.png'), Buffer.from('not really a png'));
  writeFileSync(join(classes, '10', 'notes.txt'), 'hello');
});

test('class folders: sorted order, grey, 28 px default, pixels in [0,1], ids from file bytes', async () => {
  const d = await readDataset(classes);
  assert.equal(d.origin.format, 'images');
  assert.equal(d.n, 3);
  assert.deepEqual(d.labelNames, ['2', '10']);
  assert.deepEqual(d.images?.paths, ['10/c.png', '2/a.png', '2/b.png']);
  assert.deepEqual([...d.labelCodes], [1, 0, 0]);
  assert.equal(d.images?.width, 28);
  assert.equal(d.images?.channels, 1);
  const px = d.images?.pixels ?? new Float32Array();
  assert.equal(px.length, 3 * 28 * 28);
  assert.ok(Math.abs((px[0] ?? 0) - 128 / 255) < 0.01);
  assert.equal(px[28 * 28], 0);
  assert.equal(px[2 * 28 * 28], 1);
  assert.notEqual(d.ids[1], d.ids[2]);
  assert.deepEqual(d.roles, { image: 'image', label: 'label' });
});

test('an image that does not decode is skipped with its path; a non-image file is listed', async () => {
  const d = await readDataset(classes);
  const codes = d.skipped.map((s) => [s.path, s.code]);
  assert.deepEqual(codes, [
    ['10/broken.png', 'DATA_IMAGE_DECODE'],
    ['10/notes.txt', 'DATA_NOT_AN_IMAGE'],
  ]);
});

test('colour images stay RGB; bigger images go to 32 px; imageSize and imageGrey override', async () => {
  const root = join(dir, 'colour');
  mkdirSync(join(root, 'red'), { recursive: true });
  mkdirSync(join(root, 'blue'), { recursive: true });
  await jpeg(join(root, 'red', 'r.jpg'), 40, [255, 0, 0]);
  await jpeg(join(root, 'blue', 'b.jpeg'), 30, [0, 0, 255]);
  const d = await readDataset(root);
  assert.equal(d.images?.width, 32);
  assert.equal(d.images?.channels, 3);
  const px = d.images?.pixels ?? new Float32Array();
  // Row 0 is blue (sorted), channel-last: [r, g, b] per pixel.
  assert.ok((px[2] ?? 0) > 0.9 && (px[0] ?? 1) < 0.1);
  assert.ok((px[32 * 32 * 3] ?? 0) > 0.9);
  const small = await readDataset(root, { imageSize: 4, imageGrey: true });
  assert.equal(small.images?.channels, 1);
  assert.equal(small.images?.pixels.length, 2 * 16);
});

test('labels.csv: file,label,id,source with line numbers; missing files are skipped', async () => {
  const root = join(dir, 'listed');
  mkdirSync(join(root, 'img'), { recursive: true });
  await png(join(root, 'img', 'x.png'), 5, 10);
  await png(join(root, 'img', 'y.png'), 5, 200);
  writeFileSync(join(root, 'labels.csv'), 'file,label,id,source\nimg/y.png,b,Y,vendorA\nimg/x.png,a,X,vendorB\nimg/missing.png,a,M,vendorA\nimg/x.png,,Z,vendorA\n');
  const d = await readDataset(root);
  assert.equal(d.n, 2);
  assert.deepEqual(d.images?.paths, ['img/y.png', 'img/x.png']);
  assert.deepEqual(d.externalIds, ['Y', 'X']);
  assert.deepEqual(d.sources, ['vendorA', 'vendorB']);
  assert.deepEqual([...d.lineNumbers], [2, 3]);
  assert.deepEqual(
    d.skipped.map((s) => [s.line, s.code]),
    [
      [4, 'DATA_IMAGE_MISSING'],
      [5, 'DATA_MISSING_LABEL'],
    ],
  );
  assert.deepEqual(d.roles, { file: 'image', label: 'label', id: 'id', source: 'source' });
});

async function escapes(entry: string, setup?: (root: string) => void): Promise<void> {
  const root = mkdtempSync(join(dir, 'esc-'));
  await png(join(root, 'ok.png'), 4, 1);
  setup?.(root);
  writeFileSync(join(root, 'labels.csv'), `file,label\nok.png,a\n${entry},b\n`);
  await assert.rejects(readDataset(root), (e: unknown) => e instanceof DataError && e.code === 'DATA_PATH_ESCAPE' && e.path === entry);
}

test('labels.csv paths that leave the folder are refused with DATA_PATH_ESCAPE', async () => {
  await png(join(dir, 'escape.png'), 4, 1);
  await escapes('../escape.png');
  await escapes('sub/../../escape.png');
  await escapes(join(dir, 'escape.png'));
  await escapes('link.png', (root) => symlinkSync(join(dir, 'escape.png'), join(root, 'link.png')));
  await escapes('linkdir/escape.png', (root) => symlinkSync(dir, join(root, 'linkdir')));
});

test('a symlink inside the root that stays inside is fine', async () => {
  const root = mkdtempSync(join(dir, 'inlink-'));
  await png(join(root, 'real.png'), 4, 1);
  symlinkSync(join(root, 'real.png'), join(root, 'alias.png'));
  writeFileSync(join(root, 'labels.csv'), 'file,label\nreal.png,a\nalias.png,b\n');
  const d = await readDataset(root);
  assert.equal(d.n, 2);
  assert.equal(d.contentIds[0], d.contentIds[1]);
});

test('an empty folder → DATA_NO_IMAGES; labels.csv without a label column → DATA_NO_LABEL_COLUMN', async () => {
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  await assert.rejects(readDataset(empty), (e: unknown) => e instanceof DataError && e.code === 'DATA_NO_IMAGES');
  const nolabel = join(dir, 'nolabel');
  mkdirSync(nolabel);
  writeFileSync(join(nolabel, 'labels.csv'), 'file,kind\na.png,x\n');
  await assert.rejects(readDataset(nolabel), (e: unknown) => e instanceof DataError && e.code === 'DATA_NO_LABEL_COLUMN');
});
