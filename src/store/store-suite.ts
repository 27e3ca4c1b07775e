// The behaviour every store backend must show, run on PGlite and on PostgreSQL (store.test.ts).
// Guards against: a half-stored batch after a failing sample, a review queue that skips or repeats
// tasks across pages, one job handed to two workers, a dead worker's job stuck forever (or
// completed by the worker that lost it), access records that break uniqueness or roll back only
// in part, event numbers with gaps, and a database migrated by other code opened as if it fit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { SEVERITIES, sha256Hex } from '../core/index.ts';
import type { Severity } from '../core/index.ts';
import { StoreError } from './errors.ts';
import { migrate } from './migrations.ts';
import { MIGRATIONS } from './service-schema.ts';

/** Every shipped migration's version, in order: what a fresh database applies. */
const VERSIONS = MIGRATIONS.map((m) => m.version);
import type { StoreErrorCode } from './errors.ts';
import type { AccessEventBody, AccessPrincipal } from './access-store.ts';
import type { NewSample } from './batches.ts';
import type { NewReviewTask, ReviewTaskRecord } from './reviews.ts';
import type { Store } from './store.ts';

/** One empty database of a backend; `open` may be called again on it (reopen, a second pool). */
export interface TestDatabase {
  open(): Promise<Store>;
  drop(): Promise<void>;
}

export interface StoreTarget {
  readonly name: string;
  /** A fresh, empty database. */
  database(): Promise<TestDatabase>;
  /** Whether two stores may be open on one database at once (PostgreSQL: separate pools). */
  readonly sharedOpen: boolean;
}

export function isStoreError(code: StoreErrorCode): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof StoreError, String(err));
    assert.equal(err.code, code);
    return true;
  };
}

const hex = (s: string): string => sha256Hex(s);
const uid = (prefix: string): string => `${prefix}-${randomBytes(6).toString('hex')}`;

/** `n` distinct samples with rows 0..n-1. */
export function makeSamples(n: number, tag: string, labels = ['cat', 'dog']): NewSample[] {
  return Array.from({ length: n }, (_, i) => {
    const contentId = hex(`${tag}/content/${i}`);
    const label = labels[i % labels.length] ?? 'cat';
    return { id: hex(`${contentId}/${label}`), rowIndex: i, label, contentId, externalId: i % 3 === 0 ? null : `ext-${i}` };
  });
}

/** A dataset with one source, ready for batches. */
export async function makeDataset(store: Store, tag = uid('ds')): Promise<{ datasetId: string; sourceId: string }> {
  const datasetId = tag;
  await store.datasets.create({ id: datasetId, name: `dataset ${tag}`, labelSet: ['cat', 'dog'], schema: { columns: ['text', 'label'] }, settings: { quarantineThreshold: 0.8, twoPersonRule: 'high' }, createdBy: 'p_test' });
  const source = await store.sources.ensure({ id: uid('src'), datasetId, name: 'vendor-a' });
  return { datasetId, sourceId: source.id };
}

export function newBatch(datasetId: string, sourceId: string, id = uid('b')): {
  id: string; datasetId: string; sourceId: string; contributorId: string; format: string; fileSha256: string; blobSha256: string; sampleRoot: string;
} {
  return { id, datasetId, sourceId, contributorId: 'p_contrib', format: 'csv', fileSha256: hex(`${id}/file`), blobSha256: hex(`${id}/blob`), sampleRoot: hex(`${id}/root`) };
}

function principal(name: string): AccessPrincipal {
  return { id: `p_${randomBytes(12).toString('hex')}`, name, kind: 'user', createdAt: '2026-01-02T03:04:05.678Z', disabled: false };
}

