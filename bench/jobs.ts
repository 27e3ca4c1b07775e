/**
 * BENCHMARK (not a test): jobs/s through each JobQueue and the latency from enqueue to handler
 * start, median of 3 runs (throughput) and of 20 jobs (latency). Needs PostgreSQL for two of the
 * three targets (TRAINGUARD_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test);
 * uses random schemas and drops them.
 *   npm run bench:jobs
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { MemoryJobStore, createPgBossQueue, createWorkerPool } from '../src/jobs/index.ts';
import type { JobQueue, JobStore } from '../src/jobs/index.ts';
import { openStore } from '../src/store/index.ts';

const URL = process.env.TRAINGUARD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONCURRENCY = 16;
const admin = new pg.Pool({ connectionString: URL, max: 4 });
const schemas: string[] = [];
const closers: (() => Promise<void>)[] = [];

interface Target {
  readonly name: string;
  readonly jobs: number;
  /** Two queues over one fresh storage: the worker and a second, separate enqueuer. */
  open(): Promise<[JobQueue, JobQueue]>;
}

function schema(prefix: string): string {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  schemas.push(name);
  return name;
}

function pooled(store: JobStore): JobQueue {
  return createWorkerPool({ store, pollMs: 250 });
}

const targets: Target[] = [
  { name: 'pool / MemoryJobStore', jobs: 20_000, async open() { const s = new MemoryJobStore(); return [pooled(s), pooled(s)]; } },
  {
    name: 'pool / store DbJobStore, PGlite', jobs: 3000,
    async open() {
      const store = await openStore({ kind: 'pglite' });
      closers.push(() => store.close());
      return [pooled(store.jobs), pooled(store.jobs)];
    },
  },
  {
    name: 'pool / store DbJobStore, PostgreSQL', jobs: 3000,
    async open() {
      const name = schema('tg_jobs_bench_pool');
      await admin.query(`CREATE SCHEMA ${name}`);
      const store = await openStore({ kind: 'postgres', url: URL, schema: name });
      closers.push(() => store.close());
      return [pooled(store.jobs), pooled(store.jobs)];
    },
  },
  {
    name: 'pg-boss', jobs: 3000,
    async open() {
      const name = schema('tg_jobs_bench_boss');
      const make = () => createPgBossQueue({ url: URL, schema: name, maxConnections: 8 });
      return [make(), make()];
    },
  },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Enqueue `jobs` with no worker running, then time a worker draining them. */
async function throughput(target: Target): Promise<{ enqueuePerS: number; drainPerS: number }> {
  const [worker, enqueuer] = await target.open();
  await enqueuer.start();
  const t0 = performance.now();
  for (let at = 0; at < target.jobs; at += 50) {
    await Promise.all(Array.from({ length: Math.min(50, target.jobs - at) }, (_, i) => enqueuer.enqueue('noop', { n: at + i })));
  }
  const t1 = performance.now();
  worker.work('noop', () => null, { concurrency: CONCURRENCY });
  await worker.start();
  await worker.idle({ timeoutMs: 300_000 });
  const t2 = performance.now();
  await Promise.all([worker.stop(), enqueuer.stop()]);
  return { enqueuePerS: (target.jobs / (t1 - t0)) * 1000, drainPerS: (target.jobs / (t2 - t1)) * 1000 };
}

/** Enqueue one job at a time into an idle worker; ms until its handler starts. */
async function latency(target: Target, sameQueue: boolean): Promise<number> {
  const [worker, other] = await target.open();
  let started: (at: number) => void = () => undefined;
  worker.work('ping', () => started(performance.now()), { concurrency: 1 });
  await worker.start();
  await other.start();
  const enqueuer = sameQueue ? worker : other;
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) {
    const begin = performance.now();
    const startedAt = new Promise<number>((resolve) => (started = resolve));
    await enqueuer.enqueue('ping', { i });
    samples.push((await startedAt) - begin);
    await worker.idle({ timeoutMs: 10_000 });
  }
  await Promise.all([worker.stop(), other.stop()]);
  return median(samples);
}

const fmt = (n: number): string => n.toFixed(n < 10 ? 1 : 0);
process.stdout.write(`jobs bench: no-op handlers, concurrency ${CONCURRENCY}, node ${process.version}\n`);
try {
  for (const target of targets) {
    const runs = [];
    for (let r = 0; r < 3; r++) runs.push(await throughput(target));
    const local = await latency(target, true);
    const remote = await latency(target, false);
    process.stdout.write(
      `${target.name.padEnd(38)} ${target.jobs} jobs | enqueue ${fmt(median(runs.map((x) => x.enqueuePerS)))}/s `
      + `| drain ${fmt(median(runs.map((x) => x.drainPerS)))} jobs/s (runs ${runs.map((x) => fmt(x.drainPerS)).join(', ')}) `
      + `| enqueue→start ${fmt(local)} ms same queue, ${fmt(remote)} ms other queue\n`,
    );
  }
} finally {
  for (const close of closers) await close();
  for (const name of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  await admin.end();
}
