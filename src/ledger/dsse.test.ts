// Guards against: signing the JSON instead of PAE(type, body) (or PAE with character instead of
// byte lengths), accepting a tampered payload or payloadType, lenient base64 in envelopes,
// counting one key twice toward a threshold, handing callers re-encoded rather than verified
// bytes, and in-toto statements without digests or with the wrong _type.
import { codeOf } from './test-support.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Ed25519Signer } from './keys.ts';
import {
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_TYPE,
  buildStatement,
  createDsseSigner,
  createDsseVerifier,
  createDsseVerifierFromKey,
  decodeDsseBase64,
  encodeStatement,
  findSubject,
  formatEnvelope,
  pae,
  parseEnvelope,
  parseStatement,
  signEnvelope,
  signStatement,
  verifyEnvelope,
  verifyStatement,
} from './dsse.ts';

interface DsseVector {
  payload_type: string;
  payload_text: string;
  pae_text: string;
  pae: string;
  key: { x: string; y: string };
  envelope: { payload: string; payloadType: string; signatures: { sig: string }[] };
}
const VECTORS = new URL('../../../shared/vectors/tlog-vectors.json', import.meta.url);
const dsse = existsSync(VECTORS) ? (JSON.parse(readFileSync(VECTORS, 'utf8')) as { dsse: DsseVector }).dsse : undefined;
const skip = dsse === undefined ? `vectors file ${VECTORS.pathname} is absent: vector cases skipped` : false;


const alice = new Ed25519Signer('example.com/alice', Uint8Array.from({ length: 32 }, (_, i) => i));
const bob = new Ed25519Signer('example.com/bob', Uint8Array.from({ length: 32 }, (_, i) => 100 + i));
const SHA = 'a'.repeat(64);

function p256Key(v: DsseVector) {
  const b64url = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64url(v.key.x), y: b64url(v.key.y) }, format: 'jwk' });
}

test('DSSE spec example: PAE bytes match and the ECDSA P-256 envelope verifies', { skip }, () => {
  const v = dsse as DsseVector;
  const bytes = pae(v.payload_type, Buffer.from(v.payload_text));
  assert.equal(Buffer.from(bytes).toString('hex'), v.pae);
  assert.equal(Buffer.from(bytes).toString('utf8'), v.pae_text);
  const verifier = createDsseVerifierFromKey(p256Key(v));
  const r = verifyEnvelope(JSON.stringify(v.envelope), [verifier]);
  assert.equal(Buffer.from(r.payload).toString('utf8'), v.payload_text);
  assert.equal(r.payloadType, v.payload_type);
  // Tampering with payload, payloadType or signature breaks it.
  const tampered = [
    { ...v.envelope, payload: Buffer.from('hello worle').toString('base64') },
    { ...v.envelope, payloadType: `${v.payload_type}2` },
    { ...v.envelope, signatures: [{ sig: `B${(v.envelope.signatures[0] as { sig: string }).sig.slice(1)}` }] },
  ];
  for (const t of tampered) assert.equal(codeOf(() => verifyEnvelope(JSON.stringify(t), [verifier])), 'LEDGER_BAD_SIGNATURE');
  // The same envelope in URL-safe, unpadded base64 is accepted too (DSSE requires both alphabets).
  const sig = (v.envelope.signatures[0] as { sig: string }).sig;
  const url = { ...v.envelope, signatures: [{ sig: Buffer.from(sig, 'base64').toString('base64url') }] };
  assert.equal(verifyEnvelope(JSON.stringify(url), [verifier]).payloadType, v.payload_type);
  // An Ed25519 key does not verify it.
  assert.equal(codeOf(() => verifyEnvelope(JSON.stringify(v.envelope), [createDsseVerifier(alice.vkey)])), 'LEDGER_BAD_SIGNATURE');
});

test('PAE counts bytes, not characters', () => {
  assert.equal(Buffer.from(pae('t', Buffer.from('é'))).toString('utf8'), 'DSSEv1 1 t 2 é');
  assert.equal(Buffer.from(pae('ü', new Uint8Array(0))).toString('utf8'), 'DSSEv1 2 ü 0 ');
});

