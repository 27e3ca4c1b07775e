// Guards the key providers: a key file created readable by others or accepted when it is, a damaged
// key file read as if sound, a wrong key reported as corruption (or the reverse), a lifecycle step
// that half-applies, and a passphrase KEK that needs anything but the passphrase to unwrap.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VaultError } from './errors.ts';
import { KeyFileProvider } from './key-file.ts';
import { MemoryBackend } from './memory-backend.ts';
import { PassphraseKeyProvider } from './passphrase.ts';
import { Vault } from './vault.ts';
import { isVaultError } from './vault-suite.ts';

let root = '';
let n = 0;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'tg-vault-keys-test-'));
});
after(() => rmSync(root, { recursive: true, force: true }));
const fresh = (): string => join(root, `k${n++}`, 'keys.json');

/** Cheap scrypt for tests (16 MiB); the default is 2^17. */
const FAST = { logN: 14 };

test('a new key file is created 0600 (whatever the umask) with one active primary key', async () => {
  const path = fresh();
  const umask = process.umask(0o000);
  let keys: KeyFileProvider;
  try {
    keys = await KeyFileProvider.open(path);
  } finally {
    process.umask(umask);
  }
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const ring = await keys.keys();
  assert.equal(ring.length, 1);
  assert.equal(ring[0]?.primary, true);
  assert.equal(ring[0]?.status, 'active');
  assert.match(ring[0]?.id ?? '', /^kek-[0-9a-f]{16}$/);
  assert.deepEqual(await (await KeyFileProvider.open(path)).keys(), ring);
  await keys.createKey();
  assert.equal(statSync(path).mode & 0o777, 0o600); // rewritten files too
});

test('a key file group or others may access is refused, with a chmod hint', async () => {
  const path = fresh();
  await KeyFileProvider.open(path);
  for (const mode of [0o644, 0o640, 0o620, 0o604, 0o601]) {
    chmodSync(path, mode);
    await assert.rejects(KeyFileProvider.open(path), (err: unknown) => {
      assert.ok(err instanceof VaultError && err.code === 'VAULT_KEYFILE_PERMISSIONS', String(err));
      assert.equal(err.hint, `chmod 600 ${path}`);
      assert.equal(err.file, path);
      return true;
    });
  }
  chmodSync(path, 0o600);
  await KeyFileProvider.open(path);
  chmodSync(path, 0o400);
  await KeyFileProvider.open(path); // owner read-only is fine
});

test('a damaged key file is VAULT_KEYFILE_CORRUPT; a missing one, when creation is off, VAULT_NOT_FOUND', async () => {
  const path = fresh();
  await KeyFileProvider.open(path);
  const good = JSON.parse(readFileSync(path, 'utf8')) as { primary: string; keys: { id: string; key: string; status: string }[] };
  const k = good.keys[0];
  assert.ok(k !== undefined);
  const variants: [string, string, string][] = [
    ['not JSON', '{', 'VAULT_KEYFILE_CORRUPT'],
    ['other format', JSON.stringify({ ...good, format: 'x' }), 'VAULT_KEYFILE_CORRUPT'],
    ['newer version', JSON.stringify({ ...good, version: 2 }), 'VAULT_UNSUPPORTED'],
    ['no keys', JSON.stringify({ ...good, keys: [] }), 'VAULT_KEYFILE_CORRUPT'],
    ['short key', JSON.stringify({ ...good, keys: [{ ...k, key: Buffer.alloc(31).toString('base64') }] }), 'VAULT_KEYFILE_CORRUPT'],
    ['non-canonical base64', JSON.stringify({ ...good, keys: [{ ...k, key: `${k.key.slice(0, -2)}==` }] }), 'VAULT_KEYFILE_CORRUPT'],
    ['duplicate ids', JSON.stringify({ ...good, keys: [k, k] }), 'VAULT_KEYFILE_CORRUPT'],
    ['unknown primary', JSON.stringify({ ...good, primary: 'kek-none' }), 'VAULT_KEYFILE_CORRUPT'],
    ['retired primary', JSON.stringify({ ...good, keys: [{ ...k, status: 'retired' }] }), 'VAULT_KEYFILE_CORRUPT'],
    ['bad status', JSON.stringify({ ...good, keys: [{ ...k, status: 'gone' }] }), 'VAULT_KEYFILE_CORRUPT'],
    ['bad id', JSON.stringify({ ...good, primary: 'a b', keys: [{ ...k, id: 'a b' }] }), 'VAULT_KEYFILE_CORRUPT'],
  ];
  for (const [what, text, code] of variants) {
    writeFileSync(path, text, { mode: 0o600 });
    await assert.rejects(KeyFileProvider.open(path), isVaultError(code as 'VAULT_KEYFILE_CORRUPT'), what);
  }
  await assert.rejects(KeyFileProvider.open(fresh(), { create: false }), isVaultError('VAULT_NOT_FOUND'));
});

