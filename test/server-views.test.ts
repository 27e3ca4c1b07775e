// Guards against: sign-in handing out sessions for wrong passwords or reused one-time codes; the
// review views leaking samples to roles without sample:read; provenance proofs that do not verify;
// pulled snapshots whose bytes differ from what was signed; image archives not ingested or not
// viewable; the web UI's static files escaping their folder or answering API 404s with HTML.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { zipSync } from 'fflate';
import { buildServer } from '../src/server/index.ts';
import type { Principal } from '../src/app/index.ts';
import { mailCsv, openWorld } from './fixtures/service-world.ts';

test('sessions, sample views, provenance, snapshots, admin routes and the web UI over HTTP', async (t) => {
  const world = await openWorld();
  const webRoot = join(world.dir, 'web');
  mkdirSync(join(webRoot, 'assets'), { recursive: true });
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>TrainGuard</title>');
  writeFileSync(join(webRoot, 'assets', 'app-1234.js'), 'console.log(1)');
  writeFileSync(join(world.dir, 'secret.txt'), 'not for the web');
  const { access } = world;
  const alice = await access.bootstrapAdmin('alice', { password: 'correct horse battery staple' });
  const codes = new Map<string, Principal>();
  const app = await buildServer({ service: world.service, access, webRoot, signInCodes: codes });
  t.after(async () => {
    await app.close();
    await world.close();
  });
  const auth = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  // Sign-in: password, wrong password, one-time code used once.
  const wrong = await app.inject({ method: 'POST', url: '/api/session', payload: { name: 'alice', password: 'wrong password entirely' } });
  assert.equal(wrong.statusCode, 401);
  assert.equal(wrong.json().code, 'ACCESS_UNAUTHENTICATED');
  const signed = await app.inject({ method: 'POST', url: '/api/session', payload: { name: 'alice', password: 'correct horse battery staple' } });
  assert.equal(signed.statusCode, 201, signed.body);
  const aliceToken = signed.json().token as string;
  assert.equal((await app.inject({ method: 'GET', url: '/api/me', headers: auth(aliceToken) })).json().name, 'alice');

  for (const name of ['bob', 'carol', 'dave', 'erin']) await access.addUser(alice, name);
  const grant = (principal: string, role: string): Promise<{ statusCode: number }> => app.inject({ method: 'POST', url: '/api/grants', headers: auth(aliceToken), payload: { principal, role, dataset: 'mail' } });
  assert.equal((await grant('bob', 'contributor')).statusCode, 201);
  assert.equal((await grant('carol', 'reviewer')).statusCode, 201);
  assert.equal((await grant('dave', 'curator')).statusCode, 201);
  assert.equal((await grant('erin', 'trainer')).statusCode, 201);
  const carol = (await access.listUsers(alice)).find((p) => p.name === 'carol') as Principal;
  codes.set('one-time-code', carol);
  const byCode = await app.inject({ method: 'POST', url: '/api/session/code', payload: { code: 'one-time-code' } });
  assert.equal(byCode.statusCode, 201);
  assert.equal(byCode.json().principal.name, 'carol');
  assert.equal((await app.inject({ method: 'POST', url: '/api/session/code', payload: { code: 'one-time-code' } })).statusCode, 401, 'a code signs in once');
  const carolToken = byCode.json().token as string;
  const tokenOf = async (name: string): Promise<string> => {
    const r = await app.inject({ method: 'POST', url: '/api/tokens', headers: auth(aliceToken), payload: { name: 'test', principal: name, days: 1 } });
    assert.equal(r.statusCode, 201, r.body);
    return r.json().token as string;
  };
  const [bobToken, daveToken, erinToken] = [await tokenOf('bob'), await tokenOf('dave'), await tokenOf('erin')];
  assert.equal((await app.inject({ method: 'GET', url: '/api/users', headers: auth(bobToken) })).statusCode, 403, 'only admins list users');
  assert.equal((await app.inject({ method: 'GET', url: '/api/users', headers: auth(aliceToken) })).json().users.length, 5);

  // A text dataset and an image dataset.
  await world.service.createDataset(alice, { id: 'mail', name: 'Mail', labels: ['spam', 'ham'] });
  const pushed = await app.inject({ method: 'POST', url: '/api/datasets/mail/batches?source=crawl', headers: { ...auth(bobToken), 'content-type': 'text/csv' }, payload: mailCsv(3) });
  assert.equal(pushed.statusCode, 201, pushed.body);
  await world.queue.idle({ timeoutMs: 120_000 });
  assert.deepEqual((await app.inject({ method: 'GET', url: '/api/datasets', headers: auth(erinToken) })).json().datasets.map((d: { id: string }) => d.id), ['mail']);
  const overview = (await app.inject({ method: 'GET', url: '/api/datasets/mail', headers: auth(carolToken) })).json() as { sources: { name: string; samples: number; flagged: number; flagRate: number }[] };
  assert.equal(overview.sources.length, 1);
  assert.equal(overview.sources[0]?.samples, 83);
  assert.ok((overview.sources[0]?.flagged ?? 0) >= 3, 'the conflicting copies were flagged');

  const queue = (await app.inject({ method: 'GET', url: '/api/datasets/mail/review?limit=50', headers: auth(carolToken) })).json() as { tasks: { id: string; sampleId: string; decisions: unknown[] }[] };
  const task = queue.tasks[0]!;
  const sampleUrl = `/api/datasets/mail/samples/${task.sampleId}`;
  assert.equal((await app.inject({ method: 'GET', url: sampleUrl, headers: auth(erinToken) })).statusCode, 403, 'trainers do not read quarantined content');
  const sample = (await app.inject({ method: 'GET', url: sampleUrl, headers: auth(carolToken) })).json() as { kind: string; text: string; values: Record<string, string>; status: string };
  assert.equal(sample.kind, 'text');
  assert.equal(sample.status, 'quarantined');
  assert.match(sample.text, /buy cheap pills/);
  assert.equal((await app.inject({ method: 'GET', url: '/api/datasets/mail/samples/not-a-sample-id', headers: auth(carolToken) })).statusCode, 400);

  const decided = await app.inject({ method: 'POST', url: `/api/review/${task.id}/decision`, headers: auth(carolToken), payload: { action: 'reject', reason: 'spam text labelled ham' } });
  assert.equal(decided.statusCode, 200, decided.body);
  const prov = (await app.inject({ method: 'GET', url: `${sampleUrl}/provenance`, headers: auth(carolToken) })).json() as {
    batch: { contributor: { name: string }; source: { name: string } }; decisions: { reviewer: { name: string }; action: string }[];
    proofs: { what: string; verified: boolean; receipt: string }[]; logPublicKey: string;
  };
  assert.equal(prov.batch.contributor.name, 'bob');
  assert.equal(prov.batch.source.name, 'crawl');
  assert.deepEqual(prov.decisions.map((d) => [d.reviewer.name, d.action]), [['carol', 'reject']]);
  assert.deepEqual(prov.proofs.map((p) => p.what), ['batch', 'scan', 'review']);
  assert.ok(prov.proofs.every((p) => p.verified), 'every receipt verifies against the log key');

  // Release, then pull over HTTP: the bytes are the signed subject's.
  assert.equal((await app.inject({ method: 'POST', url: '/api/datasets/mail/snapshots', headers: auth(carolToken) })).statusCode, 403, 'reviewers do not release');
  const released = await app.inject({ method: 'POST', url: '/api/datasets/mail/snapshots', headers: auth(daveToken) });
  assert.equal(released.statusCode, 201, released.body);
  const snapshotId = released.json().snapshotId as string;
  const listed = (await app.inject({ method: 'GET', url: '/api/datasets/mail/snapshots', headers: auth(erinToken) })).json() as { snapshots: { id: string }[] };
  assert.deepEqual(listed.snapshots.map((s) => s.id), [snapshotId]);
  const files = (await app.inject({ method: 'GET', url: `/api/snapshots/${snapshotId}`, headers: auth(erinToken) })).json() as { dataFile: { name: string; sha256: string }; files: Record<string, string> };
  assert.ok('envelope.json' in files.files || Object.keys(files.files).length >= 3, Object.keys(files.files).join(','));
  const data = await app.inject({ method: 'GET', url: `/api/snapshots/${snapshotId}/data`, headers: auth(erinToken) });
  assert.equal(data.statusCode, 200);
  assert.equal(createHash('sha256').update(data.rawPayload).digest('hex'), files.dataFile.sha256);
  assert.equal((await app.inject({ method: 'GET', url: `/api/snapshots/${snapshotId}/data`, headers: auth(bobToken) })).statusCode, 403, 'contributors do not pull');
  assert.match((await app.inject({ method: 'GET', url: '/api/log/key', headers: auth(erinToken) })).json().vkey, /\+[0-9a-f]{8}\+/);
  const health = await app.inject({ method: 'GET', url: '/api/health' });
  assert.equal(health.statusCode, 200, 'health needs no token');
  const jobs = (health.json() as { status: string; jobs: Record<string, number> }).jobs;
  assert.deepEqual([health.json().status, Object.keys(jobs).sort()], ['ok', ['active', 'done', 'failed', 'queued']]);
  assert.ok((jobs['done'] ?? 0) >= 1, `the scan jobs run so far are counted: ${JSON.stringify(jobs)}`);

  // An image folder as a zip: ingested, scanned, and each image viewable as PNG.
  await world.service.createDataset(alice, { id: 'shapes', name: 'Shapes', labels: ['dark', 'light'] });
  await access.grant(alice, { principal: 'bob', role: 'contributor', datasetId: 'shapes' });
  await access.grant(alice, { principal: 'carol', role: 'reviewer', datasetId: 'shapes' });
  const entries: Record<string, Uint8Array> = {};
  for (let i = 0; i < 12; i++) {
    for (const [label, base] of [['dark', 30], ['light', 220]] as const) {
      const raw = Buffer.alloc(16 * 16, base + i);
      entries[`shapes/${label}/${i}.png`] = await sharp(raw, { raw: { width: 16, height: 16, channels: 1 } }).png().toBuffer();
    }
  }
  const zip = zipSync(entries);
  const images = await app.inject({ method: 'POST', url: '/api/datasets/shapes/batches?source=camera', headers: { ...auth(bobToken), 'content-type': 'application/zip' }, payload: Buffer.from(zip) });
  assert.equal(images.statusCode, 201, images.body);
  assert.equal(images.json().batch.sampleCount, 24);
  await world.queue.idle({ timeoutMs: 120_000 });
  const someImage = (await world.store.samples.page('shapes', { limit: 1 })).samples[0]!;
  const view = (await app.inject({ method: 'GET', url: `/api/datasets/shapes/samples/${someImage.id}`, headers: auth(carolToken) })).json() as { kind: string; image: { url: string; side: number } };
  assert.equal(view.kind, 'image');
  const png = await app.inject({ method: 'GET', url: view.image.url, headers: auth(carolToken) });
  assert.equal(png.headers['content-type'], 'image/png');
  assert.equal((await sharp(png.rawPayload).metadata()).width, view.image.side);
  const slip = zipSync({ '../evil.png': entries['shapes/dark/0.png'] as Uint8Array });
  const refused = await app.inject({ method: 'POST', url: '/api/datasets/shapes/batches?source=camera', headers: { ...auth(bobToken), 'content-type': 'application/zip' }, payload: Buffer.from(slip) });
  assert.equal(refused.statusCode, 400, refused.body);
  assert.match(refused.json().code, /^DATA_ARCHIVE_/);

  // The web UI: files, the page for any other path, nothing outside its folder, API 404s as JSON.
  const page = await app.inject({ method: 'GET', url: '/review/mail' });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<title>TrainGuard/);
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
  const asset = await app.inject({ method: 'GET', url: '/assets/app-1234.js' });
  assert.equal(asset.body, 'console.log(1)');
  assert.match(String(asset.headers['cache-control']), /immutable/);
  for (const url of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
    assert.doesNotMatch((await app.inject({ method: 'GET', url })).body, /not for the web/, url);
  }
  const apiMiss = await app.inject({ method: 'GET', url: '/api/nothing', headers: auth(aliceToken) });
  assert.equal(apiMiss.statusCode, 404);
  assert.equal(apiMiss.json().code, 'HTTP_NOT_FOUND');
});
