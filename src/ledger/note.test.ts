// Guards against: signing or verifying different bytes than the spec's note text (final newline,
// split at the LAST blank line), accepting a note whose known-key signature is bad, accepting a
// note with no known signature, matching keys by name or key ID alone, lenient base64 or
// control characters in notes, and unbounded signature counts. Every flipped byte must fail.
import { codeOf } from './test-support.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { LedgerError } from './errors.ts';
import { Ed25519Signer, Ed25519Verifier, createNoteVerifier, parseSignerKey } from './keys.ts';
import type { NoteVerifier } from './keys.ts';
import { MAX_NOTE_SIGNATURES, formatNote, formatSignatureLine, parseNote, signNote, verifyNote } from './note.ts';

interface NoteVector {
  vkey: string;
  skey?: string;
  note?: string;
  signed_text?: string;
  signature_line?: string;
}
const VECTORS = new URL('../../../shared/vectors/tlog-vectors.json', import.meta.url);
const notes: NoteVector[] | undefined = existsSync(VECTORS) ? (JSON.parse(readFileSync(VECTORS, 'utf8')) as { signed_note: NoteVector[] }).signed_note : undefined;
const skip = notes === undefined ? `vectors file ${VECTORS.pathname} is absent: vector cases skipped` : false;


const alice = new Ed25519Signer('example.com/alice', Uint8Array.from({ length: 32 }, (_, i) => i));
const bob = new Ed25519Signer('example.com/bob', Uint8Array.from({ length: 32 }, (_, i) => 255 - i));
const TEXT = 'line one\n\nline three after an empty line\n';

function vector(name: string): NoteVector {
  const v = (notes as NoteVector[]).find((n) => n.vkey.startsWith(`${name}+`));
  assert.ok(v, name);
  return v;
}

test('C2SP foo example and a real sum.golang.org checkpoint verify; text is exactly the signed part', { skip }, () => {
  const foo = vector('example.com/foo');
  const r = verifyNote(foo.note as string, [createNoteVerifier(foo.vkey)]);
  assert.equal(r.text, foo.signed_text);
  assert.deepEqual(r.verified.map((s) => [s.name, s.keyId, s.signature.byteLength]), [['example.com/foo', '530d903a', 64]]);
  const sum = vector('sum.golang.org');
  const s = verifyNote(Buffer.from(sum.note as string, 'utf8'), [createNoteVerifier(sum.vkey)]);
  assert.equal(s.text, 'go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n');
  assert.equal(s.verified[0]?.keyId, '033de0ae');
});

test('PeterNeumann: re-signing the text with the published private key reproduces the note byte for byte', { skip }, () => {
  const pn = vector('PeterNeumann');
  const signed = signNote(pn.signed_text as string, [parseSignerKey(pn.skey as string)]);
  assert.equal(signed, pn.note);
  assert.equal(verifyNote(signed, [createNoteVerifier(pn.vkey)]).verified.length, 1);
});

test('EnochRoot + PeterNeumann: either key verifies, the other line is ignored as unknown', { skip }, () => {
  const pn = vector('PeterNeumann');
  const enoch = vector('EnochRoot');
  const both = `${pn.note as string}${enoch.signature_line as string}\n`;
  for (const [known, other] of [[pn, 'EnochRoot'], [enoch, 'PeterNeumann']] as const) {
    const r = verifyNote(both, [createNoteVerifier(known.vkey)]);
    assert.equal(r.text, pn.signed_text);
    assert.equal(r.verified.length, 1);
    assert.deepEqual(r.unverified.map((s) => s.name), [other]);
  }
  assert.equal(verifyNote(both, [createNoteVerifier(pn.vkey), createNoteVerifier(enoch.vkey)]).verified.length, 2);
  // With neither key known, the note is rejected.
  assert.equal(codeOf(() => verifyNote(both, [alice.verifier()])), 'LEDGER_UNVERIFIED');
});

test('sign → parse → verify round trip, text with empty lines split at the last blank line', () => {
  const note = signNote(TEXT, [alice, bob]);
  assert.ok(note.startsWith(`${TEXT}\n\u2014 example.com/alice `));
  const parsed = parseNote(note);
  assert.equal(parsed.text, TEXT);
  assert.deepEqual(parsed.signatures.map((s) => s.name), ['example.com/alice', 'example.com/bob']);
  assert.equal(formatNote(parsed), note);
  const r = verifyNote(note, [alice.verifier(), bob.verifier()]);
  assert.equal(r.verified.length, 2);
  // A text that itself ends in an empty line is still recovered exactly.
  const tricky = 'a\n\n';
  assert.equal(verifyNote(signNote(tricky, [alice]), [alice.verifier()]).text, tricky);
  // Adding a signature to a signed note keeps the first and appends the new one.
  const added = signNote(parseNote(signNote(TEXT, [alice])), [bob]);
  assert.equal(added, note);
  // Re-signing with the same key replaces its line instead of duplicating it.
  assert.equal(signNote(parseNote(note), [alice]).split('\u2014').length - 1, 2);
});

