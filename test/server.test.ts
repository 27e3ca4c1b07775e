// Guards against: the HTTP API letting a request through without a token or outside its role,
// answering errors as anything but {code, message} with the right status, losing the idempotency
// of batch pushes, or the OpenAPI document missing routes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildServer } from '../src/server/index.ts';
import { mailCsv, openWorld } from './fixtures/service-world.ts';

test('the API: token auth, roles, errors, ingest → review → release over HTTP, OpenAPI', async (t) => {
  const world = await openWorld();
  const app = await buildServer({ service: world.service, access: world.access });
  t.after(async () => {
    await app.close();
    await world.close();
  });
  const { access } = world;
  const alice = await access.bootstrapAdmin('alice');
  await access.addUser(alice, 'bob');
  await access.addUser(alice, 'carol');
  await access.grant(alice, { principal: 'bob', role: 'contributor', datasetId: 'mail' });
  await access.grant(alice, { principal: 'carol', role: 'reviewer', datasetId: 'mail' });
  const tokenOf = async (name: string): Promise<string> => (await access.createToken(alice, { name: 'test', principal: name })).token;
  const [aliceToken, bobToken, carolToken] = [await tokenOf('alice'), await tokenOf('bob'), await tokenOf('carol')];
  const auth = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  const spec = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { openapi: string; paths: Record<string, unknown> };
  assert.equal(spec.openapi, '3.0.3');
  for (const path of ['/api/datasets', '/api/datasets/{id}', '/api/datasets/{id}/batches', '/api/datasets/{id}/review', '/api/review/{id}/decision', '/api/datasets/{id}/snapshots']) {
    assert.ok(path in spec.paths, `OpenAPI lacks ${path}`);
  }

  const none = await app.inject({ method: 'POST', url: '/api/datasets', payload: { id: 'mail', name: 'Mail', labels: ['spam', 'ham'] } });
  assert.equal(none.statusCode, 401);
  assert.equal(none.json().code, 'ACCESS_UNAUTHENTICATED');
  const forged = await app.inject({ method: 'GET', url: '/api/datasets/mail', headers: auth(`${bobToken}x`) });
  assert.equal(forged.statusCode, 401);
  const denied = await app.inject({ method: 'POST', url: '/api/datasets', headers: auth(bobToken), payload: { id: 'mail', name: 'Mail', labels: ['spam', 'ham'] } });
  assert.equal(denied.statusCode, 403);
  assert.equal(denied.json().code, 'ACCESS_DENIED');
  const bad = await app.inject({ method: 'POST', url: '/api/datasets', headers: auth(aliceToken), payload: { id: 'mail', labels: 'spam' } });
  assert.equal(bad.statusCode, 400);
  assert.equal((await app.inject({ method: 'POST', url: '/api/datasets', headers: auth(aliceToken), payload: { id: 'mail', name: 'Mail', labels: ['spam', 'ham'] } })).statusCode, 201);
  assert.equal((await app.inject({ method: 'POST', url: '/api/datasets', headers: auth(aliceToken), payload: { id: 'mail', name: 'Mail', labels: ['spam', 'ham'] } })).statusCode, 409);

  const push = (headers: Record<string, string>, url = '/api/datasets/mail/batches?source=crawl') => app.inject({ method: 'POST', url, headers: { ...headers, 'content-type': 'text/csv' }, payload: mailCsv(3) });
  const first = await push({ ...auth(bobToken), 'idempotency-key': 'u1' });
  assert.equal(first.statusCode, 201, first.body);
  const replay = await push({ ...auth(bobToken), 'idempotency-key': 'u1' });
  assert.equal(replay.statusCode, 200);
  assert.equal(replay.json().batch.id, first.json().batch.id);
  assert.equal((await push(auth(carolToken))).statusCode, 403);
  const wrongType = await app.inject({ method: 'POST', url: '/api/datasets/mail/batches?source=crawl', headers: { ...auth(bobToken), 'content-type': 'text/plain' }, payload: 'x' });
  assert.equal(wrongType.statusCode, 415);
  const badCsv = await app.inject({ method: 'POST', url: '/api/datasets/mail/batches?source=crawl', headers: { ...auth(bobToken), 'content-type': 'text/csv' }, payload: 'id,label,text\n1,eggs,x\n' });
  assert.equal(badCsv.statusCode, 400);
  assert.equal(badCsv.json().code, 'SERVICE_BAD_INPUT');

  await world.queue.idle({ timeoutMs: 120_000 });
  const overview = (await app.inject({ method: 'GET', url: '/api/datasets/mail', headers: auth(bobToken) })).json() as { samples: { accepted: number; quarantined: number }; openReviews: number };
  assert.equal(overview.samples.accepted + overview.samples.quarantined, 83);
  assert.equal((await app.inject({ method: 'GET', url: '/api/datasets/mail/review', headers: auth(bobToken) })).statusCode, 403, 'contributors do not read findings');
  const queue = (await app.inject({ method: 'GET', url: '/api/datasets/mail/review?limit=2', headers: auth(carolToken) })).json() as { tasks: { id: string; requiredApprovals: number; findings: unknown[] }[]; next: string | null };
  assert.equal(queue.tasks.length, 2);
  assert.ok(queue.tasks.every((task) => task.findings.length > 0), 'each task carries its evidence');
  const task = queue.tasks[0]!;
  const decided = await app.inject({ method: 'POST', url: `/api/review/${task.id}/decision`, headers: auth(carolToken), payload: { action: 'reject', reason: 'conflicting copy' } });
  assert.equal(decided.statusCode, 200, decided.body);
  assert.equal(decided.json().agreeing, 1);
  const twice = await app.inject({ method: 'POST', url: `/api/review/${task.id}/decision`, headers: auth(carolToken), payload: { action: 'reject', reason: 'again' } });
  assert.equal(twice.statusCode, 409, twice.body);

  const release = await app.inject({ method: 'POST', url: '/api/datasets/mail/snapshots', headers: auth(aliceToken) });
  assert.equal(release.statusCode, 201, release.body);
  assert.equal(release.json().sampleCount, overview.samples.accepted, 'a rejected sample was quarantined, never accepted');
  assert.equal((await app.inject({ method: 'GET', url: '/nope', headers: auth(aliceToken) })).json().code, 'HTTP_NOT_FOUND');
});
