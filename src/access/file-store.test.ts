// Guards against: a store file others can read (it holds password and token hashes), changes lost
// on reopen or between processes sharing the directory, and a damaged, tampered or deleted file
// that is silently reset or overwritten (an empty store would reopen bootstrap to anyone).
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AccessControl } from './access-control.ts';
import { AccessError } from './errors.ts';
import type { AccessErrorCode } from './errors.ts';
import { ACCESS_FILE, FileAccessStore } from './file-store.ts';

const PASSWORD = 'correct horse battery staple';

function isCode(code: AccessErrorCode): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof AccessError, String(err));
    assert.equal(err.code, code);
    return true;
  };
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tg-access-file-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A store with an admin, a user with a grant and a password, and a token. */
async function populated(dir: string): Promise<{ ac: AccessControl; token: string }> {
  const ac = new AccessControl({ store: await FileAccessStore.open(dir) });
  const root = await ac.bootstrapAdmin('root');
  await ac.addUser(root, 'bob', { password: PASSWORD });
  await ac.grant(root, { principal: 'bob', role: 'contributor', datasetId: 'ds-a' });
  const { token } = await ac.createToken(root, { name: 'admin laptop' });
  return { ac, token };
}

test('the file is 0600 in a 0700 directory, and everything survives reopening', async (t) => {
  const dir = join(await tempDir(t), 'access');
  const { ac, token } = await populated(dir);
  assert.equal((await stat(join(dir, ACCESS_FILE))).mode & 0o777, 0o600);
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  const root = await ac.authenticate(token);

  const reopened = new AccessControl({ store: await FileAccessStore.open(dir) });
  assert.equal((await reopened.authenticate(token)).id, root.id);
  assert.equal((await reopened.verifyPassword('bob', PASSWORD)).name, 'bob');
  assert.deepEqual(await reopened.listGrants(root), await ac.listGrants(root));
  assert.deepEqual(await reopened.events(root), await ac.events(root));
  assert.deepEqual(await reopened.listUsers(root), await ac.listUsers(root));
});

test('two stores on one directory see each other\'s changes and lose none when writing at once', async (t) => {
  const dir = await tempDir(t);
  const a = new AccessControl({ store: await FileAccessStore.open(dir) });
  const root = await a.bootstrapAdmin('root');
  const b = new AccessControl({ store: await FileAccessStore.open(dir) });
  await a.addUser(root, 'from-a');
  assert.deepEqual((await b.listUsers(root)).map((p) => p.name), ['from-a', 'root']);
  const adds = [];
  for (let i = 0; i < 8; i++) adds.push(a.addUser(root, `a${i}`), b.addUser(root, `b${i}`));
  await Promise.all(adds);
  assert.equal((await a.listUsers(root)).length, 18);
  assert.deepEqual(await a.events(root), await b.events(root));
});

test('processes sharing the directory serialise on the lock file', async (t) => {
  const dir = await tempDir(t);
  const ac = new AccessControl({ store: await FileAccessStore.open(dir) });
  const root = await ac.bootstrapAdmin('root');
  const index = fileURLToPath(new URL('./index.ts', import.meta.url));
  const script = join(dir, 'add-users.mts');
  await writeFile(script, [
    `import { AccessControl, FileAccessStore } from ${JSON.stringify(index)};`,
    'const [dir, prefix] = process.argv.slice(2);',
    'const store = await FileAccessStore.open(dir);',
    'const ac = new AccessControl({ store });',
    `const root = await store.read((r) => r.principalByName('root'));`,
    'for (let i = 0; i < 10; i++) await ac.addUser(root, `${prefix}${i}`);',
  ].join('\n'));
  const run = (prefix: string): Promise<number | null> => new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, dir, prefix], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', resolve);
  });
  assert.deepEqual(await Promise.all([run('x'), run('y'), run('z')]), [0, 0, 0]);
  assert.equal((await ac.listUsers(root)).length, 31);
});

