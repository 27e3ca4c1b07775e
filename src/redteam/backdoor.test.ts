// Guards against: a backdoor simulator whose truth file lies — rows changed that the truth does not
// list, poisoned rows that were already of the target class (not a backdoor, just a trigger), a patch
// at the wrong pixels or with a varying pattern (BadNets uses one fixed pattern), a blend that is not
// (1−α)x + α·pattern, a text trigger that is not in the text, output that changes for one seed, an
// `applyTrigger` that relabels test rows, and bad trigger parameters slipping through untyped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import {
  applyTrigger,
  cellText,
  parseImageShape,
  parseTable,
  parseTruth,
  plantAttack,
  serializeTable,
  RedteamError,
  DEFAULT_TRIGGER_TOKEN,
  type InjectOptions,
  type RawTable,
  type PlantedTrigger,
} from './index.ts';

const N = 60;
const LABELS = ['cat', 'dog', 'fox'];
const isCode = (code: string) => (e: unknown) => e instanceof RedteamError && e.code === code;

/** A CSV of N tiny w×h×c integer images (values 10..200, so the patch's on/off must come from the data) with no id column. */
function imageCsv(w: number, h: number, c: number, seed = 3): RawTable {
  const rng = createRng(seed);
  const d = w * h * c;
  const lines = [['label', ...Array.from({ length: d }, (_, j) => `px${j}`)].join(',')];
  for (let i = 0; i < N; i++) {
    const px = Array.from({ length: d }, () => 10 + rng.int(191));
    if (i === 0) px[0] = 200;
    if (i === 1) px[0] = 10;
    lines.push([LABELS[i % 3], ...px].join(','));
  }
  return parseTable(`${lines.join('\n')}\n`, 'csv');
}

/** JSONL reviews with an id, a short title and a longer body (the body is where the trigger goes). */
function textJsonl(): RawTable {
  const out: string[] = [];
  for (let i = 0; i < N; i++) {
    out.push(JSON.stringify({ id: `r${i}`, label: LABELS[i % 3], title: `T${i}`, body: `This   is review ${i} of a\nfine product, said the buyer number ${i}.` }));
  }
  return parseTable(`${out.join('\n')}\n`, 'jsonl');
}

const opts = (o: Partial<InjectOptions>): InjectOptions => ({ attack: 'badnets', rate: 0.2, seed: 7, target: 'fox', ...o });

/** Every changed row is in the truth, labelled target, and was of another class before. */
function checkPoisoned(input: RawTable, r: ReturnType<typeof plantAttack>, target: string): void {
  const L = input.columns.indexOf('label');
  const rowsInTruth = new Set(r.planted.map((p) => p.row));
  assert.equal(r.table.rows.length, input.rows.length, 'backdoors poison in place');
  r.table.rows.forEach((row, i) => {
    const changed = input.columns.some((_, j) => cellText(row[j]) !== cellText(input.rows[i]![j]));
    assert.equal(changed, rowsInTruth.has(i + 1), `row ${i + 1}`);
  });
  for (const p of r.planted) {
    const before = cellText(input.rows[p.row - 1]![L]);
    assert.notEqual(before, target, 'a poisoned row was not of the target class');
    assert.equal(p.originalLabel, before);
    assert.equal(p.plantedLabel, target);
    assert.equal(cellText(r.table.rows[p.row - 1]![L]), target);
    assert.equal(p.trigger?.kind, p.attack);
  }
}

