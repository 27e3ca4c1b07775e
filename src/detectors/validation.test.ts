// Guards against: validation checks that miss a planted problem (NaN/Inf, constant or mixed-type
// columns, nulls written several ways, junk or damaged text, length outliers, rare classes, labels
// outside the domain, missing columns, skipped rows) or that raise anything on clean data; raw
// null tokens lost between the CSV reader and the check; findings that break the detector contract.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, createRng } from '../core/index.ts';
import { readDataset } from '../data/index.ts';
import type { Dataset, FeatureColumn } from '../data/index.ts';
import type { DetectorContext, DetectorResult } from './detector.ts';
import { makeContext } from './test-fixtures.ts';
import { createValidationDetector, validationDetector } from './validation.ts';
import type { ValidationCode, ValidationIssue, ValidationOptions } from './validation.ts';

const N = 120;
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];

interface Clean {
  numeric: number[];
  categorical: (string | null)[];
  text: string[];
  labels: number[];
}

function clean(seed: number): Clean {
  const rng = createRng(seed);
  return {
    numeric: Array.from({ length: N }, () => rng.normal()),
    categorical: Array.from({ length: N }, () => ['red', 'green', 'blue'][rng.int(3)]!),
    text: Array.from({ length: N }, () => Array.from({ length: 4 + rng.int(3) }, () => WORDS[rng.int(WORDS.length)]).join(' ')),
    labels: Array.from({ length: N }, (_, i) => i % 3),
  };
}

function context(c: Clean, extra: Partial<Dataset> = {}): DetectorContext {
  const base = makeContext({ labels: Int32Array.from(c.labels), numClasses: 3 });
  const features: FeatureColumn[] = [
    { kind: 'numeric', name: 'x', values: Float64Array.from(c.numeric) },
    { kind: 'categorical', name: 'colour', values: c.categorical },
  ];
  const dataset: Dataset = {
    ...base.dataset,
    roles: { label: 'label', x: 'numeric', colour: 'categorical', text: 'text' },
    features,
    text: c.text,
    textColumn: 'text',
    ...extra,
  };
  return { ...base, dataset };
}

async function run(ctx: DetectorContext, options: ValidationOptions = {}): Promise<{ res: DetectorResult; issues: ValidationIssue[] }> {
  const res = await createValidationDetector(options).run(ctx);
  checkContract(ctx, res);
  return { res, issues: res.summary['issues'] as ValidationIssue[] };
}

function checkContract(ctx: DetectorContext, res: DetectorResult): void {
  const n = ctx.labels.length;
  assert.equal(res.scores.length, n);
  const seen = new Set<number>();
  let previous = Infinity;
  for (const f of res.findings) {
    assert.ok(!seen.has(f.index), 'one finding per sample');
    seen.add(f.index);
    assert.equal(f.score, res.scores[f.index]);
    assert.ok(f.score <= previous);
    previous = f.score;
    assert.equal(f.sampleId, ctx.dataset.ids[f.index]);
  }
  for (let i = 0; i < n; i++) if (!seen.has(i)) assert.equal(res.scores[i], 0, `unflagged sample ${i} scores 0`);
  assert.doesNotThrow(() => canonicalJson(res.summary));
  for (const f of res.findings) assert.doesNotThrow(() => canonicalJson(f.evidence));
}

function codes(issues: ValidationIssue[]): ValidationCode[] {
  return issues.map((i) => i.code);
}

test('clean data raises no issue and flags no sample (several seeds)', async () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const { res, issues } = await run(context(clean(seed)), { labelDomain: ['class0', 'class1', 'class2'], requiredColumns: ['x'] });
    assert.deepEqual(codes(issues), [], `seed ${seed}`);
    assert.equal(res.findings.length, 0);
  }
});

test('the default detector needs nothing and raises nothing on a bare dataset', async () => {
  assert.deepEqual(validationDetector.needs, []);
  const ctx = makeContext({ labels: Int32Array.from([0, 1, 0, 1]), numClasses: 2 });
  const res = await validationDetector.run(ctx);
  assert.equal(res.findings.length, 0);
});

test('±Infinity in a numeric column is NON_FINITE, flagged on its rows', async () => {
  const c = clean(1);
  c.numeric[5] = Infinity;
  c.numeric[9] = -Infinity;
  const { res, issues } = await run(context(c));
  const hit = issues.find((i) => i.code === 'NON_FINITE')!;
  assert.equal(hit.severity, 'high');
  assert.equal(hit.column, 'x');
  assert.deepEqual(hit.rows, [5, 9]);
  assert.deepEqual(res.findings.map((f) => [f.index, f.code]), [[5, 'NON_FINITE'], [9, 'NON_FINITE']]);
});

