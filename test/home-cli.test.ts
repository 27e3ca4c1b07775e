// Guards against: the vault and access control not holding together from the command line — a
// role reaching data outside its dataset, a token working after revocation, grants, revocations and
// key rotations missing from the provenance log, plaintext reaching the disk, a rotation touching
// data, and a world-readable key file being used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { proveEntry, verifyReceiptFile, latestCheckpoint } from '../src/app/index.ts';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'tg-home-'));
const home = join(dir, 'home');

function cli(args: string[], options: { input?: string; token?: string } = {}): { code: number; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TRAINGUARD_HOME: home };
  delete env['TRAINGUARD_TOKEN'];
  if (options.token !== undefined) env['TRAINGUARD_TOKEN'] = options.token;
  const r = spawnSync(process.execPath, [join(root, 'bin/trainguard.js'), ...args], { encoding: 'utf8', cwd: dir, env, ...(options.input === undefined ? {} : { input: options.input }) });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const ok = (r: { code: number; stdout: string; stderr: string }): string => {
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
};
const fails = (r: { code: number; stderr: string }, code: RegExp): void => {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, code);
};

/** Every logged entry of the home's log, as {kind, body}, read back through verified receipts. */
async function loggedEntries(): Promise<{ kind: string; body: Record<string, unknown> }[]> {
  const ledger = join(home, 'ledger');
  const size = Number((await latestCheckpoint(ledger)).split('\n')[1]);
  const vkey = readFileSync(join(home, 'log.vkey'), 'utf8');
  const out: { kind: string; body: Record<string, unknown> }[] = [];
  for (let i = 0; i < size; i++) {
    const r = await verifyReceiptFile(await proveEntry(ledger, i), vkey);
    out.push(r.entry as { kind: string; body: Record<string, unknown> });
  }
  return out;
}

function filesUnder(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(d, e.name)) : [join(d, e.name)]));
}

