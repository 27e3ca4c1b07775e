import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import { isSeverity, severityRank } from '../core/index.ts';
import type { Severity } from '../core/index.ts';
import { StoreError, translateWriteError } from './errors.ts';
import { checkInteger, checkLimit, chunks, inTransaction } from './executor.ts';
import type { Executor } from './executor.ts';
import type { DecisionAction, DecisionsTable, ReviewStatus, ReviewTasksTable } from './schema.ts';

export interface NewReviewTask {
  readonly id: string;
  readonly datasetId: string;
  readonly sampleId: string;
  readonly severity: Severity;
  /** The strongest finding's score in [0, 1]; orders tasks of equal severity. */
  readonly score: number;
  /** 2 under the two-person rule for high severity, else 1. */
  readonly requiredApprovals: number;
}

export interface ReviewTaskRecord extends NewReviewTask {
  readonly status: ReviewStatus;
  readonly createdAt: Date;
  readonly decidedAt: Date | null;
}

export interface ReviewPage {
  readonly tasks: ReviewTaskRecord[];
  /** Opaque; pass as `cursor` for the next page. Null on the last page. */
  readonly next: string | null;
}

export interface NewDecision {
  readonly id: string;
  readonly taskId: string;
  readonly reviewerId: string;
  readonly action: DecisionAction;
  /** Required for (and only for) `relabel`. */
  readonly newLabel?: string | null;
  readonly reason?: string | null;
  readonly logIndex?: number | null;
}

export interface DecisionRecord {
  readonly id: string;
  readonly taskId: string;
  readonly reviewerId: string;
  readonly action: DecisionAction;
  readonly newLabel: string | null;
  readonly reason: string | null;
  readonly logIndex: number | null;
  readonly createdAt: Date;
}

function toTask(row: Selectable<ReviewTasksTable>): ReviewTaskRecord {
  return {
    id: row.id,
    datasetId: row.dataset_id,
    sampleId: row.sample_id,
    severity: row.severity as Severity,
    score: row.score,
    requiredApprovals: row.required_approvals,
    status: row.status,
    createdAt: row.created_at,
    decidedAt: row.decided_at,
  };
}

function toDecision(row: Selectable<DecisionsTable>): DecisionRecord {
  return {
    id: row.id,
    taskId: row.task_id,
    reviewerId: row.reviewer_id,
    action: row.action,
    newLabel: row.new_label,
    reason: row.reason,
    logIndex: row.log_index,
    createdAt: row.created_at,
  };
}

/** The queue position of a task: severity, then score, then id, all descending. */
interface QueueCursor {
  readonly r: number;
  readonly s: number;
  readonly id: string;
}

function encodeCursor(task: ReviewTaskRecord): string {
  const c: QueueCursor = { r: severityRank(task.severity), s: task.score, id: task.id };
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

// A cursor comes back from a client: parse it as hostile input.
function decodeCursor(cursor: string): QueueCursor {
  const bad = new StoreError('STORE_BAD_INPUT', 'invalid review queue cursor', { hint: 'pass the `next` value of the previous page unchanged' });
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad;
  }
  if (typeof value !== 'object' || value === null) throw bad;
  const { r, s, id } = value as Record<string, unknown>;
  if (typeof r !== 'number' || !Number.isInteger(r) || typeof s !== 'number' || !Number.isFinite(s) || typeof id !== 'string') throw bad;
  return { r, s, id };
}

function checkTask(t: NewReviewTask): void {
  if (!isSeverity(t.severity)) throw new StoreError('STORE_BAD_INPUT', `task ${t.id}: unknown severity`, { hint: 'use info, low, medium, high or critical' });
  if (!(t.score >= 0 && t.score <= 1)) throw new StoreError('STORE_BAD_INPUT', `task ${t.id}: score must be in [0, 1]`, { hint: 'pass the strongest finding\'s score' });
  checkInteger(t.requiredApprovals, `task ${t.id}: requiredApprovals`, 1, 10);
}

/** Review tasks (one open task per sample) and reviewers' decisions on them. */
export class ReviewRepo {
  constructor(private readonly db: Executor) {}

