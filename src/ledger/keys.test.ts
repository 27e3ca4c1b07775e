// Guards against: key IDs computed over the wrong bytes (so our vkeys would not interoperate with
// Go sumdb / C2SP tools), vkeys split on every '+' (standard base64 contains '+'), lenient base64
// or hex letting two texts name one key, a vkey or skey whose key ID does not match its key being
// accepted, and the private seed leaking through toString/JSON.
import { codeOf } from './test-support.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { LedgerError } from './errors.ts';
import {
  Ed25519Signer,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  computeKeyId,
  createNoteVerifier,
  decodeBase64,
  encodeBase64,
  formatVerifierKey,
  generateKey,
  isValidKeyName,
  parseSignerKey,
  parseVerifierKey,
} from './keys.ts';

interface KeyVectors {
  signed_note: { vkey: string; skey?: string }[];
  key_id_rule: { checks: { name: string; sig_type: number; expected: string }[] };
  derived_end_to_end: { log_skey: string; log_vkey: string; witness_skey: string; witness_vkey_ed25519: string; witness_vkey_cosignature_v1: string };
}
const VECTORS = new URL('../../../shared/vectors/tlog-vectors.json', import.meta.url);
const vectors: KeyVectors | undefined = existsSync(VECTORS) ? (JSON.parse(readFileSync(VECTORS, 'utf8')) as KeyVectors) : undefined;
const skip = vectors === undefined ? `vectors file ${VECTORS.pathname} is absent: vector cases skipped` : false;


const SEED = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);

test('upstream vkeys parse, and every key_id_rule check matches computeKeyId', { skip }, () => {
  const v = vectors as KeyVectors;
  const e = v.derived_end_to_end;
  const vkeys = [...v.signed_note.map((n) => n.vkey), e.log_vkey, e.witness_vkey_ed25519, e.witness_vkey_cosignature_v1];
  const byName = new Map(vkeys.map((k) => [parseVerifierKey(k).name, parseVerifierKey(k)]));
  for (const c of v.key_id_rule.checks) {
    const key = byName.get(c.name);
    assert.ok(key, c.name);
    assert.equal(computeKeyId(c.name, c.sig_type, key.publicKey), c.expected, `${c.name} type ${c.sig_type}`);
  }
  // sum.golang.org's base64 contains '+': split only on the first two.
  const sum = parseVerifierKey('sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8');
  assert.equal(sum.keyId, '033de0ae');
  assert.equal(sum.type, SIG_TYPE_ED25519);
  assert.equal(sum.publicKey.byteLength, 32);
  for (const k of vkeys) assert.equal(formatVerifierKey(parseVerifierKey(k)), k);
  const wit = parseVerifierKey(e.witness_vkey_cosignature_v1);
  assert.equal(wit.type, SIG_TYPE_COSIGNATURE_V1);
  assert.equal(wit.keyId, '9b3fb2d5');
});

test('upstream private keys derive exactly their published vkeys and re-encode unchanged', { skip }, () => {
  const v = vectors as KeyVectors;
  const e = v.derived_end_to_end;
  const pairs: [string, string][] = [[e.log_skey, e.log_vkey], [e.witness_skey, e.witness_vkey_ed25519]];
  for (const n of v.signed_note) if (n.skey !== undefined) pairs.push([n.skey, n.vkey]);
  assert.equal(pairs.length, 3);
  for (const [skey, vkey] of pairs) {
    const signer = parseSignerKey(skey);
    assert.equal(signer.vkey, vkey);
    assert.equal(signer.formatPrivate(), skey);
  }
});

test('generateKey makes a pair that signs and verifies; two calls differ', () => {
  const a = generateKey('example.com/log');
  const b = generateKey('example.com/log');
  assert.notEqual(a.skey, b.skey);
  assert.match(a.vkey, /^example\.com\/log\+[0-9a-f]{8}\+A[A-Za-z0-9+/]{43}$/);
  assert.match(a.skey, /^PRIVATE\+KEY\+example\.com\/log\+[0-9a-f]{8}\+A[A-Za-z0-9+/]{43}$/);
  const signer = parseSignerKey(a.skey);
  const verifier = createNoteVerifier(a.vkey);
  const msg = Buffer.from('hello\n');
  const sig = signer.sign(msg);
  assert.equal(sig.byteLength, 64);
  assert.equal(verifier.verify(msg, sig), true);
  assert.equal(verifier.verify(Buffer.from('hellO\n'), sig), false);
  assert.equal(createNoteVerifier(b.vkey).verify(msg, sig), false);
  assert.equal(verifier.verify(msg, sig.subarray(1)), false, 'short signature is invalid, not an exception');
});

test('the seed never appears in toString, JSON or error messages', () => {
  const signer = new Ed25519Signer('k', SEED);
  const seedB64 = encodeBase64(Uint8Array.of(1, ...SEED));
  assert.ok(signer.formatPrivate().endsWith(seedB64));
  assert.ok(!String(signer).includes(seedB64));
  assert.ok(!JSON.stringify(signer).includes(seedB64));
  assert.deepEqual(JSON.parse(JSON.stringify(signer)), { name: 'k', keyId: signer.keyId });
  const wrongId = signer.formatPrivate().replace(`+${signer.keyId}+`, '+00000000+');
  try {
    parseSignerKey(wrongId);
    assert.fail('accepted a wrong key ID');
  } catch (err) {
    assert.ok(err instanceof LedgerError);
    assert.equal(err.code, 'LEDGER_BAD_KEY');
    assert.ok(!err.message.includes(seedB64) && !(err.hint ?? '').includes(seedB64));
  }
});

