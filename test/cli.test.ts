// End-to-end: the CLI as a black box. Guards against: planted label flips not being found through
// the real read → featurize → cross-validate → detect path, non-reproducible scans, wrong exit
// codes, and hostile input producing a stack trace instead of one line with a code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createRng } from '../src/core/index.ts';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'tg-cli-'));

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/trainguard.js'), ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Three Gaussian classes in 6-d with a categorical column; every 25th row gets a wrong label. */
function writeTabular(path: string): Set<string> {
  const rng = createRng(11);
  const planted = new Set<string>();
  const lines = ['id,label,f1,f2,f3,f4,f5,f6,colour'];
  for (let i = 0; i < 450; i++) {
    const c = i % 3;
    const f = Array.from({ length: 6 }, (_, j) => (j % 3 === c ? 3 : 0) + rng.normal());
    let label = ['cat', 'dog', 'fox'][c]!;
    if (i % 25 === 7) {
      label = ['cat', 'dog', 'fox'][(c + 1) % 3]!;
      planted.add(`r${i}`);
    }
    lines.push(`r${i},${label},${f.map((v) => v.toFixed(4)).join(',')},${rng.next() < 0.5 ? 'red' : 'blue'}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return planted;
}

interface JsonReport {
  schema: string;
  version: number;
  input: { rows: number; sha256: string };
  summary: { flagged: number; noiseMatrix: { joint: number[][] } };
  samples: { externalId: string; flagged: boolean; score: number; label: string; suggestedLabel: string | null; detectors: string[] }[];
  findings: { evidence: { knn: { neighbours: unknown[] } | null; givenLabel: string } }[];
}

test('scan finds planted flips in a CSV and writes a versioned JSON report', () => {
  const csv = join(dir, 'animals.csv');
  const planted = writeTabular(csv);
  const r = cli(['scan', csv, '--format', 'json', '--fail-on', 'critical', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as JsonReport;
  assert.equal(report.schema, 'trainguard/scan-report');
  assert.equal(report.version, 1);
  assert.equal(report.input.rows, 450);
  assert.match(report.input.sha256, /^[0-9a-f]{64}$/);
  // Label flips are label-issues' to catch; the default outliers detector also flags the blobs' fringe (low).
  const flagged = report.samples.filter((s) => s.detectors.includes('label-issues')).map((s) => s.externalId);
  const caught = flagged.filter((id) => planted.has(id)).length;
  assert.ok(caught / planted.size >= 0.8, `recall ${caught}/${planted.size}`);
  assert.ok(caught / flagged.length >= 0.7, `precision ${caught}/${flagged.length}`);
  const joint = report.summary.noiseMatrix.joint.flat().reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(joint - 1) < 1e-3);
  assert.ok(report.findings.length > 0 && (report.findings[0]?.evidence.knn?.neighbours.length ?? 0) > 0);
});

test('same seed, same scores; exit 1 when findings reach --fail-on', () => {
  const csv = join(dir, 'animals.csv');
  const a = cli(['scan', csv, '--format', 'csv', '--seed', '3', '--fail-on', 'low', '-q']);
  const b = cli(['scan', csv, '--format', 'csv', '--seed', '3', '--fail-on', 'low', '-q']);
  assert.equal(a.code, 1);
  assert.equal(a.stdout, b.stdout);
  assert.equal(a.stdout.split('\r\n')[0], 'id,externalId,score,flagged,label,suggestedLabel,detectors');
  assert.equal(a.stdout.trim().split('\r\n').length, 451);
});

test('text terminal summary and HTML report', () => {
  const csv = join(dir, 'animals.csv');
  const t = cli(['scan', csv, '--fail-on', 'critical', '-q']);
  assert.equal(t.code, 0);
  assert.match(t.stdout, /Rows\s+450 read/);
  const out = join(dir, 'report.html');
  const h = cli(['scan', csv, '--format', 'html', '--out', out, '--fail-on', 'critical', '-q']);
  assert.equal(h.code, 0, h.stderr);
  const html = readFileSync(out, 'utf8');
  assert.match(html, /^<!doctype html>/i);
  assert.doesNotMatch(html, /https?:\/\//);
});

test('text in JSONL: a spam-like corpus with flipped labels', () => {
  const rng = createRng(5);
  const spamWords = ['winner', 'free', 'prize', 'claim', 'offer', 'cash', 'urgent', 'credit'];
  const hamWords = ['meeting', 'project', 'lunch', 'report', 'schedule', 'review', 'team', 'notes'];
  const lines: string[] = [];
  const planted = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const spam = i % 2 === 0;
    const words = Array.from({ length: 12 }, () => (spam ? spamWords : hamWords)[rng.int(8)]!);
    let label = spam ? 'spam' : 'ham';
    // Flips in both directions (i ≡ 3 or 8 mod 20 hits both parities).
    if (i % 20 === 3 || i % 20 === 8) {
      label = spam ? 'ham' : 'spam';
      planted.add(`m${i}`);
    }
    lines.push(JSON.stringify({ id: `m${i}`, label, text: `${words.join(' ')} ${rng.int(1000)}` }));
  }
  const path = join(dir, 'mail.jsonl');
  writeFileSync(path, `${lines.join('\n')}\n`);
  const r = cli(['scan', path, '--format', 'json', '--fail-on', 'critical', '-q']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as JsonReport;
  // Label flips are label-issues' to catch; the default outliers detector also flags the blobs' fringe (low).
  const flagged = report.samples.filter((s) => s.detectors.includes('label-issues')).map((s) => s.externalId);
  const caught = flagged.filter((id) => planted.has(id)).length;
  assert.ok(caught / planted.size >= 0.8, `recall ${caught}/${planted.size}`);
  assert.ok(caught / flagged.length >= 0.7, `precision ${caught}/${flagged.length}`);
});

test('image folder: one subfolder per class', async () => {
  const imgs = join(dir, 'images');
  for (const [c, value] of [['dark', 30], ['light', 220]] as const) {
    mkdirSync(join(imgs, c), { recursive: true });
    for (let i = 0; i < 30; i++) {
      // A planted flip: a light image filed under "dark".
      const v = c === 'dark' && i === 0 ? 225 : value + (i % 7);
      await sharp(Buffer.alloc(8 * 8, v), { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(join(imgs, c, `${i}.png`));
    }
  }
  const r = cli(['scan', imgs, '--format', 'json', '--fail-on', 'critical', '-q']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as JsonReport;
  const flagged = report.samples.filter((s) => s.flagged);
  assert.ok(flagged.some((s) => s.label === 'dark' && s.suggestedLabel === 'light'), JSON.stringify(flagged));
});

test('hostile input: one line with a code and a hint, exit 2, no stack', () => {
  const cases: [string, string, RegExp][] = [
    ['empty.csv', '', /DATA_EMPTY/],
    ['quote.csv', 'label,x\na,"unclosed\nb,2\n', /DATA_MALFORMED_CSV/],
    ['nolabel.csv', 'foo,bar\n1,2\n3,4\n', /DATA_NO_LABEL_COLUMN/],
  ];
  for (const [name, body, code] of cases) {
    const path = join(dir, name);
    writeFileSync(path, body);
    const r = cli(['scan', path, '-q']);
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.match(r.stderr, code);
    assert.match(r.stderr, /hint:/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${name} printed a stack`);
  }
  const bad = join(dir, 'bad-utf8.csv');
  writeFileSync(bad, Buffer.concat([Buffer.from('label,text\na,ok\nb,'), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]));
  const u = cli(['scan', bad, '-q']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /DATA_INVALID_UTF8 .*bad-utf8\.csv:3/);
  const missing = cli(['scan', join(dir, 'nope.csv'), '-q']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /DATA_FILE_NOT_FOUND/);
});

test('bad flags are usage errors (exit 2)', () => {
  assert.equal(cli(['scan', join(dir, 'animals.csv'), '--format', 'pdf']).code, 2);
  assert.equal(cli(['scan', join(dir, 'animals.csv'), '--folds', 'many']).code, 2);
  assert.equal(cli(['scan', join(dir, 'animals.csv'), '--filter-by', 'nonsense']).code, 2);
  assert.equal(cli(['frobnicate']).code, 2);
  assert.equal(cli(['--version']).code, 0);
});