test('Ed25519 envelopes: sign → JSON → verify; keyid is the vkey key ID; exact payload bytes come back', () => {
  const payload = Buffer.from('{"b":1, "a":2}');
  const env = signEnvelope('application/x-test', payload, [createDsseSigner(alice)]);
  const json = formatEnvelope(env);
  const parsed = JSON.parse(json) as { signatures: { keyid: string }[] };
  assert.equal(parsed.signatures[0]?.keyid, alice.keyId);
  const r = verifyEnvelope(json, [createDsseVerifier(alice.vkey)]);
  assert.deepEqual(Buffer.from(r.payload), payload, 'payload is the signed bytes, not re-serialized JSON');
  assert.deepEqual(r.keyids, [alice.keyId]);
  assert.equal(codeOf(() => verifyEnvelope(json, [createDsseVerifier(bob.vkey)])), 'LEDGER_UNVERIFIED');
  assert.equal(codeOf(() => verifyEnvelope(json, [createDsseVerifier(alice.vkey)], { payloadType: 'other' })), 'LEDGER_BAD_ENVELOPE');
  // A key given without keyid is tried against every signature.
  assert.equal(verifyEnvelope(json, [createDsseVerifierFromKey(alice.verifier().keyObject)]).payload.byteLength, payload.byteLength);
});

test('thresholds count distinct trusted keys', () => {
  const payload = Buffer.from('x');
  const both = signEnvelope('t', payload, [createDsseSigner(alice), createDsseSigner(bob)]);
  const trusted = [createDsseVerifier(alice.vkey), createDsseVerifier(bob.vkey)];
  assert.equal(verifyEnvelope(both, trusted, { threshold: 2 }).keyids.length, 2);
  const aliceTwice = signEnvelope('t', payload, [createDsseSigner(alice), createDsseSigner(alice)]);
  assert.equal(codeOf(() => verifyEnvelope(aliceTwice, trusted, { threshold: 2 })), 'LEDGER_BAD_SIGNATURE');
  assert.equal(codeOf(() => verifyEnvelope(both, trusted, { threshold: 0 })), 'LEDGER_BAD_INPUT');
});

test('ECDSA P-256 accepts both raw r‖s and DER signatures; unsupported key types are refused', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const payload = Buffer.from('p');
  for (const enc of ['der', 'ieee-p1363'] as const) {
    const env = signEnvelope('t', payload, [{ keyid: 'p256', sign: (m) => new Uint8Array(nodeSign('sha256', m, { key: privateKey, dsaEncoding: enc })) }]);
    assert.equal(verifyEnvelope(formatEnvelope(env), [createDsseVerifierFromKey(publicKey, 'p256')]).keyids[0], 'p256', enc);
  }
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
  assert.equal(codeOf(() => createDsseVerifierFromKey(rsa)), 'LEDGER_BAD_KEY');
});

test('envelope JSON and base64 are parsed strictly (LEDGER_BAD_ENVELOPE)', () => {
  const good = JSON.parse(formatEnvelope(signEnvelope('t', Buffer.from('hi'), [createDsseSigner(alice)]))) as Record<string, unknown>;
  const sig = (good.signatures as { sig: string; keyid: string }[])[0] as { sig: string; keyid: string };
  const cases: Record<string, unknown> = {
    'not JSON': '{',
    array: [],
    'missing payload': { ...good, payload: undefined },
    'number payload': { ...good, payload: 5 },
    'empty payloadType': { ...good, payloadType: '' },
    'no signatures': { ...good, signatures: [] },
    'signatures not array': { ...good, signatures: sig },
    'unknown field': { ...good, extra: 1 },
    'unknown signature field': { ...good, signatures: [{ ...sig, cert: 'x' }] },
    'numeric keyid': { ...good, signatures: [{ ...sig, keyid: 1 }] },
    'empty sig': { ...good, signatures: [{ ...sig, sig: '' }] },
    'sig with whitespace': { ...good, signatures: [{ ...sig, sig: ` ${sig.sig}` }] },
    'mixed alphabets': { ...good, signatures: [{ ...sig, sig: '+_AA' }] },
    'non-canonical trailing bits': { ...good, payload: 'aGk=' === good.payload ? 'aGl=' : 'x' },
    'too many signatures': { ...good, signatures: Array.from({ length: 101 }, () => sig) },
  };
  for (const [what, value] of Object.entries(cases)) {
    const json = typeof value === 'string' ? value : JSON.stringify(value);
    assert.equal(codeOf(() => parseEnvelope(json)), 'LEDGER_BAD_ENVELOPE', what);
  }
  assert.equal(codeOf(() => parseEnvelope(Uint8Array.of(0xff, 0x7b))), 'LEDGER_BAD_ENVELOPE');
  assert.deepEqual(decodeDsseBase64('aGk='), Uint8Array.of(0x68, 0x69));
  assert.deepEqual(decodeDsseBase64('aGk'), Uint8Array.of(0x68, 0x69));
  assert.deepEqual(decodeDsseBase64('-_8'), Uint8Array.of(0xfb, 0xff));
  assert.deepEqual(decodeDsseBase64('-_8='), Uint8Array.of(0xfb, 0xff));
  for (const bad of ['aGl=', 'aGk==', 'a', '+_8=', 'aG k']) assert.equal(decodeDsseBase64(bad), undefined, bad);
});

