// Runs the store behaviour suite on embedded PGlite and on PostgreSQL, and checks what opening
// refuses: a second process on one PGlite directory, an unreachable server (named by host:port,
// never with its password).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from './store.ts';
import { isStoreError, storeSuite } from './store-suite.ts';
import type { StoreTarget, TestDatabase } from './store-suite.ts';

const POSTGRES_URL = process.env.TRAINGUARD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const pglite: StoreTarget = {
  name: 'PGlite',
  sharedOpen: false,
  async database(): Promise<TestDatabase> {
    const dir = await mkdtemp(join(tmpdir(), 'tg-store-'));
    const dataDir = join(dir, 'db');
    return {
      open: () => openStore({ kind: 'pglite', dataDir }),
      drop: () => rm(dir, { recursive: true, force: true }),
    };
  },
};

/** Each database is a fresh schema `tg_test_<random>` on the test server, dropped afterwards. */
const postgres: StoreTarget = {
  name: 'PostgreSQL',
  sharedOpen: true,
  async database(): Promise<TestDatabase> {
    const schema = `tg_test_${randomBytes(6).toString('hex')}`;
    await admin(`create schema ${schema}`);
    return {
      open: () => openStore({ kind: 'postgres', url: POSTGRES_URL, schema, poolSize: 4 }),
      drop: () => admin(`drop schema ${schema} cascade`),
    };
  },
};

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function postgresReachable(): Promise<boolean> {
  try {
    await admin('select 1');
    return true;
  } catch {
    return false;
  }
}

storeSuite(pglite);

if (await postgresReachable()) {
  storeSuite(postgres);
} else if (process.env.CI !== undefined) {
  test('PostgreSQL is reachable in CI', () => {
    assert.fail(`no PostgreSQL at ${new URL(POSTGRES_URL).host}: CI must run the store suite on PostgreSQL`);
  });
} else {
  test('store suite on PostgreSQL', { skip: `no PostgreSQL at ${new URL(POSTGRES_URL).host}; set TRAINGUARD_TEST_DATABASE_URL or start one` }, () => undefined);
}

test('a second opener of a PGlite directory in use is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tg-store-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'db');
  const store = await openStore({ kind: 'pglite', dataDir });
  try {
    await assert.rejects(openStore({ kind: 'pglite', dataDir }), isStoreError('STORE_UNAVAILABLE'));
  } finally {
    await store.close();
  }
});

test('an unreachable PostgreSQL is STORE_UNAVAILABLE naming host:port, never the password; a missing schema or a non-postgres URL is STORE_BAD_INPUT', async () => {
  await assert.rejects(openStore({ kind: 'postgres', url: 'postgres://tg:s3cret-pw@127.0.0.1:9/tg' }), (err: unknown) => {
    isStoreError('STORE_UNAVAILABLE')(err);
    const message = (err as Error).message;
    assert.match(message, /127\.0\.0\.1:9/);
    assert.doesNotMatch(message, /s3cret-pw/);
    return true;
  });
  if (await postgresReachable()) {
    await assert.rejects(openStore({ kind: 'postgres', url: POSTGRES_URL, schema: 'tg_no_such_schema' }), isStoreError('STORE_BAD_INPUT'));
  }
  await assert.rejects(openStore({ kind: 'postgres', url: 'mysql://tg:s3cret-pw@host/db' }), (err: unknown) => {
    isStoreError('STORE_BAD_INPUT')(err);
    assert.doesNotMatch((err as Error).message, /s3cret-pw/);
    return true;
  });
});
