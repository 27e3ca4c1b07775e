/**
 * TEST SUPPORT ONLY (not exported from index.ts): the JobQueue behaviour suite, run against the
 * in-process pool over MemoryJobStore (pool.test.ts) and pg-boss on PostgreSQL
 * (pg-boss-queue.test.ts). Guards against a queue that loses or double-runs jobs, exceeds its
 * concurrency, retries without backoff or forever, runs a singleton twice, drops running work on a
 * graceful stop, or lets a worker whose lease ran out overwrite the result of the newer run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobsError } from './errors.ts';
import type { JobsErrorCode } from './errors.ts';
import type { JobQueue } from './types.ts';

export interface OpenOptions {
  /** Open with the target's short lease (`shortLeaseMs`) instead of a comfortable one. */
  readonly shortLease?: boolean;
  readonly kinds?: readonly string[];
}

export interface Opened {
  /** Not started yet. */
  readonly queue: JobQueue;
  /** Another, unstarted queue over the same storage (a restart, or a second worker). */
  again(): JobQueue;
}

export interface SuiteTarget {
  /** Prefix of every test name. */
  readonly name: string;
  /** Set when the target cannot run here; every test is then skipped with this message. */
  readonly skip?: string;
  /** Queues over fresh, empty storage. The suite stops every queue it opens. */
  open(options?: OpenOptions): Promise<Opened>;
  /** The least wait before retry n (n = 1 after the first failure), in ms. */
  minRetryDelayMs(n: number): number;
  readonly shortLeaseMs: number;
}