test('another key file is VAULT_UNKNOWN_KEY; the same id with other bytes is VAULT_WRONG_KEY', async () => {
  const backend = new MemoryBackend();
  const pathA = fresh();
  const { sha256: sha } = await new Vault({ backend, keys: await KeyFileProvider.open(pathA) }).put(Buffer.from('secret'), {});
  const other = new Vault({ backend, keys: await KeyFileProvider.open(fresh()) });
  await assert.rejects(other.getBytes(sha), isVaultError('VAULT_UNKNOWN_KEY', sha));
  await assert.rejects(other.stat(sha), isVaultError('VAULT_UNKNOWN_KEY', sha));

  const doc = JSON.parse(readFileSync(pathA, 'utf8')) as { keys: { key: string }[] };
  const entry = doc.keys[0];
  assert.ok(entry !== undefined);
  entry.key = Buffer.alloc(32, 7).toString('base64');
  const pathC = fresh();
  await KeyFileProvider.open(pathC); // creates the folder
  writeFileSync(pathC, JSON.stringify(doc), { mode: 0o600 });
  const swapped = new Vault({ backend, keys: await KeyFileProvider.open(pathC) });
  await assert.rejects(swapped.getBytes(sha), isVaultError('VAULT_WRONG_KEY', sha));
  // Storing the same content under a ring that cannot read the stored copy is refused, not papered over.
  await assert.rejects(swapped.put(Buffer.from('secret'), {}), isVaultError('VAULT_WRONG_KEY', sha));
});

test('key lifecycle persists; refused steps leave the file unchanged', async () => {
  const path = fresh();
  const keys = await KeyFileProvider.open(path);
  const first = (await keys.keys())[0]?.id ?? '';
  const second = await keys.createKey();
  assert.equal(second.primary, true);
  const before = readFileSync(path, 'utf8');
  await assert.rejects(keys.retireKey(second.id), isVaultError('VAULT_KEY_STATE'));
  await assert.rejects(keys.destroyKey(first), isVaultError('VAULT_KEY_STATE'));
  await assert.rejects(keys.retireKey('kek-ffffffffffffffff'), isVaultError('VAULT_UNKNOWN_KEY'));
  assert.equal(readFileSync(path, 'utf8'), before);
  await keys.retireKey(first);
  const reopened = await KeyFileProvider.open(path);
  assert.deepEqual(
    (await reopened.keys()).map((k) => [k.id, k.status, k.primary]),
    [
      [second.id, 'active', true],
      [first, 'retired', false],
    ],
  );
  await reopened.destroyKey(first);
  assert.deepEqual((await (await KeyFileProvider.open(path)).keys()).map((k) => k.id), [second.id]);
});

test('a passphrase alone unwraps, in a later process with a new salt', async () => {
  const backend = new MemoryBackend();
  const writer = new Vault({ backend, keys: new PassphraseKeyProvider({ passphrase: 'correct horse', scrypt: FAST }) });
  const { sha256: sha } = await writer.put(Buffer.from('under a passphrase'), { dataset: 'p' });
  const reader = new Vault({ backend, keys: new PassphraseKeyProvider({ passphrase: 'correct horse', scrypt: FAST }) });
  assert.equal(Buffer.from(await reader.getBytes(sha)).toString(), 'under a passphrase');
  assert.match((await reader.stat(sha)).kekId, /^pp-[0-9a-f]{16}$/);
  // NFC: a composed and a decomposed "é" are one passphrase.
  const composed = new Vault({ backend, keys: new PassphraseKeyProvider({ passphrase: 'caf\u00e9', scrypt: FAST }) });
  const { sha256: sha2 } = await composed.put(Buffer.from('accent'), {});
  const decomposed = new Vault({ backend, keys: new PassphraseKeyProvider({ passphrase: 'cafe\u0301', scrypt: FAST }) });
  assert.equal(Buffer.from(await decomposed.getBytes(sha2)).toString(), 'accent');
});

