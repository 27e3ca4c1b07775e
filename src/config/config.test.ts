// Guards against: flags losing to the config file or environment, silently accepted unknown or
// out-of-range keys, and a config file that is not JSON crashing with a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, ConfigError, DEFAULTS } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'tg-config-'));

test('defaults when nothing is given', () => {
  const c = resolveConfig({ cwd: dir, env: {} });
  assert.equal(c.scan.folds, DEFAULTS.scan.folds);
  assert.equal(c.scan.filterBy, 'auto');
  assert.deepEqual(c.columns, {});
});

test('file < env < flags', () => {
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ scan: { seed: 1, folds: 3, k: 7 } }));
  const c = resolveConfig({ cwd: dir, file, env: { TRAINGUARD_SEED: '2', TRAINGUARD_FOLDS: '4' }, flags: { scan: { seed: 3 } } });
  assert.equal(c.scan.seed, 3);
  assert.equal(c.scan.folds, 4);
  assert.equal(c.scan.k, 7);
});

test('unknown keys and bad values are refused with a code', () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ scan: { folds: 1 } }));
  assert.throws(() => resolveConfig({ cwd: dir, file: bad, env: {} }), (e: unknown) => e instanceof ConfigError && e.code === 'CONFIG_INVALID');
  writeFileSync(bad, JSON.stringify({ scna: {} }));
  assert.throws(() => resolveConfig({ cwd: dir, file: bad, env: {} }), (e: unknown) => e instanceof ConfigError && e.code === 'CONFIG_INVALID');
  writeFileSync(bad, '{ not json');
  assert.throws(() => resolveConfig({ cwd: dir, file: bad, env: {} }), (e: unknown) => e instanceof ConfigError && e.code === 'CONFIG_BAD_JSON');
  assert.throws(() => resolveConfig({ cwd: dir, file: join(dir, 'missing.json'), env: {} }), (e: unknown) => e instanceof ConfigError && e.code === 'CONFIG_NOT_FOUND');
  assert.throws(() => resolveConfig({ cwd: dir, env: { TRAINGUARD_K: 'ten' } }), (e: unknown) => e instanceof ConfigError && e.code === 'CONFIG_INVALID');
});

test('config file in the working directory is picked up', () => {
  const d = mkdtempSync(join(tmpdir(), 'tg-config-cwd-'));
  writeFileSync(join(d, 'trainguard.config.json'), JSON.stringify({ columns: { label: 'y' } }));
  assert.equal(resolveConfig({ cwd: d, env: {} }).columns.label, 'y');
});
