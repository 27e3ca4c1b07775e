// Guards against: access control behaving differently on the service database than on the file
// and memory stores — a duplicate name or a missing token surfacing as a database error instead of
// the access code, or grants, tokens and deny-by-default not working over PGlite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessControl } from '../src/access/index.ts';
import { openStore } from '../src/store/index.ts';
import { accessStoreOnDb } from '../src/app/index.ts';

const isCode = (code: string) => (err: unknown): boolean => (err as { code?: string }).code === code;

test('AccessControl over the database store: the access contract and its error codes', async () => {
  const store = await openStore({ kind: 'pglite' });
  try {
    const access = new AccessControl({ store: accessStoreOnDb(store) });
    const alice = await access.bootstrapAdmin('alice');
    const bob = await access.addUser(alice, 'bob');
    await assert.rejects(access.addUser(alice, 'bob'), isCode('ACCESS_EXISTS'));
    await assert.rejects(access.revokeToken(alice, '0'.repeat(24)), isCode('ACCESS_NOT_FOUND'));
    await access.grant(alice, { principal: 'bob', role: 'contributor', datasetId: 'mail' });
    assert.equal((await access.authorize(bob, 'batch:push', 'mail')).allowed, true);
    assert.equal((await access.authorize(bob, 'batch:push', 'other')).allowed, false);
    assert.equal((await access.authorize(bob, 'sample:read', 'mail')).allowed, false);
    const { token, info } = await access.createToken(bob, { name: 'ci' });
    assert.equal((await access.authenticate(token)).id, bob.id);
    await access.revokeToken(alice, info.id);
    await assert.rejects(access.authenticate(token), isCode('ACCESS_UNAUTHENTICATED'));
    const denied = await access.events(alice, { kinds: ['denied'] });
    assert.equal(denied.length, 2);
  } finally {
    await store.close();
  }
});
