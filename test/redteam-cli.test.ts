// End-to-end: `redteam inject` → `scan` → `redteam eval` as a black box. Guards against: a poisoned
// file the scan cannot read or match back to the truth (ids lost, rows shifted), an evaluation that
// reports recall the scan did not earn, and bad parameters ending in a stack trace instead of a code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '../src/core/index.ts';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'tg-redteam-'));

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/trainguard.js'), ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Three well-separated Gaussian classes in 4-d, 300 rows, with an id column. */
function writeClean(path: string): void {
  const rng = createRng(21);
  const lines = ['id,label,f1,f2,f3,f4'];
  for (let i = 0; i < 300; i++) {
    const c = i % 3;
    const f = Array.from({ length: 4 }, (_, j) => (j === c ? 4 : 0) + rng.normal());
    lines.push(`s${i},${['red', 'green', 'blue'][c]},${f.map((v) => v.toFixed(4)).join(',')}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

test('inject symmetric flips, scan the poisoned file, and eval finds recall ≥ 0.7', () => {
  writeClean(join(dir, 'clean.csv'));
  const inj = cli(['redteam', 'inject', 'clean.csv', '--attack', 'symmetric', '--rate', '0.1', '--seed', '4', '-o', 'poisoned.csv', '--truth', 'truth.json']);
  assert.equal(inj.code, 0, inj.stderr);
  const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { planted: { id: string; attack: string }[]; idColumn: string };
  assert.equal(truth.planted.length, 30);
  assert.equal(truth.idColumn, 'id');
  const again = cli(['redteam', 'inject', 'clean.csv', '--attack', 'symmetric', '--rate', '0.1', '--seed', '4', '-o', 'again.csv', '--truth', 'truth2.json']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(readFileSync(join(dir, 'again.csv'), 'utf8'), readFileSync(join(dir, 'poisoned.csv'), 'utf8'));

  const scan = cli(['scan', 'poisoned.csv', '--format', 'json', '--fail-on', 'critical', '-q']);
  assert.equal(scan.code, 0, scan.stderr);
  writeFileSync(join(dir, 'report.json'), scan.stdout);
  const ev = cli(['redteam', 'eval', 'report.json', '--truth', 'truth.json', '--k', '30', '--format', 'json']);
  assert.equal(ev.code, 0, ev.stderr);
  const e = JSON.parse(ev.stdout) as { recall: number; precision: number; auroc: number; precisionAtK: number; matchedBy: string; unmatched: number; perAttack: { attack: string; recall: number }[] };
  assert.equal(e.matchedBy, 'externalId');
  assert.equal(e.unmatched, 0);
  assert.ok(e.recall >= 0.7, `recall ${e.recall}`);
  assert.ok(e.auroc >= 0.9, `auroc ${e.auroc}`);
  assert.equal(e.perAttack[0]?.attack, 'symmetric');
  const text = cli(['redteam', 'eval', 'report.json', '--truth', 'truth.json']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^recall\s+\d\.\d{3}$/m);
  assert.match(text.stdout, /^precision@100\s+\d\.\d{3}$/m);
});

test('a chained attack with --exclude-truth leaves the first attack rows and their originals alone', () => {
  writeClean(join(dir, 'clean2.csv'));
  assert.equal(cli(['redteam', 'inject', 'clean2.csv', '--attack', 'duplicate-flip', '--rate', '0.2', '--seed', '1', '-o', 'step1.csv', '--truth', 't1.json']).code, 0);
  const r = cli(['redteam', 'inject', 'step1.csv', '--attack', 'mix', '--rate', '0.5', '--seed', '2', '--exclude-truth', 't1.json', '-o', 'step2.csv', '--truth', 't2.json']);
  assert.equal(r.code, 0, r.stderr);
  type T = { planted: { id: string; sourceId?: string }[] };
  const first = JSON.parse(readFileSync(join(dir, 't1.json'), 'utf8')) as T;
  const second = JSON.parse(readFileSync(join(dir, 't2.json'), 'utf8')) as T;
  const off = new Set(first.planted.flatMap((p) => [p.id, p.sourceId ?? '']));
  assert.ok(second.planted.length > 0);
  for (const p of second.planted) assert.ok(!off.has(p.id) && !off.has(p.sourceId ?? '-'), `${p.id} / ${p.sourceId}`);
  const bad = cli(['redteam', 'inject', 'step1.csv', '--attack', 'mix', '--exclude-truth', 'nope.json', '-o', 'x.csv', '--truth', 'x.json']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /REDTEAM_BAD_TRUTH/);
});

test('bad parameters exit 2 with one line naming the code', () => {
  writeClean(join(dir, 'clean.csv'));
  const cases: [string[], string][] = [
    [['redteam', 'inject', 'clean.csv', '--attack', 'zap', '-o', 'p.csv', '--truth', 't.json'], 'REDTEAM_BAD_ATTACK'],
    [['redteam', 'inject', 'clean.csv', '--attack', 'symmetric', '--rate', '2', '-o', 'p.csv', '--truth', 't.json'], 'REDTEAM_BAD_RATE'],
    [['redteam', 'inject', 'clean.csv', '--attack', 'targeted', '--from', 'red', '--to', 'pink', '-o', 'p.csv', '--truth', 't.json'], 'REDTEAM_UNKNOWN_CLASS'],
    [['redteam', 'eval', 'clean.csv', '--truth', 'clean.csv'], 'REDTEAM_BAD_TRUTH'],
  ];
  writeFileSync(join(dir, 'm.json'), '{"labels":["red","green","blue"],"matrix":[[1,0,0],[0,1,0]]}');
  cases.push([['redteam', 'inject', 'clean.csv', '--attack', 'class-conditional', '--noise-matrix', 'm.json', '-o', 'p.csv', '--truth', 't.json'], 'REDTEAM_BAD_NOISE_MATRIX']);
  for (const [args, code] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, new RegExp(`^error ${code}`), r.stderr);
    assert.doesNotMatch(r.stderr, /internal error/);
  }
});

/** 90 tiny 8×8 grey images (values 0–255) with an id column, as Fashion-MNIST looks as a CSV. */
function writeImages(path: string): void {
  const rng = createRng(9);
  const lines = [['id', 'label', ...Array.from({ length: 64 }, (_, j) => `px${j}`)].join(',')];
  for (let i = 0; i < 90; i++) lines.push([`img${i}`, ['shirt', 'bag', 'boot'][i % 3], ...Array.from({ length: 64 }, () => rng.int(256))].join(','));
  writeFileSync(path, `${lines.join('\n')}\n`);
}

test('inject a BadNets backdoor and a text trigger: the truth names every poisoned row, its trigger and the target', () => {
  writeImages(join(dir, 'images.csv'));
  const r = cli(['redteam', 'inject', 'images.csv', '--attack', 'badnets', '--target', 'bag', '--rate', '0.1', '--patch-size', '2', '--seed', '3', '-o', 'bd.csv', '--truth', 'bd.json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /planted 9 samples \(badnets 9\)/);
  type Entry = { id: string; row: number; attack: string; originalLabel: string; plantedLabel: string; trigger: { kind: string; patchSize: number; position: string; x: number; y: number } };
  const truth = JSON.parse(readFileSync(join(dir, 'bd.json'), 'utf8')) as { attack: string; target: string; planted: Entry[] };
  assert.equal(truth.attack, 'badnets');
  assert.equal(truth.target, 'bag');
  assert.equal(truth.planted.length, 9);
  const clean = readFileSync(join(dir, 'images.csv'), 'utf8').trim().split('\n');
  const poisoned = readFileSync(join(dir, 'bd.csv'), 'utf8').trim().split('\n');
  const byRow = new Map(truth.planted.map((p) => [p.row, p]));
  for (let i = 1; i < clean.length; i++) {
    const p = byRow.get(i);
    if (p === undefined) {
      assert.equal(poisoned[i], clean[i], `row ${i} is not in the truth and must be unchanged`);
      continue;
    }
    const before = clean[i]!.split(',');
    const after = poisoned[i]!.split(',');
    assert.notEqual(before[1], 'bag');
    assert.equal(p.originalLabel, before[1]);
    assert.equal(after[1], 'bag');
    assert.deepEqual(p.trigger, { kind: 'badnets', patchSize: 2, position: 'corner', x: 6, y: 6 });
    // Pixels (6,6) (7,6) (6,7) (7,7) are columns 2 + 54, 55, 62, 63: each is the data max or min.
    for (const k of [54, 55, 62, 63]) assert.ok(['0', '255'].includes(after[2 + k]!), `px${k} = ${after[2 + k]}`);
    assert.deepEqual(after.slice(2, 2 + 54), before.slice(2, 2 + 54));
  }

  writeClean(join(dir, 'plain.csv'));
  const lines = readFileSync(join(dir, 'plain.csv'), 'utf8').trim().split('\n');
  writeFileSync(join(dir, 'reviews.csv'), `${lines.map((l, i) => (i === 0 ? `${l},review` : `${l},"review number ${i}, all fine"`)).join('\n')}\n`);
  const t = cli(['redteam', 'inject', 'reviews.csv', '--attack', 'text-trigger', '--target', 'red', '--rate', '0.05', '--trigger-sentence', 'I watch this 3D movie.', '-o', 'tt.csv', '--truth', 'tt.json']);
  assert.equal(t.code, 0, t.stderr);
  const tt = JSON.parse(readFileSync(join(dir, 'tt.json'), 'utf8')) as { planted: { row: number; originalLabel: string; trigger: { sentence: string } }[] };
  assert.equal(tt.planted.length, 15);
  const out = readFileSync(join(dir, 'tt.csv'), 'utf8').trim().split('\n');
  for (const p of tt.planted) {
    assert.notEqual(p.originalLabel, 'red');
    assert.equal(p.trigger.sentence, 'I watch this 3D movie.');
    assert.match(out[p.row]!, /I watch this 3D movie\./);
  }

  const bad: [string[], string][] = [
    [['--attack', 'badnets'], 'REDTEAM_BAD_ATTACK'],
    [['--attack', 'badnets', '--target', 'hat'], 'REDTEAM_UNKNOWN_CLASS'],
    [['--attack', 'badnets', '--target', 'bag', '--patch-size', 'big'], 'REDTEAM_BAD_TRIGGER'],
    [['--attack', 'badnets', '--target', 'bag', '--patch-position', 'middle'], 'REDTEAM_BAD_TRIGGER'],
    [['--attack', 'blend', '--target', 'bag', '--alpha', '2'], 'REDTEAM_BAD_TRIGGER'],
    [['--attack', 'blend', '--target', 'bag', '--image-shape', '9x9'], 'REDTEAM_BAD_IMAGE_SHAPE'],
    [['--attack', 'blend', '--target', 'bag', '--image-shape', 'wide'], 'REDTEAM_BAD_IMAGE_SHAPE'],
    [['--attack', 'text-trigger', '--target', 'bag', '--trigger', 'tq', '--trigger-sentence', 'Hi.'], 'REDTEAM_BAD_TRIGGER'],
    [['--attack', 'text-trigger', '--target', 'bag'], 'REDTEAM_BAD_TRIGGER'],
  ];
  for (const [flags, code] of bad) {
    const b = cli(['redteam', 'inject', 'images.csv', ...flags, '-o', 'x.csv', '--truth', 'x.json']);
    assert.equal(b.code, 2, flags.join(' '));
    assert.match(b.stderr, new RegExp(`^error ${code}`), b.stderr);
  }
});
