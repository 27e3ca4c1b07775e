// Guards against: the service's ingest → scan path losing its guarantees — a batch stored without
// its log entry or scan job, a retried upload stored twice, a contributor pushing outside its
// dataset, unknown labels slipping in, plaintext left outside the vault, or a suspicious sample
// accepted without a review task.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { latestCheckpoint, proveEntry, verifyReceiptFile, verifySnapshot, type Service } from '../src/app/index.ts';
import { unzipSync, zipSync } from 'fflate';
import { parquetWriteBuffer } from 'hyparquet-writer';
import sharp from 'sharp';
import { mailCsv, openWorld } from './fixtures/service-world.ts';

const isCode = (code: string) => (err: unknown): boolean => (err as { code?: string }).code === code;

test('ingest is logged, stored and scheduled together; the scan quarantines conflicts into review tasks', async (t) => {
  const world = await openWorld();
  t.after(() => world.close());
  const { dir, store, backend, access, queue, service, ledger, vkey } = world;

  const alice = await access.bootstrapAdmin('alice');
  const bob = await access.addUser(alice, 'bob');
  await access.grant(alice, { principal: 'bob', role: 'contributor', datasetId: 'mail' });
  await assert.rejects(service.createDataset(bob, { id: 'mail', name: 'Mail', labels: ['spam', 'ham'] }), isCode('ACCESS_DENIED'));
  await service.createDataset(alice, { id: 'mail', name: 'Mail', labels: ['spam', 'ham'] });
  await service.createDataset(alice, { id: 'other', name: 'Other', labels: ['spam', 'ham'] });

  const bytes = Buffer.from(mailCsv(3));
  await assert.rejects(service.ingest(bob, { datasetId: 'other', source: 'crawl', format: 'csv', bytes }), isCode('ACCESS_DENIED'));
  await assert.rejects(service.ingest(bob, { datasetId: 'mail', source: 'crawl', format: 'csv', bytes: Buffer.from('id,label,text\n1,eggs,hello\n') }), isCode('SERVICE_BAD_INPUT'));
  await assert.rejects(service.ingest(bob, { datasetId: 'mail', source: 'crawl', format: 'xml', bytes }), isCode('SERVICE_BAD_INPUT'));
  // Parsed on the parse thread: a data error keeps its code and line; an unreadable row refuses the batch whole.
  await assert.rejects(service.ingest(bob, { datasetId: 'mail', source: 'crawl', format: 'csv', bytes: Buffer.concat([Buffer.from('id,label,text\n1,spam,caf'), Buffer.from([0xe9]), Buffer.from('\n')]) }),
    (err: unknown) => (err as { code?: string; line?: number }).code === 'DATA_INVALID_UTF8' && (err as { line?: number }).line === 2);
  await assert.rejects(service.ingest(bob, { datasetId: 'mail', source: 'crawl', format: 'csv', bytes: Buffer.from('id,label,text\n1,spam,hello\n2,ham\n') }),
    (err: unknown) => (err as { code?: string }).code === 'SERVICE_BAD_INPUT' && /1 unreadable rows.*line 3/.test((err as Error).message));

  const first = await service.ingest(bob, { datasetId: 'mail', source: 'crawl', format: 'csv', bytes, idempotencyKey: 'upload-1' });
  assert.equal(first.replayed, false);
  assert.equal(first.inserted, 83);
  const again = await service.ingest(bob, { datasetId: 'mail', source: 'crawl', format: 'csv', bytes, idempotencyKey: 'upload-1' });
  assert.equal(again.replayed, true);
  assert.equal(again.batch.id, first.batch.id);
  assert.equal(again.jobId, first.jobId);
  await assert.rejects(service.ingest(bob, { datasetId: 'mail', source: 'crawl', format: 'csv', bytes: Buffer.from(mailCsv(1)), idempotencyKey: 'upload-1' }), isCode('SERVICE_CONFLICT'));

  // The upload is in the vault, encrypted: no stored blob holds the text.
  let blobs = 0;
  for (const prefix of ['objects', 'bodies']) {
    for await (const name of backend.list(prefix)) {
      const blob = await backend.read(name);
      blobs += 1;
      assert.ok(blob !== undefined && !Buffer.from(blob).includes('cheap pills'), `${name} holds plaintext`);
    }
  }
  assert.equal(blobs, 2, 'one header and one body: the retry stored nothing new');

  await queue.idle({ timeoutMs: 120_000 });
  const batch = await store.batches.get(first.batch.id);
  assert.equal(batch?.status, 'scanned');
  const counts = await store.samples.countByStatus('mail');
  assert.equal(counts.accepted + counts.quarantined, 83);
  assert.equal(counts.pending, 0);
  assert.ok(counts.quarantined >= 3, `the 3 conflicting copies are quarantined (got ${counts.quarantined})`);
  const tasks = await store.reviews.openQueue('mail', { limit: 100 });
  assert.equal(tasks.tasks.length, counts.quarantined);
  for (const task of tasks.tasks) assert.equal((await store.samples.get('mail', task.sampleId))?.status, 'quarantined');

  // The scan job is idempotent by job id: running it again records nothing new.
  const rerun = await service.scanBatch({ id: first.jobId }, first.batch.id);
  assert.equal(rerun.quarantined, counts.quarantined);
  assert.equal((await store.reviews.openQueue('mail', { limit: 100 })).tasks.length, counts.quarantined);

  // Review: only reviewers of the dataset, never on their own contribution, two-person rule.
  const carol = await access.addUser(alice, 'carol');
  const dave = await access.addUser(alice, 'dave');
  for (const name of ['carol', 'dave', 'bob']) await access.grant(alice, { principal: name, role: 'reviewer', datasetId: 'mail' });
  const [one, two, three] = tasks.tasks;
  assert.ok(one !== undefined && two !== undefined && three !== undefined);
  await assert.rejects(service.decide(bob, one.id, { action: 'approve', reason: 'looks fine' }), isCode('SERVICE_SELF_REVIEW'));
  await assert.rejects(service.decide(carol, one.id, { action: 'approve', reason: '  ' }), isCode('SERVICE_BAD_INPUT'));
  await assert.rejects(service.decide(carol, one.id, { action: 'relabel', newLabel: 'eggs', reason: 'x' }), isCode('SERVICE_BAD_INPUT'));
  const decideAll = async (taskId: string, required: number, request: Parameters<Service['decide']>[2]): Promise<Awaited<ReturnType<Service['decide']>>> => {
    const first = await service.decide(carol, taskId, request);
    if (required === 1) return first;
    assert.equal(first.settled, false, 'one reviewer is not enough under the two-person rule');
    await assert.rejects(service.decide(carol, taskId, request), isCode('SERVICE_CONFLICT'));
    return service.decide(dave, taskId, request);
  };
  const approved = await decideAll(one.id, one.requiredApprovals, { action: 'approve', reason: 'a real duplicate, label right' });
  assert.equal(approved.settled, true);
  assert.equal((await store.samples.get('mail', one.sampleId))?.status, 'accepted');
  const rejected = await decideAll(two.id, two.requiredApprovals, { action: 'reject', reason: 'conflicting copy' });
  assert.equal(rejected.sampleId, null);
  assert.equal((await store.samples.get('mail', two.sampleId))?.status, 'rejected');
  const old = await store.samples.get('mail', three.sampleId);
  const newLabel = old?.label === 'spam' ? 'ham' : 'spam';
  const relabelled = await decideAll(three.id, three.requiredApprovals, { action: 'relabel', newLabel, reason: 'the text is plainly the other class' });
  const fresh = await store.samples.get('mail', relabelled.sampleId ?? '');
  assert.equal(fresh?.label, newLabel);
  assert.equal(fresh?.contentId, old?.contentId);
  // A new sample whose parent is the old one — or, when the dataset already held this content
  // under the new label (a conflicting copy's twin), that sample, accepted as it is.
  assert.ok(fresh?.parentId === three.sampleId || fresh?.parentId === null);
  assert.equal(fresh?.status, 'accepted');
  assert.equal((await store.samples.get('mail', three.sampleId))?.status, 'rejected');
  await assert.rejects(service.decide(dave, one.id, { action: 'reject', reason: 'late' }), isCode('SERVICE_CONFLICT'));

  // Release: the accepted samples, relabels applied, signed and logged; a trainer pulls and verifies.
  const erin = await access.addUser(alice, 'erin');
  await access.grant(alice, { principal: 'erin', role: 'trainer', datasetId: 'mail' });
  await assert.rejects(service.release(erin, 'mail'), isCode('ACCESS_DENIED'));
  const released = await service.release(alice, 'mail');
  const acceptedNow = (await store.samples.countByStatus('mail')).accepted;
  assert.equal(released.sampleCount, acceptedNow);
  await assert.rejects(service.pull(bob, released.snapshotId, join(dir, 'bob-pull')), isCode('ACCESS_DENIED'));
  const pulled = await service.pull(erin, released.snapshotId, join(dir, 'pull'));
  const verified = await verifySnapshot(pulled.snapshotDir, vkey, { dataPath: pulled.dataFile });
  assert.equal(verified.dataChecked, true);
  assert.equal(verified.sampleCount, acceptedNow);
  const releasedRows = readFileSync(pulled.dataFile, 'utf8').trim().split('\n').slice(1);
  assert.equal(releasedRows.length, acceptedNow);
  assert.ok(releasedRows.some((r) => r.includes(newLabel) && r.includes(',')), 'the relabelled row is released under its new label');
  const second = await service.release(alice, 'mail');
  const statement = JSON.parse(readFileSync(join(dir, 'snapshots', second.snapshotId, 'statement.json'), 'utf8')) as { predicate: { parent: { envelopeSha256: string } | null } };
  assert.ok(statement.predicate.parent !== null, 'a later release names its parent');

  // Provenance: the datasets, the batch (once, despite the retry) and the scan are logged.
  const size = Number((await latestCheckpoint(ledger)).split('\n')[1]);
  const kinds: string[] = [];
  for (let i = 0; i < size; i++) kinds.push((await verifyReceiptFile(await proveEntry(ledger, i), vkey)).entry?.kind ?? '');
  const reviews = kinds.filter((k) => k === 'review').length;
  assert.equal(reviews, one.requiredApprovals + two.requiredApprovals + three.requiredApprovals);
  assert.deepEqual(kinds.filter((k) => k !== 'review').sort(), ['batch', 'dataset', 'dataset', 'scan', 'snapshot', 'snapshot']);
});

