// MemoryJobStore against the JobStore contract, on a hand-driven clock. Guards against one job
// leased to two workers, a lost lease that can still renew, complete or fail, a failed job that
// retries before its backoff or past maxAttempts, and stored rows that callers can mutate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryJobStore } from './memory-store.ts';
import { isJobsError } from './queue-suite.ts';

function clockedStore(): { store: MemoryJobStore; advance(ms: number): void } {
  let now = 1_000_000;
  return { store: new MemoryJobStore({ now: () => now }), advance: (ms) => { now += ms; } };
}

test('claim leases each job to one worker, oldest first, only for the asked kinds', async () => {
  const { store } = clockedStore();
  const a = await store.enqueue({ kind: 'scan', payload: { n: 1 } });
  const b = await store.enqueue({ kind: 'scan', payload: { n: 2 } });
  await store.enqueue({ kind: 'other', payload: null });
  const first = await store.claim(['scan'], 'w1', 1000, 1);
  const second = await store.claim(['scan'], 'w2', 1000, 5);
  assert.deepEqual(first.map((r) => r.id), [a.id]);
  assert.deepEqual(second.map((r) => r.id), [b.id]);
  assert.deepEqual(await store.claim(['scan'], 'w3', 1000, 5), []);
  assert.deepEqual([first[0]?.status, first[0]?.attempts, first[0]?.lockedBy], ['active', 1, 'w1']);
  assert.deepEqual(await store.counts(), { queued: 1, active: 2, done: 0, failed: 0 });
});

test('an expired lease is lost: no heartbeat or complete, and another worker reclaims the job', async () => {
  const { store, advance } = clockedStore();
  const { id } = await store.enqueue({ kind: 'scan', payload: {} });
  await store.claim(['scan'], 'w1', 1000, 1);
  advance(999);
  assert.equal(await store.heartbeat(id, 'w1', 1000), true);
  assert.equal(await store.heartbeat(id, 'w2', 1000), false, 'only the holder renews');
  advance(1000);
  assert.equal(await store.heartbeat(id, 'w1', 1000), false, 'lost once lockedUntil passed, even unclaimed');
  const [again] = await store.claim(['scan'], 'w2', 1000, 1);
  assert.deepEqual([again?.id, again?.attempts, again?.lockedBy], [id, 2, 'w2']);
  assert.equal(await store.complete(id, 'w1', 'stale'), false);
  assert.equal(await store.fail(id, 'w1', 'stale', 0), false);
  assert.equal(await store.complete(id, 'w2', { ok: true }), true);
  const done = await store.get(id);
  assert.deepEqual([done?.status, done?.result, done?.lockedBy, done?.lockedUntil], ['done', { ok: true }, null, null]);
  assert.equal(await store.complete(id, 'w2', 'twice'), false);
});

test('fail waits retryAfterMs before the job is claimable again, and fails it at maxAttempts', async () => {
  const { store, advance } = clockedStore();
  const { id } = await store.enqueue({ kind: 'scan', payload: {}, maxAttempts: 2 });
  await store.claim(['scan'], 'w1', 1000, 1);
  assert.equal(await store.fail(id, 'w1', 'boom 1', 500), true);
  assert.equal((await store.get(id))?.status, 'queued');
  advance(499);
  assert.deepEqual(await store.claim(['scan'], 'w1', 1000, 1), []);
  advance(1);
  assert.equal((await store.claim(['scan'], 'w2', 1000, 1)).length, 1);
  assert.equal(await store.fail(id, 'w2', 'boom 2', 500), true);
  const failed = await store.get(id);
  assert.deepEqual([failed?.status, failed?.attempts, failed?.lastError], ['failed', 2, 'boom 2']);
  advance(10_000);
  assert.deepEqual(await store.claim(['scan'], 'w3', 1000, 1), []);
});

test('a singletonKey returns the first job; rows are copies; bad input is refused', async () => {
  const { store } = clockedStore();
  const payload = { list: [1, 2] };
  const first = await store.enqueue({ kind: 'scan', payload, singletonKey: 'scan:b1' });
  const again = await store.enqueue({ kind: 'scan', payload: { other: true }, singletonKey: 'scan:b1' });
  assert.deepEqual(again, { id: first.id, created: false });
  payload.list.push(3);
  const row = await store.get(first.id);
  assert.deepEqual(row?.payload, { list: [1, 2] });
  (row?.payload as { list: number[] }).list.push(4);
  assert.deepEqual((await store.get(first.id))?.payload, { list: [1, 2] });
  assert.equal(await store.get('missing'), undefined);
  await assert.rejects(store.enqueue({ kind: '', payload: {} }), isJobsError('JOBS_BAD_INPUT'));
  await assert.rejects(store.enqueue({ kind: 'scan', payload: () => 1 }), isJobsError('JOBS_BAD_INPUT'));
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  await assert.rejects(store.enqueue({ kind: 'scan', payload: cyclic }), isJobsError('JOBS_BAD_INPUT'));
});