test('a wrong passphrase is VAULT_WRONG_KEY; a passphrase change re-wraps every object', async () => {
  const backend = new MemoryBackend();
  const old = new Vault({ backend, keys: new PassphraseKeyProvider({ passphrase: 'old pass', scrypt: FAST }) });
  const shas = [(await old.put(Buffer.from('one'), {})).sha256, (await old.put(Buffer.from('two'), {})).sha256];
  const wrong = new Vault({ backend, keys: new PassphraseKeyProvider({ passphrase: 'guess', scrypt: FAST }) });
  await assert.rejects(wrong.getBytes(shas[0] ?? ''), isVaultError('VAULT_WRONG_KEY', shas[0]));

  const changing = new Vault({ backend, keys: new PassphraseKeyProvider({ passphrase: 'new pass', previous: ['old pass'], scrypt: FAST }) });
  const summary = await changing.rewrap();
  assert.equal(summary.rewrapped, 2);
  assert.deepEqual(summary.failures, []);
  const fresh = new Vault({ backend, keys: new PassphraseKeyProvider({ passphrase: 'new pass', scrypt: FAST }) });
  for (const sha of shas) assert.equal((await fresh.getBytes(sha)).byteLength, 3);
  const stale = new Vault({ backend, keys: new PassphraseKeyProvider({ passphrase: 'old pass', scrypt: FAST }) });
  await assert.rejects(stale.getBytes(shas[1] ?? ''), isVaultError('VAULT_WRONG_KEY'));
  await assert.rejects(fresh.rotate(), isVaultError('VAULT_UNSUPPORTED'));
  await assert.rejects(fresh.retire('pp-0000000000000000'), isVaultError('VAULT_UNSUPPORTED'));
});

test('a rewrap reports objects it cannot unwrap instead of skipping them silently', async () => {
  const backend = new MemoryBackend();
  const a = new Vault({ backend, keys: new PassphraseKeyProvider({ passphrase: 'a pass', scrypt: FAST }) });
  const b = new Vault({ backend, keys: new PassphraseKeyProvider({ passphrase: 'b pass', scrypt: FAST }) });
  const { sha256: shaA } = await a.put(Buffer.from('A'), {});
  await b.put(Buffer.from('B'), {});
  const summary = await b.rewrap();
  assert.equal(summary.rewrapped, 0);
  assert.equal(summary.unchanged, 1);
  assert.deepEqual(
    summary.failures.map((f) => [f.sha256, f.code]),
    [[shaA, 'VAULT_WRONG_KEY']],
  );
});

test('scrypt parameters are bounded when writing and when reading a record', async () => {
  for (const scrypt of [{ logN: 13 }, { logN: 21 }, { r: 0 }, { p: 17 }, { logN: 20, r: 16 }]) {
    assert.throws(() => new PassphraseKeyProvider({ passphrase: 'x', scrypt }), isVaultError('VAULT_BAD_INPUT'), JSON.stringify(scrypt));
  }
  assert.throws(() => new PassphraseKeyProvider({ passphrase: '' }), isVaultError('VAULT_BAD_INPUT'));
  const keys = new PassphraseKeyProvider({ passphrase: 'x', scrypt: FAST });
  const aad = Buffer.from('aad');
  const wrapped = await keys.wrap(Buffer.alloc(32, 1), aad);
  assert.deepEqual(Buffer.from(await keys.unwrap(wrapped, aad)), Buffer.alloc(32, 1));
  const record = Buffer.from(wrapped.record);
  const costly = Buffer.from(record);
  costly[0] = 30; // log2 N = 30 would be 128 GiB of scrypt
  await assert.rejects(keys.unwrap({ ...wrapped, record: costly }, aad), isVaultError('VAULT_CORRUPT'));
  await assert.rejects(keys.unwrap({ kekId: 'pp-0000000000000000', record }, aad), isVaultError('VAULT_CORRUPT'));
  await assert.rejects(keys.unwrap({ ...wrapped, record: record.subarray(1) }, aad), isVaultError('VAULT_CORRUPT'));
  await assert.rejects(keys.unwrap(wrapped, Buffer.from('other aad')), isVaultError('VAULT_CORRUPT'));
});