test('one upload sent twice at once (a client retrying on a timeout) is stored once; the other answer is a replay', async (t) => {
  const world = await openWorld();
  t.after(() => world.close());
  const { access, service, store } = world;
  const alice = await access.bootstrapAdmin('alice');
  await service.createDataset(alice, { id: 'mail', name: 'Mail', labels: ['spam', 'ham'] });
  const bytes = Buffer.from(mailCsv(3));
  // Both requests pass the key lookup before either commits; the second's insert meets the first's batch.
  const twice = await Promise.all([1, 2].map(() => service.ingest(alice, { datasetId: 'mail', source: 'crawl', format: 'csv', bytes, idempotencyKey: 'upload-race' })));
  assert.equal(twice[0]?.batch.id, twice[1]?.batch.id);
  assert.equal(twice[0]?.jobId, twice[1]?.jobId);
  assert.deepEqual(twice.map((r) => r.replayed).sort(), [false, true]);
  assert.deepEqual(twice.map((r) => r.inserted).sort((a, b) => a - b), [0, twice[0]?.batch.sampleCount]);
  assert.equal((await store.batches.list('mail')).length, 1);
  // Another upload under the same key is still a conflict, not a replay.
  await assert.rejects(service.ingest(alice, { datasetId: 'mail', source: 'crawl', format: 'csv', bytes: Buffer.from(mailCsv(1)), idempotencyKey: 'upload-race' }), isCode('SERVICE_CONFLICT'));
});

