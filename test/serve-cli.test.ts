// Guards against: `trainguard serve` not standing up the service on a fresh home — the API not
// listening, tokens made with the CLI not working against it, a pushed batch not being stored and
// scanned by the in-process workers, or the process not stopping cleanly on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForOutput } from './fixtures/child-output.ts';
import { mailCsv } from './fixtures/service-world.ts';

const root = join(import.meta.dirname, '..');

test('trainguard serve: a fresh home, CLI-made tokens, push over HTTP, scanned by the workers, SIGTERM stops it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-serve-'));
  const env: NodeJS.ProcessEnv = { ...process.env, TRAINGUARD_HOME: join(dir, 'home'), NO_COLOR: '1' };
  delete env['TRAINGUARD_DATABASE_URL'];
  delete env['TRAINGUARD_TOKEN'];
  const cli = (args: string[]): string => {
    const r = spawnSync(process.execPath, [join(root, 'bin/trainguard.js'), ...args], { encoding: 'utf8', cwd: dir, env });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  cli(['user', 'add', 'alice', '--admin']);
  const token = cli(['token', 'create', '--name', 'api', '--as', 'alice']);

  const child = spawn(process.execPath, [join(root, 'bin/trainguard.js'), 'serve', '--port', '0'], { cwd: dir, env });
  t.after(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const url = (await waitForOutput(child, /listening on (http:\/\/\S+) /))[1] as string;
  const headers = { authorization: `Bearer ${token}` };
  const created = await fetch(`${url}/api/datasets`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'mail', name: 'Mail', labels: ['spam', 'ham'] }) });
  assert.equal(created.status, 201, await created.text());
  const pushed = await fetch(`${url}/api/datasets/mail/batches?source=crawl`, { method: 'POST', headers: { ...headers, 'content-type': 'text/csv', 'idempotency-key': 'u1' }, body: mailCsv(3) });
  assert.equal(pushed.status, 201, await pushed.text());
  let overview: { samples: { pending: number; accepted: number; quarantined: number } } | undefined;
  for (let i = 0; i < 240; i++) {
    overview = (await (await fetch(`${url}/api/datasets/mail`, { headers })).json()) as typeof overview;
    if (overview !== undefined && overview.samples.pending === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(overview?.samples.pending, 0, 'the workers scanned the batch');
  assert.equal((overview?.samples.accepted ?? 0) + (overview?.samples.quarantined ?? 0), 83);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
