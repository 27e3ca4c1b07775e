// Guards against: a hand-written CSV tokenizer that disagrees with csv-parse (the reference RFC 4180
// parser) on quoting, escaped quotes, embedded newlines, CRLF or chunk boundaries; wrong start lines
// for multi-line records; and malformed quoting that is guessed at instead of reported with line/column.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { createRng } from '../core/index.ts';
import { CsvTokenizer } from './csv-tokenizer.ts';
import { DataError } from './errors.ts';

function tokenize(text: string, pieces: number[] = [text.length], delimiter = ','): { fields: string[]; line: number }[] {
  const out: { fields: string[]; line: number }[] = [];
  const t = new CsvTokenizer(delimiter, (fields, line) => out.push({ fields, line }), 'x.csv', 1 << 20);
  let pos = 0;
  for (const p of pieces) {
    t.push(text.slice(pos, pos + p));
    pos += p;
  }
  t.push(text.slice(pos));
  t.end();
  return out;
}

function randomField(rng: { next(): number }): string {
  const alphabet = ['a', 'b', ',', '"', '\n', '\r\n', ' ', 'é', '1', '.'];
  const len = Math.floor(rng.next() * 6);
  let s = '';
  for (let i = 0; i < len; i++) s += alphabet[Math.floor(rng.next() * alphabet.length)];
  return s;
}

function encodeField(s: string, rng: { next(): number }): string {
  const needs = /[",\r\n]/.test(s) || s === '';
  return needs || rng.next() < 0.2 ? `"${s.replaceAll('"', '""')}"` : s;
}

test('agrees with csv-parse on random quoted input, fed in random pieces', () => {
  const rng = createRng(7);
  for (let round = 0; round < 200; round++) {
    const width = 1 + Math.floor(rng.next() * 4);
    const rows: string[][] = [];
    const nrows = 1 + Math.floor(rng.next() * 6);
    for (let r = 0; r < nrows; r++) rows.push(Array.from({ length: width }, () => randomField(rng)));
    const eol = rng.next() < 0.5 ? '\n' : '\r\n';
    const text = rows.map((r) => r.map((f) => encodeField(f, rng)).join(',')).join(eol) + (rng.next() < 0.5 ? eol : '');
    const expected = parse(text, { relax_column_count: true, skip_empty_lines: true }) as string[][];
    const pieces = Array.from({ length: 5 }, () => Math.floor(rng.next() * 7));
    const got = tokenize(text, pieces).map((r) => r.fields);
    assert.deepEqual(got, expected, `round ${round}: ${JSON.stringify(text)}`);
    assert.deepEqual(got, rows, `round ${round} round-trip`);
  }
});

test('reports the physical start line of each record, counting newlines inside quotes', () => {
  const recs = tokenize('h1,h2\n"a\nb",1\n\nc,2\r\n"x""y",3');
  assert.deepEqual(
    recs.map((r) => r.line),
    [1, 2, 5, 6],
  );
  assert.deepEqual(recs[1]?.fields, ['a\nb', '1']);
  assert.deepEqual(recs[3]?.fields, ['x"y', '3']);
});

function malformed(text: string): DataError {
  try {
    tokenize(text);
  } catch (err) {
    assert.ok(err instanceof DataError);
    assert.equal(err.code, 'DATA_MALFORMED_CSV');
    return err;
  }
  assert.fail('expected DATA_MALFORMED_CSV');
}

test('a quote inside an unquoted field is an error with line and column', () => {
  const err = malformed('a,b\n1,2\nab"c,3\n');
  assert.equal(err.line, 3);
  assert.equal(err.column, 3);
});

test('text after a closing quote is an error with line and column', () => {
  const err = malformed('a,b\n"x"y,2\n');
  assert.equal(err.line, 2);
  assert.equal(err.column, 4);
});

test('a quote never closed is an error at the opening quote', () => {
  const err = malformed('a,b\n1,2\n3,"open\n4,5\n');
  assert.equal(err.line, 3);
  assert.equal(err.column, 3);
});

test('a quoted record longer than the limit is refused while streaming', () => {
  const t = new CsvTokenizer(',', () => undefined, 'x.csv', 100);
  t.push('a,b\n1,"');
  assert.throws(
    () => {
      for (let i = 0; i < 20; i++) t.push('0123456789\n');
    },
    (e: unknown) => e instanceof DataError && e.code === 'DATA_LINE_TOO_LONG' && e.line === 2,
  );
});

test('tab delimiter', () => {
  assert.deepEqual(tokenize('a\tb\n"x\ty"\t2\n', undefined, '\t').map((r) => r.fields), [
    ['a', 'b'],
    ['x\ty', '2'],
  ]);
});
