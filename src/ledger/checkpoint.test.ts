// Guards against: checkpoints that parse leniently (leading zeros, sizes past 2^53, non-canonical
// root hashes), a checkpoint accepted on witness cosignatures without the log's own signature,
// cosignatures over the wrong message or with the 0x01 key ID instead of the 0x04 one, and a
// witness cosigning a checkpoint the log did not sign.
import { codeOf } from './test-support.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { LedgerError } from './errors.ts';
import { Ed25519Signer, createNoteVerifier, parseSignerKey, parseVerifierKey } from './keys.ts';
import { formatNote, parseNote, signNote } from './note.ts';
import {
  CosignatureSigner,
  cosignCheckpoint,
  cosignatureMessage,
  createCosignatureVerifier,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  parsePolicy,
  quorumSatisfied,
  signCheckpoint,
  verifyCheckpointWithPolicy,
} from './checkpoint.ts';
import type { Checkpoint } from './checkpoint.ts';

interface E2E {
  log_skey: string;
  log_vkey: string;
  witness_skey: string;
  witness_vkey_ed25519: string;
  witness_vkey_cosignature_v1: string;
  checkpoint_body: string;
  root: string;
  cosignature_timestamp: number;
  cosigned_message: string;
  checkpoint: string;
}
interface CosigFormat {
  signature_line: string;
  decoded: { total_bytes: number; key_id: string; timestamp_u64be: number; ed25519_signature_bytes: number };
}
const VECTORS = new URL('../../../shared/vectors/tlog-vectors.json', import.meta.url);
const vectors = existsSync(VECTORS) ? (JSON.parse(readFileSync(VECTORS, 'utf8')) as { derived_end_to_end: E2E; cosignature_format_example: CosigFormat }) : undefined;
const skip = vectors === undefined ? `vectors file ${VECTORS.pathname} is absent: vector cases skipped` : false;


const logKey = new Ed25519Signer('example.com/log', Uint8Array.from({ length: 32 }, (_, i) => i + 1));
const witKey = new Ed25519Signer('example.com/witness', Uint8Array.from({ length: 32 }, (_, i) => 3 * i));
const ROOT = Uint8Array.from({ length: 32 }, (_, i) => i * 5);
const CP: Checkpoint = { origin: 'example.com/log', size: 12345, rootHash: ROOT, extensions: [] };

test('derived end-to-end: Log checkpoint and Wit1 cosignature verify, and re-signing reproduces them', { skip }, () => {
  const e = (vectors as { derived_end_to_end: E2E }).derived_end_to_end;
  for (const witnessVkey of [e.witness_vkey_cosignature_v1, e.witness_vkey_ed25519]) {
    const opened = openCheckpoint(e.checkpoint, createNoteVerifier(e.log_vkey), { witnesses: [createCosignatureVerifier(witnessVkey)], origin: 'Log' });
    assert.equal(opened.checkpoint.origin, 'Log');
    assert.equal(opened.checkpoint.size, 8);
    assert.equal(Buffer.from(opened.checkpoint.rootHash).toString('hex'), e.root);
    assert.deepEqual(opened.cosignatures, [{ name: 'Wit1', keyId: '9b3fb2d5', timestamp: BigInt(e.cosignature_timestamp) }]);
  }
  assert.equal(Buffer.from(cosignatureMessage(e.checkpoint_body, BigInt(e.cosignature_timestamp))).toString('utf8'), e.cosigned_message);
  const signed = signCheckpoint(parseCheckpoint(e.checkpoint_body), [parseSignerKey(e.log_skey)]);
  assert.equal(formatCheckpoint(parseCheckpoint(e.checkpoint_body)), e.checkpoint_body);
  const cosigned = cosignCheckpoint(signed, { log: createNoteVerifier(e.log_vkey), witness: parseSignerKey(e.witness_skey), timestamp: e.cosignature_timestamp });
  assert.equal(cosigned, e.checkpoint);
  // The witness's 0x04 vkey derived from its private key is the published one.
  assert.equal(new CosignatureSigner(parseSignerKey(e.witness_skey), 0).verifier().vkey, e.witness_vkey_cosignature_v1);
});

