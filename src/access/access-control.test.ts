// Guards against: a role that can do more (or less) than the permission table says, a grant that
// leaks to another dataset, a dataset admin managing users or granting globally, a disabled
// principal or revoked grant that still works, tokens whose secret reaches the store or whose
// failures can be told apart, weak or non-argon2id password hashes, and grants, revocations or
// denied attempts that leave no event. Every test runs against both stores.
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessControl } from './access-control.ts';
import type { AccessEvents } from './access-control.ts';
import { AccessError } from './errors.ts';
import type { AccessErrorCode } from './errors.ts';
import { FileAccessStore } from './file-store.ts';
import type { AccessEvent, Principal } from './model.ts';
import { PERMISSIONS, ROLES } from './permissions.ts';
import type { Permission } from './permissions.ts';
import { MemoryAccessStore } from './state.ts';
import type { AccessStore } from './store.ts';

interface Opened {
  readonly store: AccessStore;
  /** Everything the store holds, as text, to search for secrets. */
  dump(): Promise<string>;
  cleanup(): Promise<void>;
}

const IMPLEMENTATIONS: readonly { readonly name: string; open(): Promise<Opened> }[] = [
  {
    name: 'MemoryAccessStore',
    async open() {
      const store = new MemoryAccessStore();
      const dump = (): Promise<string> => store.read(async (r) => {
        const principals = await r.principals();
        const passwords = await Promise.all(principals.map((p) => r.password(p.id)));
        return JSON.stringify([principals, passwords, await r.tokens(), await r.grants(), await r.events()]);
      });
      return { store, dump, cleanup: async () => undefined };
    },
  },
  {
    name: 'FileAccessStore',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'tg-access-'));
      const store = await FileAccessStore.open(dir);
      return {
        store,
        dump: () => readFile(join(dir, 'access.json'), 'utf8'),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
];

const T0 = Date.parse('2025-03-01T12:00:00.000Z');
const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const PASSWORD = 'correct horse battery staple';

interface World extends Opened {
  readonly ac: AccessControl;
  readonly root: Principal;
  /** Events the listener heard. */
  readonly heard: AccessEvent[];
  readonly clock: { t: number };
}

async function world(impl: (typeof IMPLEMENTATIONS)[number], t: TestContext, sink?: AccessEvents): Promise<World> {
  const opened = await impl.open();
  t.after(opened.cleanup);
  const heard: AccessEvent[] = [];
  const clock = { t: T0 };
  const ac = new AccessControl({
    store: opened.store,
    now: () => new Date(clock.t),
    listener: sink ?? { record: (e) => void heard.push(e) },
  });
  const root = await ac.bootstrapAdmin('root');
  return { ...opened, ac, root, heard, clock };
}