test('a constant column and an all-missing column are CONSTANT_COLUMN; a two-valued one is not', async () => {
  const c = clean(1);
  c.numeric = c.numeric.map(() => 3);
  const { issues } = await run(context(c));
  assert.deepEqual(codes(issues), ['CONSTANT_COLUMN']);
  c.numeric[0] = 4;
  assert.deepEqual(codes((await run(context(c))).issues), []);
  const ctx = context(clean(2));
  const empty = { ...ctx, dataset: { ...ctx.dataset, features: [{ kind: 'categorical' as const, name: 'e', values: new Array<string | null>(N).fill(null) }] } };
  const got = (await run(empty, { maxNullFraction: 1 })).issues;
  assert.deepEqual(codes(got), ['CONSTANT_COLUMN']);
});

test('stray numbers in a text column are MIXED_TYPES on their rows', async () => {
  const c = clean(1);
  c.categorical[7] = '42';
  c.categorical[8] = '-1.5';
  const { res, issues } = await run(context(c));
  const hit = issues.find((i) => i.code === 'MIXED_TYPES')!;
  assert.equal(hit.count, 2);
  assert.deepEqual(hit.details['minority'], 'numbers');
  assert.deepEqual(res.findings.map((f) => f.index), [7, 8]);
});

test('special-character-only values, empty text and damaged Unicode are flagged per row', async () => {
  const c = clean(1);
  c.categorical[3] = '???';
  c.text[4] = '';
  c.text[6] = '--- *** ---';
  c.text[10] = 'caf\uFFFD au lait';
  c.text[11] = 'lone \uD800 surrogate';
  const { res, issues } = await run(context(c));
  const byCode = new Map(issues.map((i) => [`${i.code}:${i.column}`, i.rows]));
  assert.deepEqual(byCode.get('SPECIAL_CHARACTERS_ONLY:colour'), [3]);
  assert.deepEqual(byCode.get('SPECIAL_CHARACTERS_ONLY:text'), [6]);
  assert.deepEqual(byCode.get('EMPTY_TEXT:text'), [4]);
  assert.deepEqual(byCode.get('INVALID_UTF8:text'), [10, 11]);
  assert.deepEqual(res.findings.map((f) => f.index).sort((a, b) => a - b), [3, 4, 6, 10, 11]);
});

test('a text far longer than the rest is a STRING_LENGTH_OUTLIER; ordinary spread is not', async () => {
  const c = clean(1);
  c.text[20] = 'word '.repeat(200);
  const { res, issues } = await run(context(c));
  const hit = issues.find((i) => i.code === 'STRING_LENGTH_OUTLIER')!;
  assert.deepEqual(hit.rows, [20]);
  assert.equal(res.findings.find((f) => f.index === 20)?.code, 'STRING_LENGTH_OUTLIER');
  // Fixed-width codes (MAD 0) with one slightly longer code: under the minimum gap, not an outlier.
  const d = clean(2);
  d.categorical = d.categorical.map((_, i) => (i === 0 ? 'AB-1234' : 'AB-123'));
  assert.ok(!codes((await run(context(d))).issues).includes('STRING_LENGTH_OUTLIER'));
});

test('a column above maxNullFraction is HIGH_NULL_FRACTION (dataset level, no findings)', async () => {
  const c = clean(1);
  for (let i = 0; i < 30; i++) c.numeric[i * 4] = Number.NaN;
  const { res, issues } = await run(context(c));
  const hit = issues.find((i) => i.code === 'HIGH_NULL_FRACTION')!;
  assert.equal(hit.count, 30);
  assert.equal(hit.details['fraction'], 0.25);
  assert.equal(res.findings.length, 0);
  assert.deepEqual(codes((await run(context(c), { maxNullFraction: 0.3 })).issues), []);
});

test('a class below 0.1/K is CLASS_IMBALANCE; a balanced set is not', async () => {
  const c = clean(1);
  c.labels = c.labels.map((y, i) => (y === 2 && i > 5 ? i % 2 : y));
  const { res, issues } = await run(context(c));
  const hit = issues.find((i) => i.code === 'CLASS_IMBALANCE')!;
  assert.equal(hit.details['class'], 'class2');
  assert.equal(hit.count, 2);
  assert.equal(res.findings.length, 0, 'rows of the rare class are not flagged');
});

