// Guards against: a batch being judged alone when the dataset already holds accepted data — a few
// poisoned copies of trusted samples, pushed in a batch of their own, would pass — and a scan with
// context touching samples outside its batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mailCsv, openWorld } from './fixtures/service-world.ts';

test('a batch is scanned beside the accepted data: copies of trusted samples under another label are quarantined', async (t) => {
  const world = await openWorld();
  t.after(() => world.close());
  const { access, service, store } = world;
  const alice = await access.bootstrapAdmin('alice');
  const bob = await access.addUser(alice, 'bob');
  await access.grant(alice, { principal: 'bob', role: 'contributor', datasetId: 'mail' });
  await service.createDataset(alice, { id: 'mail', name: 'Mail', labels: ['spam', 'ham'] });

  await service.ingest(bob, { datasetId: 'mail', source: 'archive', format: 'csv', bytes: Buffer.from(mailCsv(0)) });
  await world.queue.idle({ timeoutMs: 120_000 });
  const before = await store.samples.countByStatus('mail');
  assert.equal(before.accepted, 80, 'the clean batch is accepted whole');

  // Alone this batch is one label, nothing to compare: every flag must come from the context.
  const rows = ['id,label,text'];
  for (let i = 0; i < 5; i++) rows.push(`p${i},ham,buy cheap pills now limited offer number ${i}`);
  for (let i = 0; i < 5; i++) rows.push(`c${i},ham,meeting notes for the project review number ${100 + i}`);
  const poisoned = await service.ingest(bob, { datasetId: 'mail', source: 'partner', format: 'csv', bytes: Buffer.from(`${rows.join('\n')}\n`) });
  await world.queue.idle({ timeoutMs: 120_000 });

  const scan = (await store.scans.ofBatch(poisoned.batch.id))[0];
  assert.ok(scan !== undefined);
  assert.equal((scan.stats as { context: number }).context, 80, 'scanned beside the 80 accepted samples');
  const mine = await store.samples.ofBatch(poisoned.batch.id);
  const quarantined = mine.filter((s) => s.status === 'quarantined').map((s) => s.externalId).sort();
  assert.deepEqual(quarantined, ['p0', 'p1', 'p2', 'p3', 'p4']);
  assert.ok(mine.filter((s) => s.externalId?.startsWith('c')).every((s) => s.status === 'accepted'));
  const after = await store.samples.countByStatus('mail');
  assert.equal(after.accepted, 85, 'the accepted context kept its status');
  const findings = await store.scans.findingsOfScan(scan.id);
  assert.ok(findings.every((f) => mine.some((s) => s.id === f.sampleId)), 'findings only on the batch');
});