test('every flipped byte of a signed envelope fails with a ledger error', () => {
  const json = Buffer.from(formatEnvelope(signEnvelope('application/x-test', Buffer.from('payload bytes'), [createDsseSigner(alice)])));
  const trusted = [createDsseVerifier(alice.vkey)];
  const counts: Record<string, number> = {};
  for (let i = 0; i < json.length; i++) {
    const flipped = Uint8Array.from(json);
    flipped[i] = (flipped[i] as number) ^ 0x01;
    const code = codeOf(() => verifyEnvelope(flipped, trusted));
    counts[code] = (counts[code] ?? 0) + 1;
  }
  assert.equal(counts.OK, undefined, JSON.stringify(counts));
  assert.ok((counts.LEDGER_BAD_SIGNATURE ?? 0) > 20, JSON.stringify(counts));
});

test('in-toto Statement v1: build, sign, verify, match subjects by digest', () => {
  const statement = buildStatement({
    subject: [{ name: 'train.csv', digest: { sha256: SHA } }, { name: 'labels.csv', digest: { sha256: 'b'.repeat(64), sha512: 'c'.repeat(128) } }],
    predicateType: 'https://trainguard.dev/snapshot/v1',
    predicate: { dataset: 'demo', samples: 3 },
  });
  assert.equal(statement._type, IN_TOTO_STATEMENT_TYPE);
  const bytes = encodeStatement(statement);
  assert.equal(Buffer.from(bytes).toString(), '{"_type":"https://in-toto.io/Statement/v1","predicate":{"dataset":"demo","samples":3},"predicateType":"https://trainguard.dev/snapshot/v1","subject":[{"digest":{"sha256":"' + SHA + '"},"name":"train.csv"},{"digest":{"sha256":"' + 'b'.repeat(64) + '","sha512":"' + 'c'.repeat(128) + '"},"name":"labels.csv"}]}');
  const env = signStatement(statement, [createDsseSigner(alice)]);
  assert.equal(env.payloadType, IN_TOTO_PAYLOAD_TYPE);
  const r = verifyStatement(formatEnvelope(env), [createDsseVerifier(alice.vkey)]);
  assert.deepEqual(r.statement, parseStatement(bytes));
  assert.deepEqual(Buffer.from(r.payload), Buffer.from(bytes));
  assert.equal(findSubject(r.statement, 'sha256', SHA)?.name, 'train.csv');
  assert.equal(findSubject(r.statement, 'sha256', 'd'.repeat(64)), undefined);
  // An envelope of another payload type is not a statement.
  const other = signEnvelope('text/plain', bytes, [createDsseSigner(alice)]);
  assert.equal(codeOf(() => verifyStatement(other, [createDsseVerifier(alice.vkey)])), 'LEDGER_BAD_ENVELOPE');
  // Unrecognized fields are ignored, as the spec asks of consumers.
  assert.deepEqual(parseStatement(JSON.stringify({ ...JSON.parse(Buffer.from(bytes).toString()), future: 1 })), r.statement);
});

test('invalid statements are rejected with LEDGER_BAD_STATEMENT', () => {
  const base = { _type: IN_TOTO_STATEMENT_TYPE, subject: [{ name: 'f', digest: { sha256: SHA } }], predicateType: 'https://example.com/p/v1', predicate: {} };
  const cases: Record<string, unknown> = {
    'not JSON': '{"_type"',
    'v0.1 type': { ...base, _type: 'https://in-toto.io/Statement/v0.1' },
    'no subject': { ...base, subject: [] },
    'subject without digest': { ...base, subject: [{ name: 'f' }] },
    'empty digest': { ...base, subject: [{ name: 'f', digest: {} }] },
    'uppercase sha256': { ...base, subject: [{ name: 'f', digest: { sha256: SHA.toUpperCase() } }] },
    'short sha256': { ...base, subject: [{ name: 'f', digest: { sha256: 'ab' } }] },
    'numeric digest value': { ...base, subject: [{ name: 'f', digest: { gitCommit: 5 } }] },
    'numeric name': { ...base, subject: [{ name: 5, digest: { sha256: SHA } }] },
    'predicateType not a URI': { ...base, predicateType: 'snapshot' },
    'predicate array': { ...base, predicate: [] },
  };
  for (const [what, value] of Object.entries(cases)) {
    const json = typeof value === 'string' ? value : JSON.stringify(value);
    assert.equal(codeOf(() => parseStatement(json)), 'LEDGER_BAD_STATEMENT', what);
  }
  assert.equal(codeOf(() => buildStatement({ subject: [{ name: 'f' }], predicateType: 'https://x/y', predicate: {} })), 'LEDGER_BAD_STATEMENT');
  assert.equal(parseStatement(JSON.stringify({ ...base, subject: [{ digest: { gitCommit: 'abc' } }] })).subject.length, 1);
});
