import type { Logger } from '../core/index.ts';
import { JobsError } from './errors.ts';
import { checkConcurrency, checkKind, describeError, jsonCopy } from './input.ts';
import type { JobCounts, JobHandler } from './types.ts';

/** One job this process has leased, as the runner needs it. Backends add their fencing data. */
export interface Claim {
  readonly id: string;
  readonly kind: string;
  readonly payload: unknown;
  readonly attempt: number;
}

/** What differs between the pool over a JobStore and pg-boss: how jobs are leased and settled. */
export interface Backend<C extends Claim> {
  claim(kind: string, limit: number): Promise<readonly C[]>;
  /** Keeps the lease while the handler runs; calls `lost` (once) when it cannot. Returns the stop function. */
  hold(claim: C, lost: (why: string) => void): () => void;
  /** Both return false when the lease was lost first: the outcome is then discarded. */
  complete(claim: C, result: unknown): Promise<boolean>;
  fail(claim: C, error: string): Promise<boolean>;
  counts(): Promise<JobCounts>;
}

export interface RunnerOptions {
  /** How long an idle kind waits before asking for work again (a local enqueue wakes it at once). */
  readonly pollMs: number;
  readonly logger: Logger;
  /** When set, only these kinds may be worked or enqueued. */
  readonly kinds: readonly string[] | undefined;
}

/** A wait that a wake ends early; a wake with no one waiting makes the next wait return at once. */
class Waker {
  private release: (() => void) | undefined;
  private pending = false;

  wake(): void {
    if (this.release === undefined) this.pending = true;
    else this.release();
  }

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.release = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.release = finish;
    });
  }
}

interface Running {
  readonly controller: AbortController;
  readonly release: () => void;
  readonly settled: Promise<void>;
  /** Set by a stop without grace: the outcome is no longer ours to record. */
  abandoned: boolean;
}

interface Worker {
  readonly kind: string;
  readonly handler: JobHandler;
  readonly concurrency: number;
  readonly running: Map<string, Running>;
  readonly waker: Waker;
  loop: Promise<void> | undefined;
}

type State = 'new' | 'started' | 'stopping' | 'stopped';

/**
 * The worker loop both queues share: per kind, lease as many jobs as there are free slots, run
 * each handler with a held lease and an abort signal, record the outcome only while the lease is
 * held, and ask again when a slot frees, a local enqueue wakes it, or the poll interval passes.
 */
export class Runner<C extends Claim> {
  private readonly workers = new Map<string, Worker>();
  private readonly settled = new Waker();
  private state: State = 'new';

  constructor(
    private readonly backend: Backend<C>,
    private readonly options: RunnerOptions,
  ) {}

  get started(): boolean {
    return this.state === 'started';
  }

  /** Throws unless the queue is started (enqueue, get, counts need a live backend). */
  assertStarted(): void {
    if (this.state === 'started') return;
    if (this.state === 'new') {
      throw new JobsError('JOBS_NOT_STARTED', 'the job queue is not started', { hint: 'call start() first' });
    }
    throw new JobsError('JOBS_STOPPED', 'the job queue is stopped', { hint: 'create a new queue to run more jobs' });
  }

  checkKind(kind: unknown): string {
    const checked = checkKind(kind);
    if (this.options.kinds !== undefined && !this.options.kinds.includes(checked)) {
      throw new JobsError('JOBS_UNKNOWN_KIND', `unknown job kind "${checked}"`, {
        hint: `known kinds: ${this.options.kinds.join(', ')}`,
      });
    }
    return checked;
  }

  register(kind: string, handler: JobHandler, concurrency: number): void {
    const checked = this.checkKind(kind);
    if (this.state === 'stopping' || this.state === 'stopped') {
      throw new JobsError('JOBS_STOPPED', 'the job queue is stopped', { hint: 'create a new queue to run more jobs' });
    }
    if (typeof handler !== 'function') {
      throw new JobsError('JOBS_BAD_INPUT', `the handler for "${checked}" is not a function`);
    }
    if (this.workers.has(checked)) {
      throw new JobsError('JOBS_BAD_INPUT', `a handler for "${checked}" is already registered`, {
        hint: 'register one handler per kind; raise its concurrency for more parallel runs',
      });
    }
    const worker: Worker = {
      kind: checked, handler, concurrency: checkConcurrency(concurrency), running: new Map(), waker: new Waker(), loop: undefined,
    };
    this.workers.set(checked, worker);
    if (this.state === 'started') worker.loop = this.loop(worker);
  }

  start(): void {
    if (this.state === 'started') return;
    this.assertNotFinished();
    this.state = 'started';
    for (const worker of this.workers.values()) worker.loop = this.loop(worker);
  }

