// The JobQueue behaviour suite on the default implementation: the in-process worker pool over the
// in-memory JobStore (and, below, over a PostgreSQL JobStore). Guards the pool's own share of the contract: leases held by heartbeats,
// fencing by a per-claim worker id, backoff, graceful and abrupt stops (see queue-suite.ts).
import { after } from 'node:test';
import pg from 'pg';
import { createPgJobStore, installPgJobStore } from '../../test/fixtures/jobs-pg-store.ts';
import { MemoryJobStore } from './memory-store.ts';
import { createWorkerPool } from './pool.ts';
import { PG_URL, dropSchemas, pgSkipReason, randomSchema } from './pg-test-support.ts';
import { runQueueSuite } from './queue-suite.ts';

const SHORT_LEASE_MS = 300;
const RETRY_BASE_MS = 40;

runQueueSuite({
  name: 'pool over MemoryJobStore',
  shortLeaseMs: SHORT_LEASE_MS,
  minRetryDelayMs: (n) => RETRY_BASE_MS * 2 ** (n - 1),
  async open(options = {}) {
    const store = new MemoryJobStore();
    const make = () => createWorkerPool({
      store,
      leaseMs: options.shortLease === true ? SHORT_LEASE_MS : 10_000,
      pollMs: 20,
      retryBaseMs: RETRY_BASE_MS,
      ...(options.kinds === undefined ? {} : { kinds: options.kinds }),
    });
    return { queue: make(), again: make };
  },
});

// The same suite over a durable PostgreSQL JobStore (test fixture), where two pools really race.
const skipPg = await pgSkipReason();
const schemas: string[] = [];
const pgPools: pg.Pool[] = [];
after(async () => {
  await Promise.all(pgPools.map((p) => p.end()));
  await dropSchemas(schemas);
});

runQueueSuite({
  name: 'pool over a PostgreSQL JobStore',
  ...(skipPg === undefined ? {} : { skip: skipPg }),
  shortLeaseMs: SHORT_LEASE_MS,
  minRetryDelayMs: (n) => RETRY_BASE_MS * 2 ** (n - 1),
  async open(options = {}) {
    const schema = randomSchema('tg_jobs_pool');
    schemas.push(schema);
    const db = new pg.Pool({ connectionString: PG_URL, max: 4 });
    pgPools.push(db);
    await installPgJobStore(db, schema);
    const store = createPgJobStore(db, schema);
    const make = () => createWorkerPool({
      store,
      leaseMs: options.shortLease === true ? SHORT_LEASE_MS : 10_000,
      pollMs: 20,
      retryBaseMs: RETRY_BASE_MS,
      ...(options.kinds === undefined ? {} : { kinds: options.kinds }),
    });
    return { queue: make(), again: make };
  },
});
