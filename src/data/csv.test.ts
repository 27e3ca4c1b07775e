// Guards against: hostile or sloppy CSV/TSV input crashing the reader or being silently "fixed":
// malformed quoting, ragged rows dropped without a trace, invalid UTF-8, NaN/Infinity cells, empty
// and header-only files, a missing label column, and a single giant line buffered whole.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError, readDataset } from './index.ts';
import type { DataErrorCode, ReadOptions } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'tg-csv-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;
function file(content: string | Uint8Array, ext = 'csv'): string {
  const p = join(dir, `f${seq++}.${ext}`);
  writeFileSync(p, content);
  return p;
}

async function rejects(p: string, code: DataErrorCode, options: ReadOptions = {}): Promise<DataError> {
  try {
    await readDataset(p, options);
  } catch (err) {
    assert.ok(err instanceof DataError, `expected DataError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

test('reads a numeric CSV: roles, labels sorted numerically, line numbers, ids', async () => {
  const d = await readDataset(file('id,x,y2,label\na,1,2.5,10\nb,3,,2\n"c\nc",5,NA,2\n'));
  assert.equal(d.n, 3);
  assert.equal(d.origin.format, 'csv');
  assert.deepEqual(d.roles, { id: 'id', x: 'numeric', y2: 'numeric', label: 'label' });
  assert.deepEqual(d.labelNames, ['2', '10']);
  assert.deepEqual([...d.labelCodes], [1, 0, 0]);
  assert.deepEqual([...d.lineNumbers], [2, 3, 4]);
  assert.deepEqual(d.externalIds, ['a', 'b', 'c\nc']);
  const y2 = d.features.find((f) => f.name === 'y2');
  assert.ok(y2?.kind === 'numeric');
  assert.equal(y2.values[0], 2.5);
  assert.ok(Number.isNaN(y2.values[1]) && Number.isNaN(y2.values[2]));
  assert.equal(new Set(d.ids).size, 3);
  assert.match(d.ids[0] ?? '', /^[0-9a-f]{64}$/);
  assert.deepEqual(d.skipped, []);
});

test('the id column is not content: same features and label → same id, different label → different id', async () => {
  const d = await readDataset(file('id,x,label\na,1,cat\nb,1,cat\nc,1,dog\n'));
  assert.equal(d.ids[0], d.ids[1]);
  assert.equal(d.contentIds[0], d.contentIds[2]);
  assert.notEqual(d.ids[0], d.ids[2]);
});

test('Infinity, -inf and NaN cells do not crash: ±Infinity kept, NaN missing', async () => {
  const d = await readDataset(file('x,label\nInfinity,a\n-inf,b\nNaN,a\n1,b\n'));
  const x = d.features[0];
  assert.ok(x?.kind === 'numeric');
  assert.equal(x.values[0], Number.POSITIVE_INFINITY);
  assert.equal(x.values[1], Number.NEGATIVE_INFINITY);
  assert.ok(Number.isNaN(x.values[2]));
  assert.equal(new Set(d.contentIds).size, 4);
});

test('rows with a missing label are skipped, counted and listed', async () => {
  const d = await readDataset(file('x,label\n1,a\n2,\n3,NA\n4,b\n'));
  assert.equal(d.n, 2);
  assert.deepEqual(
    d.skipped.map((s) => [s.line, s.code]),
    [
      [3, 'DATA_MISSING_LABEL'],
      [4, 'DATA_MISSING_LABEL'],
    ],
  );
  assert.deepEqual([...d.lineNumbers], [2, 5]);
});

test('ragged rows are skipped with their line, never silently dropped', async () => {
  const d = await readDataset(file('x,y,label\n1,2,a\n1,2\n3,4,b\n5,6,c,7\n8,9,a\n'));
  assert.equal(d.n, 3);
  assert.deepEqual(
    d.skipped.map((s) => [s.line, s.code]),
    [
      [3, 'DATA_RAGGED_ROW'],
      [5, 'DATA_RAGGED_ROW'],
    ],
  );
});

test('more than half the rows malformed → DATA_TOO_MANY_BAD_ROWS', async () => {
  await rejects(file('x,y,label\n1,2\n3,4\n5,6,a\n'), 'DATA_TOO_MANY_BAD_ROWS');
});

test('malformed quoting → DATA_MALFORMED_CSV with line and column', async () => {
  const err = await rejects(file('x,label\n1,a\n2,"b"c\n'), 'DATA_MALFORMED_CSV');
  assert.equal(err.line, 3);
  assert.equal(err.column, 6);
  const open = await rejects(file('x,label\n1,a\n2,"b\n3,c\n'), 'DATA_MALFORMED_CSV');
  assert.equal(open.line, 3);
  assert.equal(open.column, 3);
});

test('invalid UTF-8 → DATA_INVALID_UTF8 with the line; a BOM is fine', async () => {
  const bad = Buffer.concat([Buffer.from('x,label\n1,a\n2,'), Buffer.from([0xff, 0xfe]), Buffer.from('b\n')]);
  const err = await rejects(file(bad), 'DATA_INVALID_UTF8');
  assert.equal(err.line, 3);
  assert.equal(err.column, 3);
  const truncated = Buffer.concat([Buffer.from('x,label\n1,a\n2,'), Buffer.from([0xe2, 0x82])]);
  await rejects(file(truncated), 'DATA_INVALID_UTF8');
  const bom = await readDataset(file(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('label,x\né,1\n')])));
  assert.deepEqual(bom.labelNames, ['é']);
});

test('invalid UTF-8 far into a large file reports the right line across chunk boundaries', async () => {
  const rows = Array.from({ length: 120_000 }, (_, i) => `${i},c${i % 3}`).join('\n');
  const bytes = Buffer.concat([Buffer.from(`x,label\n${rows}\n9,`), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]);
  const err = await rejects(file(bytes), 'DATA_INVALID_UTF8');
  assert.equal(err.line, 120_002);
});

test('empty file and header-only file → DATA_EMPTY', async () => {
  await rejects(file(''), 'DATA_EMPTY');
  await rejects(file('\n\n'), 'DATA_EMPTY');
  await rejects(file('x,label\n'), 'DATA_EMPTY');
});

test('no label column → DATA_NO_LABEL_COLUMN; --label fixes it; a wrong --label lists columns', async () => {
  const p = file('a,b\n1,x\n2,y\n');
  const err = await rejects(p, 'DATA_NO_LABEL_COLUMN');
  assert.match(err.hint ?? '', /a, b/);
  const d = await readDataset(p, { columns: { label: 'b' } });
  assert.deepEqual(d.labelNames, ['x', 'y']);
  const unknown = await rejects(p, 'DATA_UNKNOWN_COLUMN', { columns: { label: 'c' } });
  assert.match(unknown.hint ?? '', /a, b/);
});

test('a line longer than maxLineBytes is refused while streaming; maxBytes bounds the file', async () => {
  const p = file(`x,label\n1,a\n${'9'.repeat(5000)},b\n`);
  const err = await rejects(p, 'DATA_LINE_TOO_LONG', { maxLineBytes: 1000 });
  assert.equal(err.line, 3);
  await rejects(p, 'DATA_TOO_LARGE', { maxBytes: 100 });
  const ok = await readDataset(p, { maxLineBytes: 10_000 });
  assert.equal(ok.n, 2);
});

test('TSV and semicolon-delimited CSV', async () => {
  const t = await readDataset(file('x\tlabel\n1\ta\n2\tb\n', 'tsv'));
  assert.equal(t.origin.format, 'tsv');
  assert.equal(t.n, 2);
  const s = await readDataset(file('x;label\n1;a\n2;b\n'));
  assert.deepEqual(s.roles, { x: 'numeric', label: 'label' });
});

test('text column inferred by length; categorical otherwise; missing text becomes empty', async () => {
  const long = 'this is a fairly long sentence of free text';
  const d = await readDataset(file(`note,colour,label\n"${long}, one",red,spam\n${long} two,blue,ham\n,red,ham\n`));
  assert.equal(d.textColumn, 'note');
  assert.deepEqual(d.text, [`${long}, one`, `${long} two`, '']);
  assert.deepEqual(d.roles.colour, 'categorical');
  const colour = d.features.find((f) => f.name === 'colour');
  assert.deepEqual(colour?.values, ['red', 'blue', 'red']);
});

test('a label column of digits keeps its text ("01" stays "01")', async () => {
  const d = await readDataset(file('x,label\n1,01\n2,1\n'));
  assert.deepEqual(d.labelNames, ['01', '1']);
});

test('emb_0..emb_n are gathered into an n × dim matrix in index order', async () => {
  const d = await readDataset(file('emb_1,label,emb_0,emb_2\n0.5,a,0.25,1\n2,b,1,3\n'));
  assert.deepEqual(d.embedding?.dim, 3);
  assert.deepEqual([...(d.embedding?.values ?? [])], [0.25, 0.5, 1, 1, 2, 3]);
  assert.equal(d.features.length, 0);
  assert.equal(d.roles.emb_2, 'embedding');
});

test('a JSON-array embedding column; bad or wrong-size embeddings are skipped and listed', async () => {
  const d = await readDataset(file('label,embedding\na,"[1,2]"\nb,"[3,4]"\nc,"[5]"\na,"[1,""x""]"\nb,\nc,"[7,8]"\n'));
  assert.equal(d.embedding?.dim, 2);
  assert.deepEqual([...(d.embedding?.values ?? [])], [1, 2, 3, 4, 7, 8]);
  assert.deepEqual(
    d.skipped.map((s) => [s.line, s.code]),
    [
      [4, 'DATA_BAD_EMBEDDING'],
      [5, 'DATA_BAD_EMBEDDING'],
      [6, 'DATA_BAD_EMBEDDING'],
    ],
  );
});

test('a column that turns out to be text after numbers becomes categorical', async () => {
  const d = await readDataset(file('code,label\n1,a\n2,b\nx7,a\n'));
  assert.deepEqual(d.features[0]?.values, ['1', '2', 'x7']);
});

test('no content columns → DATA_NO_CONTENT; unknown extension → DATA_UNSUPPORTED_FORMAT; missing file → DATA_FILE_NOT_FOUND', async () => {
  await rejects(file('label,id\na,1\n'), 'DATA_NO_CONTENT');
  await rejects(file('x,label\n1,a\n', 'txt'), 'DATA_UNSUPPORTED_FORMAT');
  await rejects(join(dir, 'nope.csv'), 'DATA_FILE_NOT_FOUND');
  const forced = await readDataset(file('x,label\n1,a\n', 'txt'), { format: 'csv' });
  assert.equal(forced.n, 1);
});

test('duplicate, empty and hostile header names stay distinct columns', async () => {
  const d = await readDataset(file('x,x,,__proto__,label\n1,2,3,4,a\n5,6,7,8,b\n'));
  assert.deepEqual(Object.keys(d.roles), ['x', 'x.1', 'column_3', '__proto__', 'label']);
  assert.equal(d.roles.__proto__, 'numeric');
  assert.deepEqual(
    d.features.map((f) => f.name),
    ['x', 'x.1', 'column_3', '__proto__'],
  );
});

test('multi-byte characters split across read chunks are fine; an invalid one across a boundary is found', async () => {
  const row = `${'é'.repeat(1000)},a\n`;
  const good = await readDataset(file(`text,label\n${row.repeat(1500)}`));
  assert.equal(good.n, 1500);
  assert.equal(good.text?.[1499]?.length, 1000);
  // A lead byte as the last byte of the first 1 MiB chunk, a bad continuation as the first of the next.
  const k = 262_000;
  const head = `x,label\n${'1,a\n'.repeat(k)}2,${'b'.repeat(565)}`;
  assert.equal(head.length, (1 << 20) - 1);
  const bytes = Buffer.concat([Buffer.from(head), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]);
  const err = await rejects(file(bytes), 'DATA_INVALID_UTF8');
  assert.equal(err.line, k + 2);
  assert.equal(err.column, 568);
});