test('C2SP cosignature example line decodes to key ID, u64 timestamp and a 64-byte signature', { skip }, () => {
  const c = (vectors as { cosignature_format_example: CosigFormat }).cosignature_format_example;
  const sig = parseNote(`x\n\n${c.signature_line}\n`).signatures[0];
  assert.ok(sig);
  assert.equal(sig.keyId, c.decoded.key_id);
  assert.equal(4 + sig.signature.byteLength, c.decoded.total_bytes);
  assert.equal(Buffer.from(sig.signature).readBigUInt64BE(0), BigInt(c.decoded.timestamp_u64be));
  assert.equal(sig.signature.byteLength - 8, c.decoded.ed25519_signature_bytes);
});

test('checkpoint text round-trips, with extension lines, size 0 and the largest safe size', () => {
  for (const cp of [CP, { ...CP, size: 0 }, { ...CP, size: Number.MAX_SAFE_INTEGER }, { ...CP, extensions: ['ext one', 'ext-2'] }, { ...CP, origin: 'go.sum database tree' }]) {
    const text = formatCheckpoint(cp);
    const back = parseCheckpoint(text);
    assert.deepEqual({ ...back, rootHash: Buffer.from(back.rootHash).toString('hex') }, { ...cp, rootHash: Buffer.from(cp.rootHash).toString('hex') });
  }
  assert.equal(formatCheckpoint(CP), `example.com/log\n12345\n${Buffer.from(ROOT).toString('base64')}\n`);
});

test('strict checkpoint parsing rejects malformed bodies with LEDGER_BAD_CHECKPOINT', () => {
  const root = Buffer.from(ROOT).toString('base64');
  const cases: Record<string, string> = {
    'no final newline': `o\n1\n${root}`,
    'two lines': `o\n1\n`,
    'empty origin': `\n1\n${root}\n`,
    'leading zero': `o\n01\n${root}\n`,
    'plus sign': `o\n+1\n${root}\n`,
    negative: `o\n-1\n${root}\n`,
    'space before size': `o\n 1\n${root}\n`,
    'hex size': `o\n0x10\n${root}\n`,
    'exponent size': `o\n1e3\n${root}\n`,
    '2^53': `o\n9007199254740992\n${root}\n`,
    'huge size': `o\n${'9'.repeat(5000)}\n${root}\n`,
    'root unpadded': `o\n1\n${root.replace(/=$/, '')}\n`,
    'root 31 bytes': `o\n1\n${Buffer.from(ROOT.subarray(1)).toString('base64')}\n`,
    'root 33 bytes': `o\n1\n${Buffer.concat([ROOT, Buffer.from([0])]).toString('base64')}\n`,
    'root hex': `o\n1\n${Buffer.from(ROOT).toString('hex')}\n`,
    'root url-safe': `o\n1\n${root.replace(/\+/g, '-').replace(/\//g, '_')}x\n`,
    'empty extension line': `o\n1\n${root}\n\n`,
    'CR in origin': `o\r\n1\n${root}\n`,
  };
  for (const [what, text] of Object.entries(cases)) assert.equal(codeOf(() => parseCheckpoint(text)), 'LEDGER_BAD_CHECKPOINT', what);
  assert.equal(codeOf(() => formatCheckpoint({ ...CP, size: -1 })), 'LEDGER_BAD_CHECKPOINT');
  assert.equal(codeOf(() => formatCheckpoint({ ...CP, size: 1.5 })), 'LEDGER_BAD_CHECKPOINT');
  assert.equal(codeOf(() => formatCheckpoint({ ...CP, origin: 'a\nb' })), 'LEDGER_BAD_CHECKPOINT');
  assert.equal(codeOf(() => formatCheckpoint({ ...CP, rootHash: ROOT.subarray(1) })), 'LEDGER_BAD_CHECKPOINT');
  assert.equal(codeOf(() => formatCheckpoint({ ...CP, extensions: [''] })), 'LEDGER_BAD_CHECKPOINT');
});