function isCode(code: AccessErrorCode): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof AccessError, `expected AccessError ${code}, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

/**
 * The permission table as it must be, written out. Columns: a grant of the role on dataset ds-a,
 * checked on ds-a | on ds-b | with no dataset; a global grant of the role, checked on ds-a | with no
 * dataset. x = allowed. A change to ROLE_PERMISSIONS or PERMISSIONS must be mirrored here.
 */
const EXPECTED_MATRIX = `
  admin        dataset:create         .  .  .   x  x
  admin        dataset:read-metadata  x  .  .   x  x
  admin        dataset:configure      x  .  .   x  x
  admin        batch:push             x  .  .   x  x
  admin        report:read            x  .  .   x  x
  admin        finding:read           x  .  .   x  x
  admin        sample:read            x  .  .   x  x
  admin        review:decide          x  .  .   x  x
  admin        snapshot:create        x  .  .   x  x
  admin        snapshot:pull          x  .  .   x  x
  admin        log:read               x  .  .   x  x
  admin        grant:read             x  .  .   x  x
  admin        grant:manage           x  .  .   x  x
  admin        user:read              .  .  .   x  x
  admin        user:manage            .  .  .   x  x
  admin        key:rotate             .  .  .   x  x
  admin        access:read-events     .  .  .   x  x
  admin        token:create-own       x  x  x   x  x

  curator      dataset:create         .  .  .   x  x
  curator      dataset:read-metadata  x  .  .   x  x
  curator      dataset:configure      x  .  .   x  x
  curator      batch:push             .  .  .   .  .
  curator      report:read            x  .  .   x  x
  curator      finding:read           x  .  .   x  x
  curator      sample:read            x  .  .   x  x
  curator      review:decide          x  .  .   x  x
  curator      snapshot:create        x  .  .   x  x
  curator      snapshot:pull          x  .  .   x  x
  curator      log:read               x  .  .   x  x
  curator      grant:read             x  .  .   x  x
  curator      grant:manage           .  .  .   .  .
  curator      user:read              .  .  .   .  .
  curator      user:manage            .  .  .   .  .
  curator      key:rotate             .  .  .   .  .
  curator      access:read-events     .  .  .   .  .
  curator      token:create-own       x  x  x   x  x

  contributor  dataset:create         .  .  .   .  .
  contributor  dataset:read-metadata  x  .  .   x  x
  contributor  dataset:configure      .  .  .   .  .
  contributor  batch:push             x  .  .   x  x
  contributor  report:read            x  .  .   x  x
  contributor  finding:read           .  .  .   .  .
  contributor  sample:read            .  .  .   .  .
  contributor  review:decide          .  .  .   .  .
  contributor  snapshot:create        .  .  .   .  .
  contributor  snapshot:pull          .  .  .   .  .
  contributor  log:read               x  .  .   x  x
  contributor  grant:read             .  .  .   .  .
  contributor  grant:manage           .  .  .   .  .
  contributor  user:read              .  .  .   .  .
  contributor  user:manage            .  .  .   .  .
  contributor  key:rotate             .  .  .   .  .
  contributor  access:read-events     .  .  .   .  .
  contributor  token:create-own       x  x  x   x  x

  reviewer     dataset:create         .  .  .   .  .
  reviewer     dataset:read-metadata  x  .  .   x  x
  reviewer     dataset:configure      .  .  .   .  .
  reviewer     batch:push             .  .  .   .  .
  reviewer     report:read            x  .  .   x  x
  reviewer     finding:read           x  .  .   x  x
  reviewer     sample:read            x  .  .   x  x
  reviewer     review:decide          x  .  .   x  x
  reviewer     snapshot:create        .  .  .   .  .
  reviewer     snapshot:pull          .  .  .   .  .
  reviewer     log:read               x  .  .   x  x
  reviewer     grant:read             .  .  .   .  .
  reviewer     grant:manage           .  .  .   .  .
  reviewer     user:read              .  .  .   .  .
  reviewer     user:manage            .  .  .   .  .
  reviewer     key:rotate             .  .  .   .  .
  reviewer     access:read-events     .  .  .   .  .
  reviewer     token:create-own       x  x  x   x  x

  trainer      dataset:create         .  .  .   .  .
  trainer      dataset:read-metadata  x  .  .   x  x
  trainer      dataset:configure      .  .  .   .  .
  trainer      batch:push             .  .  .   .  .
  trainer      report:read            x  .  .   x  x
  trainer      finding:read           .  .  .   .  .
  trainer      sample:read            .  .  .   .  .
  trainer      review:decide          .  .  .   .  .
  trainer      snapshot:create        .  .  .   .  .
  trainer      snapshot:pull          x  .  .   x  x
  trainer      log:read               x  .  .   x  x
  trainer      grant:read             .  .  .   .  .
  trainer      grant:manage           .  .  .   .  .
  trainer      user:read              .  .  .   .  .
  trainer      user:manage            .  .  .   .  .
  trainer      key:rotate             .  .  .   .  .
  trainer      access:read-events     .  .  .   .  .
  trainer      token:create-own       x  x  x   x  x

  auditor      dataset:create         .  .  .   .  .
  auditor      dataset:read-metadata  x  .  .   x  x
  auditor      dataset:configure      .  .  .   .  .
  auditor      batch:push             .  .  .   .  .
  auditor      report:read            x  .  .   x  x
  auditor      finding:read           .  .  .   .  .
  auditor      sample:read            .  .  .   .  .
  auditor      review:decide          .  .  .   .  .
  auditor      snapshot:create        .  .  .   .  .
  auditor      snapshot:pull          .  .  .   .  .
  auditor      log:read               x  .  .   x  x
  auditor      grant:read             x  .  .   x  x
  auditor      grant:manage           .  .  .   .  .
  auditor      user:read              .  .  .   x  x
  auditor      user:manage            .  .  .   .  .
  auditor      key:rotate             .  .  .   .  .
  auditor      access:read-events     .  .  .   x  x
  auditor      token:create-own       x  x  x   x  x