test('key names: non-empty, no spaces (incl. Unicode), no "+", no control characters', () => {
  for (const ok of ['a', 'example.com/log42', 'oid/1.3.6.1', 'ünïcødé', 'x—y']) assert.equal(isValidKeyName(ok), true, ok);
  for (const bad of ['', 'a b', 'a+b', 'a\tb', 'a\nb', 'a\u00a0b', 'a\u2003b', 'a\u0085b', 'a\u3000b', 'a\x7fb', 'a\ud800b']) {
    assert.equal(isValidKeyName(bad), false, JSON.stringify(bad));
    assert.equal(codeOf(() => generateKey(bad)), 'LEDGER_BAD_KEY', JSON.stringify(bad));
  }
});

test('strict vkey parsing rejects non-canonical and inconsistent forms with LEDGER_BAD_KEY', () => {
  const signer = new Ed25519Signer('example.com/k', SEED);
  const vkey = signer.vkey;
  const a = vkey.indexOf('+');
  const b = vkey.indexOf('+', a + 1);
  const [name, id, b64] = [vkey.slice(0, a), vkey.slice(a + 1, b), vkey.slice(b + 1)];
  assert.equal(id, signer.keyId);
  assert.equal(`${name}+${id}+${b64}`, vkey);
  const raw = decodeBase64(b64) as Uint8Array;
  const type2 = encodeBase64(Uint8Array.of(2, ...raw.subarray(1)));
  const short = encodeBase64(raw.subarray(0, 32));
  const cases: Record<string, string> = {
    'no separators': name,
    'one separator': `${name}+${id}`,
    'uppercase hex id': `${name}+${id.toUpperCase()}+${b64}`,
    'short hex id': `${name}+${id.slice(1)}+${b64}`,
    'wrong id': `${name}+${'0'.repeat(8)}+${b64}`,
    'padding added': `${name}+${id}+${b64}====`,
    'base64 with newline': `${name}+${id}+${b64}\n`,
    'trailing garbage': `${name}+${id}+${b64}x`,
    'url-safe alphabet': `${name}+${id}+${b64.replace(/[A-Z]/, '-')}`,
    'ECDSA type 0x02': `${name}+${computeKeyId(name, 2, raw.subarray(1))}+${type2}`,
    '31-byte key': `${name}+${id}+${short}`,
    'empty key': `${name}+${id}+`,
    'empty name': `+${id}+${b64}`,
    'name with space': `a b+${id}+${b64}`,
  };
  for (const [what, text] of Object.entries(cases)) assert.equal(codeOf(() => parseVerifierKey(text)), 'LEDGER_BAD_KEY', what);
  // A 0x04 (cosigner) vkey is a valid vkey but cannot verify note signatures.
  const cosign = formatVerifierKey({ name, type: SIG_TYPE_COSIGNATURE_V1, publicKey: signer.publicKey });
  assert.equal(parseVerifierKey(cosign).type, SIG_TYPE_COSIGNATURE_V1);
  assert.equal(codeOf(() => createNoteVerifier(cosign)), 'LEDGER_BAD_KEY');
});

test('every flipped byte of a vkey or an skey is rejected with LEDGER_BAD_KEY', () => {
  const signer = new Ed25519Signer('example.com/k', SEED);
  for (const text of [signer.vkey, signer.formatPrivate()]) {
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      for (const bit of [0x01, 0x20]) {
        const flipped = text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ bit) + text.slice(i + 1);
        const parse = text.startsWith('PRIVATE') ? () => parseSignerKey(flipped) : () => parseVerifierKey(flipped);
        assert.equal(codeOf(parse), 'LEDGER_BAD_KEY', `byte ${i} ^ ${bit}: ${flipped}`);
        n++;
      }
    }
    assert.equal(n, text.length * 2);
  }
});

test('skey parsing rejects wrong prefixes, key types and seed sizes', () => {
  const good = new Ed25519Signer('k', SEED).formatPrivate();
  const id = good.split('+')[3] as string;
  const cases: Record<string, string> = {
    'no prefix': good.slice('PRIVATE+KEY+'.length),
    'lowercase prefix': good.replace('PRIVATE+KEY', 'private+key'),
    'type 0x04 seed': `PRIVATE+KEY+k+${id}+${encodeBase64(Uint8Array.of(4, ...SEED))}`,
    '31-byte seed': `PRIVATE+KEY+k+${id}+${encodeBase64(Uint8Array.of(1, ...SEED.subarray(1)))}`,
    'vkey given as skey': new Ed25519Signer('k', SEED).vkey,
  };
  for (const [what, text] of Object.entries(cases)) assert.equal(codeOf(() => parseSignerKey(text)), 'LEDGER_BAD_KEY', what);
  assert.equal(codeOf(() => new Ed25519Signer('k', SEED.subarray(2))), 'LEDGER_BAD_KEY');
});

test('decodeBase64 accepts only canonical padded standard base64', () => {
  assert.deepEqual(decodeBase64('AAEC'), Uint8Array.of(0, 1, 2));
  assert.deepEqual(decodeBase64(''), new Uint8Array(0));
  for (const bad of ['AAE', 'AAE=x', 'AB==', 'AA=', ' AAEC', 'AA\nEC', 'AA-_', 'ABD=']) assert.equal(decodeBase64(bad), undefined, bad);
  assert.deepEqual(decodeBase64('ABA='), Uint8Array.of(0, 16));
});
