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
