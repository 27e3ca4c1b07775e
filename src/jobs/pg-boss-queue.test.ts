// The JobQueue behaviour suite on pg-boss 10 and PostgreSQL (a fresh random schema per test,
// dropped afterwards), plus what only this backend has: a database that cannot be reached.
// Guards against pg-boss's settle calls racing a newer lease (our fenced SQL), singleton ids that
// differ between processes, and connection errors that leak the password or hang.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPgBossQueue } from './pg-boss-queue.ts';
import { PG_URL, dropSchemas, pgSkipReason, randomSchema } from './pg-test-support.ts';
import { isJobsError, runQueueSuite } from './queue-suite.ts';

const skip = await pgSkipReason();
const schemas: string[] = [];
after(() => dropSchemas(schemas));

runQueueSuite({
  name: 'pg-boss on PostgreSQL',
  ...(skip === undefined ? {} : { skip }),
  shortLeaseMs: 1000,
  // retryDelaySeconds 1 with backoff: retry n waits between 2^(n-1) and 2^n seconds.
  minRetryDelayMs: (n) => 1000 * 2 ** (n - 1),
  async open(options = {}) {
    const schema = randomSchema('tg_jobs_suite');
    schemas.push(schema);
    const make = () => createPgBossQueue({
      url: PG_URL,
      schema,
      leaseSeconds: options.shortLease === true ? 1 : 60,
      retryDelaySeconds: 1,
      maintenanceIntervalSeconds: 1,
      maxConnections: 4,
      ...(options.kinds === undefined ? {} : { kinds: options.kinds }),
    });
    return { queue: make(), again: make };
  },
});

test('pg-boss: an unreachable PostgreSQL is JOBS_UNAVAILABLE naming host:port, never the password', async () => {
  const queue = createPgBossQueue({ url: 'postgres://trainguard:s3cret-pw@127.0.0.1:1/test', schema: randomSchema('tg_jobs_none') });
  await assert.rejects(queue.start(), (err: unknown) => {
    isJobsError('JOBS_UNAVAILABLE')(err);
    const message = (err as Error).message;
    assert.match(message, /127\.0\.0\.1:1/);
    assert.doesNotMatch(message, /s3cret-pw/);
    return true;
  });
});

test('pg-boss: options are checked before any connection', () => {
  assert.throws(() => createPgBossQueue({ url: PG_URL, schema: 'Bad-Schema' }), isJobsError('JOBS_BAD_INPUT'));
  assert.throws(() => createPgBossQueue({ url: PG_URL, pollingIntervalSeconds: 0.1 }), isJobsError('JOBS_BAD_INPUT'));
  assert.throws(() => createPgBossQueue({ url: PG_URL, leaseSeconds: 0.5 }), isJobsError('JOBS_BAD_INPUT'));
  assert.throws(() => createPgBossQueue({ url: 'not a url' }), isJobsError('JOBS_BAD_INPUT'));
});