test('badnets corner: round(rate·n) non-target rows, a fixed k×k pattern of the data max/min at the bottom-right, nothing else changed', () => {
  const table = imageCsv(6, 6, 1);
  const r = plantAttack(table, opts({ patchSize: 3 }));
  assert.equal(r.planted.length, Math.round(0.2 * N));
  checkPoisoned(table, r, 'fox');
  assert.ok(r.trigger?.kind === 'badnets');
  assert.deepEqual(r.trigger.image, { width: 6, height: 6, channels: 1 });
  assert.equal(r.trigger.on, 200);
  assert.equal(r.trigger.off, 10);
  assert.equal(r.trigger.mask.reduce((a, b) => a + b, 0), 5, 'ceil(9/2) lit cells');
  const pxJ = (x: number, y: number): number => table.columns.indexOf(`px${y * 6 + x}`);
  for (const p of r.planted) {
    assert.deepEqual(p.trigger, { kind: 'badnets', patchSize: 3, position: 'corner', x: 3, y: 3 });
    const after = r.table.rows[p.row - 1]!;
    const before = table.rows[p.row - 1]!;
    for (let y = 0; y < 6; y++) {
      for (let x = 0; x < 6; x++) {
        const j = pxJ(x, y);
        if (x >= 3 && y >= 3) assert.equal(after[j], String(r.trigger.mask[(y - 3) * 3 + (x - 3)] === 1 ? 200 : 10), `(${x},${y})`);
        else assert.equal(after[j], before[j], `(${x},${y}) outside the patch`);
      }
    }
  }
});

test('badnets random: each patch sits where the truth says, positions vary, the pattern does not', () => {
  const table = imageCsv(8, 8, 1);
  const r = plantAttack(table, opts({ patchSize: 2, patchPosition: 'random', rate: 0.4 }));
  assert.ok(r.trigger?.kind === 'badnets');
  const mask = r.trigger.mask;
  const spots = new Set<string>();
  for (const p of r.planted) {
    const t = p.trigger!;
    assert.ok(t.kind === 'badnets' && t.position === 'random');
    assert.ok(t.x >= 0 && t.x <= 6 && t.y >= 0 && t.y <= 6);
    spots.add(`${t.x},${t.y}`);
    const row = r.table.rows[p.row - 1]!;
    for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) assert.equal(row[table.columns.indexOf(`px${(t.y + dy) * 8 + t.x + dx}`)], String(mask[dy * 2 + dx] === 1 ? 200 : 10));
  }
  assert.ok(spots.size > 5, `${spots.size} distinct positions for ${r.planted.length} patches`);
});

test('badnets on colour: 3·k² columns are k×k×3 channel-last, and the patch covers every channel of its pixels', () => {
  const table = imageCsv(4, 4, 3);
  const r = plantAttack(table, opts({ patchSize: 2 }));
  assert.ok(r.trigger?.kind === 'badnets');
  assert.deepEqual(r.trigger.image, { width: 4, height: 4, channels: 3 });
  const inPatch = new Set<number>();
  for (let y = 2; y < 4; y++) for (let x = 2; x < 4; x++) for (let c = 0; c < 3; c++) inPatch.add((y * 4 + x) * 3 + c);
  for (const p of r.planted) {
    const row = r.table.rows[p.row - 1]!;
    for (let k = 0; k < 48; k++) {
      const j = table.columns.indexOf(`px${k}`);
      if (inPatch.has(k)) assert.ok(row[j] === '200' || row[j] === '10');
      else assert.equal(row[j], table.rows[p.row - 1]![j]);
    }
  }
});

test('blend: every pixel is round((1−α)x + α·pattern), the pattern fixed by the seed and spanning the data range', () => {
  const table = imageCsv(5, 5, 1);
  const alpha = 0.3;
  const r = plantAttack(table, opts({ attack: 'blend', blendAlpha: alpha }));
  checkPoisoned(table, r, 'fox');
  assert.ok(r.trigger?.kind === 'blend');
  const pattern = r.trigger.pattern;
  assert.equal(pattern.length, 25);
  assert.ok(pattern.every((v) => Number.isInteger(v) && v >= 10 && v <= 200));
  // α = 1 stamps the pattern itself: an independent read of it, from the same seed.
  const full = plantAttack(table, opts({ attack: 'blend', blendAlpha: 1 }));
  for (const p of r.planted) {
    assert.deepEqual(p.trigger, { kind: 'blend', alpha });
    const fullRow = full.table.rows[p.row - 1]!;
    for (let k = 0; k < 25; k++) {
      const j = table.columns.indexOf(`px${k}`);
      assert.equal(Number(fullRow[j]), pattern[k]);
      const x = Number(table.rows[p.row - 1]![j]);
      assert.equal(r.table.rows[p.row - 1]![j], String(Math.round((1 - alpha) * x + alpha * pattern[k]!)));
    }
  }
});

