// Guards against: an attack simulator whose truth file lies — a planted count that is not what the
// rate says, "flips" that keep the label, duplicates that differ in more than the label, junk rows
// that sit inside the data, planted rows missing from the truth, output that changes between two
// runs with the same seed, and bad parameters slipping through as untyped errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import { ATTACK_KINDS, BACKDOOR_KINDS, parseNoiseMatrix, parseTable, plantAttack, serializeTable, cellText, RedteamError, type RawTable, type InjectOptions, type PlantedAttack } from './index.ts';

const N = 60;
const LABELS = ['cat', 'dog', 'fox'];

/** CSV without an id column: label, two numeric columns (one with a quoted comma text), free text. */
function makeCsv(): string {
  const rng = createRng(5);
  const lines = ['label,f1,f2,review'];
  for (let i = 0; i < N; i++) {
    const c = i % 3;
    lines.push(`${LABELS[c]},${(c * 3 + rng.normal()).toFixed(3)},${(rng.normal() * 2).toFixed(2)},"a ""quoted"", long review of item ${i}, quite nice"`);
  }
  return `${lines.join('\n')}\n`;
}

/** JSONL with an id column, numeric JSON values and labels that are JSON numbers. */
function makeJsonl(): string {
  const rng = createRng(6);
  const out: string[] = [];
  for (let i = 0; i < N; i++) {
    const c = i % 3;
    out.push(JSON.stringify({ id: `s${i}`, label: c, x: Number((c * 3 + rng.normal()).toFixed(4)), y: Number(rng.normal().toFixed(4)), text: `Message number ${i} about things, written by someone` }));
  }
  return `${out.join('\n')}\n`;
}

const inputs: [string, RawTable][] = [
  ['csv', parseTable(makeCsv(), 'csv')],
  ['jsonl', parseTable(makeJsonl(), 'jsonl')],
];

const isCode = (code: string) => (e: unknown) => e instanceof RedteamError && e.code === code;

function labelCol(t: RawTable, name: string): number {
  return t.columns.indexOf(name);
}