test('openCheckpoint needs the log signature; witness-only, wrong origin and bad bodies fail', () => {
  const wit = new CosignatureSigner(witKey, 1_700_000_000);
  const witV = wit.verifier();
  const logV = logKey.verifier();
  const signed = signCheckpoint(CP, [logKey]);
  assert.equal(openCheckpoint(signed, logV, { origin: CP.origin }).checkpoint.size, CP.size);
  assert.deepEqual(openCheckpoint(signed, logV, { witnesses: [witV] }).cosignatures, []);
  assert.equal(codeOf(() => openCheckpoint(signNote(formatCheckpoint(CP), [wit]), logV, { witnesses: [witV] })), 'LEDGER_UNVERIFIED');
  assert.equal(codeOf(() => openCheckpoint(signed, logV, { origin: 'example.com/other' })), 'LEDGER_BAD_CHECKPOINT');
  assert.equal(codeOf(() => openCheckpoint(signNote('not\na checkpoint\n', [logKey]), logV)), 'LEDGER_BAD_CHECKPOINT');
  assert.equal(codeOf(() => openCheckpoint(signed, witKey.verifier())), 'LEDGER_UNVERIFIED');
  assert.equal(codeOf(() => openCheckpoint(signed, logV, { witnesses: [witV], witnessQuorum: 1 })), 'LEDGER_UNVERIFIED');
  const cosigned = cosignCheckpoint(signed, { log: logV, witness: witKey, timestamp: 5 });
  assert.equal(openCheckpoint(cosigned, logV, { witnesses: [witV], witnessQuorum: 1 }).cosignatures.length, 1);
  // Two lines from the same witness count once.
  const twice = `${cosigned}${cosigned.slice(cosigned.lastIndexOf('\u2014'))}`;
  assert.equal(codeOf(() => openCheckpoint(twice, logV, { witnesses: [witV], witnessQuorum: 2 })), 'LEDGER_UNVERIFIED');
});

test('cosignatures: 0x04 key ID, timestamp bounds, tampering and cosigning unsigned checkpoints', () => {
  const logV = logKey.verifier();
  const signed = signCheckpoint(CP, [logKey]);
  const ts = 2n ** 63n - 1n;
  const cosigned = cosignCheckpoint(signed, { log: logV, witness: witKey, timestamp: ts });
  const witV = createCosignatureVerifier(witKey.vkey);
  assert.notEqual(witV.keyId, witKey.keyId, 'cosignature key ID uses type 0x04, not 0x01');
  assert.equal(parseVerifierKey(witV.vkey).keyId, witV.keyId);
  const opened = openCheckpoint(cosigned, logV, { witnesses: [witV] });
  assert.deepEqual(opened.cosignatures, [{ name: witKey.name, keyId: witV.keyId, timestamp: ts }]);
  assert.equal(cosignatureMessage('x\n', 0n).toString(), 'cosignature/v1\ntime 0\nx\n');

  for (const bad of [-1, 1.5, 2n ** 63n, -1n]) {
    assert.equal(codeOf(() => cosignCheckpoint(signed, { log: logV, witness: witKey, timestamp: bad })), 'LEDGER_BAD_INPUT', String(bad));
  }
  // A witness must not cosign a checkpoint whose log signature does not verify.
  const otherLog = new Ed25519Signer('example.com/log', new Uint8Array(32).fill(7));
  assert.equal(codeOf(() => cosignCheckpoint(signCheckpoint(CP, [otherLog]), { log: logV, witness: witKey, timestamp: 1 })), 'LEDGER_UNVERIFIED');

  const note = parseNote(cosigned);
  const [logSig, witSig] = note.signatures;
  assert.ok(logSig && witSig);
  assert.equal(witSig.signature.byteLength, 72);
  for (let i = 0; i < witSig.signature.byteLength; i++) {
    const forged = Uint8Array.from(witSig.signature);
    forged[i] = (forged[i] as number) ^ 0x01;
    const text = formatNote({ text: note.text, signatures: [logSig, { ...witSig, signature: forged }] });
    // Byte 0 is the top of the timestamp: flipping it exceeds 2^63 − 1, which is also invalid.
    assert.equal(codeOf(() => openCheckpoint(text, logV, { witnesses: [witV] })), 'LEDGER_BAD_SIGNATURE', `cosignature byte ${i}`);
  }
  // A 64-byte (untimestamped) signature under the cosigner's key ID fails rather than throwing.
  const short = formatNote({ text: note.text, signatures: [logSig, { ...witSig, signature: witSig.signature.subarray(8) }] });
  assert.equal(codeOf(() => openCheckpoint(short, logV, { witnesses: [witV] })), 'LEDGER_BAD_SIGNATURE');
  // The same cosignature on another checkpoint of the same log fails.
  const other = parseNote(signCheckpoint({ ...CP, size: CP.size + 1 }, [logKey]));
  const moved = formatNote({ text: other.text, signatures: [...other.signatures, witSig] });
  assert.equal(codeOf(() => openCheckpoint(moved, logV, { witnesses: [witV] })), 'LEDGER_BAD_SIGNATURE');
});