test('signatures match known keys only by name AND key ID', () => {
  const note = signNote(TEXT, [alice]);
  const sameNameOtherKey = new Ed25519Signer('example.com/alice', new Uint8Array(32).fill(9));
  const sameKeyOtherName = new Ed25519Signer('example.com/mallory', Uint8Array.from({ length: 32 }, (_, i) => i));
  assert.equal(codeOf(() => verifyNote(note, [sameNameOtherKey.verifier()])), 'LEDGER_UNVERIFIED');
  assert.equal(codeOf(() => verifyNote(note, [sameKeyOtherName.verifier()])), 'LEDGER_UNVERIFIED');
  // A verifier claiming alice's name and key ID but holding another key: the signature is checked and fails.
  const impostor: NoteVerifier = { name: alice.name, keyId: alice.keyId, verify: (t, s) => sameNameOtherKey.verifier().verify(t, s) };
  assert.equal(codeOf(() => verifyNote(note, [impostor])), 'LEDGER_BAD_SIGNATURE');
  assert.equal(codeOf(() => verifyNote(note, [alice.verifier(), alice.verifier()])), 'LEDGER_BAD_KEY');
  assert.equal(codeOf(() => verifyNote(note, [])), 'LEDGER_UNVERIFIED');
});

test('one bad signature from a known key rejects the note even when another known key verifies', () => {
  const note = signNote(TEXT, [alice]);
  const bobLine = formatSignatureLine({ name: bob.name, keyId: bob.keyId, signature: bob.sign(Buffer.from('other text\n')) });
  const mixed = `${note}${bobLine}`;
  assert.equal(verifyNote(mixed, [alice.verifier()]).unverified.length, 1);
  assert.equal(codeOf(() => verifyNote(mixed, [alice.verifier(), bob.verifier()])), 'LEDGER_BAD_SIGNATURE');
  // A duplicated line from a known key is verified again and reported once.
  const aliceLine = note.slice(TEXT.length + 1);
  const dup = verifyNote(`${note}${aliceLine}`, [alice.verifier()]);
  assert.equal(dup.verified.length, 1);
  assert.equal(dup.signatures.length, 2);
});

test('malformed notes are rejected with LEDGER_BAD_NOTE', () => {
  const note = signNote(TEXT, [alice]);
  const line = note.slice(TEXT.length + 1, -1);
  const b64 = line.slice(line.lastIndexOf(' ') + 1);
  const cases: Record<string, string | Uint8Array> = {
    'no blank line': `${TEXT}${line}\n`,
    'no final newline': note.slice(0, -1),
    'blank line but no signatures': `${TEXT}\n`,
    'CR line ending': note.replace('line one\n', 'line one\r\n'),
    'tab in text': note.replace('line one', 'line\tone'),
    'NUL in signature line': `${note.slice(0, -1)}\x00\n`,
    'hyphen instead of em dash': note.replace('\u2014', '-'),
    'en dash instead of em dash': note.replace('\u2014', '\u2013'),
    'no space after dash': note.replace('\u2014 ', '\u2014'),
    'no signature after name': `${TEXT}\n\u2014 ${alice.name}\n`,
    'two spaces before signature': note.replace(` ${b64}`, `  ${b64}`),
    'trailing space': note.replace(`${b64}\n`, `${b64} \n`),
    'unpadded base64': note.replace(b64, b64.replace(/=+$/, '')),
    'url-safe base64': `${TEXT}\n\u2014 k ${'_'.repeat(8)}\n`,
    'signature of 4 bytes (key ID only)': `${TEXT}\n\u2014 k AAAAAA==\n`,
    'empty key name': `${TEXT}\n\u2014  ${b64}\n`,
    'key name with plus': note.replace(alice.name, 'a+b'),
    'invalid UTF-8 byte': Buffer.concat([Buffer.from(TEXT), Buffer.from([0xff]), Buffer.from(note.slice(TEXT.length))]),
    'overlong UTF-8': Buffer.concat([Buffer.from('a'), Buffer.from([0xc0, 0xaf]), Buffer.from(note.slice(1))]),
    'lone surrogate': note.replace('one', '\ud800'),
  };
  for (const [what, text] of Object.entries(cases)) {
    assert.equal(codeOf(() => parseNote(text)), 'LEDGER_BAD_NOTE', what);
    assert.equal(codeOf(() => verifyNote(text, [alice.verifier()])), 'LEDGER_BAD_NOTE', what);
  }
  for (const bad of ['', 'no newline', 'a\r\n', 'tab\t\n']) assert.equal(codeOf(() => signNote(bad, [alice])), 'LEDGER_BAD_NOTE', JSON.stringify(bad));
  assert.equal(codeOf(() => signNote(TEXT, [])), 'LEDGER_BAD_NOTE');
});