  /** Wakes the kind's loop (a job was just enqueued here), so it does not wait for the next poll. */
  wake(kind: string): void {
    this.workers.get(kind)?.waker.wake();
  }

  async stop(graceful: boolean): Promise<void> {
    if (this.state !== 'started') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    for (const worker of this.workers.values()) worker.waker.wake();
    // Loops finish their current claim and launch what it returned, so nothing leased is left unrun.
    await Promise.all([...this.workers.values()].map((w) => w.loop));
    const running = [...this.workers.values()].flatMap((w) => [...w.running.values()]);
    if (graceful) {
      await Promise.all(running.map((r) => r.settled));
    } else {
      for (const r of running) {
        r.abandoned = true;
        r.release();
        r.controller.abort(new JobsError('JOBS_STOPPED', 'the job queue stopped without grace; the job will run again'));
      }
    }
    this.state = 'stopped';
  }

  /** Resolves once nothing runs here and the backend has no queued or active job. */
  async idle(timeoutMs: number): Promise<void> {
    this.assertStarted();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const counts = this.runningCount() === 0 ? await this.backend.counts() : undefined;
      if (counts !== undefined && counts.queued + counts.active === 0) return;
      const left = deadline - Date.now();
      if (left <= 0) {
        const where = counts === undefined ? `${this.runningCount()} handlers still running` : `${counts.queued} queued, ${counts.active} active`;
        throw new JobsError('JOBS_TIMEOUT', `jobs still pending after ${timeoutMs} ms: ${where}`, {
          hint: 'check that a worker handles every enqueued kind and that handlers finish',
        });
      }
      await this.settled.wait(Math.min(left, this.options.pollMs));
    }
  }

  private runningCount(): number {
    let n = 0;
    for (const worker of this.workers.values()) n += worker.running.size;
    return n;
  }

  /** Throws once the queue is stopping or stopped: a stopped queue does not come back. */
  assertNotFinished(): void {
    if (this.state === 'stopping' || this.state === 'stopped') {
      throw new JobsError('JOBS_STOPPED', 'the job queue is stopped', { hint: 'create a new queue to run more jobs' });
    }
  }

  private async loop(worker: Worker): Promise<void> {
    while (this.state === 'started') {
      const free = worker.concurrency - worker.running.size;
      if (free > 0) {
        for (const claim of await this.claim(worker.kind, free)) this.launch(worker, claim);
      }
      if (this.state !== 'started') break;
      await worker.waker.wait(this.options.pollMs);
    }
  }

  private async claim(kind: string, limit: number): Promise<readonly C[]> {
    try {
      return await this.backend.claim(kind, limit);
    } catch (err) {
      // The database may be briefly away; the loop retries at the next poll rather than dying.
      this.options.logger.warn('jobs: could not claim jobs', { kind, error: describeError(err) });
      return [];
    }
  }

  private launch(worker: Worker, claim: C): void {
    const controller = new AbortController();
    let lost = false;
    const release = this.backend.hold(claim, (why) => {
      lost = true;
      controller.abort(new JobsError('JOBS_LEASE_LOST', `lost the lease on job ${claim.id}: ${why}`));
    });
    const entry: Running = { controller, release, abandoned: false, settled: Promise.resolve() };
    const settled = this.run(worker, claim, controller.signal)
      .then(async (outcome) => {
        release();
        if (lost || entry.abandoned) return;
        await this.record(claim, outcome);
      })
      .finally(() => {
        worker.running.delete(claim.id);
        worker.waker.wake();
        this.settled.wake();
      });
    worker.running.set(claim.id, Object.assign(entry, { settled }));
  }

  private async run(worker: Worker, claim: C, signal: AbortSignal): Promise<Outcome> {
    let value: unknown;
    try {
      value = await worker.handler({ id: claim.id, kind: claim.kind, payload: claim.payload, attempt: claim.attempt, signal });
    } catch (err) {
      return { ok: false, error: describeError(err) };
    }
    try {
      return { ok: true, result: jsonCopy(value ?? null, 'the handler result') };
    } catch (err) {
      return { ok: false, error: describeError(new JobsError('JOBS_BAD_RESULT', (err as Error).message)) };
    }
  }

  private async record(claim: C, outcome: Outcome): Promise<void> {
    try {
      const kept = outcome.ok ? await this.backend.complete(claim, outcome.result) : await this.backend.fail(claim, outcome.error);
      if (!kept) this.options.logger.warn('jobs: lease lost before the outcome was recorded; discarded', { id: claim.id, kind: claim.kind });
    } catch (err) {
      // The lease will expire and the job run again: at-least-once, never silently lost.
      this.options.logger.warn('jobs: could not record the outcome; the job will run again', { id: claim.id, kind: claim.kind, error: describeError(err) });
    }
  }
}

type Outcome = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: string };