test('every flipped byte of a cosigned checkpoint fails with a ledger error', () => {
  const logV = logKey.verifier();
  const witV = new CosignatureSigner(witKey, 42).verifier();
  const note = Buffer.from(cosignCheckpoint(signCheckpoint({ ...CP, extensions: ['ext'] }, [logKey]), { log: logV, witness: witKey, timestamp: 42 }));
  const counts: Record<string, number> = {};
  for (let i = 0; i < note.length; i++) {
    const flipped = Uint8Array.from(note);
    flipped[i] = (flipped[i] as number) ^ 0x01;
    // Quorum 1: a flip that turns the cosignature into an unknown (ignored) line must still fail.
    const code = codeOf(() => openCheckpoint(flipped, logV, { witnesses: [witV], witnessQuorum: 1 }));
    counts[code] = (counts[code] ?? 0) + 1;
  }
  assert.equal(counts.OK, undefined, JSON.stringify(counts));
  assert.ok((counts.LEDGER_BAD_SIGNATURE ?? 0) > 50, JSON.stringify(counts));
});

test('tlog-policy: the end-to-end checkpoint verifies under a policy naming Log and Wit1', { skip }, () => {
  const e = (vectors as { derived_end_to_end: E2E }).derived_end_to_end;
  const policy = parsePolicy(`# test policy\nlog ${e.log_vkey} https://log.example\n\n  witness W1\t${e.witness_vkey_cosignature_v1}\nquorum W1\n`);
  assert.equal(policy.logs[0]?.url, 'https://log.example');
  const r = verifyCheckpointWithPolicy(e.checkpoint, policy);
  assert.equal(r.log, 'Log');
  assert.deepEqual(r.witnesses, ['W1']);
  assert.equal(r.checkpoint.size, 8);
  // Without the cosignature line the quorum is not met.
  const logOnly = e.checkpoint.slice(0, e.checkpoint.indexOf('\u2014 Wit1'));
  assert.equal(codeOf(() => verifyCheckpointWithPolicy(logOnly, policy)), 'LEDGER_UNVERIFIED');
  assert.equal(verifyCheckpointWithPolicy(logOnly, parsePolicy(`log ${e.log_vkey}\nquorum none`)).witnesses.length, 0);
});

