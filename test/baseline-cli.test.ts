// End-to-end: `baseline create` then `scan --baseline`. Guards against: a drifted feature not
// reaching the report, a batch from the trusted distribution raising drift, and a damaged
// baseline file crashing instead of failing with a code (exit 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '../src/core/index.ts';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'tg-baseline-'));

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/trainguard.js'), ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function writeBatch(path: string, n: number, seed: number, shift: number): void {
  const rng = createRng(seed);
  const lines = ['id,label,x1,x2,colour'];
  for (let i = 0; i < n; i++) {
    const c = rng.int(2);
    lines.push(`s${seed}-${i},${c === 0 ? 'a' : 'b'},${(rng.normal() + 2 * c + shift).toFixed(4)},${(rng.normal() - c).toFixed(4)},${rng.next() < 0.5 ? 'red' : 'blue'}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

interface DriftSummary {
  drifted: string[];
}

test('a shifted feature is reported as drift; a same-distribution batch is not', () => {
  writeBatch(join(dir, 'trusted.csv'), 1500, 1, 0);
  writeBatch(join(dir, 'same.csv'), 400, 2, 0);
  writeBatch(join(dir, 'shifted.csv'), 400, 3, 1);
  const made = cli(['baseline', 'create', 'trusted.csv', '-o', 'baseline.json']);
  assert.equal(made.code, 0, made.stderr);
  assert.equal((JSON.parse(readFileSync(join(dir, 'baseline.json'), 'utf8')) as { schema: string }).schema, 'trainguard/baseline');
  const drifted = (file: string): string[] => {
    const r = cli(['scan', file, '--baseline', 'baseline.json', '--format', 'json', '--fail-on', 'critical', '-q']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { summary: { detectors: Record<string, DriftSummary> } };
    const drift = report.summary.detectors['drift'];
    assert.ok(drift !== undefined, 'no drift summary');
    return drift.drifted;
  };
  assert.deepEqual(drifted('same.csv'), []);
  assert.deepEqual(drifted('shifted.csv'), ['x1']);
});

test('a damaged baseline is a typed error, exit 2, no stack', () => {
  writeFileSync(join(dir, 'bad.json'), '{"schema":"trainguard/baseline","version":99}');
  writeBatch(join(dir, 'b.csv'), 100, 4, 0);
  for (const bad of ['bad.json', 'missing.json']) {
    const r = cli(['scan', 'b.csv', '--baseline', bad, '-q']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /error [A-Z_]+/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

const TOPICS: Record<string, string[]> = {
  a: ['goal', 'match', 'team', 'score', 'league', 'coach', 'season', 'player', 'stadium', 'referee'],
  b: ['stock', 'market', 'price', 'bank', 'trade', 'profit', 'share', 'fund', 'rate', 'investor'],
  c: ['rain', 'cloud', 'storm', 'wind', 'forecast', 'snow', 'heat', 'sunny', 'humid', 'thunder'],
};
const COMMON = ['the', 'a', 'of', 'and', 'in', 'today', 'new', 'report', 'said', 'after'];

/** Short texts: each row mixes words of its label's topic with common words; `topic` overrides the words' topic. */
function writeTextBatch(path: string, n: number, seed: number, opts: { flip?: number; topic?: string } = {}): void {
  const rng = createRng(seed);
  const lines = ['id,label,body'];
  for (let i = 0; i < n; i++) {
    const label = rng.int(2) === 0 ? 'a' : 'b';
    const words = TOPICS[opts.topic ?? label]!;
    const body = Array.from({ length: 12 }, () => (rng.next() < 0.5 ? words[rng.int(words.length)] : COMMON[rng.int(COMMON.length)])).join(' ');
    const given = i < (opts.flip ?? 0) ? (label === 'a' ? 'b' : 'a') : label;
    lines.push(`t${seed}-${i},${given},${body}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

interface TextDriftReport {
  summary: { detectors: Record<string, { drifted: string[]; multivariate: { score: number } | null }> };
  findings: { index: number; detector: string; code: string }[];
}

test('text batches: trusted-neighbour label checks and the domain classifier', () => {
  writeTextBatch(join(dir, 'text-trusted.csv'), 1200, 11);
  const made = cli(['baseline', 'create', 'text-trusted.csv', '--text', 'body', '-o', 'text-baseline.json']);
  assert.equal(made.code, 0, made.stderr);
  const scan = (file: string): TextDriftReport => {
    const r = cli(['scan', file, '--text', 'body', '--baseline', 'text-baseline.json', '--format', 'json', '--fail-on', 'critical', '-q']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as TextDriftReport;
  };
  for (const seed of [12, 13]) {
    writeTextBatch(join(dir, `text-same-${seed}.csv`), 200, seed);
    const report = scan(`text-same-${seed}.csv`);
    assert.deepEqual(report.summary.detectors['drift']?.drifted, [], `seed ${seed}`);
    const mismatches = report.findings.filter((f) => f.code === 'DRIFT_TRUSTED_LABEL_MISMATCH').length;
    assert.ok(mismatches <= 4, `seed ${seed}: ${mismatches} clean rows flagged`);
  }
  // First 20 rows carry the other label: their trusted neighbours say so.
  writeTextBatch(join(dir, 'text-flipped.csv'), 200, 14, { flip: 20 });
  const flagged = scan('text-flipped.csv').findings.filter((f) => f.code === 'DRIFT_TRUSTED_LABEL_MISMATCH').map((f) => f.index);
  const hits = flagged.filter((i) => i < 20).length;
  assert.ok(hits >= 16 && flagged.length - hits <= 4, `flagged ${JSON.stringify(flagged)}`);
  // Every row about the weather: a topic the trusted data never had.
  writeTextBatch(join(dir, 'text-shifted.csv'), 200, 15, { topic: 'c' });
  const shifted = scan('text-shifted.csv').summary.detectors['drift'];
  assert.ok(shifted?.drifted.includes('body'), JSON.stringify(shifted?.drifted));
  assert.ok((shifted?.multivariate?.score ?? 0) > 0.9);
});