test('labels outside labelDomain are UNEXPECTED_LABEL on their rows', async () => {
  const { res, issues } = await run(context(clean(1)), { labelDomain: ['class0', 'class1'] });
  const hit = issues.find((i) => i.code === 'UNEXPECTED_LABEL')!;
  assert.equal(hit.count, 40);
  assert.deepEqual(hit.details['unexpected'], { class2: 40 });
  assert.equal(res.findings.length, 40);
  assert.ok(res.findings.every((f) => f.code === 'UNEXPECTED_LABEL' && f.severity === 'high'));
});

test('missing required columns and skipped rows are dataset-level issues', async () => {
  const ctx = context(clean(1), {
    skipped: [
      { line: 3, code: 'DATA_RAGGED_ROW', message: 'expected 3 fields, found 2' },
      { line: 8, code: 'DATA_RAGGED_ROW', message: 'expected 3 fields, found 4' },
      { line: 9, code: 'DATA_MISSING_LABEL', message: 'no label' },
    ],
  });
  const { res, issues } = await run(ctx, { requiredColumns: ['x', 'weight'] });
  assert.deepEqual(codes(issues), ['REQUIRED_COLUMN_MISSING', 'SKIPPED_ROWS', 'SKIPPED_ROWS']);
  assert.equal(issues[0]!.severity, 'critical');
  assert.equal(issues[0]!.column, 'weight');
  const ragged = issues.find((i) => i.details['reason'] === 'DATA_RAGGED_ROW')!;
  assert.equal(ragged.count, 2);
  assert.deepEqual(ragged.details['lines'], [3, 8]);
  assert.equal(res.findings.length, 0);
});

test('bad options are refused', () => {
  assert.throws(() => createValidationDetector({ maxNullFraction: 2 }), { code: 'DETECTOR_BAD_OPTION' });
  assert.throws(() => createValidationDetector({ imbalanceFactor: -1 }), { code: 'DETECTOR_BAD_OPTION' });
});

const dir = mkdtempSync(join(tmpdir(), 'tg-validation-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function scanCsv(name: string, body: string): Promise<{ dataset: Dataset; issues: ValidationIssue[]; res: DetectorResult }> {
  const path = join(dir, name);
  writeFileSync(path, body);
  const dataset = await readDataset(path);
  const base = makeContext({ labels: dataset.labelCodes, numClasses: dataset.labelNames.length, classNames: dataset.labelNames });
  const ctx = { ...base, dataset };
  const { res, issues } = await run(ctx, { maxNullFraction: 1 });
  return { dataset, issues, res };
}

function rows(n: number, cell: (i: number) => string): string {
  return Array.from({ length: n }, (_, i) => `${cell(i)},${(i * 7) % 13},${i % 2 === 0 ? 'a' : 'b'}`).join('\n');
}

test('mixed null encodings are read from the raw CSV tokens ("", NA, null) and a single encoding is not', async () => {
  const tokens = ['', 'NA', 'null'];
  const mixed = await scanCsv('mixed.csv', `x,y,label\n${rows(30, (i) => (i % 10 === 0 ? tokens[(i / 10) % 3]! : String(i)))}\n`);
  const x = mixed.dataset.profile!.find((p) => p.name === 'x')!;
  assert.equal(x.missing, 3);
  assert.deepEqual(Object.fromEntries(x.missingTokens.map((t) => [t.token, t.rows])), { '': [0], NA: [10], null: [20] });
  assert.equal(x.numeric, 27);
  const hit = mixed.issues.find((i) => i.code === 'MIXED_NULL_ENCODINGS')!;
  assert.equal(hit.column, 'x');
  assert.deepEqual(hit.details['tokens'], { '': 1, NA: 1, null: 1 });

  const single = await scanCsv('single.csv', `x,y,label\n${rows(30, (i) => (i % 10 === 0 ? '' : String(i)))}\n`);
  assert.deepEqual(codes(single.issues), []);
});

test('NaN and inf literals in a numeric CSV column are NON_FINITE with their rows; the profile counts them', async () => {
  const { dataset, issues, res } = await scanCsv('nan.csv', `x,y,label\n${rows(30, (i) => (i === 4 ? 'NaN' : i === 12 ? 'inf' : String(i)))}\n`);
  const x = dataset.profile!.find((p) => p.name === 'x')!;
  assert.equal(x.nanLiterals, 1);
  assert.equal(x.infinities, 1);
  assert.equal(x.numericMin, 0);
  assert.equal(x.numericMax, 29);
  const hit = issues.find((i) => i.code === 'NON_FINITE')!;
  assert.deepEqual(hit.rows, [4, 12]);
  assert.deepEqual(res.findings.map((f) => f.index), [4, 12]);
});