test('tlog-policy: nested groups, thresholds and quorum evaluation', () => {
  const w = Array.from({ length: 6 }, (_, i) => new CosignatureSigner(new Ed25519Signer(`w${i}.example`, new Uint8Array(32).fill(i + 10)), 1));
  const text = [
    `log ${logKey.vkey}`,
    ...w.map((s, i) => `witness ${i < 3 ? 'X' : 'Y'}${i % 3} ${s.verifier().vkey}`),
    'group X 2 X0 X1 X2',
    'group Y any Y0 Y1 Y2',
    'group XY all X Y',
    'quorum XY',
  ].join('\n');
  const policy = parsePolicy(`${text}\n`);
  assert.deepEqual(policy.groups.map((g) => [g.name, g.threshold, g.members.length]), [['X', 2, 3], ['Y', 1, 3], ['XY', 2, 2]]);
  const q = (...names: string[]) => quorumSatisfied(policy, new Set(names));
  assert.equal(q('X0', 'X1', 'Y2'), true);
  assert.equal(q('X0', 'X2', 'Y0', 'Y1'), true);
  assert.equal(q('X0', 'Y0', 'Y1', 'Y2'), false, 'only one X witness');
  assert.equal(q('X0', 'X1', 'X2'), false, 'no Y witness');
  assert.equal(q(), false);
  // End to end with real cosignatures: X0 + X1 + Y1 satisfy it, X0 + Y1 do not.
  const signed = signCheckpoint(CP, [logKey]);
  const full = signNote(parseNote(signed), [w[0], w[1], w[4]] as CosignatureSigner[]);
  assert.deepEqual(verifyCheckpointWithPolicy(full, policy).witnesses, ['X0', 'X1', 'Y1']);
  const partial = signNote(parseNote(signed), [w[0], w[4]] as CosignatureSigner[]);
  assert.equal(codeOf(() => verifyCheckpointWithPolicy(partial, policy)), 'LEDGER_UNVERIFIED');
  // A log key whose name differs from the origin is refused.
  const renamed = new Ed25519Signer('example.com/other', Uint8Array.from({ length: 32 }, (_, i) => i + 1));
  const p2 = parsePolicy(`log ${renamed.vkey}\nquorum none\n`);
  assert.equal(codeOf(() => verifyCheckpointWithPolicy(signCheckpoint(CP, [renamed]), p2)), 'LEDGER_BAD_CHECKPOINT');
  assert.equal(codeOf(() => verifyCheckpointWithPolicy(signed, p2)), 'LEDGER_UNVERIFIED');
});

test('tlog-policy: malformed policies are rejected with LEDGER_BAD_POLICY and a line number', () => {
  const a = new CosignatureSigner(new Ed25519Signer('a.example', new Uint8Array(32).fill(1)), 1).verifier().vkey;
  const b = new CosignatureSigner(new Ed25519Signer('b.example', new Uint8Array(32).fill(2)), 1).verifier().vkey;
  const cases: Record<string, string> = {
    'no quorum': `witness A ${a}\n`,
    'two quorums': 'quorum none\nquorum none\n',
    'quorum before definition': `quorum A\nwitness A ${a}\n`,
    'group forward reference': `group G any A\nwitness A ${a}\nquorum G\n`,
    'threshold 0': `witness A ${a}\ngroup G 0 A\nquorum G\n`,
    'threshold above n': `witness A ${a}\ngroup G 2 A\nquorum G\n`,
    'threshold leading zero': `witness A ${a}\nwitness B ${b}\ngroup G 01 A B\nquorum G\n`,
    'group without members': `witness A ${a}\ngroup G any\nquorum G\n`,
    'member twice': `witness A ${a}\ngroup G any A A\nquorum G\n`,
    'member in two groups': `witness A ${a}\ngroup G any A\ngroup H any A\nquorum G\n`,
    'none as member': `witness A ${a}\ngroup G any none\nquorum G\n`,
    'none as name': `witness none ${a}\nquorum none\n`,
    'duplicate name': `witness A ${a}\nwitness A ${b}\nquorum A\n`,
    'duplicate key': `witness A ${a}\nwitness B ${a}\nquorum A\n`,
    'witness with 0x01 key': `witness A ${logKey.vkey}\nquorum A\n`,
    'log with 0x04 key': `log ${a}\nquorum none\n`,
    'bad vkey': `log ${logKey.vkey}x\nquorum none\n`,
    'extra argument': `log ${logKey.vkey} https://x extra\nquorum none\n`,
    'unknown keyword': 'logs x\nquorum none\n',
    'CR line ending': 'quorum none\r\n',
    'DEL character': '# \x7f\nquorum none\n',
  };
  for (const [what, text] of Object.entries(cases)) {
    try {
      parsePolicy(text);
      assert.fail(`${what}: accepted`);
    } catch (err) {
      assert.ok(err instanceof LedgerError, what);
      assert.equal(err.code, 'LEDGER_BAD_POLICY', `${what}: ${err.message}`);
    }
  }
  assert.equal(codeOf(() => parsePolicy(Uint8Array.of(0xff, 0x0a))), 'LEDGER_BAD_POLICY');
  // Comments, blank lines, tabs and a missing final newline are fine.
  assert.equal(parsePolicy(`\t# c\n\n\twitness A\t${a}  \nquorum A`).witnesses[0]?.name, 'A');
});
