// Guards against: tokens that are not 256 random bits, a format whose id cannot be split off
// without scanning, and secret comparisons that are not constant-time (== on strings stops at the
// first differing character) or that skip the comparison for unknown ids (a timing oracle for
// which token ids exist).
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { AccessControl } from './access-control.ts';
import { AccessError } from './errors.ts';
import { MemoryAccessStore } from './state.ts';
import { issueToken, parseToken, secretMatches } from './tokens.ts';

test('issued tokens: tg_<24 hex id>_<43 base64url chars = 256 bits>, all different, hash of the secret part', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const t = issueToken();
    const parsed = parseToken(t.token);
    assert.ok(parsed !== undefined, t.token);
    assert.equal(parsed.id, t.id);
    assert.equal(Buffer.from(parsed.secret, 'base64url').length, 32);
    assert.equal(t.secretSha256, crypto.createHash('sha256').update(parsed.secret).digest('hex'));
    assert.ok(!seen.has(parsed.secret) && !seen.has(t.id));
    seen.add(parsed.secret).add(t.id);
  }
});

test('parseToken rejects anything but the exact format', () => {
  const good = issueToken().token;
  for (const bad of ['', good.slice(0, -1), `${good}A`, good.replace('tg_', 'tg-'), good.replace('tg_', 'TG_'), ` ${good}`, good.replace(/_/, '__')]) {
    assert.equal(parseToken(bad), undefined, bad);
  }
});

test('secretMatches: right secret only; an unknown or damaged stored hash never matches', () => {
  const t = issueToken();
  const secret = parseToken(t.token)?.secret ?? '';
  assert.equal(secretMatches(secret, t.secretSha256), true);
  assert.equal(secretMatches(secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A'), t.secretSha256), false);
  assert.equal(secretMatches(secret, undefined), false);
  assert.equal(secretMatches(secret, t.secretSha256.slice(0, 62)), false);
  assert.equal(secretMatches(secret, 'zz'.repeat(32)), false);
});

test('authenticate compares 32-byte digests with crypto.timingSafeEqual, also for unknown ids and malformed tokens', async () => {
  const ac = new AccessControl({ store: new MemoryAccessStore() });
  const root = await ac.bootstrapAdmin('root');
  const { token } = await ac.createToken(root, { name: 't' });
  const spy = mock.method(crypto, 'timingSafeEqual');
  syncBuiltinESMExports(); // make the named import in tokens.ts see the spy
  try {
    const presented = [token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'), `tg_${'0'.repeat(24)}${token.slice(27)}`, 'garbage'];
    for (const p of presented) {
      await assert.rejects(ac.authenticate(p), (err: unknown) => err instanceof AccessError && err.code === 'ACCESS_UNAUTHENTICATED');
    }
    await ac.authenticate(token);
    assert.equal(spy.mock.callCount(), presented.length + 1);
    for (const call of spy.mock.calls) {
      const [a, b] = call.arguments as [Uint8Array, Uint8Array];
      assert.equal(a.length, 32);
      assert.equal(b.length, 32);
    }
  } finally {
    spy.mock.restore();
    syncBuiltinESMExports();
  }
});
