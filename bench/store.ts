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

async function timeInserts(store: Store): Promise<number[]> {
  const { datasetId, sourceId } = await makeDataset(store);
  const times: number[] = [];
  for (let run = 0; run < RUNS + 1; run++) {
    const samples = makeSamples(SAMPLES, `bench-${run}-${randomBytes(4).toString('hex')}`);
    const t0 = performance.now();
    await store.batches.insertWithSamples(newBatch(datasetId, sourceId), samples);
    // The first run warms up the query plans and is not counted.
    if (run > 0) times.push(performance.now() - t0);
  }
  return times;
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
        const times = await timeInserts(store);
        print(`pglite   insert ${SAMPLES} samples: median ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}, n=${RUNS})`);
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
      const times = await timeInserts(store);
      print(`postgres insert ${SAMPLES} samples: median ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}, n=${RUNS})`);
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