test('users, tokens, grants, the vault and key rotation work end to end, deny by default, and are logged', async () => {
  const marker = 'MARKER-do-not-store-in-plaintext-7f3a';
  const data = `id,label,text\n1,spam,${marker} one\n2,ham,${marker} two\n`;
  writeFileSync(join(dir, 'mail.csv'), data);

  // Nobody yet: acting needs a principal; the first admin is bootstrapped, and only once.
  fails(cli(['user', 'list']), /ACCESS_UNAUTHENTICATED[\s\S]*user add <name> --admin/);
  ok(cli(['user', 'add', 'alice', '--admin']));
  fails(cli(['user', 'add', 'mallory', '--admin']), /ACCESS_BOOTSTRAP_CLOSED/);
  assert.equal(statSync(home).mode & 0o077, 0, 'the home is private');
  assert.equal(statSync(join(home, 'log.key')).mode & 0o077, 0);

  ok(cli(['user', 'add', 'bob', '--as', 'alice']));
  ok(cli(['grant', 'bob', 'contributor', '--dataset', 'mail', '--as', 'alice']));
  fails(cli(['grant', 'bob', 'admin', '--as', 'bob']), /ACCESS_DENIED/);
  const token = ok(cli(['token', 'create', '--name', 'ci push', '--as', 'bob'])).trim();
  assert.match(token, /^tg_[0-9a-f]{24}_/);

  // The contributor pushes to its dataset only, and cannot read back plaintext.
  const put = JSON.parse(ok(cli(['vault', 'put', 'mail.csv', '--dataset', 'mail'], { token }))) as { sha256: string; ciphertextSha256: string };
  fails(cli(['vault', 'put', 'mail.csv', '--dataset', 'other'], { token }), /ACCESS_DENIED/);
  fails(cli(['vault', 'get', put.sha256, '-o', 'out.csv'], { token }), /ACCESS_DENIED/);
  assert.equal(existsSync(join(dir, 'out.csv')), false);
  ok(cli(['grant', 'bob', 'reviewer', '--dataset', 'mail', '--as', 'alice']));
  ok(cli(['vault', 'get', put.sha256, '-o', 'out.csv'], { token }));
  assert.equal(readFileSync(join(dir, 'out.csv'), 'utf8'), data);

  // No plaintext anywhere under the home: vault, keys, access store, log.
  for (const f of filesUnder(home)) assert.equal(readFileSync(f).includes(marker), false, `${f} holds plaintext`);

  // Rotation re-wraps headers only: the body (its SHA-256) is unchanged and still decrypts.
  const before = JSON.parse(ok(cli(['keys', 'list', '--json', '--as', 'alice']))) as { id: string; primary: boolean; objects: number }[];
  assert.equal(before.length, 1);
  fails(cli(['keys', 'rotate'], { token }), /ACCESS_DENIED/);
  const rotated = JSON.parse(ok(cli(['keys', 'rotate', '--as', 'alice']))) as { kekId: string; rewrapped: number };
  assert.equal(rotated.rewrapped, 1);
  const after = JSON.parse(ok(cli(['keys', 'list', '--json', '--as', 'alice']))) as { id: string; primary: boolean; objects: number }[];
  assert.deepEqual(after.map((k) => [k.id === rotated.kekId, k.primary, k.objects]).sort(), [[false, false, 0], [true, true, 1]]);
  ok(cli(['keys', 'retire', before[0]!.id, '--as', 'alice']));
  ok(cli(['vault', 'get', put.sha256, '-o', 'again.csv'], { token }));
  assert.equal(readFileSync(join(dir, 'again.csv'), 'utf8'), data);

  // Revocation and disabling take effect at once.
  ok(cli(['revoke', 'bob', 'reviewer', '--dataset', 'mail', '--as', 'alice']));
  fails(cli(['vault', 'get', put.sha256, '-o', 'x.csv'], { token }), /ACCESS_DENIED/);
  const tokenId = token.split('_')[1]!;
  ok(cli(['token', 'revoke', tokenId, '--as', 'alice']));
  fails(cli(['vault', 'put', 'mail.csv', '--dataset', 'mail'], { token }), /ACCESS_UNAUTHENTICATED/);
  ok(cli(['user', 'disable', 'bob', '--as', 'alice']));
  fails(cli(['vault', 'put', 'mail.csv', '--dataset', 'mail', '--as', 'bob']), /ACCESS_UNAUTHENTICATED/);

  // Denied attempts are in the access audit list; grants, revocations, rotations in the log.
  const denied = ok(cli(['access-events', '--denied', '--as', 'alice'])).trim().split('\n').map((l) => JSON.parse(l) as { permission: string; datasetId: string | null });
  assert.ok(denied.some((e) => e.permission === 'batch:push' && e.datasetId === 'other'));
  assert.ok(denied.some((e) => e.permission === 'key:rotate'));
  const kinds = (await loggedEntries()).map((e) => `${e.kind}:${String(e.body['event'] ?? '')}`);
  for (const k of ['principal:principal-created', 'grant:grant', 'token:token-created', 'object:', 'key-rotation:', 'key-retirement:', 'revoke:revoke', 'token:token-revoked', 'principal:principal-disabled']) {
    assert.ok(kinds.includes(k), `log lacks ${k}: ${kinds.join(', ')}`);
  }
  assert.equal(kinds.filter((k) => k === 'grant:grant').length, 3, 'bootstrap admin + contributor + reviewer');
  assert.ok(!kinds.some((k) => k.includes('denied')), 'denied attempts stay out of the log');
});

test('a key file others can read is refused, and nothing is changed', () => {
  const kek = join(home, 'keys', 'kek.json');
  const bytes = readFileSync(kek);
  chmodSync(kek, 0o644);
  fails(cli(['keys', 'list', '--as', 'alice']), /VAULT_\w+[\s\S]*chmod 600/);
  assert.deepEqual(readFileSync(kek), bytes);
  chmodSync(kek, 0o600);
  ok(cli(['keys', 'list', '--as', 'alice']));
});
