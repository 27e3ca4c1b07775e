// Runs the vault behaviour suite on the S3 backend against s3rver, a real S3-compatible server on
// 127.0.0.1 (tamper tests sample every 37th bit: each try is two HTTP round trips), and guards
// against a backend that opens on a bucket it cannot reach or takes a malformed prefix.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { openS3Backend } from './s3-backend.ts';
import type { S3BackendOptions } from './s3-backend.ts';
import { isVaultError, vaultBehaviourSuite } from './vault-suite.ts';

const BUCKET = 'trainguard-vault';
let dir = '';
let server: S3rver | undefined;
let endpoint = '';
let count = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tg-vault-s3-'));
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: BUCKET }] });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
});
after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function options(extra: Partial<S3BackendOptions> = {}): S3BackendOptions {
  return {
    bucket: BUCKET,
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    ...extra,
  };
}

vaultBehaviourSuite({
  name: 's3',
  // Each test gets its own key prefix, so each starts empty.
  open: () => openS3Backend(options({ prefix: `t${count++}/` })),
  disk: () => dir,
  bitStride: 37,
});

test('s3: a missing bucket, a bad prefix and a bad part size are refused', async () => {
  await assert.rejects(openS3Backend(options({ bucket: 'no-such-bucket' })), isVaultError('VAULT_IO'));
  await assert.rejects(openS3Backend(options({ prefix: 'noslash' })), isVaultError('VAULT_BAD_INPUT'));
  await assert.rejects(openS3Backend(options({ partSize: 1024 })), isVaultError('VAULT_BAD_INPUT'));
});