for (const [fmt, table] of inputs) {
  const opts = (o: Partial<InjectOptions>): InjectOptions => ({ attack: 'symmetric', rate: 0.2, seed: 7, ...o });
  const L = labelCol(table, 'label');

  test(`${fmt}: in-place flips change exactly the rows in the truth, each to another label`, () => {
    for (const attack of ['symmetric', 'targeted'] as const) {
      const r = plantAttack(table, opts({ attack, from: fmt === 'csv' ? 'cat' : '0', to: fmt === 'csv' ? 'dog' : '1' }));
      const expected = attack === 'symmetric' ? Math.round(0.2 * N) : Math.round(0.2 * (N / 3));
      assert.equal(r.planted.length, expected, attack);
      assert.equal(r.table.rows.length, N);
      const plantedRows = new Set(r.planted.map((p) => p.row));
      r.table.rows.forEach((row, i) => {
        const before = cellText(table.rows[i]![L]);
        const after = cellText(row[labelCol(r.table, 'label')]);
        if (plantedRows.has(i + 1)) assert.notEqual(after, before);
        else assert.equal(after, before);
      });
      for (const p of r.planted) {
        assert.equal(p.attack, attack);
        assert.equal(p.originalLabel, cellText(table.rows[p.row - 1]![L]));
        assert.equal(p.plantedLabel, cellText(r.table.rows[p.row - 1]![labelCol(r.table, 'label')]));
      }
      if (fmt === 'jsonl') assert.ok(r.table.rows.every((row) => typeof row[L] === 'number'), 'JSON labels keep their type');
    }
  });

  test(`${fmt}: duplicate-flip appends exact copies that differ only in label (and id)`, () => {
    const r = plantAttack(table, opts({ attack: 'duplicate-flip' }));
    assert.equal(r.planted.length, Math.round(0.2 * N));
    assert.equal(r.table.rows.length, N + r.planted.length);
    const idJ = r.table.columns.indexOf(r.idColumn);
    const byId = new Map(r.table.rows.map((row) => [cellText(row[idJ]), row]));
    for (const p of r.planted) {
      const copy = r.table.rows[p.row - 1]!;
      const src = byId.get(p.sourceId!)!;
      assert.notEqual(cellText(copy[L]), cellText(src[L]));
      assert.equal(p.originalLabel, cellText(src[L]));
      r.table.columns.forEach((_, j) => {
        if (j !== L && j !== idJ) assert.deepEqual(copy[j], src[j]);
      });
    }
  });

  test(`${fmt}: near-duplicate-flip copies are close but not identical, with a flipped label`, () => {
    const r = plantAttack(table, opts({ attack: 'near-duplicate-flip' }));
    assert.equal(r.planted.length, Math.round(0.2 * N));
    const idJ = r.table.columns.indexOf(r.idColumn);
    const byId = new Map(r.table.rows.map((row) => [cellText(row[idJ]), row]));
    const numJ = r.table.columns.indexOf(fmt === 'csv' ? 'f1' : 'x');
    const textJ = r.table.columns.indexOf(fmt === 'csv' ? 'review' : 'text');
    for (const p of r.planted) {
      const copy = r.table.rows[p.row - 1]!;
      const src = byId.get(p.sourceId!)!;
      assert.notEqual(cellText(copy[L]), cellText(src[L]));
      const d = Math.abs(Number(copy[numJ]) - Number(src[numJ]));
      assert.ok(d < 0.2, `numeric moved ${d}`); // std ≈ 2.5, so 0.01·std noise stays well below 0.2
      const a = cellText(copy[textJ]);
      const b = cellText(src[textJ]);
      assert.notEqual(a, b);
      assert.ok(Math.abs(a.length - b.length) <= 2, 'a couple of small edits');
      assert.equal(a.toLowerCase().replace(/[\s.!?,;]/g, ''), b.toLowerCase().replace(/[\s.!?,;]/g, ''));
    }
  });

  test(`${fmt}: ood rows are at least 10 standard deviations away in numeric columns`, () => {
    const r = plantAttack(table, opts({ attack: 'ood', rate: 0.1 }));
    assert.equal(r.planted.length, Math.round(0.1 * N));
    const numJ = r.table.columns.indexOf(fmt === 'csv' ? 'f1' : 'x');
    const xs = table.rows.map((row) => Number(row[numJ]));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    for (const p of r.planted) {
      const row = r.table.rows[p.row - 1]!;
      assert.ok(Math.abs(Number(row[numJ]) - mean) >= 10 * std - 1e-6);
      assert.ok(LABELS.includes(p.plantedLabel) || ['0', '1', '2'].includes(p.plantedLabel));
      assert.equal(p.originalLabel, undefined);
    }
  });

  test(`${fmt}: excluded ids are never flipped or copied (chained attacks)`, () => {
    const first = plantAttack(table, opts({ attack: 'duplicate-flip', rate: 0.3 }));
    const exclude = new Set(first.planted.flatMap((p) => [p.id, p.sourceId!]));
    const second = plantAttack(first.table, opts({ attack: 'mix', rate: 0.3, exclude }));
    assert.ok(second.planted.length > 0);
    for (const p of second.planted) {
      assert.ok(!exclude.has(p.id), `${p.id} was attacked again`);
      if (p.sourceId !== undefined) assert.ok(!exclude.has(p.sourceId), `${p.sourceId} was copied`);
    }
  });

  test(`${fmt}: mix plants an equal share of each kind, the truth lists every changed row, and a seed fixes the bytes`, () => {
    const r = plantAttack(table, opts({ attack: 'mix', rate: 0.4 }));
    assert.equal(r.planted.length, Math.round(0.4 * N));
    const per = new Map<PlantedAttack, number>();
    for (const p of r.planted) per.set(p.attack, (per.get(p.attack) ?? 0) + 1);
    assert.deepEqual([...per.keys()].sort(), ['duplicate-flip', 'near-duplicate-flip', 'ood', 'symmetric']);
    for (const c of per.values()) assert.equal(c, 6);
    // Every row that differs from the input, or was appended, is in the truth, and only those.
    const planted = new Set(r.planted.map((p) => p.row));
    const L2 = labelCol(r.table, 'label');
    r.table.rows.forEach((row, i) => {
      const changed = i >= N || cellText(row[L2]) !== cellText(table.rows[i]![L]);
      assert.equal(planted.has(i + 1), changed, `row ${i + 1}`);
    });
    // Backdoors need a target and pixel or text columns; backdoor.test.ts covers their determinism.
    for (const kind of ATTACK_KINDS.filter((k) => k !== 'targeted' && k !== 'class-conditional' && !(BACKDOOR_KINDS as readonly string[]).includes(k))) {
      const a = serializeTable(plantAttack(table, opts({ attack: kind, seed: 11 })).table, table.format).text;
      const b = serializeTable(plantAttack(table, opts({ attack: kind, seed: 11 })).table, table.format).text;
      const c = serializeTable(plantAttack(table, opts({ attack: kind, seed: 12 })).table, table.format).text;
      assert.equal(a, b, kind);
      assert.notEqual(a, c, kind);
    }
  });
}

