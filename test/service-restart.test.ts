// Guards against: a `trainguard serve` killed without warning (SIGKILL: no shutdown, no flush)
// losing or doubling work. Killed once in the middle of concurrent uploads and once while scan jobs
// run, then restarted on the same home, the service must end with exactly the uploads the client
// made (each acknowledged once, retries with the same Idempotency-Key completing the cut-off ones),
// every batch with all its samples, its vault object decrypting to the uploaded bytes, its log
// entry provably in the signed log, and each batch scanned exactly once: one scan, one completed
// job, findings not doubled, one scan log entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openHome, proveEntry, verifyReceiptFile } from '../src/app/index.ts';
import { resolveConfig } from '../src/config/index.ts';
import { openLog } from '../src/ledger/index.ts';
import { openStore } from '../src/store/index.ts';
import { waitForOutput } from './fixtures/child-output.ts';

const root = join(import.meta.dirname, '..');
const DATASET = 'mail';
const UPLOADS = 6;

/** Upload i: 40 clean mails of its own, and in every third upload 4 spam texts relabelled ham (the scans quarantine those). */
function uploadCsv(i: number): string {
  const rows = ['id,label,text'];
  for (let r = 0; r < 20; r++) rows.push(`${i}-${r},spam,buy cheap pills now limited offer ${i} number ${r}`);
  for (let r = 20; r < 40; r++) rows.push(`${i}-${r},ham,meeting notes for the project review ${i} number ${r}`);
  if (i % 3 === 0) for (let r = 0; r < 4; r++) rows.push(`${i}-c${r},ham,buy cheap pills now limited offer ${i} number ${r}`);
  return `${rows.join('\n')}\n`;
}
const rowsOf = (i: number): number => (i % 3 === 0 ? 44 : 40);
const sha256 = (b: string | Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface Serve {
  readonly child: ChildProcess;
  readonly url: string;
}

test('serve killed mid-ingest and mid-scan: retried uploads complete, nothing is lost or doubled, every batch is stored, decryptable, logged and scanned once', { timeout: 150_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-restart-'));
  const home = join(dir, 'home');
  const env: NodeJS.ProcessEnv = { ...process.env, TRAINGUARD_HOME: home, NO_COLOR: '1' };
  for (const k of ['TRAINGUARD_DATABASE_URL', 'TRAINGUARD_DATABASE_SCHEMA', 'TRAINGUARD_TOKEN']) delete env[k];
  const children: ChildProcess[] = [];
  t.after(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const cli = (args: string[]): string => {
    const r = spawnSync(process.execPath, [join(root, 'bin/trainguard.js'), ...args], { encoding: 'utf8', cwd: dir, env });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  const serve = async (): Promise<Serve> => {
    const child = spawn(process.execPath, [join(root, 'bin/trainguard.js'), 'serve', '--port', '0'], { cwd: dir, env });
    children.push(child);
    const url = (await waitForOutput(child, /listening on (http:\/\/\S+) /, 60_000))[1] as string;
    return { child, url };
  };
  const kill = async (s: Serve, signal: NodeJS.Signals): Promise<void> => {
    const exited = new Promise<void>((resolve) => s.child.once('exit', () => resolve()));
    s.child.kill(signal);
    await exited;
  };

  const t0 = Date.now();
  const mark = (what: string): void => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  cli(['user', 'add', 'admin', '--admin']);
  const adminToken = cli(['token', 'create', '--name', 'api', '--as', 'admin']);
  cli(['user', 'add', 'carol', '--as', 'admin']);
  cli(['grant', 'carol', 'contributor', '--dataset', DATASET, '--as', 'admin']);
  const pushToken = cli(['token', 'create', '--name', 'push', '--for', 'carol', '--as', 'admin']);

  // What the client knows: which uploads were acknowledged, and as which batch.
  const acknowledged = new Map<number, string>();
  // A held upload sends half its body and waits: the kill is sure to cut it off (the others race it).
  const holds: (() => void)[] = [];
  const heldBody = (text: string): ReadableStream<Uint8Array> => {
    const bytes = new TextEncoder().encode(text);
    let sent = false;
    return new ReadableStream({
      async pull(controller) {
        if (!sent) {
          sent = true;
          controller.enqueue(bytes.subarray(0, bytes.length >> 1));
          return;
        }
        await new Promise<void>((resolve) => holds.push(resolve));
        controller.error(new Error('cut off by the test'));
      },
    });
  };
  const push = async (url: string, i: number, held = false): Promise<{ status: number; batchId?: string; replayed?: boolean }> => {
    const r = await fetch(`${url}/api/datasets/${DATASET}/batches?source=crawl`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pushToken}`, 'content-type': 'text/csv', 'idempotency-key': `upload-${i}` },
      ...(held ? { body: heldBody(uploadCsv(i)), duplex: 'half' } as RequestInit : { body: uploadCsv(i) }),
    });
    const body = (await r.json()) as { batch?: { id: string }; replayed?: boolean };
    if (r.status === 200 || r.status === 201) acknowledged.set(i, body.batch?.id as string);
    return { status: r.status, ...(body.batch === undefined ? {} : { batchId: body.batch.id, replayed: body.replayed === true }) };
  };
  const batchStatuses = async (url: string): Promise<string[]> => {
    const r = await fetch(`${url}/api/datasets/${DATASET}`, { headers: { authorization: `Bearer ${adminToken}` } });
    return ((await r.json()) as { batches: { status: string }[] }).batches.map((b) => b.status);
  };
  const until = async (what: string, ok: () => boolean | Promise<boolean>, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  mark('home ready');
  // 1. Every upload at once; SIGKILL as soon as two are acknowledged, with the rest in flight: the
  //    last two are held half-sent, the others may be anywhere between parsed and committed.
  let server = await serve();
  const created = await fetch(`${server.url}/api/datasets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: DATASET, name: 'Mail', labels: ['spam', 'ham'] }),
  });
  assert.equal(created.status, 201, await created.text());
  const first = Array.from({ length: UPLOADS }, (_, i) => push(server.url, i, i >= UPLOADS - 2).catch(() => ({ status: 0 })));
  await until('two acknowledged uploads', () => acknowledged.size >= 2, 30_000);
  await kill(server, 'SIGKILL');
  for (const release of holds) release();
  await Promise.all(first);
  const cutOff = Array.from({ length: UPLOADS }, (_, i) => i).filter((i) => !acknowledged.has(i));
  assert.ok(cutOff.length > 0, 'the kill cut off some uploads');
  mark(`killed during ingest: ${acknowledged.size} acknowledged, ${cutOff.length} cut off`);

  // 2. Restart on the same home; the client retries the cut-off uploads with their keys. An upload
  //    that was stored before the kill is replayed, the others are stored now.
  server = await serve();
  const retried = await Promise.all(cutOff.map((i) => push(server.url, i)));
  for (const r of retried) assert.ok(r.status === 200 || r.status === 201, `retry answered ${r.status}`);
  assert.equal(acknowledged.size, UPLOADS);
  mark(`restarted; retried ${cutOff.length}: ${retried.filter((r) => r.replayed === true).length} had been stored before the kill`);
  const again = await push(server.url, 0);
  assert.deepEqual([again.status, again.replayed, again.batchId], [200, true, acknowledged.get(0)], 'an acknowledged upload sent again is a replay');

  // 3. SIGKILL while a scan job runs (one batch scanned, one being scanned, others waiting), then
  //    restart. The killed job runs again once its lease (30 s) runs out.
  await until('a scan running after one finished', async () => {
    const statuses = await batchStatuses(server.url);
    return statuses.includes('scanning') && statuses.includes('scanned');
  }, 30_000);
  const midScan = await batchStatuses(server.url);
  await kill(server, 'SIGKILL');
  assert.ok(midScan.some((s) => s !== 'scanned'), 'the kill came before every batch was scanned');
  mark(`killed during a scan: ${midScan.filter((s) => s === 'scanned').length} of ${midScan.length} batches scanned`);
  server = await serve();
  await until('every batch scanned', async () => {
    const statuses = await batchStatuses(server.url);
    return statuses.length === UPLOADS && statuses.every((s) => s === 'scanned');
  }, 90_000);
  mark('every batch scanned');
  // A job the kill caught after its scan committed is taken back at start-up and settles too.
  await until('no scan job queued or running', async () => {
    const { jobs } = (await (await fetch(`${server.url}/api/health`)).json()) as { jobs: { queued: number; active: number } };
    return jobs.queued === 0 && jobs.active === 0;
  }, 60_000);
  await kill(server, 'SIGTERM');

  // The database: exactly the acknowledged batches, each with all its samples, scanned once by one completed job.
  const batchIds = new Map([...acknowledged].map(([i, id]) => [id, i]));
  const store = await openStore({ kind: 'pglite', dataDir: join(home, 'db') });
  let batches: { id: string; sample_count: number; blob_sha256: string; log_index: number | null; samples: number }[];
  let scans: { batch_id: string; log_index: number | null; quarantined: number }[];
  let jobs: { batch_id: string; status: string; attempts: number }[];
  let doubled: number;
  try {
    batches = (await sql<typeof batches[number]>`
      select b.id, b.sample_count, b.blob_sha256, b.log_index, (select count(*)::int from samples s where s.batch_id = b.id) as samples
      from batches b where b.dataset_id = ${DATASET}`.execute(store.db)).rows;
    scans = (await sql<typeof scans[number]>`select batch_id, log_index, (stats->>'quarantined')::int as quarantined from scans`.execute(store.db)).rows;
    jobs = (await sql<typeof jobs[number]>`select payload->>'batchId' as batch_id, status, attempts from jobs where kind = 'scan-batch'`.execute(store.db)).rows;
    doubled = (await sql<{ n: number }>`
      select count(*)::int as n from (select 1 from findings group by scan_id, sample_id, detector, code having count(*) > 1) d`.execute(store.db)).rows[0]?.n ?? -1;
  } finally {
    await store.close();
  }
  assert.deepEqual(batches.map((b) => b.id).sort(), [...batchIds.keys()].sort(), 'the stored batches are exactly the acknowledged ones');
  for (const b of batches) {
    const rows = rowsOf(batchIds.get(b.id) as number);
    assert.deepEqual([b.sample_count, b.samples], [rows, rows], `batch ${b.id} has all its samples`);
  }
  assert.deepEqual(scans.map((s) => s.batch_id).sort(), [...batchIds.keys()].sort(), 'one scan per batch');
  assert.deepEqual(jobs.map((j) => j.batch_id).sort(), [...batchIds.keys()].sort(), 'one scan job per batch');
  assert.ok(jobs.every((j) => j.status === 'done'), `every scan job completed: ${JSON.stringify(jobs)}`);
  assert.ok(jobs.some((j) => j.attempts >= 2), 'the scan job the kill interrupted ran again');
  assert.equal(doubled, 0, 'no finding recorded twice');
  for (const [id, i] of batchIds) {
    if (i % 3 === 0) assert.ok((scans.find((s) => s.batch_id === id)?.quarantined ?? 0) > 0, `the planted conflicts of upload ${i} are quarantined`);
  }

  // The vault and the log: each batch decrypts to the uploaded bytes; its entry and its scan's are in the signed log, once.
  const opened = await openHome(resolveConfig({ cwd: dir, env: {}, flags: { home: { dir: home } } }));
  const vkey = readFileSync(opened.logVkeyPath, 'utf8');
  for (const b of batches) {
    const i = batchIds.get(b.id) as number;
    const bytes = await opened.vault.getBytes(b.blob_sha256, { context: { dataset: DATASET, kind: 'batch' } });
    assert.equal(sha256(bytes), sha256(uploadCsv(i)), `batch ${b.id} decrypts to upload ${i}`);
    const receipt = await verifyReceiptFile(await proveEntry(opened.ledgerDir, b.log_index as number), vkey);
    assert.equal(receipt.entry?.kind, 'batch');
    assert.deepEqual([(receipt.entry?.body as { batch: string }).batch, (receipt.entry?.body as { sampleCount: number }).sampleCount], [b.id, rowsOf(i)]);
    const scan = scans.find((s) => s.batch_id === b.id);
    const scanReceipt = await verifyReceiptFile(await proveEntry(opened.ledgerDir, scan?.log_index as number), vkey);
    assert.deepEqual([scanReceipt.entry?.kind, (scanReceipt.entry?.body as { batch: string }).batch], ['scan', b.id]);
  }
  const log = await openLog(opened.ledgerDir, { readOnly: true });
  const kinds: string[] = [];
  try {
    for (let n = 0; n < log.size; n++) kinds.push(/^trainguard\/v1\/([a-z-]+)\n/.exec(Buffer.from(await log.readEntry(n)).toString('utf8'))?.[1] ?? '');
  } finally {
    await log.close();
  }
  assert.deepEqual([kinds.filter((k) => k === 'batch').length, kinds.filter((k) => k === 'scan').length], [UPLOADS, UPLOADS], 'one batch and one scan entry per batch in the log');
});
