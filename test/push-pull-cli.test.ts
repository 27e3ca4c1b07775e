// Guards against: on PostgreSQL, scans not reaching pg-boss or not being run by a separate
// `trainguard worker` (the server running them itself with --workers 0); `trainguard push` storing
// a retried push twice or not waiting for its scan; `trainguard pull` keeping a snapshot it did not
// verify, or writing where a hostile server's file names point.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { waitForOutput } from './fixtures/child-output.ts';
import { mailCsv } from './fixtures/service-world.ts';

const root = join(import.meta.dirname, '..');
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

async function postgresUp(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

test('PostgreSQL + pg-boss: serve without workers, a trainguard worker scans; push (idempotent, --wait) and pull (verified)', { timeout: 240_000 }, async (t) => {
  if (!(await postgresUp())) {
    if (process.env['CI'] !== undefined) assert.fail(`PostgreSQL is not reachable at ${PG_URL}`);
    t.skip(`PostgreSQL is not reachable at ${PG_URL}`);
    return;
  }
  const schema = `tg_pp_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const dir = mkdtempSync(join(tmpdir(), 'tg-pushpull-'));
  const env: NodeJS.ProcessEnv = { ...process.env, TRAINGUARD_HOME: join(dir, 'home'), TRAINGUARD_DATABASE_URL: PG_URL, TRAINGUARD_DATABASE_SCHEMA: schema, NO_COLOR: '1' };
  delete env['TRAINGUARD_TOKEN'];
  const children: ChildProcessWithoutNullStreams[] = [];
  t.after(async () => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await admin.query(`drop schema ${schema} cascade`);
    await admin.query(`drop schema if exists ${schema}_pgboss cascade`);
    await admin.end();
  });
  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, [join(root, 'bin/trainguard.js'), ...args], { encoding: 'utf8', cwd: dir, env: { ...env, ...extra } });
  const ok = (args: string[], extra: NodeJS.ProcessEnv = {}): string => {
    const r = cli(args, extra);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  ok(['user', 'add', 'alice', '--admin']);
  const token = ok(['token', 'create', '--name', 'api', '--as', 'alice']);
  const run = (args: string[]): ChildProcessWithoutNullStreams => {
    const c = spawn(process.execPath, [join(root, 'bin/trainguard.js'), ...args], { cwd: dir, env });
    children.push(c);
    return c;
  };

  const server = run(['serve', '--port', '0', '--workers', '0']);
  const url = (await waitForOutput(server, /listening on (http:\/\/\S+) \(home .*database postgres/))[1] as string;
  const headers = { authorization: `Bearer ${token}` };
  const created = await fetch(`${url}/api/datasets`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'mail', name: 'Mail', labels: ['spam', 'ham'] }) });
  assert.equal(created.status, 201);
  const remote = { TRAINGUARD_TOKEN: token, TRAINGUARD_URL: url };

  writeFileSync(join(dir, 'first.csv'), mailCsv(3));
  const first = JSON.parse(ok(['push', 'first.csv', '--dataset', 'mail', '--source', 'crawl', '--json'], remote)) as { batch: { id: string }; replayed: boolean };
  assert.equal(first.replayed, false);
  const again = JSON.parse(ok(['push', 'first.csv', '--dataset', 'mail', '--source', 'crawl', '--json'], remote)) as { batch: { id: string }; replayed: boolean };
  assert.deepEqual([again.replayed, again.batch.id], [true, first.batch.id], 'pushing the same file again stores nothing new');
  await new Promise((r) => setTimeout(r, 2500));
  const pending = (await (await fetch(`${url}/api/datasets/mail`, { headers })).json()) as { batches: { status: string }[] };
  assert.equal(pending.batches[0]?.status, 'received', 'with --workers 0 the server scans nothing itself');

  const worker = run(['worker']);
  await waitForOutput(worker, /worker running scan jobs/);
  writeFileSync(join(dir, 'second.csv'), mailCsv(0).replaceAll('number', 'item'));
  // Asynchronously: the worker's and the server's output pipes must keep draining while push waits.
  const waited = await promisify(execFile)(process.execPath, [join(root, 'bin/trainguard.js'), 'push', 'second.csv', '--dataset', 'mail', '--source', 'partner', '--wait', '--json'], { cwd: dir, env: { ...env, ...remote } });
  const second = JSON.parse(waited.stdout) as { scan: { status: string } };
  assert.equal(second.scan.status, 'scanned', 'the worker ran the scan from pg-boss');
  let batches: { status: string }[] = [];
  for (let i = 0; i < 60 && !(batches.length === 2 && batches.every((b) => b.status === 'scanned')); i++) {
    batches = ((await (await fetch(`${url}/api/datasets/mail`, { headers })).json()) as { batches: { status: string }[] }).batches;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.deepEqual(batches.map((b) => b.status), ['scanned', 'scanned']);
  const jobs = await admin.query(`select count(*)::int as n from ${schema}_pgboss.job where name = 'scan-batch'`).catch(() => admin.query(`select count(*)::int as n from ${schema}_pgboss.archive where name = 'scan-batch'`));
  assert.ok((jobs.rows[0] as { n: number }).n >= 1, 'the scans went through pg-boss');

  const release = await fetch(`${url}/api/datasets/mail/snapshots`, { method: 'POST', headers });
  const releaseBody = await release.text();
  assert.equal(release.status, 201, releaseBody);
  const { snapshotId } = JSON.parse(releaseBody) as { snapshotId: string };
  const pulled = JSON.parse(ok(['pull', snapshotId, '--out', 'pulled', '--vkey', join(dir, 'home', 'log.vkey'), '--json'], remote)) as { dataFile: string; sampleCount: number };
  assert.ok(existsSync(join(dir, pulled.dataFile)));
  assert.ok(pulled.sampleCount > 0);
  ok(['verify', 'pulled/snapshot', '--vkey', join(dir, 'home', 'log.vkey'), '--data', pulled.dataFile]);

  // A hostile server naming a file outside the output folder: refused, nothing kept.
  const hostile = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/api/log/key') res.end(JSON.stringify({ vkey: 'x' }));
    else res.end(JSON.stringify({ snapshot: { datasetId: 'mail', sampleCount: 1 }, dataFile: { name: '../../escape.csv', sha256: '0'.repeat(64) }, files: { 'statement.json': 'e30=' } }));
  });
  await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', () => r()));
  t.after(() => hostile.close());
  const port = (hostile.address() as { port: number }).port;
  // Asynchronously: the hostile server runs on this process's event loop, which spawnSync would block.
  const refused = await promisify(execFile)(process.execPath, [join(root, 'bin/trainguard.js'), 'pull', 'snap_x', '--out', 'evil'], { cwd: dir, env: { ...env, ...remote, TRAINGUARD_URL: `http://127.0.0.1:${port}` } })
    .then(() => ({ code: 0, stderr: '' }), (err: { code?: number; stderr?: string }) => ({ code: err.code ?? -1, stderr: err.stderr ?? '' }));
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /CLI_REMOTE/);
  assert.ok(!existsSync(join(dir, 'evil')) && !readdirSync(join(dir, '..')).includes('escape.csv'));
});