test('a Parquet dataset is released as JSON Lines that re-derive its accepted sample ids, and verifies after a pull', async (t) => {
  const world = await openWorld();
  t.after(() => world.close());
  const { dir, store, queue, service, access, vkey } = world;
  const alice = await access.bootstrapAdmin('alice');
  // Nothing short of certainty is quarantined here: this test is about the release, not the scan.
  await service.createDataset(alice, { id: 'pq', name: 'Parquet mail', labels: ['spam', 'ham'], settings: { quarantineScore: 1 } });
  const n = 80;
  const upload = Buffer.from(parquetWriteBuffer({
    columnData: [
      { name: 'id', data: Array.from({ length: n }, (_, i) => `m${i}`), type: 'STRING' },
      { name: 'label', data: Array.from({ length: n }, (_, i) => (i < 40 ? 'spam' : 'ham')), type: 'STRING' },
      { name: 'text', data: Array.from({ length: n }, (_, i) => (i < 40 ? `buy cheap pills now limited offer number ${i}` : `meeting notes for the project review number ${i}`)), type: 'STRING' },
      // float32 and int64 cells: the two the JSON form must carry exactly as the reader sees them.
      { name: 'score', data: Array.from({ length: n }, (_, i) => Math.fround(i / 10)), type: 'FLOAT' },
      { name: 'count', data: Array.from({ length: n }, (_, i) => BigInt(i * 1000)), type: 'INT64' },
    ],
  }));
  const pushed = await service.ingest(alice, { datasetId: 'pq', source: 'export', format: 'parquet', bytes: upload });
  assert.equal(pushed.inserted, n);
  await queue.idle({ timeoutMs: 120_000 });
  assert.equal((await store.batches.get(pushed.batch.id))?.status, 'scanned');
  const accepted = (await store.samples.countByStatus('pq')).accepted;
  assert.ok(accepted > 0);

  const released = await service.release(alice, 'pq');
  assert.equal(released.sampleCount, accepted);
  const pulled = await service.pull(alice, released.snapshotId, join(dir, 'pq-pull'));
  assert.ok(pulled.dataFile.endsWith('.jsonl'), pulled.dataFile);
  const verified = await verifySnapshot(pulled.snapshotDir, vkey, { dataPath: pulled.dataFile });
  assert.equal(verified.dataChecked, true);
  assert.equal(verified.sampleCount, accepted);
  const rows = readFileSync(pulled.dataFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; score: number; count: number });
  assert.equal(rows.length, accepted);
  // Every released row carries its float32 as the shortest decimal and its int64 as a number.
  for (const r of rows) {
    const i = Number(r.id.slice(1));
    assert.equal(r.count, i * 1000);
    assert.equal(Math.fround(r.score), Math.fround(i / 10));
    assert.ok(String(r.score).length <= 4, `score ${r.score} is the shortest decimal`);
  }

  // A CSV batch with another header cannot join the Parquet one in a release (one file).
  const csvRows = Array.from({ length: 20 }, (_, i) => (i < 10 ? `x${i},spam,buy cheap pills now limited offer ${i}` : `x${i},ham,meeting notes for the project review ${i}`));
  await service.ingest(alice, { datasetId: 'pq', source: 'crawl', format: 'csv', bytes: Buffer.from(`id,label,text\n${csvRows.join('\n')}\n`) });
  await queue.idle({ timeoutMs: 120_000 });
  assert.equal((await store.samples.countByStatus('pq')).accepted, accepted + 20);
  await assert.rejects(service.release(alice, 'pq'), (err: unknown) => (err as { code?: string }).code === 'SERVICE_CONFLICT' && /another format or header/.test((err as Error).message));
});

