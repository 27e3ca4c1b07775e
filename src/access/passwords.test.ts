// Guards against: password hashes that are not argon2id or use weaker parameters than OWASP's,
// reused salts, a length policy that counts UTF-16 units instead of characters, the same password
// typed in two Unicode forms not matching, a damaged hash read as "wrong password", and hashes
// made under old parameters never being upgraded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash, parseOptions } from '@node-rs/argon2';
import { AccessControl } from './access-control.ts';
import { AccessError } from './errors.ts';
import { ARGON2_PARAMS, hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, needsRehash, normalizePassword, verifyPassword } from './passwords.ts';
import { MemoryAccessStore } from './state.ts';

const PASSWORD = 'correct horse battery staple';

function isCode(code: string): (err: unknown) => boolean {
  return (err: unknown) => err instanceof AccessError && err.code === code;
}

test('hashes are argon2id v19 with m=19456 KiB, t=2, p=1 and a fresh 16-byte salt each time', async () => {
  const a = await hashPassword(PASSWORD);
  const b = await hashPassword(PASSWORD);
  assert.ok(a.startsWith('$argon2id$v=19$m=19456,t=2,p=1$'), a);
  assert.notEqual(a, b);
  const p = parseOptions(a);
  assert.deepEqual([p.memoryCost, p.timeCost, p.parallelism, p.saltLen, p.outputLen], [19456, 2, 1, 16, 32]);
  assert.ok(ARGON2_PARAMS.memoryCost >= 19 * 1024 && ARGON2_PARAMS.timeCost >= 2 && ARGON2_PARAMS.parallelism >= 1);
  assert.equal(await verifyPassword(a, PASSWORD), true);
  assert.equal(await verifyPassword(a, `${PASSWORD} `), false);
  assert.equal(await verifyPassword(a, 'x'.repeat(MAX_PASSWORD_LENGTH + 1)), false);
});

test('length is counted in characters after NFKC, from 15 to 1024', async () => {
  assert.equal(MIN_PASSWORD_LENGTH, 15);
  assert.throws(() => normalizePassword('a'.repeat(14)), isCode('ACCESS_WEAK_PASSWORD'));
  assert.equal(normalizePassword('a'.repeat(15)), 'a'.repeat(15));
  assert.equal(normalizePassword('🔑'.repeat(15)).length, 30, '15 characters, 30 UTF-16 units: accepted');
  assert.throws(() => normalizePassword('🔑'.repeat(14)), isCode('ACCESS_WEAK_PASSWORD'));
  assert.throws(() => normalizePassword('a'.repeat(1025)), isCode('ACCESS_WEAK_PASSWORD'));
  // Full-width letters and a decomposed é are the same password as their plain forms.
  const stored = await hashPassword('ｐａｓｓｗｏｒｄ café très long');
  assert.equal(await verifyPassword(stored, 'password cafe\u0301 tre\u0300s long'), true);
});

test('a damaged stored hash is ACCESS_CORRUPT, not a wrong password', async () => {
  await assert.rejects(verifyPassword('$argon2id$v=19$m=19456,t=2,p=1$broken', PASSWORD), isCode('ACCESS_CORRUPT'));
});

test('a hash made with weaker parameters is upgraded at the next successful login', async () => {
  const weak = await hash(PASSWORD, { memoryCost: 4096, timeCost: 1, parallelism: 1 });
  assert.equal(needsRehash(weak), true);
  assert.equal(needsRehash(await hashPassword(PASSWORD)), false);
  const store = new MemoryAccessStore();
  const ac = new AccessControl({ store });
  const root = await ac.bootstrapAdmin('root');
  await store.transaction((tx) => tx.setPassword({ principalId: root.id, hash: weak, setAt: '2025-01-01T00:00:00.000Z' }));
  await assert.rejects(ac.verifyPassword('root', 'not the password at all'), isCode('ACCESS_UNAUTHENTICATED'));
  assert.equal((await store.read((r) => r.password(root.id)))?.hash, weak, 'a failed login changes nothing');
  await ac.verifyPassword('root', PASSWORD);
  const upgraded = (await store.read((r) => r.password(root.id)))?.hash ?? '';
  assert.ok(upgraded.startsWith('$argon2id$v=19$m=19456,t=2,p=1$'), upgraded);
  await ac.verifyPassword('root', PASSWORD);
});