test(`at most ${MAX_NOTE_SIGNATURES} signature lines are accepted; unknown ones are listed, not verified`, () => {
  const note = signNote(TEXT, [alice]);
  const filler = formatSignatureLine({ name: 'unknown', keyId: '00000000', signature: new Uint8Array(64) });
  const atLimit = note + filler.repeat(MAX_NOTE_SIGNATURES - 1);
  const r = verifyNote(atLimit, [alice.verifier()]);
  assert.equal(r.signatures.length, MAX_NOTE_SIGNATURES);
  assert.equal(r.unverified.length, MAX_NOTE_SIGNATURES - 1);
  assert.equal(codeOf(() => verifyNote(atLimit + filler, [alice.verifier()])), 'LEDGER_BAD_NOTE');
  assert.equal(parseNote(atLimit + filler, { maxSignatures: 200 }).signatures.length, MAX_NOTE_SIGNATURES + 1);
});

function flipByte(bytes: Uint8Array, i: number, bit: number): Uint8Array {
  const c = Uint8Array.from(bytes);
  c[i] = (c[i] as number) ^ bit;
  return c;
}

test('every flipped bit-0 byte of a signed note fails, with the code of the part that was hit', () => {
  const note = Buffer.from(signNote(TEXT, [alice]), 'utf8');
  const textEnd = Buffer.byteLength(TEXT);
  const b64Start = note.lastIndexOf(0x20) + 1;
  const counts: Record<string, number> = {};
  for (let i = 0; i < note.length; i++) {
    const code = codeOf(() => verifyNote(flipByte(note, i, 0x01), [alice.verifier()]));
    counts[code] = (counts[code] ?? 0) + 1;
    const byte = note[i] as number;
    if (i < textEnd && byte !== 0x0a) {
      assert.equal(code, 'LEDGER_BAD_SIGNATURE', `text byte ${i}`);
    } else if (byte === 0x0a) {
      assert.equal(code, 'LEDGER_BAD_NOTE', `newline ${i} became a control character`);
    } else if (i >= b64Start + 6 && i < note.length - 3) {
      // Characters past the key ID hit signature bits: invalid base64 or a bad signature.
      assert.ok(code === 'LEDGER_BAD_SIGNATURE' || code === 'LEDGER_BAD_NOTE', `signature byte ${i}: ${code}`);
    } else {
      // Em dash, key name, key-ID characters, padding: malformed or no longer a known key.
      assert.ok(code === 'LEDGER_BAD_NOTE' || code === 'LEDGER_UNVERIFIED', `byte ${i}: ${code}`);
    }
  }
  assert.equal(counts.OK, undefined);
  assert.ok((counts.LEDGER_BAD_SIGNATURE ?? 0) > textEnd - 5);
});

test('every flipped bit of the signature bytes and of the public key fails', () => {
  const note = parseNote(signNote(TEXT, [alice]));
  const sig = note.signatures[0];
  assert.ok(sig);
  for (let i = 0; i < 4 * 8; i++) {
    const keyId = (parseInt(sig.keyId, 16) ^ (2 ** i)) >>> 0; // a 32-bit key ID, not a tree size
    const forged = formatNote({ text: note.text, signatures: [{ ...sig, keyId: keyId.toString(16).padStart(8, '0') }] });
    assert.equal(codeOf(() => verifyNote(forged, [alice.verifier()])), 'LEDGER_UNVERIFIED', `key ID bit ${i}`);
  }
  for (let i = 0; i < sig.signature.byteLength; i++) {
    for (let b = 0; b < 8; b++) {
      const forged = formatNote({ text: note.text, signatures: [{ ...sig, signature: flipByte(sig.signature, i, 1 << b) }] });
      assert.equal(codeOf(() => verifyNote(forged, [alice.verifier()])), 'LEDGER_BAD_SIGNATURE', `signature byte ${i} bit ${b}`);
    }
  }
  const good = formatNote(note);
  const pub = alice.publicKey;
  for (let i = 0; i < pub.byteLength; i++) {
    for (let b = 0; b < 8; b++) {
      // Keep alice's name and key ID so the line is matched, but verify with a flipped key.
      let v: Ed25519Verifier;
      try {
        v = new Ed25519Verifier(alice.name, flipByte(pub, i, 1 << b));
      } catch (err) {
        assert.ok(err instanceof LedgerError && err.code === 'LEDGER_BAD_KEY');
        continue;
      }
      const impostor: NoteVerifier = { name: alice.name, keyId: alice.keyId, verify: (t, s) => v.verify(t, s) };
      assert.equal(codeOf(() => verifyNote(good, [impostor])), 'LEDGER_BAD_SIGNATURE', `key byte ${i} bit ${b}`);
    }
  }
});
