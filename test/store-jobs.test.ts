// Guards against: the embedded default not holding together — the in-process worker pool over the
// PGlite job store (src/store's DbJobStore, not a test double) losing, repeating or mis-recording
// jobs, or a job that keeps failing never reaching `failed`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../src/store/index.ts';
import { createWorkerPool } from '../src/jobs/index.ts';

test('the worker pool runs every job once over the PGlite job store; a failing job retries then fails', async () => {
  const store = await openStore({ kind: 'pglite' });
  const queue = createWorkerPool({ store: store.jobs, pollMs: 20, retryBaseMs: 10, retryMaxMs: 20 });
  try {
    const runs = new Map<string, number>();
    queue.work('square', async ({ id, payload }) => {
      runs.set(id, (runs.get(id) ?? 0) + 1);
      const n = (payload as { n: number }).n;
      return { square: n * n };
    }, { concurrency: 4 });
    queue.work('broken', async () => {
      throw new Error('always fails');
    }, { concurrency: 1 });
    await queue.start();
    const ids = await Promise.all(Array.from({ length: 30 }, (_, n) => queue.enqueue('square', { n }, { singletonKey: `square:${n}` })));
    const again = await queue.enqueue('square', { n: 3 }, { singletonKey: 'square:3' });
    assert.equal(again.created, false);
    assert.equal(again.id, ids[3]!.id);
    const broken = await queue.enqueue('broken', {}, { maxAttempts: 2 });
    await queue.idle({ timeoutMs: 30_000 });
    for (const [n, { id }] of ids.entries()) {
      const job = await store.jobs.get(id);
      assert.equal(job?.status, 'done');
      assert.deepEqual(job?.result, { square: n * n });
      assert.equal(runs.get(id), 1, `job ${n} ran once`);
    }
    const failed = await store.jobs.get(broken.id);
    assert.equal(failed?.status, 'failed');
    assert.equal(failed?.attempts, 2);
    assert.match(failed?.lastError ?? '', /always fails/);
    assert.deepEqual(await store.jobs.counts(), { queued: 0, active: 0, done: 30, failed: 1 });
  } finally {
    await queue.stop({ graceful: true });
    await store.close();
  }
});