export function storeSuite(target: StoreTarget): void {
  describe(`store on ${target.name}`, () => {
    let database: TestDatabase;
    let store: Store;

    before(async () => {
      database = await target.database();
      store = await database.open();
    });

    after(async () => {
      await store?.close();
      await database?.drop();
    });

    test('migrations: reopening applies nothing; an unknown or edited migration is refused', async () => {
      const db = await target.database();
      try {
        const first = await db.open();
        assert.deepEqual(first.migrations, { applied: VERSIONS, present: [] });
        await first.close();
        const again = await db.open();
        assert.deepEqual(again.migrations, { applied: [], present: VERSIONS });
        // The same checks, on the open database: code that lacks migration 1, or ships it edited.
        await assert.rejects(migrate(again.db, []), isStoreError('STORE_MIGRATION_UNKNOWN'));
        const edited = { ...MIGRATIONS[0]!, statements: [...MIGRATIONS[0]!.statements, 'select 1'] };
        await assert.rejects(migrate(again.db, [edited, ...MIGRATIONS.slice(1)]), isStoreError('STORE_MIGRATION_CHANGED'));
        // A newer TrainGuard ran here: opening refuses before touching anything.
        await again.db.insertInto('schema_migrations').values({ version: 999, name: 'from the future', checksum: hex('x') }).execute();
        await again.close();
        await assert.rejects(db.open(), isStoreError('STORE_MIGRATION_UNKNOWN'));
      } finally {
        await db.drop();
      }
    });

    if (target.sharedOpen) {
      test('starters racing on one empty database apply each migration once', async () => {
        const db = await target.database();
        try {
          const stores = await Promise.all([db.open(), db.open(), db.open()]);
          // Each migration once, by whichever starter got its lock first (the steps interleave).
          assert.deepEqual(stores.flatMap((s) => s.migrations.applied).sort((a, b) => a - b), VERSIONS);
          const rows = await stores[0]!.db.selectFrom('schema_migrations').select('version').execute();
          assert.deepEqual(rows.map((r) => r.version), VERSIONS);
          await Promise.all(stores.map((s) => s.close()));
        } finally {
          await db.drop();
        }
      });
    }

    test('a batch and its samples are stored together, or not at all', async () => {
      const { datasetId, sourceId } = await makeDataset(store);
      const samples = makeSamples(1000, uid('t'));
      const good = newBatch(datasetId, sourceId);
      const res = await store.batches.insertWithSamples({ ...good, idempotencyKey: uid('key') }, samples);
      assert.equal(res.inserted, 1000);
      assert.equal(res.duplicates, 0);
      assert.equal(res.batch.sampleCount, 1000);
      assert.equal(res.batch.status, 'received');
      assert.deepEqual((await store.batches.byIdempotencyKey(res.batch.idempotencyKey!))?.id, good.id);
      const stored = await store.samples.ofBatch(good.id);
      assert.equal(stored.length, 1000);
      assert.deepEqual(stored[1], { ...stored[1], id: samples[1]!.id, rowIndex: 1, label: samples[1]!.label, externalId: 'ext-1', parentId: null, status: 'pending' });

      // Row 7 twice: the second sample insert fails, so the whole batch must be gone.
      const broken = newBatch(datasetId, sourceId);
      const bad = makeSamples(10, uid('t')).map((s, i) => (i === 9 ? { ...s, rowIndex: 7 } : s));
      await assert.rejects(store.batches.insertWithSamples(broken, bad), isStoreError('STORE_CONFLICT'));
      assert.equal(await store.batches.get(broken.id), undefined);
      assert.equal(await store.samples.get(datasetId, bad[0]!.id), undefined);

      // A sample the dataset already has is counted, not stored twice.
      const overlap = newBatch(datasetId, sourceId);
      const res2 = await store.batches.insertWithSamples(overlap, [samples[0]!, ...makeSamples(4, uid('t')).map((s) => ({ ...s, rowIndex: s.rowIndex + 1 }))]);
      assert.deepEqual([res2.inserted, res2.duplicates], [4, 1]);
      assert.equal((await store.samples.get(datasetId, samples[0]!.id))?.batchId, good.id);

      await assert.rejects(store.batches.insertWithSamples({ ...newBatch(datasetId, sourceId), idempotencyKey: res.batch.idempotencyKey }, []), isStoreError('STORE_CONFLICT'));
      await assert.rejects(store.batches.insertWithSamples(newBatch(datasetId, sourceId), [{ ...samples[0]!, id: 'not-hex' }]), isStoreError('STORE_BAD_INPUT'));
      await assert.rejects(store.batches.insertWithSamples(newBatch('no-such-dataset', sourceId), []), isStoreError('STORE_NOT_FOUND'));
      const scanned = await store.batches.setStatus(good.id, 'scanned', { logIndex: 41 });
      assert.deepEqual([scanned.status, scanned.logIndex], ['scanned', 41]);
      await assert.rejects(store.batches.setStatus('no-such-batch', 'failed'), isStoreError('STORE_NOT_FOUND'));
    });

    test('ingest stores source, batch, samples and scan job together, or nothing', async () => {
      const { datasetId } = await makeDataset(store);
      const source = { id: uid('src'), datasetId, name: uid('partner') };
      const job = (batchId: string): { kind: string; payload: unknown; singletonKey: string } => ({ kind: 'scan-batch', payload: { batchId }, singletonKey: `scan-batch:${batchId}` });
      const first = newBatch(datasetId, source.id);
      const samples = makeSamples(1200, uid('t'));
      const stored = await store.batches.ingest({ source, batch: { ...first, idempotencyKey: uid('key') }, samples, job: job(first.id) });
      assert.deepEqual([stored.inserted, stored.duplicates, stored.batch.sampleCount], [1200, 0, 1200]);
      const queued = await store.jobs.get(stored.jobId);
      assert.deepEqual([queued?.status, queued?.payload], ['queued', { batchId: first.id }]);
      assert.equal((await store.sources.get(source.id))?.name, source.name);

      // The same source again; 7,000 samples go in over more than one statement, in one transaction.
      const second = newBatch(datasetId, source.id);
      const many = [...samples.slice(0, 10), ...makeSamples(6990, uid('t')).map((x) => ({ ...x, rowIndex: x.rowIndex + 10 }))];
      const big = await store.batches.ingest({ source, batch: second, samples: many, job: job(second.id) });
      assert.deepEqual([big.inserted, big.duplicates], [6990, 10]);
      assert.equal((await store.samples.ofBatch(second.id)).length, 6990);
      assert.notEqual(big.jobId, stored.jobId);

      // A reused idempotency key: nothing of the statement stays (no new source, no job).
      const third = newBatch(datasetId, uid('src'));
      const otherSource = { id: third.sourceId, datasetId, name: uid('other') };
      await assert.rejects(store.batches.ingest({ source: otherSource, batch: { ...third, idempotencyKey: stored.batch.idempotencyKey }, samples: makeSamples(3, uid('t')), job: job(third.id) }), isStoreError('STORE_CONFLICT'));
      assert.equal(await store.sources.get(otherSource.id), undefined);
      assert.equal(await store.batches.get(third.id), undefined);
      assert.equal((await sql<{ n: number }>`select count(*)::int as n from jobs where singleton_key = ${`scan-batch:${third.id}`}`.execute(store.db)).rows[0]?.n, 0);
      // A batch naming another source than the one given is refused before anything is written.
      await assert.rejects(store.batches.ingest({ source, batch: third, samples: [], job: job(third.id) }), isStoreError('STORE_BAD_INPUT'));
    });

    test('batches sharing new samples, stored at once, keep each sample once and count it once', async () => {
      const { datasetId, sourceId } = await makeDataset(store);
      const other = target.sharedOpen ? await database.open() : store;
      try {
        for (let round = 0; round < 5; round++) {
          const shared = makeSamples(400, uid('t'));
          const a = [...shared, ...makeSamples(100, uid('t')).map((x) => ({ ...x, rowIndex: x.rowIndex + 400 }))];
          const b = [...makeSamples(100, uid('t')), ...shared.map((x) => ({ ...x, rowIndex: x.rowIndex + 100 }))];
          const [ra, rb] = await Promise.all([store.batches.insertWithSamples(newBatch(datasetId, sourceId), a), other.batches.insertWithSamples(newBatch(datasetId, sourceId), b)]);
          assert.equal((ra?.inserted ?? 0) + (rb?.inserted ?? 0), 600, 'each new sample stored once');
          assert.equal((ra?.duplicates ?? 0) + (rb?.duplicates ?? 0), 400);
        }
        // The same sample twice in one batch: stored once, from its first row.
        const [one] = makeSamples(1, uid('t'));
        const twice = await store.batches.insertWithSamples(newBatch(datasetId, sourceId), [one!, { ...one!, rowIndex: 1 }]);
        assert.deepEqual([twice.inserted, twice.duplicates, (await store.samples.get(datasetId, one!.id))?.rowIndex], [1, 1, 0]);
      } finally {
        if (other !== store) await other.close();
      }
    });

    test('the sample → batch key holds without a per-row foreign key: no unknown batch, no moved sample, no deleted batch', async () => {
      const { datasetId, sourceId } = await makeDataset(store);
      const { datasetId: otherDataset, sourceId: otherSource } = await makeDataset(store);
      const batch = newBatch(datasetId, sourceId);
      const [sample] = makeSamples(1, uid('t'));
      await store.batches.insertWithSamples(batch, [sample!]);
      const other = newBatch(otherDataset, otherSource);
      await store.batches.insertWithSamples(other, []);
      const insert = (batchId: string, ds = datasetId): Promise<unknown> => sql`
        insert into samples (dataset_id, id, batch_id, row_index, label, content_id)
        values (${ds}, ${hex(uid('x'))}, ${batchId}, 5, 'cat', ${hex(uid('c'))})`.execute(store.db);
      const refused = (err: unknown): boolean => /samples_batch|cannot change|cannot be deleted/.test(String((err as Error).message));
      await assert.rejects(insert('b_nope'), refused, 'a batch that does not exist');
      await assert.rejects(insert(other.id), refused, "another dataset's batch");
      await assert.rejects(sql`update samples set batch_id = ${other.id} where id = ${sample!.id}`.execute(store.db), refused);
      await assert.rejects(sql`delete from batches where id = ${batch.id}`.execute(store.db), refused);
      await assert.rejects(sql`update batches set id = 'b_renamed' where id = ${batch.id}`.execute(store.db), refused);
      await sql`update batches set id = id, status = 'failed' where id = ${batch.id}`.execute(store.db);
      await sql`delete from batches where id = ${other.id}`.execute(store.db); // no samples: nothing refers to it
      assert.equal((await store.samples.get(datasetId, sample!.id))?.batchId, batch.id, 'the sample is where it was');
      assert.equal((await store.batches.get(batch.id))?.status, 'failed');
    });

    test('samples page by status; accepted ids come back in byte order for snapshots', async () => {
      const { datasetId, sourceId } = await makeDataset(store);
      const samples = makeSamples(30, uid('t'));
      await store.batches.insertWithSamples(newBatch(datasetId, sourceId), samples);
      const accepted = samples.filter((_, i) => i % 3 === 0).map((s) => s.id);
      assert.equal(await store.samples.setStatus(datasetId, [...accepted, hex('absent')], 'accepted'), 10);
      assert.equal(await store.samples.setStatus(datasetId, samples.slice(1, 3).map((s) => s.id), 'quarantined'), 2);
      assert.deepEqual(await store.samples.countByStatus(datasetId), { pending: 18, accepted: 10, quarantined: 2, rejected: 0 });

      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.samples.page(datasetId, { status: 'accepted', limit: 4, ...(after === undefined ? {} : { after }) });
        seen.push(...page.samples.map((s) => s.id));
        if (page.next === null) break;
        after = page.next;
      }
      const sorted = [...accepted].sort();
      assert.deepEqual(seen, sorted);
      assert.deepEqual(await store.snapshots.acceptedSampleIds(datasetId), sorted);
      const snap = await store.snapshots.create({ id: uid('snap'), datasetId, createdBy: 'p_curator', sampleCount: 10, sampleRoot: hex('root'), envelopeSha256: hex('env'), logIndex: 3 });
      assert.equal((await store.snapshots.latest(datasetId))?.id, snap.id);
    });

    test('a relabel adds the same content under the new label on the same row, and rejects the old sample', async () => {
      const { datasetId, sourceId } = await makeDataset(store);
      const samples = makeSamples(4, uid('r'));
      await store.batches.insertWithSamples(newBatch(datasetId, sourceId), samples);
      const old = samples[1]!;
      const newId = hex(`${old.contentId}/cat`);
      const fresh = await store.transaction((repos) => repos.samples.relabel(datasetId, old.id, newId, 'cat'));
      assert.deepEqual([fresh.id, fresh.label, fresh.parentId, fresh.rowIndex, fresh.contentId, fresh.status], [newId, 'cat', old.id, old.rowIndex, old.contentId, 'accepted']);
      assert.equal((await store.samples.get(datasetId, old.id))?.status, 'rejected');
      // The original row stays unique: a second original on that row is refused by the partial index.
      await assert.rejects(store.db.insertInto('samples').values({ dataset_id: datasetId, id: hex('other'), batch_id: fresh.batchId, row_index: old.rowIndex, label: 'cat', content_id: hex('c') }).execute());
      await assert.rejects(store.samples.relabel(datasetId, hex('absent'), hex('x'), 'cat'), isStoreError('STORE_NOT_FOUND'));
    });

    test('a scan is recorded once per job, with its findings', async () => {
      const { datasetId, sourceId } = await makeDataset(store);
      const samples = makeSamples(5, uid('t'));
      const batch = newBatch(datasetId, sourceId);
      await store.batches.insertWithSamples(batch, samples);
      const jobId = uid('job');
      const findings = samples.flatMap((s, i) => [
        { sampleId: s.id, detector: 'label-issues', code: 'LABEL_ISSUE', score: i / 10, severity: 'medium' as const, message: 'label disagrees', evidence: { suggested: 'dog', neighbours: [1, 2] } },
        { sampleId: s.id, detector: 'duplicates', code: 'DUPLICATE', score: 0.95, severity: 'high' as const, message: 'exact copy', evidence: {} },
      ]);
      const scan = await store.scans.record({ id: uid('scan'), datasetId, batchId: batch.id, jobId, reportSha256: hex('report'), stats: { flagged: 5 } }, findings);
      assert.equal((await store.scans.byJob(jobId))?.id, scan.id);
      assert.equal((await store.scans.findingsOfScan(scan.id)).length, 10);
      const forOne = await store.scans.findingsForSample(datasetId, samples[3]!.id);
      assert.deepEqual(forOne.map((f) => f.detector), ['duplicates', 'label-issues']);
      assert.deepEqual(forOne[1]?.evidence, { suggested: 'dog', neighbours: [1, 2] });
      await assert.rejects(store.scans.record({ id: uid('scan'), datasetId, batchId: batch.id, jobId, reportSha256: hex('r'), stats: {} }, []), isStoreError('STORE_CONFLICT'));
      await assert.rejects(store.scans.record({ id: uid('scan'), datasetId, batchId: batch.id, reportSha256: hex('r'), stats: {} }, [{ ...findings[0]!, sampleId: hex('absent') }]), isStoreError('STORE_NOT_FOUND'));
    });

    test('the review queue is ordered by severity, then score, and pages neither skip nor repeat', async () => {
      const { datasetId, sourceId } = await makeDataset(store);
      const samples = makeSamples(40, uid('t'));
      await store.batches.insertWithSamples(newBatch(datasetId, sourceId), samples);
      const tasks: NewReviewTask[] = samples.map((s, i) => ({
        id: uid('task'), datasetId, sampleId: s.id,
        severity: SEVERITIES[i % SEVERITIES.length] as Severity,
        score: [0.5, 0.9, 0.25, 0.9][i % 4]!,
        requiredApprovals: i % 5 === 4 ? 2 : 1,
      }));
      assert.equal(await store.reviews.createTasks(tasks), 40);
      assert.equal(await store.reviews.createTasks(tasks.slice(0, 5).map((t) => ({ ...t, id: uid('task') }))), 0, 'one open task per sample');

      const rank = (t: { severity: Severity }): number => SEVERITIES.indexOf(t.severity);
      const expected = [...tasks].sort((a, b) => rank(b) - rank(a) || b.score - a.score || (a.id < b.id ? 1 : -1)).map((t) => t.id);
      const seen: ReviewTaskRecord[] = [];
      let cursor: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await store.reviews.openQueue(datasetId, { limit: 7, ...(cursor === undefined ? {} : { cursor }) });
        seen.push(...page.tasks);
        pages++;
        // Deciding a task already shown must not shift the next page.
        if (pages === 2) assert.equal(await store.reviews.close(page.tasks[0]!.id), true);
        if (page.next === null) break;
        cursor = page.next;
      }
      assert.equal(pages, 6);
      assert.deepEqual(seen.map((t) => t.id), expected);
      assert.equal(await store.reviews.openCount(datasetId), 39);
      await assert.rejects(store.reviews.openQueue(datasetId, { limit: 7, cursor: 'bm90IGEgY3Vyc29y' }), isStoreError('STORE_BAD_INPUT'));
      await assert.rejects(store.reviews.openQueue(datasetId, { limit: 0 }), isStoreError('STORE_BAD_INPUT'));

      const task = seen[0]!;
      await store.reviews.recordDecision({ id: uid('d'), taskId: task.id, reviewerId: 'p_alice', action: 'relabel', newLabel: 'dog', reason: 'clearly a dog' });
      await assert.rejects(store.reviews.recordDecision({ id: uid('d'), taskId: task.id, reviewerId: 'p_alice', action: 'approve' }), isStoreError('STORE_CONFLICT'));
      await assert.rejects(store.reviews.recordDecision({ id: uid('d'), taskId: task.id, reviewerId: 'p_bob', action: 'relabel' }), isStoreError('STORE_BAD_INPUT'));
      await store.reviews.recordDecision({ id: uid('d'), taskId: task.id, reviewerId: 'p_bob', action: 'approve', logIndex: 9 });
      assert.deepEqual((await store.reviews.decisions(task.id)).map((d) => [d.reviewerId, d.action, d.newLabel]), [['p_alice', 'relabel', 'dog'], ['p_bob', 'approve', null]]);
    });

    test('store.transaction commits all of its writes or none', async () => {
      const { datasetId, sourceId } = await makeDataset(store);
      const batch = newBatch(datasetId, sourceId);
      await assert.rejects(store.transaction(async (tx) => {
        await tx.batches.insertWithSamples(batch, makeSamples(3, uid('t')));
        throw new Error('later step failed');
      }), /later step failed/);
      assert.equal(await store.batches.get(batch.id), undefined);
    });

    test('jobs: singleton keys, retries and final failure', async () => {
      const kind = uid('kind');
      const before = await store.jobs.counts();
      const key = uid('single');
      const a = await store.jobs.enqueue({ kind, payload: ['a', 1], singletonKey: key, maxAttempts: 2 });
      assert.deepEqual(await store.jobs.enqueue({ kind, payload: 'again', singletonKey: key }), { id: a.id, created: false });
      assert.equal(a.created, true);

      const [job] = await store.jobs.claim([kind], 'w1', 60_000, 10);
      assert.deepEqual([job?.id, job?.status, job?.attempts, job?.lockedBy, job?.payload], [a.id, 'active', 1, 'w1', ['a', 1]]);
      assert.deepEqual(await store.jobs.claim([kind], 'w2', 60_000, 10), [], 'an active job under lease is not handed out');
      assert.equal(await store.jobs.fail(a.id, 'w2', 'not mine', 0), false);
      assert.equal(await store.jobs.fail(a.id, 'w1', 'boom', 3_600_000), true);
      assert.deepEqual(await store.jobs.claim([kind], 'w1', 60_000, 10), [], 'a retried job waits for run_after');
      await store.db.updateTable('jobs').set({ run_after: sql<Date>`now() - interval '1 second'` }).where('id', '=', a.id).execute();
      const [retry] = await store.jobs.claim([kind], 'w2', 60_000, 10);
      assert.deepEqual([retry?.attempts, retry?.lastError], [2, 'boom']);
      assert.equal(await store.jobs.fail(a.id, 'w2', 'boom again', 0), true);
      const failed = await store.jobs.get(a.id);
      assert.deepEqual([failed?.status, failed?.attempts, failed?.lockedBy, failed?.lastError], ['failed', 2, null, 'boom again']);
      assert.deepEqual(await store.jobs.claim([kind], 'w2', 60_000, 10), []);

      const after = await store.jobs.counts();
      assert.equal(after.failed - before.failed, 1);
      await assert.rejects(store.jobs.claim([kind], 'w1', 0, 1), isStoreError('STORE_BAD_INPUT'));
      await assert.rejects(store.jobs.enqueue({ kind, payload: undefined }), isStoreError('STORE_BAD_INPUT'));
    });

    test('jobs: an expired lease is reclaimed, and the worker that lost it can no longer finish it', async () => {
      const kind = uid('kind');
      const { id } = await store.jobs.enqueue({ kind, payload: { batch: 'b1' } });
      const [first] = await store.jobs.claim([kind], 'dead-worker', 60_000, 1);
      assert.equal(first?.id, id);
      assert.equal(await store.jobs.heartbeat(id, 'dead-worker', 60_000), true);
      // The worker stops renewing; its lease runs out.
      await store.db.updateTable('jobs').set({ locked_until: sql<Date>`now() - interval '1 second'` }).where('id', '=', id).execute();
      const [second] = await store.jobs.claim([kind], 'live-worker', 60_000, 1);
      assert.deepEqual([second?.id, second?.attempts, second?.lockedBy], [id, 2, 'live-worker']);
      assert.equal(await store.jobs.heartbeat(id, 'dead-worker', 60_000), false);
      assert.equal(await store.jobs.complete(id, 'dead-worker', { late: true }), false);
      assert.equal(await store.jobs.complete(id, 'live-worker', { scanned: 3 }), true);
      const done = await store.jobs.get(id);
      assert.deepEqual([done?.status, done?.result, done?.lockedBy, done?.lockedUntil], ['done', { scanned: 3 }, null, null]);
      assert.equal(await store.jobs.complete(id, 'live-worker', {}), false, 'a done job cannot be completed again');
    });

    test('jobs: at start-up of the sole owner, active jobs go back to the queue (or fail when out of attempts)', async () => {
      const kind = uid('kind');
      const { id: again } = await store.jobs.enqueue({ kind, payload: 1 });
      const { id: spent } = await store.jobs.enqueue({ kind, payload: 2, maxAttempts: 1 });
      assert.equal((await store.jobs.claim([kind], 'dead', 3_600_000, 10)).length, 2);
      const { id: waiting } = await store.jobs.enqueue({ kind, payload: 3 });
      assert.ok(await store.jobs.requeueAbandoned() >= 2);
      const [a, b, c] = await Promise.all([again, spent, waiting].map((id) => store.jobs.get(id)));
      assert.deepEqual([a?.status, a?.lockedBy, b?.status, c?.status, c?.lastError], ['queued', null, 'failed', 'queued', null]);
      assert.match(a?.lastError ?? '', /abandoned/);
      const next = await store.jobs.claim([kind], 'live', 60_000, 10);
      assert.deepEqual(next.map((j) => [j.id, j.attempts]).sort(), [[again, 2], [waiting, 1]].sort(), 'the abandoned job runs again at once, its attempt counted');
    });

    test('jobs: workers claiming at once never get the same job', async () => {
      const kind = uid('kind');
      for (let i = 0; i < 60; i++) await store.jobs.enqueue({ kind, payload: i });
      const other = target.sharedOpen ? await database.open() : store;
      try {
        const drain = async (s: Store, worker: string): Promise<string[]> => {
          const got: string[] = [];
          for (;;) {
            const jobs = await s.jobs.claim([kind], worker, 60_000, 3);
            if (jobs.length === 0) return got;
            got.push(...jobs.map((j) => j.id));
          }
        };
        const results = await Promise.all([drain(store, 'a1'), drain(store, 'a2'), drain(other, 'b1'), drain(other, 'b2')]);
        const all = results.flat();
        assert.equal(all.length, 60);
        assert.equal(new Set(all).size, 60);
        if (target.sharedOpen) assert.ok(results.every((r) => r.length > 0), 'every worker got work');
      } finally {
        if (other !== store) await other.close();
      }
    });

    test('access: unique principals and grants, ordered events, rollback', async () => {
      const access = store.access;
      const alice = principal(uid('alice'));
      const seq0 = (await access.read((r) => r.events())).at(-1)?.seq ?? 0;
      await access.transaction(async (tx) => {
        await tx.insertPrincipal(alice);
        await tx.appendEvent({ kind: 'principal-created', actorId: null, principalId: alice.id, principalKind: 'user' }, '2026-01-02T03:04:05.678Z');
      });
      assert.deepEqual(await access.read((r) => r.principalByName(alice.name)), alice);
      await assert.rejects(access.transaction((tx) => tx.insertPrincipal({ ...principal(alice.name) })), isStoreError('STORE_CONFLICT'));

      // Rollback: the first insert of a failing transaction is not kept either.
      const bob = principal(uid('bob'));
      await assert.rejects(access.transaction(async (tx) => {
        await tx.insertPrincipal(bob);
        assert.equal((await tx.principalById(bob.id))?.name, bob.name, 'a transaction sees its own writes');
        await tx.insertPrincipal({ ...principal(alice.name) });
      }), isStoreError('STORE_CONFLICT'));
      assert.equal(await access.read((r) => r.principalById(bob.id)), undefined);

      const grant = { principalId: alice.id, role: 'reviewer' as const, datasetId: 'ds-a', grantedAt: '2026-01-02T03:04:06.000Z', grantedBy: null };
      const global = { ...grant, role: 'auditor' as const, datasetId: null };
      const made = await access.transaction(async (tx) => [
        await tx.insertGrant(grant), await tx.insertGrant(grant), await tx.insertGrant(global), await tx.insertGrant({ ...global, grantedBy: 'p_other' }),
      ]);
      assert.deepEqual(made, [true, false, true, false]);
      assert.deepEqual(await access.read((r) => r.grants({ principalId: alice.id })), [grant, global]);
      assert.deepEqual(await access.read((r) => r.grants({ principalId: alice.id, datasetId: null })), [global]);
      assert.equal(await access.transaction((tx) => tx.deleteGrant({ principalId: alice.id, role: 'auditor', datasetId: null })), true);
      assert.equal(await access.transaction((tx) => tx.deleteGrant({ principalId: alice.id, role: 'auditor', datasetId: null })), false);

      const token = { id: randomBytes(12).toString('hex'), principalId: alice.id, name: 'ci push', createdAt: '2026-01-02T03:04:07.000Z', createdBy: alice.id, expiresAt: '2027-01-01T00:00:00.000Z', revokedAt: null, lastUsedAt: null, secretSha256: hex('secret') };
      await access.transaction((tx) => tx.insertToken(token));
      await access.transaction((tx) => tx.updateToken({ ...token, revokedAt: '2026-02-01T00:00:00.000Z' }));
      assert.equal((await access.read((r) => r.token(token.id)))?.revokedAt, '2026-02-01T00:00:00.000Z');
      await assert.rejects(access.transaction((tx) => tx.updateToken({ ...token, id: 'f'.repeat(24) })), isStoreError('STORE_NOT_FOUND'));
      await access.transaction((tx) => tx.setPassword({ principalId: alice.id, hash: '$argon2id$v=19$one', setAt: '2026-01-02T03:04:08.000Z' }));
      await access.transaction((tx) => tx.setPassword({ principalId: alice.id, hash: '$argon2id$v=19$two', setAt: '2026-01-02T03:04:09.000Z' }));
      assert.equal((await access.read((r) => r.password(alice.id)))?.hash, '$argon2id$v=19$two');

      // Concurrent transactions: every one commits (serialization failures are retried), and the
      // event numbers continue without gaps in commit order.
      const names = Array.from({ length: 8 }, () => uid('user'));
      await Promise.all(names.map((name) => access.transaction(async (tx) => {
        const p = principal(name);
        await tx.insertPrincipal(p);
        const body: AccessEventBody = { kind: 'principal-created', actorId: alice.id, principalId: p.id, principalKind: 'user' };
        await tx.appendEvent(body, '2026-01-02T03:04:10.000Z');
      })));
      const events = await access.read((r) => r.events({ afterSeq: seq0 }));
      assert.deepEqual(events.map((e) => e.seq), Array.from({ length: 9 }, (_, i) => seq0 + 1 + i));
      assert.deepEqual(events[0], { kind: 'principal-created', actorId: null, principalId: alice.id, principalKind: 'user', seq: seq0 + 1, at: '2026-01-02T03:04:05.678Z' });
      assert.deepEqual((await access.read((r) => r.events({ afterSeq: seq0 + 2, limit: 3 }))).map((e) => e.seq), [seq0 + 3, seq0 + 4, seq0 + 5]);
      assert.deepEqual(await access.read((r) => r.events({ afterSeq: seq0, kinds: ['denied'] })), []);
      const listed = (await access.read((r) => r.principals())).map((p) => p.name);
      assert.deepEqual(listed, [...listed].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
      assert.ok(names.every((n) => listed.includes(n)));
    });
  });
}