test('an image dataset is released as a zip of class folders that verifies after a pull; a mixed dataset is refused', async (t) => {
  const world = await openWorld();
  t.after(() => world.close());
  const { dir, store, queue, service, access, vkey } = world;
  const alice = await access.bootstrapAdmin('alice');
  await service.createDataset(alice, { id: 'shapes', name: 'Shapes', labels: ['dark', 'light'], settings: { quarantineScore: 1 } });
  const entries: Record<string, Uint8Array> = {};
  for (let i = 0; i < 12; i++) {
    for (const [label, base] of [['dark', 30], ['light', 220]] as const) {
      entries[`shapes/${label}/${i}.png`] = await sharp(Buffer.alloc(16 * 16, base + i), { raw: { width: 16, height: 16, channels: 1 } }).png().toBuffer();
    }
  }
  const pushed = await service.ingest(alice, { datasetId: 'shapes', source: 'camera', format: 'images', bytes: Buffer.from(zipSync(entries)) });
  assert.equal(pushed.inserted, 24);
  await queue.idle({ timeoutMs: 120_000 });
  const accepted = (await store.samples.countByStatus('shapes')).accepted;
  assert.ok(accepted >= 2, `accepted ${accepted}`);

  const released = await service.release(alice, 'shapes');
  assert.equal(released.sampleCount, accepted);
  const pulled = await service.pull(alice, released.snapshotId, join(dir, 'shapes-pull'));
  assert.ok(pulled.dataFile.endsWith('.zip'), pulled.dataFile);
  const verified = await verifySnapshot(pulled.snapshotDir, vkey, { dataPath: pulled.dataFile });
  assert.deepEqual([verified.dataChecked, verified.sampleCount], [true, accepted]);
  const names = Object.keys(unzipSync(readFileSync(pulled.dataFile)));
  assert.equal(names.length, accepted);
  for (const name of names) assert.match(name, /^(dark|light)\/b_[0-9a-f]+-\d+\.png$/);
  // Each image is in its label's folder: the dark ones (bytes 30–41) under dark/.
  const zip = unzipSync(readFileSync(pulled.dataFile));
  for (const [name, bytes] of Object.entries(zip)) {
    const { data } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    assert.equal(name.startsWith('dark/'), (data[0] ?? 0) < 128, name);
  }

  // A table batch in an image dataset: the release would not be one file.
  await service.ingest(alice, { datasetId: 'shapes', source: 'notes', format: 'csv', bytes: Buffer.from(`id,label,text\n${Array.from({ length: 20 }, (_, i) => `n${i},${i < 10 ? 'dark' : 'light'},note number ${i} about ${i < 10 ? 'night' : 'day'}`).join('\n')}\n`) });
  await queue.idle({ timeoutMs: 120_000 });
  assert.ok((await store.samples.countByStatus('shapes')).accepted > accepted);
  await assert.rejects(service.release(alice, 'shapes'), (err: unknown) => (err as { code?: string }).code === 'SERVICE_CONFLICT' && /mixes image batches/.test((err as Error).message));
});
