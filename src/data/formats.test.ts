// Guards against: the same sample getting different ids depending on the file format it arrived in
// (ids must be content-addressed across CSV, JSONL and Parquet), JSONL lines that are bad JSON
// crashing the read or vanishing, and corrupt Parquet escaping as a raw decoder stack.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { DataError, readDataset, readDatasetBytes } from './index.ts';
import { shortestFloat32 } from './parquet.ts';

const dir = mkdtempSync(join(tmpdir(), 'tg-fmt-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const path = (name: string): string => join(dir, name);

const rows = [
  { id: 'r1', label: 'cat', text: 'a purring animal that sleeps all day long', score: 1.5, colour: 'red' },
  { id: 'r2', label: 'dog', text: 'a barking animal, loyal and "friendly"\nsecond line', score: null, colour: 'blue' },
  { id: 'r3', label: '10', text: 'unicode: café ☕ and more words to be long', score: -2, colour: null },
];

test('same rows in CSV, JSONL and Parquet give the same ids, content ids and roles', async () => {
  const csvCell = (v: string | number | null): string => (v === null ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));
  writeFileSync(path('same.csv'), `id,label,text,score,colour\n${rows.map((r) => [r.id, r.label, r.text, r.score, r.colour].map(csvCell).join(',')).join('\n')}\n`);
  // JSONL with keys in another order, the label as a number where it is one, and a trailing blank line.
  writeFileSync(path('same.jsonl'), `${rows.map((r) => JSON.stringify({ colour: r.colour, score: r.score, text: r.text, label: r.label === '10' ? 10 : r.label, id: r.id })).join('\n')}\n\n`);
  parquetWriteFile({
    filename: path('same.parquet'),
    columnData: [
      { name: 'id', data: rows.map((r) => r.id), type: 'STRING' },
      { name: 'label', data: rows.map((r) => r.label), type: 'STRING' },
      { name: 'text', data: rows.map((r) => r.text), type: 'STRING' },
      { name: 'score', data: rows.map((r) => r.score), type: 'DOUBLE' },
      { name: 'colour', data: rows.map((r) => r.colour), type: 'STRING' },
    ],
  });
  const [c, j, p] = await Promise.all(['same.csv', 'same.jsonl', 'same.parquet'].map((f) => readDataset(path(f))));
  assert.ok(c && j && p);
  assert.equal(c.textColumn, 'text');
  for (const d of [j, p]) {
    assert.deepEqual(d.ids, c.ids);
    assert.deepEqual(d.contentIds, c.contentIds);
    assert.deepEqual(d.externalIds, ['r1', 'r2', 'r3']);
    assert.deepEqual(d.labelNames, ['10', 'cat', 'dog']);
    assert.equal(d.roles.score, 'numeric');
    assert.equal(d.roles.colour, 'categorical');
  }
  assert.deepEqual([...p.lineNumbers], [1, 2, 3]);
  assert.deepEqual([...j.lineNumbers], [1, 2, 3]);
});

test('embeddings: CSV emb_i columns, JSONL arrays and Parquet lists agree', async () => {
  const emb = [
    [0.1, -0.2, 0.3],
    [1, 2, 3],
  ];
  writeFileSync(path('e.csv'), `label,emb_0,emb_1,emb_2\n${emb.map((e, i) => `c${i},${e.join(',')}`).join('\n')}\n`);
  writeFileSync(path('e.jsonl'), emb.map((e, i) => JSON.stringify({ label: `c${i}`, embedding: e })).join('\n'));
  parquetWriteFile({
    filename: path('e.parquet'),
    columnData: [
      { name: 'label', data: ['c0', 'c1'], type: 'STRING' },
      { name: 'embedding', data: emb },
    ],
  });
  const [c, j, p] = await Promise.all(['e.csv', 'e.jsonl', 'e.parquet'].map((f) => readDataset(path(f))));
  assert.ok(c && j && p);
  assert.equal(c.embedding?.dim, 3);
  assert.deepEqual(j.ids, c.ids);
  assert.deepEqual(p.ids, c.ids);
  assert.deepEqual(p.embedding?.values, c.embedding?.values);
});

test('a float32 Parquet column reads as the decimal a CSV would hold', () => {
  assert.equal(shortestFloat32(Math.fround(0.1)), 0.1);
  assert.equal(shortestFloat32(Math.fround(1 / 3)), 0.33333334);
  assert.equal(shortestFloat32(Math.fround(16777217)), 16777216);
});

test('JSONL: bad lines are skipped with line and code; non-objects too', async () => {
  writeFileSync(path('bad.jsonl'), '{"x":1,"label":"a"}\n{"x":2,"label":\n[1,2]\n\n{"x":3,"label":"b"}\n{"x":4,"label":"a","extra":"e"}\n');
  const d = await readDataset(path('bad.jsonl'));
  assert.equal(d.n, 3);
  assert.deepEqual(
    d.skipped.map((s) => [s.line, s.code]),
    [
      [2, 'DATA_BAD_JSON'],
      [3, 'DATA_BAD_JSON'],
    ],
  );
  assert.deepEqual([...d.lineNumbers], [1, 5, 6]);
  const extra = d.features.find((f) => f.name === 'extra');
  assert.deepEqual(extra?.values, [null, null, 'e']);
});

test('JSONL: mostly garbage → DATA_TOO_MANY_BAD_ROWS; empty → DATA_EMPTY', async () => {
  writeFileSync(path('garbage.jsonl'), 'not json\nnor this\n{"x":1,"label":"a"}\n');
  await assert.rejects(readDataset(path('garbage.jsonl')), (e: unknown) => e instanceof DataError && e.code === 'DATA_TOO_MANY_BAD_ROWS' && e.line === 1);
  writeFileSync(path('empty.ndjson'), '');
  await assert.rejects(readDataset(path('empty.ndjson')), (e: unknown) => e instanceof DataError && e.code === 'DATA_EMPTY');
});

test('JSONL: a line over maxLineBytes is refused', async () => {
  writeFileSync(path('long.jsonl'), `{"x":1,"label":"a"}\n{"x":"${'y'.repeat(4000)}","label":"b"}\n`);
  await assert.rejects(readDataset(path('long.jsonl'), { maxLineBytes: 512 }), (e: unknown) => e instanceof DataError && e.code === 'DATA_LINE_TOO_LONG' && e.line === 2);
});

test('Parquet: a corrupt or non-Parquet file → DATA_PARQUET', async () => {
  writeFileSync(path('fake.parquet'), 'x,label\n1,a\n');
  await assert.rejects(readDataset(path('fake.parquet')), (e: unknown) => e instanceof DataError && e.code === 'DATA_PARQUET');
  parquetWriteFile({ filename: path('ok.parquet'), columnData: [{ name: 'label', data: ['a', 'b'], type: 'STRING' }, { name: 'x', data: [1, 2], type: 'DOUBLE' }] });
  const { readFileSync } = await import('node:fs');
  const bytes = readFileSync(path('ok.parquet'));
  writeFileSync(path('trunc.parquet'), bytes.subarray(0, bytes.length - 20));
  await assert.rejects(readDataset(path('trunc.parquet')), (e: unknown) => e instanceof DataError && e.code === 'DATA_PARQUET');
  await assert.rejects(readDataset(path('ok.parquet'), { maxBytes: 10 }), (e: unknown) => e instanceof DataError && e.code === 'DATA_TOO_LARGE');
});

test('an upload read from memory gives what the same file gives on disk, and is refused for the same reasons', async () => {
  const csv = 'id,label,text\nr1,cat,a purring animal that sleeps\nr2,dog,"a barking ""friendly"" animal\nsecond line"\nr3,cat,short\nbad,row\n';
  const jsonl = '{"id":"r1","label":"cat","text":"a purring animal"}\nnot json\n{"id":"r2","label":"dog","text":"barks"}\n';
  for (const [format, text] of [['csv', csv], ['jsonl', jsonl]] as const) {
    writeFileSync(path(`mem.${format}`), text);
    const fromDisk = await readDataset(path(`mem.${format}`), { columns: {} });
    const fromMemory = await readDatasetBytes(Buffer.from(text), format, `mem.${format}`, { columns: {} });
    assert.deepEqual([fromMemory.n, fromMemory.ids, fromMemory.contentIds, fromMemory.labelNames, fromMemory.skipped.map((s) => [s.code, s.line])],
      [fromDisk.n, fromDisk.ids, fromDisk.contentIds, fromDisk.labelNames, fromDisk.skipped.map((s) => [s.code, s.line])], format);
    assert.ok(fromMemory.skipped.length > 0, `${format}: the bad row is skipped and listed`);
  }
  const latin1 = Buffer.concat([Buffer.from('id,label,text\nr1,cat,caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
  await assert.rejects(readDatasetBytes(latin1, 'csv', 'upload.csv'), (err: unknown) => err instanceof DataError && err.code === 'DATA_INVALID_UTF8' && err.line === 2);
  await assert.rejects(readDatasetBytes(Buffer.from('id,label,text\nr1,cat,x\n'), 'csv', 'upload.csv', { maxBytes: 10 }), (err: unknown) => err instanceof DataError && err.code === 'DATA_TOO_LARGE');
  await assert.rejects(readDatasetBytes(Buffer.alloc(0), 'csv', 'upload.csv'), (err: unknown) => err instanceof DataError && err.code === 'DATA_EMPTY');
});