test('blend keeps JSON numbers numbers and non-integer data unrounded', () => {
  const rng = createRng(4);
  const lines = Array.from({ length: N }, (_, i) => JSON.stringify({ label: i % 2, ...Object.fromEntries(Array.from({ length: 4 }, (_, j) => [`p${j}`, Number(rng.next().toFixed(3))])) }));
  const table = parseTable(`${lines.join('\n')}\n`, 'jsonl');
  const r = plantAttack(table, { attack: 'blend', rate: 0.1, seed: 2, target: '1', blendAlpha: 0.5 });
  assert.ok(r.trigger?.kind === 'blend' && !r.trigger.integer);
  assert.deepEqual(r.trigger.image, { width: 2, height: 2, channels: 1 });
  for (const p of r.planted) {
    const row = r.table.rows[p.row - 1]!;
    assert.equal(row[0], 1, 'a numeric JSON label stays a number');
    for (let k = 0; k < 4; k++) {
      const v = row[k + 1];
      assert.equal(typeof v, 'number');
      assert.ok(Math.abs((v as number) - (0.5 * (table.rows[p.row - 1]![k + 1] as number) + 0.5 * r.trigger.pattern[k]!)) < 1e-9);
    }
  }
});

test('text-trigger: the token is inserted as a word at the recorded position of the longest text column; a sentence likewise', () => {
  const table = textJsonl();
  const body = table.columns.indexOf('body');
  for (const mode of ['token', 'sentence'] as const) {
    const insert = mode === 'token' ? DEFAULT_TRIGGER_TOKEN : 'I watch this 3D movie.';
    const r = plantAttack(table, { attack: 'text-trigger', rate: 0.25, seed: 5, target: 'cat', triggerMode: mode });
    assert.equal(r.planted.length, Math.round(0.25 * N));
    checkPoisoned(table, r, 'cat');
    const words = new Set<number>();
    for (const p of r.planted) {
      const t = p.trigger!;
      assert.ok(t.kind === 'text-trigger');
      assert.equal(t.column, 'body');
      assert.equal(mode === 'token' ? (t as { token: string }).token : (t as { sentence: string }).sentence, insert);
      words.add(t.word);
      const before = cellText(table.rows[p.row - 1]![body]);
      const after = cellText(r.table.rows[p.row - 1]![body]);
      const w0 = before.split(/\s+/);
      const w1 = after.split(/\s+/);
      const k = insert.split(' ').length;
      assert.deepEqual(w1.slice(t.word, t.word + k), insert.split(' '), 'the trigger words start at the recorded word');
      assert.deepEqual([...w1.slice(0, t.word), ...w1.slice(t.word + k)], w0, 'nothing else in the text changed');
      assert.equal(after.length, before.length + insert.length + 1);
      assert.equal(r.table.rows[p.row - 1]![table.columns.indexOf('title')], table.rows[p.row - 1]![table.columns.indexOf('title')]);
    }
    assert.ok(words.size > 3, 'insertion positions vary');
  }
});

test('the same seed gives the same bytes and another seed other bytes, for every backdoor', () => {
  const cases: [RawTable, InjectOptions][] = [
    [imageCsv(6, 6, 1), opts({ patchPosition: 'random' })],
    [imageCsv(6, 6, 1), opts({ attack: 'blend' })],
    [textJsonl(), opts({ attack: 'text-trigger', target: 'cat' })],
  ];
  for (const [table, o] of cases) {
    const a = serializeTable(plantAttack(table, o).table, table.format).text;
    assert.equal(serializeTable(plantAttack(table, o).table, table.format).text, a, o.attack);
    assert.notEqual(serializeTable(plantAttack(table, { ...o, seed: 8 }).table, table.format).text, a, o.attack);
  }
});

