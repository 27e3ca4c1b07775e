// Crash test: a worker process is SIGKILLed mid-run and another takes over. Guards against a job
// that is lost (left active forever, or never retried), a job whose effect lands twice, and a job
// that a dead worker's lease keeps from ever finishing. Runs on pg-boss and on the in-process
// pool over a PostgreSQL JobStore (test/fixtures/jobs-pg-store.ts).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createPgJobStore, installPgJobStore } from '../../test/fixtures/jobs-pg-store.ts';
import { createPgBossQueue } from './pg-boss-queue.ts';
import { createWorkerPool } from './pool.ts';
import { PG_URL, dropSchemas, pgSkipReason, randomSchema, withClient } from './pg-test-support.ts';
import type { JobQueue } from './types.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const WORKER = join(ROOT, 'test', 'fixtures', 'jobs-crash-worker.ts');
const JOBS = 120;
const HANG = 30;

const skip = await pgSkipReason();
const schemas: string[] = [];
const pools: pg.Pool[] = [];
after(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await dropSchemas(schemas);
});

type Backend = 'pg-boss' | 'pool';

interface Worker {
  readonly exited: Promise<number | null>;
  kill(): void;
  output(): string;
}

function startWorker(backend: Backend, schema: string, results: string, mode: 'run' | 'drain'): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    cwd: ROOT,
    env: { ...process.env, JOBS_BACKEND: backend, JOBS_URL: PG_URL, JOBS_SCHEMA: schema, JOBS_RESULTS: results, JOBS_HANG: String(HANG), JOBS_MODE: mode },
  });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (text += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { exited, kill: () => child.kill('SIGKILL'), output: () => text };
}

/** Polls until `ready` holds (the child works at its own pace; this is a wait, not a timing assumption). */
async function waitUntil(what: string, ready: () => Promise<boolean>, worker: Worker): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await ready())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; worker said:\n${worker.output()}`);
    await sleep(25);
  }
}

async function openQueue(backend: Backend, schema: string): Promise<JobQueue> {
  // pg-boss stores the lease (expireIn) with each job when it is enqueued, so the enqueuer sets it.
  if (backend === 'pg-boss') return createPgBossQueue({ url: PG_URL, schema, leaseSeconds: 2, maxConnections: 2 });
  const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
  pools.push(pool);
  await installPgJobStore(pool, schema);
  return createWorkerPool({ store: createPgJobStore(pool, schema) });
}

interface Setup {
  readonly backend: Backend;
  readonly queue: JobQueue;
  readonly schema: string;
  readonly results: string;
  readonly db: pg.Pool;
}

for (const backend of ['pg-boss', 'pool'] as const) {
  test(`${backend}: SIGKILL a worker mid-run; the next worker finishes every job, each effect written once`, { timeout: 90_000, ...(skip === undefined ? {} : { skip }) }, async () => {
    const schema = randomSchema('tg_jobs_crash');
    const results = randomSchema('tg_jobs_results');
    schemas.push(schema, results);
    await withClient(async (client) => {
      await client.query(`CREATE SCHEMA ${results}`);
      await client.query(`CREATE TABLE ${results}.results (job_id text PRIMARY KEY, n int NOT NULL, attempt int NOT NULL)`);
      await client.query(`CREATE TABLE ${results}.writes (job_id text NOT NULL)`);
      await client.query(`CREATE TABLE ${results}.started (job_id text NOT NULL, n int NOT NULL, attempt int NOT NULL)`);
    });
    const db = new pg.Pool({ connectionString: PG_URL, max: 2 });
    pools.push(db);
    const queue = await openQueue(backend, schema);
    await queue.start();
    try {
      await crashAndRecover({ backend, queue, schema, results, db });
    } finally {
      await queue.stop();
    }
  });
}

async function crashAndRecover({ backend, queue, schema, results, db }: Setup): Promise<void> {
  const count = async (sql: string): Promise<number> => Number((await db.query(sql)).rows[0].n);
  const ids: string[] = [];
  for (let n = 0; n < JOBS; n++) ids.push((await queue.enqueue('crash', { n }, { maxAttempts: 3 })).id);

  const first = startWorker(backend, schema, results, 'run');
  after(() => first.kill());
  await waitUntil('a third of the jobs and the hanging one', async () =>
    (await count(`SELECT count(*) AS n FROM ${results}.results`)) >= JOBS / 3
    && (await count(`SELECT count(*) AS n FROM ${results}.started WHERE n = ${HANG}`)) >= 1, first);
  first.kill();
  await first.exited;
  const atKill = await queue.counts();
  assert.ok(atKill.active >= 1, `the killed worker held leases: ${JSON.stringify(atKill)}`);
  assert.ok(atKill.done < JOBS, 'killed before the end');

  const second = startWorker(backend, schema, results, 'drain');
  after(() => second.kill());
  assert.equal(await second.exited, 0, second.output());

  const rows = (await db.query(`SELECT job_id FROM ${results}.results`)).rows.map((r) => String(r.job_id));
  assert.equal(rows.length, JOBS, 'one result row per job');
  assert.deepEqual(new Set(rows), new Set(ids), 'every enqueued job, and nothing else');
  assert.deepEqual(await queue.counts(), { queued: 0, active: 0, done: JOBS, failed: 0 });
  const hung = await queue.get(ids[HANG]!);
  assert.deepEqual([hung?.status, hung?.attempts, hung?.result], ['done', 2, { n: HANG }]);
  const writes = await count(`SELECT count(*) AS n FROM ${results}.writes`);
  assert.ok(writes >= JOBS, `${writes} effect writes for ${JOBS} jobs`);
}
