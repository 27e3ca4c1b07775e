import { randomUUID } from 'node:crypto';
import { checkKind, checkMaxAttempts, checkSingletonKey, jsonCopy } from './input.ts';
import type { JobCounts, JobRecord, JobStore } from './types.ts';

interface Row extends JobRecord {
  singletonKey: string | null;
  /** Not claimable before this time (epoch ms): retry backoff. */
  runAfter: number;
  /** Insertion order, the tie-break for "oldest first". */
  seq: number;
}

export interface MemoryJobStoreOptions {
  /** The clock leases are measured on (epoch ms); tests may pass their own. */
  readonly now?: () => number;
}

/**
 * A real JobStore held in this process's memory, with the same semantics as the database store:
 * for tests and for callers that do not need jobs to survive a restart. A lease is lost the moment
 * `lockedUntil` passes, even before anyone reclaims the job, so a stalled worker can never renew
 * or complete a job that another worker may already be running.
 */
export class MemoryJobStore implements JobStore {
  private readonly rows = new Map<string, Row>();
  private readonly bySingleton = new Map<string, string>();
  private readonly now: () => number;
  private seq = 0;

  constructor(options: MemoryJobStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async enqueue(job: { kind: string; payload: unknown; singletonKey?: string; maxAttempts?: number }): Promise<{ id: string; created: boolean }> {
    const kind = checkKind(job.kind);
    const singletonKey = checkSingletonKey(job.singletonKey) ?? null;
    const maxAttempts = checkMaxAttempts(job.maxAttempts);
    const payload = jsonCopy(job.payload, 'the job payload');
    if (singletonKey !== null) {
      const existing = this.bySingleton.get(singletonKey);
      if (existing !== undefined) return { id: existing, created: false };
    }
    const id = randomUUID();
    this.rows.set(id, {
      id, kind, payload, status: 'queued', attempts: 0, maxAttempts, lockedBy: null, lockedUntil: null,
      lastError: null, result: null, createdAt: new Date(this.now()), singletonKey, runAfter: 0, seq: this.seq++,
    });
    if (singletonKey !== null) this.bySingleton.set(singletonKey, id);
    return { id, created: true };
  }

  async claim(kinds: readonly string[], workerId: string, leaseMs: number, limit: number): Promise<JobRecord[]> {
    const now = this.now();
    const wanted = new Set(kinds);
    const runnable = [...this.rows.values()]
      .filter((row) => wanted.has(row.kind) && this.isClaimable(row, now))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.seq - b.seq)
      .slice(0, Math.max(0, limit));
    for (const row of runnable) {
      row.status = 'active';
      row.attempts += 1;
      row.lockedBy = workerId;
      row.lockedUntil = new Date(now + leaseMs);
    }
    return runnable.map(snapshot);
  }

  async heartbeat(id: string, workerId: string, leaseMs: number): Promise<boolean> {
    const row = this.leased(id, workerId);
    if (row === undefined) return false;
    row.lockedUntil = new Date(this.now() + leaseMs);
    return true;
  }

  async complete(id: string, workerId: string, result: unknown): Promise<boolean> {
    const row = this.leased(id, workerId);
    if (row === undefined) return false;
    row.status = 'done';
    row.result = jsonCopy(result ?? null, 'the job result');
    this.unlock(row);
    return true;
  }

  async fail(id: string, workerId: string, error: string, retryAfterMs: number): Promise<boolean> {
    const row = this.leased(id, workerId);
    if (row === undefined) return false;
    row.lastError = error;
    row.status = row.attempts >= row.maxAttempts ? 'failed' : 'queued';
    row.runAfter = this.now() + Math.max(0, retryAfterMs);
    this.unlock(row);
    return true;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const row = this.rows.get(id);
    return row === undefined ? undefined : snapshot(row);
  }

  async counts(): Promise<JobCounts> {
    const counts: JobCounts = { queued: 0, active: 0, done: 0, failed: 0 };
    for (const row of this.rows.values()) counts[row.status] += 1;
    return counts;
  }

  private isClaimable(row: Row, now: number): boolean {
    if (row.status === 'queued') return row.runAfter <= now;
    return row.status === 'active' && (row.lockedUntil?.getTime() ?? 0) <= now;
  }

  /** The row when `workerId` holds an unexpired lease on it. */
  private leased(id: string, workerId: string): Row | undefined {
    const row = this.rows.get(id);
    if (row === undefined || row.status !== 'active' || row.lockedBy !== workerId) return undefined;
    return (row.lockedUntil?.getTime() ?? 0) > this.now() ? row : undefined;
  }

  private unlock(row: Row): void {
    row.lockedBy = null;
    row.lockedUntil = null;
  }
}

/** A copy, so callers cannot change the stored row (the database stores behave the same way). */
function snapshot(row: Row): JobRecord {
  return {
    id: row.id, kind: row.kind, payload: structuredClone(row.payload), status: row.status, attempts: row.attempts,
    maxAttempts: row.maxAttempts, lockedBy: row.lockedBy, lockedUntil: row.lockedUntil === null ? null : new Date(row.lockedUntil),
    lastError: row.lastError, result: structuredClone(row.result), createdAt: new Date(row.createdAt),
  };
}
