// Guards against: the service's scans (run in a child process, off the event loop) losing the
// scan's result or its error code on the way back, or a scan that is no longer wanted (lost lease,
// shutdown) running on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanFileInChild } from '../src/app/scan-process.ts';
import { resolveConfig } from '../src/config/index.ts';
import { mailCsv } from './fixtures/service-world.ts';

test('a scan in a child process returns the report, or the scan error with its code; an abort stops it', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-scanchild-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = resolveConfig({ cwd: dir, env: {}, flags: {} });
  const path = join(dir, 'mail.csv');
  writeFileSync(path, mailCsv(3));
  const report = await scanFileInChild(path, config);
  assert.equal(report.samples.length, mailCsv(3).trim().split('\n').length - 1);
  assert.ok(report.findings.some((f) => f.code.length > 0), 'the planted conflicts are found');

  await assert.rejects(scanFileInChild(join(dir, 'missing.csv'), config), (err: unknown) => {
    const e = err as { code?: string; message?: string };
    return e.code === 'SERVICE_SCAN_FAILED' && /DATA_/.test(e.message ?? '');
  });

  const controller = new AbortController();
  const started = Date.now();
  const aborted = scanFileInChild(path, config, controller.signal);
  setTimeout(() => controller.abort(), 200);
  await assert.rejects(aborted, (err: unknown) => (err as Error).name === 'AbortError');
  assert.ok(Date.now() - started < 5000, 'the child is killed, not waited for');
});