test('a damaged or contradictory file is ACCESS_CORRUPT on open and on write, and is left as it was', async (t) => {
  const dir = await tempDir(t);
  const { token } = await populated(dir);
  const path = join(dir, ACCESS_FILE);
  const good = await readFile(path, 'utf8');
  const edit = (f: (file: Record<string, unknown[]>) => void): string => {
    const file = JSON.parse(good) as Record<string, unknown[]>;
    f(file);
    return JSON.stringify(file);
  };
  const damaged: Record<string, string> = {
    'not JSON': 'not json',
    truncated: good.slice(0, good.length / 2),
    empty: '',
    'other format': good.replace('trainguard-access/1', 'trainguard-access/2'),
    'unknown field': edit((f) => { f.extra = []; }),
    'admin flag injected': edit((f) => { Object.assign(f.principals?.[1] as object, { admin: true }); }),
    'unknown role': good.replace('"contributor"', '"superuser"'),
    'grant to a principal that does not exist': edit((f) => { Object.assign(f.grants?.[1] as object, { principalId: 'p_000000000000000000000000' }); }),
    'duplicate name': edit((f) => { Object.assign(f.principals?.[1] as object, { name: 'root' }); }),
    'gap in event numbers': edit((f) => { f.events?.splice(1, 1); }),
    'plaintext password': edit((f) => { Object.assign(f.passwords?.[0] as object, { hash: PASSWORD }); }),
    'bad time': edit((f) => { Object.assign(f.principals?.[0] as object, { createdAt: 'yesterday' }); }),
  };
  const ac = new AccessControl({ store: await FileAccessStore.open(dir) });
  const root = await ac.authenticate(token);
  for (const [what, text] of Object.entries(damaged)) {
    await writeFile(path, text, { mode: 0o600 });
    await assert.rejects(FileAccessStore.open(dir), isCode('ACCESS_CORRUPT'), what);
    // An open store rereads the changed file before every transaction and refuses it too.
    await assert.rejects(ac.addUser(root, 'carol'), isCode('ACCESS_CORRUPT'), what);
    await assert.rejects(ac.authenticate('tg_x'), isCode('ACCESS_CORRUPT'), what);
    assert.equal(await readFile(path, 'utf8'), text, `${what}: the file is not rewritten`);
  }
  await writeFile(path, good, { mode: 0o600 });
  assert.equal((await ac.verifyPassword('bob', PASSWORD)).name, 'bob');
});

test('a file that others may read is refused until it is 0600', async (t) => {
  const dir = await tempDir(t);
  await populated(dir);
  const path = join(dir, ACCESS_FILE);
  for (const mode of [0o644, 0o640, 0o602]) {
    await chmod(path, mode);
    await assert.rejects(FileAccessStore.open(dir), isCode('ACCESS_INSECURE_FILE'));
  }
  await chmod(path, 0o600);
  await FileAccessStore.open(dir);
});

test('a store file that disappears is an error, not a fresh store open to bootstrap', async (t) => {
  const dir = await tempDir(t);
  const { ac } = await populated(dir);
  await unlink(join(dir, ACCESS_FILE));
  await assert.rejects(ac.bootstrapAdmin('mallory'), isCode('ACCESS_CORRUPT'));
});

test('a lock held by a live process ends in ACCESS_LOCKED; one left by a dead process is taken over', async (t) => {
  const dir = await tempDir(t);
  const lock = join(dir, `${ACCESS_FILE}.lock`);
  const ac = new AccessControl({ store: await FileAccessStore.open(dir, { lockTimeoutMs: 150 }) });
  await writeFile(lock, `${process.ppid} held-by-parent\n`);
  await assert.rejects(ac.bootstrapAdmin('root'), isCode('ACCESS_LOCKED'));
  assert.equal(await readFile(lock, 'utf8'), `${process.ppid} held-by-parent\n`, 'a live lock is left alone');

  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  assert.ok(dead !== undefined);
  await writeFile(lock, `${dead} crashed\n`);
  await ac.bootstrapAdmin('root');
  await assert.rejects(stat(lock), (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT');
});