`;

/** The table's rows, whitespace-normalised, blank lines dropped. */
function rows(table: string): string[] {
  return table.split('\n').map((l) => l.trim().split(/\s+/).join(' ')).filter((l) => l.length > 0);
}

for (const impl of IMPLEMENTATIONS) {
  describe(impl.name, () => {
    test('the access matrix: every role × permission × scope is exactly the table written out', async (t) => {
      const w = await world(impl, t);
      const actual: string[] = [];
      for (const role of ROLES) {
        const scoped = await w.ac.addUser(w.root, `${role}-ds`);
        const global = await w.ac.addUser(w.root, `${role}-global`);
        await w.ac.grant(w.root, { principal: scoped.name, role, datasetId: 'ds-a' });
        await w.ac.grant(w.root, { principal: global.name, role });
        for (const permission of Object.keys(PERMISSIONS) as Permission[]) {
          const checks = [
            w.ac.authorize(scoped, permission, 'ds-a'),
            w.ac.authorize(scoped, permission, 'ds-b'),
            w.ac.authorize(scoped, permission),
            w.ac.authorize(global, permission, 'ds-a'),
            w.ac.authorize(global, permission, null),
          ];
          const marks = (await Promise.all(checks)).map((d) => (d.allowed ? 'x' : '.'));
          actual.push([role, permission, ...marks].join(' '));
        }
      }
      assert.deepEqual(actual, rows(EXPECTED_MATRIX));
    });

    test('an allowed decision names the grant; a dataset grant is preferred to a global one', async (t) => {
      const w = await world(impl, t);
      const bob = await w.ac.addUser(w.root, 'bob');
      await w.ac.grant(w.root, { principal: 'bob', role: 'reviewer' });
      await w.ac.grant(w.root, { principal: 'bob', role: 'reviewer', datasetId: 'ds-a' });
      const onA = await w.ac.authorize(bob, 'review:decide', 'ds-a');
      assert.equal(onA.reason, 'granted');
      assert.equal(onA.matchedGrant?.datasetId, 'ds-a');
      assert.equal((await w.ac.authorize(bob, 'review:decide', 'ds-b')).matchedGrant?.datasetId, null);
      assert.equal((await w.ac.assertAllowed(bob, 'sample:read', 'ds-a')).role, 'reviewer');
    });

    test('deny by default: no grants, disabled principal, unknown permission, revoked grant, unknown principal', async (t) => {
      const w = await world(impl, t);
      const bob = await w.ac.addUser(w.root, 'bob');
      for (const permission of Object.keys(PERMISSIONS) as Permission[]) {
        for (const ds of ['ds-a', null]) {
          assert.deepEqual(await w.ac.authorize(bob, permission, ds), { allowed: false, reason: 'no-grant' });
        }
      }

      await w.ac.grant(w.root, { principal: 'bob', role: 'contributor', datasetId: 'ds-a' });
      assert.equal((await w.ac.authorize(bob, 'batch:push', 'ds-a')).allowed, true);
      assert.deepEqual(await w.ac.authorize(bob, 'batch:push', 'ds-b'), { allowed: false, reason: 'out-of-scope' });
      await w.ac.disableUser(w.root, 'bob');
      // `bob` is the stale object that still says disabled: false; the store's flag wins.
      assert.deepEqual(await w.ac.authorize(bob, 'batch:push', 'ds-a'), { allowed: false, reason: 'principal-disabled' });
      await w.ac.enableUser(w.root, 'bob');
      assert.equal((await w.ac.authorize(bob, 'batch:push', 'ds-a')).allowed, true);

      for (const unknown of ['dataset:delete', 'BATCH:PUSH', '', 'constructor', 'toString']) {
        assert.deepEqual(await w.ac.authorize(w.root, unknown as Permission, 'ds-a'), { allowed: false, reason: 'unknown-permission' });
      }

      await w.ac.revoke(w.root, { principal: 'bob', role: 'contributor', datasetId: 'ds-a' });
      assert.deepEqual(await w.ac.authorize(bob, 'batch:push', 'ds-a'), { allowed: false, reason: 'no-grant' });

      const ghost: Principal = { ...w.root, id: 'p_000000000000000000000000', name: 'ghost' };
      assert.deepEqual(await w.ac.authorize(ghost, 'log:read', 'ds-a'), { allowed: false, reason: 'unknown-principal' });
      await assert.rejects(w.ac.listUsers(ghost), isCode('ACCESS_DENIED'));

      await assert.rejects(w.ac.assertAllowed(bob, 'batch:push', 'ds-a'), (err: unknown) => {
        assert.ok(err instanceof AccessError && err.code === 'ACCESS_DENIED');
        assert.match(err.hint ?? '', /ds-a.*contributor/);
        return true;
      });
    });

    test('granting needs grant:manage on that scope; granting twice is a no-op; revoking a missing grant fails', async (t) => {
      const w = await world(impl, t);
      const dsAdmin = await w.ac.addUser(w.root, 'ds-admin');
      await w.ac.addUser(w.root, 'bob');
      await w.ac.grant(w.root, { principal: 'ds-admin', role: 'admin', datasetId: 'ds-a' });

      const first = await w.ac.grant(dsAdmin, { principal: 'bob', role: 'reviewer', datasetId: 'ds-a' });
      const seqBefore = (await w.ac.events(w.root)).length;
      const again = await w.ac.grant(dsAdmin, { principal: 'bob', role: 'reviewer', datasetId: 'ds-a' });
      assert.deepEqual(again, first);
      assert.equal((await w.ac.events(w.root)).length, seqBefore, 'a repeated grant records nothing');

      await assert.rejects(w.ac.grant(dsAdmin, { principal: 'bob', role: 'reviewer', datasetId: 'ds-b' }), isCode('ACCESS_DENIED'));
      await assert.rejects(w.ac.grant(dsAdmin, { principal: 'bob', role: 'reviewer' }), isCode('ACCESS_DENIED'));
      await assert.rejects(w.ac.grant(dsAdmin, { principal: 'ds-admin', role: 'admin' }), isCode('ACCESS_DENIED'));
      // A dataset admin may hand out any role on its own dataset, admin included.
      await w.ac.grant(dsAdmin, { principal: 'bob', role: 'admin', datasetId: 'ds-a' });
      // ... but gets nothing global from it.
      await assert.rejects(w.ac.addUser(dsAdmin, 'carol'), isCode('ACCESS_DENIED'));
      await assert.rejects(w.ac.listUsers(dsAdmin), isCode('ACCESS_DENIED'));

      await assert.rejects(w.ac.revoke(dsAdmin, { principal: 'bob', role: 'trainer', datasetId: 'ds-a' }), isCode('ACCESS_NOT_FOUND'));
      await assert.rejects(w.ac.grant(w.root, { principal: 'nobody', role: 'trainer' }), isCode('ACCESS_NOT_FOUND'));
      await assert.rejects(w.ac.grant(w.root, { principal: 'bob', role: 'owner' as 'admin' }), isCode('ACCESS_BAD_INPUT'));
      await assert.rejects(w.ac.grant(w.root, { principal: 'bob', role: 'trainer', datasetId: '../etc' }), isCode('ACCESS_BAD_INPUT'));
      const removed = await w.ac.revoke(dsAdmin, { principal: 'bob', role: 'reviewer', datasetId: 'ds-a' });
      assert.deepEqual(removed, first);
      await assert.rejects(w.ac.revoke(dsAdmin, { principal: 'bob', role: 'reviewer', datasetId: 'ds-a' }), isCode('ACCESS_NOT_FOUND'));
    });

    test('listGrants: own grants freely, a dataset\'s (with the global ones) with grant:read there, all with grant:read globally', async (t) => {
      const w = await world(impl, t);
      const bob = await w.ac.addUser(w.root, 'bob');
      const aud = await w.ac.addUser(w.root, 'aud');
      await w.ac.grant(w.root, { principal: 'bob', role: 'trainer', datasetId: 'ds-a' });
      await w.ac.grant(w.root, { principal: 'bob', role: 'trainer', datasetId: 'ds-b' });
      await w.ac.grant(w.root, { principal: 'aud', role: 'auditor', datasetId: 'ds-a' });
      assert.deepEqual((await w.ac.listGrants(bob, { principal: 'bob' })).map((g) => g.datasetId), ['ds-a', 'ds-b']);
      await assert.rejects(w.ac.listGrants(bob, { principal: 'aud' }), isCode('ACCESS_DENIED'));
      const onA = await w.ac.listGrants(aud, { datasetId: 'ds-a' });
      assert.deepEqual(onA.map((g) => [g.principalId, g.role, g.datasetId]), [
        [w.root.id, 'admin', null], [bob.id, 'trainer', 'ds-a'], [aud.id, 'auditor', 'ds-a'],
      ]);
      await assert.rejects(w.ac.listGrants(aud, { datasetId: 'ds-b' }), isCode('ACCESS_DENIED'));
      await assert.rejects(w.ac.listGrants(aud), isCode('ACCESS_DENIED'));
      assert.equal((await w.ac.listGrants(w.root)).length, 4);
    });

    test('bootstrap works once; the last enabled global admin can be neither revoked nor disabled', async (t) => {
      const w = await world(impl, t);
      await assert.rejects(w.ac.bootstrapAdmin('second'), isCode('ACCESS_BOOTSTRAP_CLOSED'));
      await assert.rejects(w.ac.revoke(w.root, { principal: 'root', role: 'admin' }), isCode('ACCESS_LAST_ADMIN'));
      await assert.rejects(w.ac.disableUser(w.root, 'root'), isCode('ACCESS_LAST_ADMIN'));
      assert.equal((await w.ac.authorize(w.root, 'user:manage')).allowed, true, 'the refused change was rolled back');

      const ann = await w.ac.addUser(w.root, 'ann');
      await w.ac.grant(w.root, { principal: 'ann', role: 'admin' });
      await w.ac.disableUser(w.root, 'ann');
      await assert.rejects(w.ac.revoke(w.root, { principal: 'root', role: 'admin' }), isCode('ACCESS_LAST_ADMIN'), 'a disabled admin does not count');
      await w.ac.enableUser(w.root, 'ann');
      await w.ac.revoke(ann, { principal: 'root', role: 'admin' });
      assert.equal((await w.ac.authorize(w.root, 'user:manage')).allowed, false);
    });

    test('principals: names validated and unique, service accounts sign in by token only, only user:manage changes them', async (t) => {
      const w = await world(impl, t);
      for (const bad of ['', 'Alice', 'al ice', 'a\u0000b', 'bob\n', '-bob', 'a'.repeat(65), 'bob\u202e', 'p\u0131a']) {
        await assert.rejects(w.ac.addUser(w.root, bad), isCode('ACCESS_BAD_INPUT'), JSON.stringify(bad));
      }
      const bob = await w.ac.addUser(w.root, 'bob@example.com');
      assert.match(bob.id, /^p_[0-9a-f]{24}$/);
      assert.deepEqual({ ...bob, id: '' }, { id: '', name: 'bob@example.com', kind: 'user', createdAt: new Date(T0).toISOString(), disabled: false });
      await assert.rejects(w.ac.addUser(w.root, 'bob@example.com'), isCode('ACCESS_EXISTS'));
      await assert.rejects(w.ac.createServiceAccount(w.root, 'bob@example.com'), isCode('ACCESS_EXISTS'));
      const ci = await w.ac.createServiceAccount(w.root, 'ci-push');
      assert.equal(ci.kind, 'service');
      await assert.rejects(w.ac.setPassword(w.root, 'ci-push', PASSWORD), isCode('ACCESS_BAD_INPUT'));
      await assert.rejects(w.ac.addUser(bob, 'mallory'), isCode('ACCESS_DENIED'));
      await assert.rejects(w.ac.disableUser(bob, 'root'), isCode('ACCESS_DENIED'));
      await assert.rejects(w.ac.disableUser(w.root, 'nobody'), isCode('ACCESS_NOT_FOUND'));
      assert.deepEqual((await w.ac.listUsers(w.root)).map((p) => p.name), ['bob@example.com', 'ci-push', 'root']);
    });

    test('tokens: shown once, stored only as a SHA-256 of the secret, every failure the same ACCESS_UNAUTHENTICATED', async (t) => {
      const w = await world(impl, t);
      const bob = await w.ac.addUser(w.root, 'bob');
      await w.ac.grant(w.root, { principal: 'bob', role: 'contributor', datasetId: 'ds-a' });
      const { token, info } = await w.ac.createToken(bob, { name: 'ci push' });
      const m = /^tg_([0-9a-f]{24})_([A-Za-z0-9_-]{43})$/.exec(token);
      assert.ok(m !== null, token);
      const [, id = '', secret = ''] = m;
      assert.equal(info.id, id);
      assert.equal(info.expiresAt, new Date(T0 + 90 * DAY).toISOString());
      assert.ok(!('secretSha256' in info));
      const listed = await w.ac.listTokens(bob);
      assert.deepEqual(listed, [info]);

      const stored = await w.dump();
      assert.ok(!stored.includes(secret), 'the store never holds the secret');
      assert.ok(stored.includes(createHash('sha256').update(secret).digest('hex')), 'it holds its SHA-256');

      assert.equal((await w.ac.authenticate(token)).id, bob.id);
      const messages = new Set<string>();
      const expectFailure = async (presented: string): Promise<void> => {
        await assert.rejects(w.ac.authenticate(presented), (err: unknown) => {
          assert.ok(err instanceof AccessError && err.code === 'ACCESS_UNAUTHENTICATED', String(err));
          messages.add(`${err.message}|${err.hint}`);
          return true;
        });
      };
      // wrong secret, unknown id, malformed
      await expectFailure(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'));
      await expectFailure(`tg_${'0'.repeat(24)}_${secret}`);
      for (const malformed of ['', 'tg_short', `Bearer ${token}`, `${token} `, token.toUpperCase()]) await expectFailure(malformed);
      // revoked
      const revoked = await w.ac.createToken(bob, { name: 'revoked' });
      await w.ac.revokeToken(bob, revoked.info.id);
      await expectFailure(revoked.token);
      // expired: valid until the instant before expiresAt
      w.clock.t = T0 + 90 * DAY - 1;
      await w.ac.authenticate(token);
      w.clock.t = T0 + 90 * DAY;
      await expectFailure(token);
      // owner disabled
      w.clock.t = T0;
      const other = await w.ac.createToken(bob, { name: 'owner disabled' });
      await w.ac.disableUser(w.root, 'bob');
      await expectFailure(other.token);
      assert.equal(messages.size, 1, 'one message for every kind of failure');
    });

    test('tokens: lastUsedAt is written at most once an hour', async (t) => {
      const w = await world(impl, t);
      const { token, info } = await w.ac.createToken(w.root, { name: 'ui' });
      assert.equal(info.lastUsedAt, null);
      const lastUsed = async (): Promise<string | null> => (await w.ac.listTokens(w.root))[0]?.lastUsedAt ?? null;
      await w.ac.authenticate(token);
      assert.equal(await lastUsed(), new Date(T0).toISOString());
      w.clock.t = T0 + 59 * MIN;
      await w.ac.authenticate(token);
      assert.equal(await lastUsed(), new Date(T0).toISOString());
      w.clock.t = T0 + 60 * MIN;
      await w.ac.authenticate(token);
      assert.equal(await lastUsed(), new Date(T0 + 60 * MIN).toISOString());
    });

    test('tokens: own tokens need token:create-own, anyone else\'s need user:manage; lifetime and name are checked', async (t) => {
      const w = await world(impl, t);
      const bob = await w.ac.addUser(w.root, 'bob');
      await w.ac.addUser(w.root, 'carol');
      await assert.rejects(w.ac.createToken(bob, { name: 'x' }), isCode('ACCESS_DENIED'), 'no grant, no token');
      await w.ac.grant(w.root, { principal: 'bob', role: 'trainer', datasetId: 'ds-a' });
      const own = await w.ac.createToken(bob, { name: 'laptop' });
      await assert.rejects(w.ac.createToken(bob, { name: 'x', principal: 'carol' }), isCode('ACCESS_DENIED'));
      await assert.rejects(w.ac.listTokens(bob, { principal: 'root' }), isCode('ACCESS_DENIED'));

      const ci = await w.ac.createServiceAccount(w.root, 'ci');
      const forCi = await w.ac.createToken(w.root, { name: 'pipeline', principal: 'ci', expiresInDays: 366 });
      assert.equal(forCi.info.principalId, ci.id);
      assert.equal(forCi.info.createdBy, w.root.id);
      assert.equal((await w.ac.authenticate(forCi.token)).id, ci.id);
      assert.deepEqual((await w.ac.listTokens(w.root, { principal: 'ci' })).map((x) => x.id), [forCi.info.id]);

      await assert.rejects(w.ac.revokeToken(bob, forCi.info.id), isCode('ACCESS_DENIED'));
      await assert.rejects(w.ac.revokeToken(bob, 'f'.repeat(24)), isCode('ACCESS_NOT_FOUND'));
      await assert.rejects(w.ac.revokeToken(bob, own.token), isCode('ACCESS_BAD_INPUT'));
      await w.ac.revokeToken(w.root, own.info.id);
      const before = (await w.ac.events(w.root)).length;
      const twice = await w.ac.revokeToken(bob, own.info.id);
      assert.equal(twice.revokedAt, new Date(T0).toISOString());
      assert.equal((await w.ac.events(w.root)).length, before, 'revoking twice records nothing');

      for (const expiresInDays of [0, 367, 1.5, Number.NaN]) {
        await assert.rejects(w.ac.createToken(w.root, { name: 'x', expiresInDays }), isCode('ACCESS_BAD_INPUT'));
      }
      for (const name of ['', '   ', 'a\nb', 'x'.repeat(101), 'rtl\u202e']) {
        await assert.rejects(w.ac.createToken(w.root, { name }), isCode('ACCESS_BAD_INPUT'));
      }
      await w.ac.disableUser(w.root, 'ci');
      await assert.rejects(w.ac.createToken(w.root, { name: 'x', principal: 'ci' }), isCode('ACCESS_BAD_INPUT'));
    });

    test('passwords: argon2id with OWASP parameters, right and wrong, minimum length, uniform failures', async (t) => {
      const w = await world(impl, t);
      const bob = await w.ac.addUser(w.root, 'bob', { password: PASSWORD });
      const stored = await w.store.read(async (r) => r.password(bob.id));
      assert.match(stored?.hash ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
      assert.ok(!(await w.dump()).includes(PASSWORD));

      assert.equal((await w.ac.verifyPassword('bob', PASSWORD)).id, bob.id);
      for (const [name, password] of [['bob', `${PASSWORD}!`], ['bob', ''], ['nobody', PASSWORD], ['root', PASSWORD]] as const) {
        await assert.rejects(w.ac.verifyPassword(name, password), isCode('ACCESS_UNAUTHENTICATED'), `${name}/${password}`);
      }
      await assert.rejects(w.ac.setPassword(w.root, 'bob', 'fourteen chars'), isCode('ACCESS_WEAK_PASSWORD'));
      await assert.rejects(w.ac.addUser(w.root, 'carol', { password: 'short' }), isCode('ACCESS_WEAK_PASSWORD'));
      await assert.rejects(w.ac.setPassword(bob, 'root', PASSWORD), isCode('ACCESS_DENIED'));

      await assert.rejects(w.ac.changePassword('bob', 'wrong password here', 'a new passphrase of words'), isCode('ACCESS_UNAUTHENTICATED'));
      await w.ac.changePassword('bob', PASSWORD, 'a new passphrase of words');
      await assert.rejects(w.ac.verifyPassword('bob', PASSWORD), isCode('ACCESS_UNAUTHENTICATED'));
      await w.ac.verifyPassword('bob', 'a new passphrase of words');
      await w.ac.disableUser(w.root, 'bob');
      await assert.rejects(w.ac.verifyPassword('bob', 'a new passphrase of words'), isCode('ACCESS_UNAUTHENTICATED'));
    });

    test('events: grants, revocations and denied attempts are recorded with principal, permission, dataset and time', async (t) => {
      const w = await world(impl, t);
      const bob = await w.ac.addUser(w.root, 'bob');
      const from = (await w.ac.events(w.root)).at(-1)?.seq ?? 0;
      w.clock.t = T0 + MIN;
      await w.ac.grant(w.root, { principal: 'bob', role: 'reviewer', datasetId: 'ds-a' });
      w.clock.t = T0 + 2 * MIN;
      await w.ac.authorize(bob, 'snapshot:pull', 'ds-a');
      w.clock.t = T0 + 3 * MIN;
      await assert.rejects(w.ac.grant(bob, { principal: 'bob', role: 'admin' }), isCode('ACCESS_DENIED'));
      w.clock.t = T0 + 4 * MIN;
      await w.ac.revoke(w.root, { principal: 'bob', role: 'reviewer', datasetId: 'ds-a' });

      const at = (m: number): string => new Date(T0 + m * MIN).toISOString();
      const expected: AccessEvent[] = [
        { seq: from + 1, at: at(1), kind: 'grant', actorId: w.root.id, principalId: bob.id, role: 'reviewer', datasetId: 'ds-a' },
        { seq: from + 2, at: at(2), kind: 'denied', principalId: bob.id, permission: 'snapshot:pull', datasetId: 'ds-a', reason: 'no-grant' },
        { seq: from + 3, at: at(3), kind: 'denied', principalId: bob.id, permission: 'grant:manage', datasetId: null, reason: 'no-grant' },
        { seq: from + 4, at: at(4), kind: 'revoke', actorId: w.root.id, principalId: bob.id, role: 'reviewer', datasetId: 'ds-a' },
      ];
      assert.deepEqual(await w.ac.events(w.root, { afterSeq: from }), expected);
      assert.deepEqual(w.heard.slice(-4), expected, 'the listener heard the same events, in order');
      assert.deepEqual((await w.ac.events(w.root, { kinds: ['denied'] })).map((e) => e.seq), [from + 2, from + 3]);
      assert.deepEqual((await w.ac.events(w.root, { afterSeq: from, limit: 1 })).map((e) => e.seq), [from + 1]);
      assert.deepEqual(w.heard.map((e) => e.seq), w.heard.map((_, i) => i + 1), 'every committed event reached the listener');

      await assert.rejects(w.ac.events(bob), isCode('ACCESS_DENIED'));
      const aud = await w.ac.addUser(w.root, 'aud');
      await w.ac.grant(w.root, { principal: 'aud', role: 'auditor' });
      assert.ok((await w.ac.events(aud)).length > 0);
    });

    test('a failing listener: the change stays committed and the error names the event to deliver again', async (t) => {
      let fail = false;
      const heard: AccessEvent[] = [];
      const w = await world(impl, t, {
        record(e) {
          if (fail) throw new Error('ledger unavailable');
          heard.push(e);
        },
      });
      await w.ac.addUser(w.root, 'bob');
      fail = true;
      await assert.rejects(w.ac.grant(w.root, { principal: 'bob', role: 'trainer' }), (err: unknown) => {
        assert.ok(err instanceof AccessError && err.code === 'ACCESS_EVENT_SINK_FAILED');
        assert.match(err.hint ?? '', /afterSeq: 3\b/);
        return true;
      });
      fail = false;
      const pending = await w.ac.events(w.root, { afterSeq: heard.at(-1)?.seq ?? 0 });
      assert.deepEqual(pending.map((e) => e.kind), ['grant']);
      assert.equal((await w.ac.listGrants(w.root, { principal: 'bob' })).length, 1);
    });
  });
}