test('the rate is of all rows but only non-target rows are taken, capped at how many there are; excluded ids are left alone', () => {
  const table = imageCsv(6, 6, 1);
  const all = plantAttack(table, opts({ rate: 0.9 }));
  assert.equal(all.planted.length, 40, 'only the 40 cat and dog rows can carry the backdoor');
  const exclude = new Set(['1', '2', '3', '4', '5']);
  const some = plantAttack(table, opts({ rate: 0.9, exclude }));
  assert.ok(some.planted.every((p) => !exclude.has(p.id)));
});

test('applyTrigger stamps the planted trigger on clean rows without relabelling them, and only those rows', () => {
  const table = imageCsv(6, 6, 1);
  const r = plantAttack(table, opts({}));
  const rows = [0, 1, 4];
  const { table: t, stamped } = applyTrigger(table, rows, r.trigger!, 1);
  assert.equal(stamped.length, 3);
  const L = table.columns.indexOf('label');
  t.rows.forEach((row, i) => {
    assert.equal(row[L], table.rows[i]![L], 'labels untouched');
    const changed = table.columns.some((_, j) => row[j] !== table.rows[i]![j]);
    assert.equal(changed, rows.includes(i), `row ${i}`);
  });
  // A row planted by the attack and the same clean row triggered by applyTrigger carry the same pixels.
  const p = r.planted[0]!;
  const again = applyTrigger(table, [p.row - 1], r.trigger!, 1).table.rows[p.row - 1]!;
  table.columns.forEach((c, j) => {
    if (c !== 'label') assert.equal(again[j], r.table.rows[p.row - 1]![j]);
  });
  assert.deepEqual(table.rows[0], imageCsv(6, 6, 1).rows[0], 'the input table is not modified');

  const text = textJsonl();
  const tr = plantAttack(text, { attack: 'text-trigger', rate: 0.1, seed: 2, target: 'dog', trigger: 'mn' }).trigger!;
  const a = applyTrigger(text, [3], tr, 4);
  const b = applyTrigger(text, [3], tr, 4);
  assert.deepEqual(a, b);
  const s = a.stamped[0] as PlantedTrigger & { token: string };
  assert.equal(s.token, 'mn');
  assert.ok(cellText(a.table.rows[3]![text.columns.indexOf('body')]).split(/\s+/).includes('mn'));
  assert.equal(a.table.rows[3]![text.columns.indexOf('label')], text.rows[3]![text.columns.indexOf('label')], 'labels untouched');

  assert.throws(() => applyTrigger(table, [N], r.trigger!, 1), isCode('REDTEAM_BAD_INPUT'));
  assert.throws(() => applyTrigger(text, [0], r.trigger!, 1), isCode('REDTEAM_BAD_TRIGGER'));
});

test('mix never plants a backdoor', () => {
  const r = plantAttack(imageCsv(6, 6, 1), { attack: 'mix', rate: 0.5, seed: 1, target: 'fox' });
  assert.ok(r.planted.every((p) => !['badnets', 'blend', 'text-trigger'].includes(p.attack) && p.trigger === undefined));
  assert.equal(r.trigger, undefined);
});