/** Fails the test unless `err` is a JobsError with this code. */
export function isJobsError(code: JobsErrorCode): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof JobsError, `expected a JobsError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Blocks this thread as a stalled process would (GC pause, CPU hog): no timer, no heartbeat runs. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const IDLE = { timeoutMs: 30_000 };

export function runQueueSuite(target: SuiteTarget): void {
  const opened: JobQueue[] = [];
  const options = target.skip === undefined ? { timeout: 60_000 } : { skip: target.skip };

  /** Opens and remembers queues, so a failing test still stops them (and their timers and pools). */
  async function open(openOptions: OpenOptions = {}): Promise<Opened> {
    const inner = await target.open(openOptions);
    opened.push(inner.queue);
    return {
      queue: inner.queue,
      again: () => {
        const queue = inner.again();
        opened.push(queue);
        return queue;
      },
    };
  }

  function suiteTest(name: string, body: () => Promise<void>): void {
    test(`${target.name}: ${name}`, options, async () => {
      try {
        await body();
      } finally {
        await Promise.all(opened.splice(0).map((q) => q.stop({ graceful: false })));
      }
    });
  }

  suiteTest('every job runs once and its result is recorded', async () => {
    const { queue } = await open();
    const runs = new Map<string, number>();
    queue.work('double', ({ id, payload, attempt }) => {
      runs.set(id, (runs.get(id) ?? 0) + 1);
      return { twice: (payload as { n: number }).n * 2, attempt };
    }, { concurrency: 4 });
    await queue.start();
    const ids: string[] = [];
    for (let n = 0; n < 40; n++) ids.push((await queue.enqueue('double', { n })).id);
    assert.equal(new Set(ids).size, 40);
    await queue.idle(IDLE);
    for (const [n, id] of ids.entries()) {
      const info = await queue.get(id);
      assert.ok(info !== undefined);
      assert.deepEqual(
        { status: info.status, kind: info.kind, payload: info.payload, result: info.result, attempts: info.attempts, lastError: info.lastError },
        { status: 'done', kind: 'double', payload: { n }, result: { twice: 2 * n, attempt: 1 }, attempts: 1, lastError: null },
      );
      assert.equal(runs.get(id), 1);
    }
    assert.deepEqual(await queue.counts(), { queued: 0, active: 0, done: 40, failed: 0 });
  });

  suiteTest('concurrency is a per-kind limit and is reached, never exceeded', async () => {
    const { queue } = await open();
    const peaks = { wide: 0, narrow: 0 };
    const running = { wide: 0, narrow: 0 };
    for (const [kind, concurrency] of [['wide', 3], ['narrow', 1]] as const) {
      queue.work(kind, async () => {
        running[kind] += 1;
        peaks[kind] = Math.max(peaks[kind], running[kind]);
        await sleep(25);
        running[kind] -= 1;
      }, { concurrency });
    }
    await queue.start();
    for (let i = 0; i < 12; i++) {
      await queue.enqueue('wide', { i });
      await queue.enqueue('narrow', { i });
    }
    await queue.idle(IDLE);
    assert.deepEqual(peaks, { wide: 3, narrow: 1 });
  });

  suiteTest('a failing job is retried with growing backoff, then marked failed', async () => {
    const { queue } = await open();
    const starts = new Map<string, number[]>();
    queue.work('flaky', ({ id, payload, attempt }) => {
      starts.set(id, [...(starts.get(id) ?? []), Date.now()]);
      if (attempt <= (payload as { failUntil: number }).failUntil) throw new Error(`boom on attempt ${attempt}`);
      return 'recovered';
    }, { concurrency: 2 });
    await queue.start();
    const doomed = await queue.enqueue('flaky', { failUntil: 99 }, { maxAttempts: 3 });
    const healed = await queue.enqueue('flaky', { failUntil: 1 }, { maxAttempts: 3 });
    await queue.idle(IDLE);

    const lost = await queue.get(doomed.id);
    assert.equal(lost?.status, 'failed');
    assert.equal(lost.attempts, 3);
    assert.equal(lost.result, null);
    assert.match(lost.lastError ?? '', /boom on attempt 3/);
    const times = starts.get(doomed.id) ?? [];
    assert.equal(times.length, 3, 'no run after the last attempt');
    for (let n = 1; n < times.length; n++) {
      // 50 ms of slack: pg-boss schedules on the database clock.
      assert.ok(times[n]! - times[n - 1]! >= target.minRetryDelayMs(n) - 50, `retry ${n} came after ${times[n]! - times[n - 1]!} ms`);
    }
    const fixed = await queue.get(healed.id);
    assert.deepEqual([fixed?.status, fixed?.attempts, fixed?.result], ['done', 2, 'recovered']);
    assert.match(fixed?.lastError ?? '', /boom on attempt 1/, 'the last failure stays visible');
  });

  suiteTest('a singletonKey names one job, across queues and after it is done', async () => {
    const { queue, again } = await open();
    const other = again();
    let runs = 0;
    queue.work('single', () => ++runs, { concurrency: 2 });
    await queue.start();
    await other.start();
    const first = await queue.enqueue('single', { v: 1 }, { singletonKey: 'single:a' });
    const repeat = await other.enqueue('single', { v: 2 }, { singletonKey: 'single:a' });
    const distinct = await queue.enqueue('single', { v: 3 }, { singletonKey: 'single:b' });
    assert.deepEqual([first.created, repeat.created, distinct.created], [true, false, true]);
    assert.equal(repeat.id, first.id);
    assert.notEqual(distinct.id, first.id);
    const raced = await Promise.all([queue.enqueue('single', {}, { singletonKey: 'single:c' }), other.enqueue('single', {}, { singletonKey: 'single:c' })]);
    assert.equal(raced.filter((r) => r.created).length, 1);
    assert.equal(raced[0].id, raced[1].id);
    await queue.idle(IDLE);
    const after = await queue.enqueue('single', { v: 4 }, { singletonKey: 'single:a' });
    assert.deepEqual(after, { id: first.id, created: false });
    await queue.idle(IDLE);
    assert.equal(runs, 3);
    assert.deepEqual((await queue.get(first.id))?.payload, { v: 1 });
  });

  suiteTest('a graceful stop waits for running handlers and records their results', async () => {
    const { queue, again } = await open();
    const started = deferred();
    const order: string[] = [];
    queue.work('hold', async () => {
      started.resolve();
      await sleep(150);
      order.push('handler done');
      return 'finished';
    }, { concurrency: 1 });
    await queue.start();
    const { id } = await queue.enqueue('hold', {});
    await started.promise;
    await queue.stop({ graceful: true });
    order.push('stopped');
    assert.deepEqual(order, ['handler done', 'stopped']);
    await assert.rejects(queue.enqueue('hold', {}), isJobsError('JOBS_STOPPED'));
    await assert.rejects(queue.start(), isJobsError('JOBS_STOPPED'));
    const reader = again();
    await reader.start();
    const info = await reader.get(id);
    assert.deepEqual([info?.status, info?.result, info?.attempts], ['done', 'finished', 1]);
  });

  suiteTest('a stop without grace aborts handlers, and the job runs again once its lease expires', async () => {
    const { queue, again } = await open({ shortLease: true });
    const started = deferred();
    let reason: unknown;
    queue.work('long', ({ signal }) => new Promise((_resolve, reject) => {
      started.resolve();
      signal.addEventListener('abort', () => {
        reason = signal.reason;
        reject(signal.reason as Error);
      });
    }), { concurrency: 1 });
    await queue.start();
    const { id } = await queue.enqueue('long', {}, { maxAttempts: 3 });
    await started.promise;
    await queue.stop({ graceful: false });
    assert.ok(reason instanceof JobsError && reason.code === 'JOBS_STOPPED');

    const next = again();
    next.work('long', ({ attempt }) => `attempt ${attempt}`, { concurrency: 1 });
    await next.start();
    assert.equal((await next.get(id))?.status, 'active', 'the stopped worker still holds the lease');
    await next.idle(IDLE);
    const info = await next.get(id);
    assert.deepEqual([info?.status, info?.result, info?.attempts], ['done', 'attempt 2', 2]);
  });

  suiteTest('a handler whose lease ran out cannot complete: the newer run\'s result stands', async () => {
    const { queue } = await open({ shortLease: true });
    const secondDone = deferred();
    let firstSignal: AbortSignal | undefined;
    queue.work('stall', async ({ attempt, signal }) => {
      if (attempt > 1) {
        secondDone.resolve();
        return 'fresh';
      }
      firstSignal = signal;
      stall(target.shortLeaseMs * 1.5 + 200);
      await Promise.race([secondDone.promise, sleep(20_000, undefined, { ref: false })]);
      return 'stale';
    }, { concurrency: 2 });
    await queue.start();
    const { id } = await queue.enqueue('stall', {}, { maxAttempts: 3 });
    await queue.idle(IDLE);
    const info = await queue.get(id);
    assert.deepEqual([info?.status, info?.result, info?.attempts], ['done', 'fresh', 2]);
    assert.ok(firstSignal?.aborted, 'the stale handler was told through its signal');
    assert.ok(firstSignal.reason instanceof JobsError && firstSignal.reason.code === 'JOBS_LEASE_LOST');
  });

  suiteTest('results written once: effects keyed by job id survive a retry without doubling', async () => {
    const { queue } = await open();
    const results = new Map<string, number>();
    let writes = 0;
    /** The pattern of docs/jobs.md: insert keyed by job id, do nothing when the key exists. */
    const writeOnce = (jobId: string, value: number): void => {
      writes += 1;
      if (!results.has(jobId)) results.set(jobId, value);
    };
    queue.work('effect', ({ id, payload, attempt }) => {
      writeOnce(id, (payload as { n: number }).n);
      if (attempt === 1) throw new Error('died after the effect, before complete');
      return 'ok';
    }, { concurrency: 3 });
    await queue.start();
    const ids = await Promise.all([0, 1, 2, 3, 4].map(async (n) => (await queue.enqueue('effect', { n }, { maxAttempts: 2 })).id));
    await queue.idle(IDLE);
    assert.equal(writes, 10, 'every job ran its effect twice');
    assert.deepEqual(ids.map((id) => results.get(id)), [0, 1, 2, 3, 4]);
    assert.equal(results.size, 5);
    for (const id of ids) assert.equal((await queue.get(id))?.status, 'done');
  });

  suiteTest('bad input, unknown kinds, stopped and unstarted queues are typed errors', async () => {
    const { queue } = await open({ kinds: ['known', 'orphan', 'weird'] });
    await assert.rejects(queue.enqueue('known', {}), isJobsError('JOBS_NOT_STARTED'));
    await assert.rejects(queue.counts(), isJobsError('JOBS_NOT_STARTED'));
    assert.throws(() => queue.work('nope', () => null, { concurrency: 1 }), isJobsError('JOBS_UNKNOWN_KIND'));
    assert.throws(() => queue.work('known', () => null, { concurrency: 0 }), isJobsError('JOBS_BAD_INPUT'));
    queue.work('known', () => null, { concurrency: 1 });
    assert.throws(() => queue.work('known', () => null, { concurrency: 1 }), isJobsError('JOBS_BAD_INPUT'));
    queue.work('weird', () => new Map(), { concurrency: 1 });
    await queue.start();
    await assert.rejects(queue.enqueue('nope', {}), isJobsError('JOBS_UNKNOWN_KIND'));
    await assert.rejects(queue.enqueue('has space', {}), isJobsError('JOBS_BAD_INPUT'));
    await assert.rejects(queue.enqueue('known', { when: new Date(0) }), isJobsError('JOBS_BAD_INPUT'));
    await assert.rejects(queue.enqueue('known', { n: 1n }), isJobsError('JOBS_BAD_INPUT'));
    await assert.rejects(queue.enqueue('known', {}, { maxAttempts: 0 }), isJobsError('JOBS_BAD_INPUT'));
    await assert.rejects(queue.enqueue('known', {}, { singletonKey: '' }), isJobsError('JOBS_BAD_INPUT'));
    assert.equal(await queue.get('00000000-0000-4000-8000-000000000000'), undefined);
    assert.equal(await queue.get('not an id'), undefined);

    const bad = await queue.enqueue('weird', {}, { maxAttempts: 1 });
    await queue.idle(IDLE);
    const info = await queue.get(bad.id);
    assert.equal(info?.status, 'failed');
    assert.match(info.lastError ?? '', /^JOBS_BAD_RESULT/);

    await queue.enqueue('orphan', {});
    await assert.rejects(queue.idle({ timeoutMs: 300 }), isJobsError('JOBS_TIMEOUT'));
  });
}