  /** Opens tasks in bulk; a sample that already has an open task is skipped. Returns how many were opened. */
  async createTasks(tasks: readonly NewReviewTask[]): Promise<number> {
    tasks.forEach(checkTask);
    try {
      return await inTransaction(this.db, async (tx) => {
        let created = 0;
        for (const part of chunks(tasks)) {
          const res = await sql`
            insert into review_tasks (id, dataset_id, sample_id, severity, severity_rank, score, required_approvals)
            select * from unnest(${part.map((t) => t.id)}::text[], ${part.map((t) => t.datasetId)}::text[],
              ${part.map((t) => t.sampleId)}::text[], ${part.map((t) => t.severity)}::text[],
              ${part.map((t) => severityRank(t.severity))}::smallint[], ${part.map((t) => t.score)}::float8[],
              ${part.map((t) => t.requiredApprovals)}::smallint[])
            on conflict (dataset_id, sample_id) where status = 'open' do nothing`.execute(tx);
          created += Number(res.numAffectedRows ?? 0n);
        }
        return created;
      });
    } catch (err) {
      return translateWriteError(err, 'review tasks');
    }
  }

  async get(id: string): Promise<ReviewTaskRecord | undefined> {
    const row = await this.db.selectFrom('review_tasks').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toTask(row);
  }

  /**
   * A page of a dataset's open tasks: most severe first, then highest score, then id (all
   * descending, so one row comparison continues after the cursor). Keyset pagination: a task
   * decided between pages does not shift the next page.
   */
  async openQueue(datasetId: string, options: { readonly limit: number; readonly cursor?: string }): Promise<ReviewPage> {
    checkLimit(options.limit);
    let q = this.db.selectFrom('review_tasks').selectAll().where('dataset_id', '=', datasetId).where('status', '=', 'open');
    if (options.cursor !== undefined) {
      const c = decodeCursor(options.cursor);
      q = q.where(sql<boolean>`(severity_rank, score, id) < (${c.r}::smallint, ${c.s}::float8, ${c.id}::text)`);
    }
    const rows = await q.orderBy('severity_rank', 'desc').orderBy('score', 'desc').orderBy('id', 'desc').limit(options.limit + 1).execute();
    const tasks = rows.slice(0, options.limit).map(toTask);
    const last = tasks.at(-1);
    return { tasks, next: rows.length > options.limit && last !== undefined ? encodeCursor(last) : null };
  }

  /** How many open tasks a dataset has. */
  async openCount(datasetId: string): Promise<number> {
    const row = await this.db.selectFrom('review_tasks').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('dataset_id', '=', datasetId).where('status', '=', 'open').executeTakeFirstOrThrow();
    return row.n;
  }

  /** Marks an open task decided; false when it is not open (already decided, or no such task). */
  async close(taskId: string): Promise<boolean> {
    const res = await this.db.updateTable('review_tasks').set({ status: 'decided', decided_at: sql<Date>`now()` })
      .where('id', '=', taskId).where('status', '=', 'open').executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** Records a reviewer's decision; STORE_CONFLICT when this reviewer already decided this task. */
  async recordDecision(decision: NewDecision): Promise<DecisionRecord> {
    if ((decision.action === 'relabel') !== (decision.newLabel !== undefined && decision.newLabel !== null)) {
      throw new StoreError('STORE_BAD_INPUT', 'a decision has a new label exactly when it is a relabel', { hint: 'pass newLabel with action relabel, and only then' });
    }
    try {
      const row = await this.db.insertInto('decisions').values({
        id: decision.id,
        task_id: decision.taskId,
        reviewer_id: decision.reviewerId,
        action: decision.action,
        new_label: decision.newLabel ?? null,
        reason: decision.reason ?? null,
        log_index: decision.logIndex ?? null,
      }).returningAll().executeTakeFirstOrThrow();
      return toDecision(row);
    } catch (err) {
      return translateWriteError(err, `decision by ${decision.reviewerId} on task ${decision.taskId}`);
    }
  }

  /** A task's decisions in the order they were made. */
  async decisions(taskId: string): Promise<DecisionRecord[]> {
    const rows = await this.db.selectFrom('decisions').selectAll().where('task_id', '=', taskId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toDecision);
  }
}
