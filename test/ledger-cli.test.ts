// Guards against: the provenance log not working end to end from the command line — keys, init,
// durable appends with exact de-duplication, receipts that verify offline, a verifier that lets a
// log move on without proof of consistency, and tampered receipts or wrong keys passing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'tg-ledger-'));

function cli(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/trainguard.js'), ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, NO_COLOR: '1' }, ...(input === undefined ? {} : { input }) });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const ok = (r: { code: number; stderr: string }): void => assert.equal(r.code, 0, r.stderr);

test('key → log init → append → prove → verify, with state and consistency', () => {
  ok(cli(['key', 'generate', 'example.com/tg-log', '--out', 'log']));
  ok(cli(['key', 'generate', 'example.com/other', '--out', 'other']));
  assert.match(readFileSync(join(dir, 'log.vkey'), 'utf8'), /^example\.com\/tg-log\+[0-9a-f]{8}\+/);
  const again = cli(['key', 'generate', 'example.com/tg-log', '--out', 'log']);
  assert.equal(again.code, 2, 'keys are never overwritten');

  const init = cli(['log', 'init', 'ledger', '--key', 'log.key']);
  ok(init);
  assert.match(init.stdout, /^example\.com\/tg-log\n0\n/);

  const batch = [
    { kind: 'source', body: { id: 'a'.repeat(64), sha256: 'b'.repeat(64) }, idempotencyKey: 'src-1' },
    { kind: 'review', body: { sample: 'c'.repeat(64), decision: 'accept', reviewer: 'alice' } },
    { kind: 'source', body: { id: 'a'.repeat(64), sha256: 'b'.repeat(64) }, idempotencyKey: 'src-1' },
  ];
  const appended = cli(['log', 'append', 'ledger', '--key', 'log.key'], batch.map((e) => JSON.stringify(e)).join('\n'));
  ok(appended);
  assert.deepEqual(JSON.parse(appended.stdout), { indices: [0, 1, 0], size: 2 });

  ok(cli(['log', 'prove', 'ledger', '--index', '1', '-o', 'r1.tlog-proof']));
  const v1 = cli(['log', 'verify', 'r1.tlog-proof', '--vkey', 'log.vkey', '--state', 'state']);
  ok(v1);
  assert.match(v1.stdout, /OK entry 1 of example\.com\/tg-log \(tree size 2\): review; state new/);

  // Wrong key, tampered proof, tampered entry: each fails with its own code.
  const wrongKey = cli(['log', 'verify', 'r1.tlog-proof', '--vkey', 'other.vkey']);
  assert.equal(wrongKey.code, 2);
  assert.match(wrongKey.stderr, /LEDGER_UNVERIFIED|LEDGER_BAD_SIGNATURE/);
  const receipt = readFileSync(join(dir, 'r1.tlog-proof'), 'utf8');
  const lines = receipt.split('\n');
  const proofLine = lines.findIndex((l) => /^[A-Za-z0-9+/]{43}=$/.test(l));
  const flipped = [...lines];
  flipped[proofLine] = (flipped[proofLine]!.startsWith('A') ? 'B' : 'A') + flipped[proofLine]!.slice(1);
  writeFileSync(join(dir, 'bad-proof'), flipped.join('\n'));
  const badProof = cli(['log', 'verify', 'bad-proof', '--vkey', 'log.vkey']);
  assert.equal(badProof.code, 2);
  assert.match(badProof.stderr, /LEDGER_BAD_PROOF/);
  const extra = lines.findIndex((l) => l.startsWith('extra '));
  const forged = [...lines];
  forged[extra] = `extra ${Buffer.from('trainguard/v1/review\n{"decision":"reject"}').toString('base64')}`;
  writeFileSync(join(dir, 'forged'), forged.join('\n'));
  const badEntry = cli(['log', 'verify', 'forged', '--vkey', 'log.vkey']);
  assert.equal(badEntry.code, 2);
  assert.match(badEntry.stderr, /LEDGER_BAD_PROOF/);

  // The log grows: a newer receipt is accepted only with a consistency proof.
  ok(cli(['log', 'append', 'ledger', '--key', 'log.key'], JSON.stringify({ kind: 'snapshot', body: { root: 'd'.repeat(64), samples: 3 } })));
  ok(cli(['log', 'prove', 'ledger', '--index', '2', '-o', 'r2.tlog-proof']));
  const noProof = cli(['log', 'verify', 'r2.tlog-proof', '--vkey', 'log.vkey', '--state', 'state']);
  assert.equal(noProof.code, 2);
  assert.match(noProof.stderr, /LEDGER_UNVERIFIED/);
  const advanced = cli(['log', 'verify', 'r2.tlog-proof', '--vkey', 'log.vkey', '--state', 'state', '--log', 'ledger']);
  ok(advanced);
  assert.match(advanced.stdout, /state advanced/);
  const consistency = cli(['log', 'consistency', 'ledger', '--from', '2']);
  ok(consistency);
  assert.match(consistency.stdout, /^old 2 .+\nnew 3 .+\n/);
});

test('hostile input to the log commands fails with a code, and nothing stored is lost', () => {
  ok(cli(['key', 'generate', 'example.com/h', '--out', 'h']));
  ok(cli(['log', 'init', 'hlog', '--key', 'h.key']));
  ok(cli(['log', 'append', 'hlog', '--key', 'h.key'], JSON.stringify({ kind: 'source', body: { id: 'x' } })));
  for (const bad of ['not json', JSON.stringify({ kind: 'Bad Kind', body: {} }), JSON.stringify({ kind: 'source', body: [1] }), JSON.stringify({ kind: 'source', body: { blob: 'x'.repeat(70000) } })]) {
    const r = cli(['log', 'append', 'hlog', '--key', 'h.key'], bad);
    assert.equal(r.code, 2, bad.slice(0, 40));
  }
  const prove = cli(['log', 'prove', 'hlog', '--index', '5']);
  assert.equal(prove.code, 2);
  assert.match(cli(['log', 'checkpoint', 'hlog']).stdout, /^example\.com\/h\n1\n/);
  const garbage = cli(['log', 'verify', 'h.vkey', '--vkey', 'h.vkey']);
  assert.equal(garbage.code, 2);
  assert.match(garbage.stderr, /LEDGER_BAD_RECEIPT/);
});

test('snapshot create → verify; a flipped byte in the data, manifest, envelope, sample list, proof or checkpoint fails with the check that caught it', () => {
  ok(cli(['key', 'generate', 'example.com/snap', '--out', 'snap']));
  ok(cli(['log', 'init', 'snaplog', '--key', 'snap.key']));
  // Earlier entries, so the snapshot's inclusion proof is not empty.
  ok(cli(['log', 'append', 'snaplog', '--key', 'snap.key'], [1, 2, 3].map((i) => JSON.stringify({ kind: 'source', body: { n: i } })).join('\n')));
  const rows = ['id,label,source,text', ...Array.from({ length: 40 }, (_, i) => `${i},${i % 2 === 0 ? 'spam' : 'ham'},${i % 3 === 0 ? 'crawl' : 'vendor'},message number ${i}`)];
  writeFileSync(join(dir, 'data.csv'), rows.join('\n') + '\n');
  const created = cli(['snapshot', 'create', 'data.csv', '--dataset', 'mail', '--key', 'snap.key', '--log', 'snaplog', '-o', 'snap-mail']);
  ok(created);
  assert.equal(JSON.parse(created.stdout).sampleCount, 40);
  const good = cli(['verify', 'snap-mail', '--vkey', 'snap.vkey', '--data', 'data.csv']);
  ok(good);
  assert.match(good.stdout, /OK snapshot of mail: 40 samples, 1 files \(data checked\)/);
  const statement = JSON.parse(readFileSync(join(dir, 'snap-mail', 'statement.json'), 'utf8')) as { predicate: { sources: Record<string, number> } };
  assert.deepEqual(statement.predicate.sources, { crawl: 14, vendor: 26 });

  const flip = (file: string, find: RegExp, expected: RegExp, args: string[] = []): void => {
    const path = join(dir, file);
    const before = readFileSync(path, 'utf8');
    const m = find.exec(before);
    assert.ok(m !== null, `${file}: nothing to flip`);
    const at = m.index + m[0].length - 1;
    const c = before[at]!;
    writeFileSync(path, before.slice(0, at) + (c === 'a' ? 'b' : 'a') + before.slice(at + 1));
    const r = cli(['verify', 'snap-mail', '--vkey', 'snap.vkey', ...args]);
    writeFileSync(path, before);
    assert.equal(r.code, 2, `${file}: ${r.stdout}`);
    assert.match(r.stderr, expected, file);
  };
  flip('data.csv', /message number 7/, /LEDGER_SNAPSHOT_MISMATCH.*data\.csv/, ['--data', 'data.csv']);
  flip('snap-mail/statement.json', /"mail"/, /LEDGER_SNAPSHOT_MISMATCH/);
  flip('snap-mail/envelope.json', /"payload":"[A-Za-z0-9+/]{20}/, /LEDGER_BAD_(SIGNATURE|ENVELOPE|STATEMENT)|LEDGER_UNVERIFIED/);
  flip('snap-mail/samples.txt', /[0-9a-f]{64}/, /LEDGER_SNAPSHOT_MISMATCH/);
  flip('snap-mail/receipt.tlog-proof', /\nindex \d+\n[A-Za-z0-9+/]/, /LEDGER_BAD_(RECEIPT|PROOF)/);
  flip('snap-mail/receipt.tlog-proof', /\n\nexample\.com\/snap\n\d+\n[A-Za-z0-9+/]{10}/, /LEDGER_(BAD_SIGNATURE|UNVERIFIED|BAD_CHECKPOINT|BAD_NOTE)/);
  ok(cli(['verify', 'snap-mail', '--vkey', 'snap.vkey', '--data', 'data.csv']));

  // One file against the snapshot: the same bytes pass (also renamed), changed bytes fail.
  const one = cli(['verify', 'data.csv', '--snapshot', 'snap-mail', '--vkey', 'snap.vkey']);
  ok(one);
  assert.match(one.stdout, /OK data\.csv is data\.csv of snapshot mail \(sha256 [0-9a-f]{64}\)/);
  writeFileSync(join(dir, 'copy.csv'), readFileSync(join(dir, 'data.csv')));
  ok(cli(['verify', 'copy.csv', '--snapshot', 'snap-mail', '--vkey', 'snap.vkey']));
  writeFileSync(join(dir, 'copy.csv'), rows.join('\n'));
  const other = cli(['verify', 'copy.csv', '--snapshot', 'snap-mail', '--vkey', 'snap.vkey']);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /LEDGER_SNAPSHOT_MISMATCH.*copy\.csv .*is not one of the snapshot's 1 files/);
  const notReceipt = cli(['verify', 'data.csv', '--vkey', 'snap.vkey']);
  assert.notEqual(notReceipt.code, 0);
  assert.match(notReceipt.stderr, /CLI_USAGE[\s\S]*--snapshot/);
});

test('a witness cosigns a receipt; a policy with a quorum accepts it only then', () => {
  ok(cli(['key', 'generate', 'example.com/wlog', '--out', 'wlog']));
  ok(cli(['key', 'generate', 'witness.example/w1', '--out', 'w1']));
  ok(cli(['log', 'init', 'wl', '--key', 'wlog.key']));
  ok(cli(['log', 'append', 'wl', '--key', 'wlog.key'], JSON.stringify({ kind: 'source', body: { n: 1 } })));
  ok(cli(['log', 'prove', 'wl', '--index', '0', '-o', 'w.tlog-proof']));
  const logVkey = readFileSync(join(dir, 'wlog.vkey'), 'utf8').trim();
  const shown = cli(['key', 'show', 'w1.vkey']);
  ok(shown);
  const witnessVkey = /^witness vkey (\S+)$/m.exec(shown.stdout)?.[1] ?? '';
  writeFileSync(join(dir, 'policy'), `# one log, one witness\nlog ${logVkey}\nwitness W1 ${witnessVkey}\nquorum W1\n`);
  const before = cli(['log', 'verify', 'w.tlog-proof', '--policy', 'policy']);
  assert.equal(before.code, 2);
  assert.match(before.stderr, /LEDGER_UNVERIFIED.*quorum/);
  ok(cli(['log', 'cosign', 'w.tlog-proof', '--key', 'w1.key', '--log-vkey', 'wlog.vkey']));
  const after = cli(['log', 'verify', 'w.tlog-proof', '--policy', 'policy']);
  ok(after);
  assert.match(after.stdout, /OK entry 0 of example\.com\/wlog/);
  // A witness refuses to cosign what the log did not sign.
  const forged = cli(['log', 'cosign', 'w.tlog-proof', '--key', 'w1.key', '--log-vkey', 'w1.vkey', '-o', 'x']);
  assert.equal(forged.code, 2);
});

test('serve-tiles serves the checkpoint and tiles read-only, and nothing else', async () => {
  const { serveTiles } = await import('../src/app/index.ts');
  const server = await serveTiles(join(dir, 'ledger'), { port: 0, host: '127.0.0.1' });
  try {
    const cp = await fetch(`${server.url}checkpoint`);
    assert.equal(cp.status, 200);
    assert.equal(await cp.text(), readFileSync(join(dir, 'ledger', 'checkpoint'), 'utf8'));
    const tile = await fetch(`${server.url}tile/0/000.p/3`);
    assert.equal(tile.status, 200);
    assert.equal((await tile.arrayBuffer()).byteLength, 3 * 32);
    assert.match(tile.headers.get('cache-control') ?? '', /immutable/);
    const bundle = await fetch(`${server.url}tile/entries/000.p/3`);
    assert.equal(bundle.status, 200);
    for (const path of ['LOCK', '%2e%2e/%2e%2e/etc/passwd', 'tile/0/000.p/300', 'tile/0/001']) {
      assert.equal((await fetch(`${server.url}${path}`)).status, 404, path);
    }
    assert.equal((await fetch(`${server.url}checkpoint`, { method: 'POST' })).status, 405);
  } finally {
    await server.close();
  }
});