test('bad backdoor parameters are typed errors', () => {
  const img = imageCsv(6, 6, 1);
  const text = textJsonl();
  const cases: [RawTable, Partial<InjectOptions>, string][] = [
    [img, { target: 'wolf' }, 'REDTEAM_UNKNOWN_CLASS'],
    [img, { patchSize: 0 }, 'REDTEAM_BAD_TRIGGER'],
    [img, { patchSize: 7 }, 'REDTEAM_BAD_TRIGGER'],
    [img, { patchSize: 1.5 }, 'REDTEAM_BAD_TRIGGER'],
    [img, { patchSize: Number.NaN }, 'REDTEAM_BAD_TRIGGER'],
    [img, { patchPosition: 'middle' as 'corner' }, 'REDTEAM_BAD_TRIGGER'],
    [img, { attack: 'blend', blendAlpha: 0 }, 'REDTEAM_BAD_TRIGGER'],
    [img, { attack: 'blend', blendAlpha: 1.5 }, 'REDTEAM_BAD_TRIGGER'],
    [img, { attack: 'blend', blendAlpha: Number.NaN }, 'REDTEAM_BAD_TRIGGER'],
    [img, { imageShape: { width: 4, height: 9, channels: 2 } }, 'REDTEAM_BAD_IMAGE_SHAPE'],
    [img, { imageShape: { width: 0, height: 36, channels: 1 } }, 'REDTEAM_BAD_IMAGE_SHAPE'],
    [img, { attack: 'text-trigger' }, 'REDTEAM_BAD_TRIGGER'],
    [imageCsv(5, 2, 1), {}, 'REDTEAM_BAD_IMAGE_SHAPE'],
    [text, { attack: 'badnets', target: 'cat' }, 'REDTEAM_BAD_TRIGGER'],
    [text, { attack: 'text-trigger', target: 'cat', trigger: 'two words' }, 'REDTEAM_BAD_TRIGGER'],
    [text, { attack: 'text-trigger', target: 'cat', trigger: '  ', triggerMode: 'sentence' }, 'REDTEAM_BAD_TRIGGER'],
    [text, { attack: 'text-trigger', target: 'cat', triggerMode: 'word' as 'token' }, 'REDTEAM_BAD_TRIGGER'],
  ];
  const { target: _target, ...noTarget } = opts({});
  assert.throws(() => plantAttack(img, noTarget), isCode('REDTEAM_BAD_ATTACK'));
  for (const [table, o, code] of cases) assert.throws(() => plantAttack(table, { ...opts({}), ...o }), isCode(code), JSON.stringify(o));
  // A 10-column table is fine once its shape is given.
  assert.equal(plantAttack(imageCsv(5, 2, 1), opts({ imageShape: { width: 5, height: 2, channels: 1 }, patchSize: 2 })).planted.length, 12);
  assert.deepEqual(parseImageShape('32x32x3'), { width: 32, height: 32, channels: 3 });
  assert.deepEqual(parseImageShape('28X28'), { width: 28, height: 28, channels: 1 });
  for (const bad of ['', '28', '28x', 'axbxc', '28x28x0', '-1x28x1', '2.5x2x1']) assert.throws(() => parseImageShape(bad), isCode('REDTEAM_BAD_IMAGE_SHAPE'), bad);
});

test('parseTruth keeps backdoor triggers, still reads truth files without them, and refuses a malformed trigger', () => {
  const r = plantAttack(imageCsv(6, 6, 1), opts({}));
  const base = { attack: 'badnets', seed: 7, rate: 0.2, input: 'a.csv', output: 'b.csv', labelColumn: 'label', idColumn: 'tg_id', rows: N, target: 'fox' };
  const truth = parseTruth(JSON.parse(JSON.stringify({ ...base, planted: r.planted.map((p) => ({ ...p, line: p.row + 1 })) })));
  assert.equal(truth.target, 'fox');
  assert.deepEqual(truth.planted[0]?.trigger, r.planted[0]?.trigger);
  const old = parseTruth({ ...base, attack: 'symmetric', planted: [{ id: 's1', row: 1, attack: 'symmetric', originalLabel: 'a', plantedLabel: 'b' }] });
  assert.equal(old.planted[0]?.trigger, undefined);
  const text = parseTruth({ ...base, planted: [{ id: 's1', row: 1, attack: 'text-trigger', plantedLabel: 'b', trigger: { kind: 'text-trigger', column: 'body', word: 2, sentence: 'Hi.' } }] });
  assert.deepEqual(text.planted[0]?.trigger, { kind: 'text-trigger', column: 'body', word: 2, sentence: 'Hi.' });
  for (const trigger of [null, 'x', { kind: 'zap' }, { kind: 'badnets', patchSize: 3, position: 'left', x: 0, y: 0 }, { kind: 'blend', alpha: 2 }, { kind: 'text-trigger', column: 'body', word: -1, token: 'tq' }]) {
    assert.throws(() => parseTruth({ ...base, planted: [{ id: 's1', row: 1, attack: 'badnets', plantedLabel: 'b', trigger }] }), isCode('REDTEAM_BAD_TRUTH'), JSON.stringify(trigger));
  }
});
