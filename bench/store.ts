// Store benchmark (not a test; never gates CI): PGlite open time, and a 1,000-sample batch
// insert (batch row + samples via unnest, one transaction) on PGlite and PostgreSQL.
//   npm run bench:store -- [postgres-url]
// The PostgreSQL run uses a fresh schema `tg_bench_<random>` and drops it afterwards.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { makeDataset, makeSamples, newBatch } from '../src/store/store-suite.ts';
import { openStore } from '../src/store/index.ts';
import type { Store } from '../src/store/index.ts';

const RUNS = 20;
const OPENS = 5;
const SAMPLES = 1000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * Batches of SAMPLES samples, all new (`overlap` 0) or with the first `overlap` of them already
 * stored by the batch before (a contributor pushing overlapping data: the duplicates path).
 */
async function timeInserts(store: Store, overlap = 0): Promise<number[]> {
  const { datasetId, sourceId } = await makeDataset(store);
  const times: number[] = [];
  let previous = makeSamples(SAMPLES, `bench-warm-${randomBytes(4).toString('hex')}`);
  await store.batches.insertWithSamples(newBatch(datasetId, sourceId), previous);
  for (let run = 0; run < RUNS + 1; run++) {
    const fresh = makeSamples(SAMPLES, `bench-${run}-${randomBytes(4).toString('hex')}`);
    const samples = [...previous.slice(0, overlap), ...fresh.slice(overlap)].map((x, rowIndex) => ({ ...x, rowIndex }));
    const t0 = performance.now();
    const res = await store.batches.insertWithSamples(newBatch(datasetId, sourceId), samples);
    // The first run warms up the query plans and is not counted.
    if (run > 0) times.push(performance.now() - t0);
    if (res.duplicates !== overlap) throw new Error(`expected ${overlap} duplicates, the store counted ${res.duplicates}`);
    previous = samples;
  }
  return times;
}

async function printInserts(name: string, store: Store): Promise<void> {
  for (const overlap of [0, SAMPLES / 2]) {
    const times = await timeInserts(store, overlap);
    const what = overlap === 0 ? 'all new' : `${overlap} already stored`;
    print(`${name} insert ${SAMPLES} samples, ${what}: median ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}, n=${RUNS})`);
  }
}

async function benchPglite(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tg-store-bench-'));
  try {
    const opens: number[] = [];
    for (let i = 0; i < OPENS; i++) {
      const t0 = performance.now();
      const store = await openStore({ kind: 'pglite', dataDir: join(dir, 'db') });
      opens.push(performance.now() - t0);
      if (i < OPENS - 1) await store.close();
      else {
        await printInserts('pglite  ', store);
        await store.close();
      }
    }
    print(`pglite   open (dataDir; first run creates + migrates): first ${opens[0]!.toFixed(0)} ms, reopen median ${median(opens.slice(1)).toFixed(0)} ms (n=${OPENS - 1})`);
    const memory: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const store = await openStore({ kind: 'pglite' });
      memory.push(performance.now() - t0);
      await store.close();
    }
    print(`pglite   open in memory + migrate: median ${median(memory).toFixed(0)} ms (n=3)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchPostgres(url: string): Promise<void> {
  const schema = `tg_bench_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`create schema ${schema}`);
  try {
    const store = await openStore({ kind: 'postgres', url, schema });
    try {
      await printInserts('postgres', store);
    } finally {
      await store.close();
    }
  } finally {
    await client.query(`drop schema ${schema} cascade`);
    await client.end();
  }
}

await benchPglite();
const url = process.argv[2] ?? process.env.TRAINGUARD_DATABASE_URL;
if (url === undefined) print('postgres skipped: pass a postgres:// URL or set TRAINGUARD_DATABASE_URL');
else await benchPostgres(url);