test('csv: every column and its text survive a round trip; tg_id = row number is added', () => {
  const table = parseTable(makeCsv(), 'csv');
  const r = plantAttack(table, { attack: 'symmetric', rate: 0, seed: 1 });
  assert.equal(r.addedIdColumn, true);
  assert.equal(r.idColumn, 'tg_id');
  const { text, lines } = serializeTable(r.table, 'csv');
  const back = parseTable(text, 'csv');
  assert.deepEqual(back.columns, [...table.columns, 'tg_id']);
  back.rows.forEach((row, i) => assert.deepEqual(row, [...table.rows[i]!, String(i + 1)]));
  assert.equal(lines[0], 2);
});

test('class-conditional: an identity matrix changes nothing; a full flip matrix changes every label as the matrix says', () => {
  const table = parseTable(makeCsv(), 'csv');
  const identity = parseNoiseMatrix({ labels: LABELS, matrix: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] });
  const same = plantAttack(table, { attack: 'class-conditional', rate: 0.5, seed: 3, noiseMatrix: identity });
  assert.equal(same.planted.length, 0);
  assert.equal(serializeTable(same.table, 'csv').text, serializeTable(plantAttack(table, { attack: 'symmetric', rate: 0, seed: 3 }).table, 'csv').text);
  const cycle = parseNoiseMatrix({ labels: LABELS, matrix: [[0, 1, 0], [0, 0, 1], [0.5, 0, 0.5]] });
  const r = plantAttack(table, { attack: 'class-conditional', rate: 0, seed: 3, noiseMatrix: cycle });
  const cats = r.planted.filter((p) => p.originalLabel === 'cat');
  assert.equal(cats.length, N / 3);
  assert.ok(cats.every((p) => p.plantedLabel === 'dog'));
  assert.ok(r.planted.filter((p) => p.originalLabel === 'dog').every((p) => p.plantedLabel === 'fox'));
  const foxes = r.planted.filter((p) => p.originalLabel === 'fox').length;
  assert.ok(foxes > 2 && foxes < 18, `about half of 20 foxes flipped, got ${foxes}`);
});

test('bad rate, attack, label, noise matrix and input are typed errors', () => {
  const table = parseTable(makeCsv(), 'csv');
  assert.throws(() => plantAttack(table, { attack: 'symmetric', rate: 1.5, seed: 1 }), isCode('REDTEAM_BAD_RATE'));
  assert.throws(() => plantAttack(table, { attack: 'symmetric', rate: Number.NaN, seed: 1 }), isCode('REDTEAM_BAD_RATE'));
  assert.throws(() => plantAttack(table, { attack: 'nope' as 'mix', rate: 0.1, seed: 1 }), isCode('REDTEAM_BAD_ATTACK'));
  assert.throws(() => plantAttack(table, { attack: 'targeted', rate: 0.1, seed: 1, from: 'cat' }), isCode('REDTEAM_BAD_ATTACK'));
  assert.throws(() => plantAttack(table, { attack: 'targeted', rate: 0.1, seed: 1, from: 'cat', to: 'wolf' }), isCode('REDTEAM_UNKNOWN_CLASS'));
  assert.throws(() => plantAttack(table, { attack: 'class-conditional', rate: 0.1, seed: 1 }), isCode('REDTEAM_BAD_NOISE_MATRIX'));
  const partial = parseNoiseMatrix({ labels: ['cat', 'dog'], matrix: [[1, 0], [0, 1]] });
  assert.throws(() => plantAttack(table, { attack: 'class-conditional', rate: 0.1, seed: 1, noiseMatrix: partial }), isCode('REDTEAM_UNKNOWN_CLASS'));
  for (const bad of [null, { labels: ['a'] }, { labels: ['a', 'b'], matrix: [[0.5, 0.4], [0, 1]] }, { labels: ['a', 'a'], matrix: [[1, 0], [0, 1]] }, { labels: ['a', 'b'], matrix: [[1, 0]] }, { labels: ['a', 'b'], matrix: [[2, -1], [0, 1]] }]) {
    assert.throws(() => parseNoiseMatrix(bad), isCode('REDTEAM_BAD_NOISE_MATRIX'));
  }
  assert.throws(() => parseTable('a,b\n1,2,3\n', 'csv'), isCode('REDTEAM_BAD_INPUT'));
  assert.throws(() => parseTable('{"a":1}\n[1,2]\n', 'jsonl'), (e: unknown) => isCode('REDTEAM_BAD_INPUT')(e) && (e as RedteamError).line === 2);
  assert.throws(() => plantAttack(parseTable('label,x\na,1\na,2\n', 'csv'), { attack: 'symmetric', rate: 0.5, seed: 1 }), isCode('REDTEAM_TOO_FEW_CLASSES'));
});
