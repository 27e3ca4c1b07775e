import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { LedgerError } from './errors.ts';

/**
 * Ed25519 keys in the C2SP signed-note formats (https://c2sp.org/signed-note):
 *   vkey: `<name>+<hex8 key ID>+<base64(type ‖ public key)>`
 *   skey: `PRIVATE+KEY+<name>+<hex8 key ID>+<base64(0x01 ‖ 32-byte seed)>` (golang.org/x/mod/sumdb/note)
 * Raw 32-byte keys are wrapped in fixed DER prefixes so node:crypto can use them.
 */

/** Signature type byte for Ed25519 over the note text. */
export const SIG_TYPE_ED25519 = 0x01;
/** Signature type byte for timestamped Ed25519 witness cosignatures (c2sp.org/tlog-cosignature). */
export const SIG_TYPE_COSIGNATURE_V1 = 0x04;

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_KEY_SIZE = 32;
export const ED25519_SIGNATURE_SIZE = 64;

/** A decoded verifier key (vkey): who signs, with which algorithm, and the raw public key. */
export interface VerifierKey {
  readonly name: string;
  /** Signature type byte (0x01 Ed25519 note signature, 0x04 Ed25519 cosignature/v1). */
  readonly type: number;
  /** 8 lowercase hex digits: SHA-256(name ‖ 0x0A ‖ type ‖ publicKey)[:4]. */
  readonly keyId: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
}

/** Checks signatures on a note text; matched to a signature line by name AND key ID. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: string;
  /** True when `signature` (the bytes after the 4-byte key ID) is valid over `text`. Never throws. */
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

/** Produces the signature bytes (after the 4-byte key ID) of a note signature line. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: string;
  sign(text: Uint8Array): Uint8Array;
}

// Key names end up in note signature lines: no Unicode spaces (Go's unicode.IsSpace adds U+0085),
// no '+' (the vkey separator), no control characters, no lone surrogates (not encodable as UTF-8).
const BAD_NAME_CHAR = /[\s\p{Z}\u0085+\p{Cc}]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;

/** C2SP key names: non-empty, no Unicode spaces, no '+', no control characters. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !BAD_NAME_CHAR.test(name);
}

function checkName(name: string, what: string): void {
  if (!isValidKeyName(name)) {
    throw new LedgerError('LEDGER_BAD_KEY', `${what}: invalid key name ${JSON.stringify(name)}`, {
      hint: 'key names must be non-empty, without spaces, "+" or control characters (e.g. example.com/log)',
    });
  }
}

/** SHA-256(name ‖ 0x0A ‖ type ‖ publicKey)[:4] as 8 lowercase hex digits (signed-note §Signatures). */
export function computeKeyId(name: string, type: number, publicKey: Uint8Array): string {
  return createHash('sha256')
    .update(Buffer.from(name, 'utf8'))
    .update(Uint8Array.of(0x0a, type))
    .update(publicKey)
    .digest()
    .subarray(0, 4)
    .toString('hex');
}

/** Standard padded base64 (RFC 4648 §4). */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Strict standard padded base64: Buffer.from(s, 'base64') skips whitespace, accepts '-' '_' and
 * ignores non-zero trailing bits, so a decoded value is accepted only if it re-encodes to `s`.
 * Returns undefined when `s` is not canonical.
 */
export function decodeBase64(s: string): Uint8Array | undefined {
  const bytes = Buffer.from(s, 'base64');
  if (bytes.toString('base64') !== s) return undefined;
  // A copy: small Buffers live in Node's shared allocation pool.
  return Uint8Array.from(bytes);
}

/** Wraps a raw 32-byte Ed25519 public key for node:crypto; undefined when node rejects it. */
export function ed25519PublicKeyObject(publicKey: Uint8Array): KeyObject | undefined {
  if (publicKey.byteLength !== ED25519_KEY_SIZE) return undefined;
  try {
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

function ed25519PrivateKeyObject(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function rawPublicKey(privateKey: KeyObject): Uint8Array {
  const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(ED25519_SPKI_PREFIX.length));
}

/** Ed25519 verify that never throws: malformed keys or signatures are simply invalid. */
export function ed25519Verify(key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.byteLength !== ED25519_SIGNATURE_SIZE) return false;
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

const KEY_ID_HEX = /^[0-9a-f]{8}$/;

/** Splits `name+hex8+base64`: only on the first two '+', because standard base64 contains '+'. */
function splitKey(s: string, what: string): [string, string, string] {
  const a = s.indexOf('+');
  const b = a < 0 ? -1 : s.indexOf('+', a + 1);
  if (a < 0 || b < 0) {
    throw new LedgerError('LEDGER_BAD_KEY', `${what}: expected <name>+<key id>+<base64 key>`, {
      hint: 'a verifier key looks like example.com/log+1a2b3c4d+AQ...',
    });
  }
  return [s.slice(0, a), s.slice(a + 1, b), s.slice(b + 1)];
}

/**
 * Parses a vkey (`name+hex8+base64(type ‖ key)`) of type 0x01 or 0x04, checking that the key ID
 * is the one the spec derives from name, type and key, so a vkey cannot claim another key's ID.
 */
export function parseVerifierKey(vkey: string): VerifierKey {
  const [name, idHex, keyB64] = splitKey(vkey, 'verifier key');
  checkName(name, 'verifier key');
  if (!KEY_ID_HEX.test(idHex)) {
    throw new LedgerError('LEDGER_BAD_KEY', `verifier key ${name}: key ID ${JSON.stringify(idHex)} is not 8 lowercase hex digits`);
  }
  const raw = decodeBase64(keyB64);
  if (raw === undefined || raw.byteLength < 1) {
    throw new LedgerError('LEDGER_BAD_KEY', `verifier key ${name}: key is not canonical standard base64`);
  }
  const type = raw[0] as number;
  const publicKey = raw.slice(1);
  if (type !== SIG_TYPE_ED25519 && type !== SIG_TYPE_COSIGNATURE_V1) {
    throw new LedgerError('LEDGER_BAD_KEY', `verifier key ${name}: unsupported signature type 0x${type.toString(16).padStart(2, '0')}`, {
      hint: 'only Ed25519 note keys (0x01) and Ed25519 cosignature/v1 keys (0x04) are supported',
    });
  }
  if (publicKey.byteLength !== ED25519_KEY_SIZE || ed25519PublicKeyObject(publicKey) === undefined) {
    throw new LedgerError('LEDGER_BAD_KEY', `verifier key ${name}: Ed25519 public key must be 32 bytes, got ${publicKey.byteLength}`);
  }
  const expected = computeKeyId(name, type, publicKey);
  if (expected !== idHex) {
    throw new LedgerError('LEDGER_BAD_KEY', `verifier key ${name}: key ID ${idHex} does not match the key (expected ${expected})`, {
      hint: 'the vkey was altered or mis-copied; get it again from its owner',
    });
  }
  return { name, type, keyId: idHex, publicKey };
}

/** Formats a vkey; the key ID is derived, never taken from the caller. */
export function formatVerifierKey(key: { readonly name: string; readonly type: number; readonly publicKey: Uint8Array }): string {
  checkName(key.name, 'verifier key');
  const id = computeKeyId(key.name, key.type, key.publicKey);
  return `${key.name}+${id}+${encodeBase64(Uint8Array.of(key.type, ...key.publicKey))}`;
}

/** Verifies Ed25519 signatures over the note text (signature type 0x01). */
export class Ed25519Verifier implements NoteVerifier {
  readonly name: string;
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  readonly #key: KeyObject;

  constructor(name: string, publicKey: Uint8Array) {
    checkName(name, 'verifier key');
    const key = ed25519PublicKeyObject(publicKey);
    if (key === undefined) throw new LedgerError('LEDGER_BAD_KEY', `verifier key ${name}: not a 32-byte Ed25519 public key`);
    this.name = name;
    this.publicKey = Uint8Array.from(publicKey);
    this.keyId = computeKeyId(name, SIG_TYPE_ED25519, publicKey);
    this.#key = key;
  }

  /** The vkey text form. */
  get vkey(): string {
    return formatVerifierKey({ name: this.name, type: SIG_TYPE_ED25519, publicKey: this.publicKey });
  }

  /** The node:crypto key, for callers that sign other messages (DSSE PAE, cosignatures) with it. */
  get keyObject(): KeyObject {
    return this.#key;
  }

  verify(text: Uint8Array, signature: Uint8Array): boolean {
    return ed25519Verify(this.#key, text, signature);
  }
}

/** A note verifier from a type-0x01 vkey (or an already parsed one). */
export function createNoteVerifier(vkey: string | VerifierKey): Ed25519Verifier {
  const key = typeof vkey === 'string' ? parseVerifierKey(vkey) : vkey;
  if (key.type !== SIG_TYPE_ED25519) {
    throw new LedgerError('LEDGER_BAD_KEY', `verifier key ${key.name}: type 0x${key.type.toString(16).padStart(2, '0')} cannot verify note signatures`, {
      hint: 'use an Ed25519 (0x01) vkey for log keys; 0x04 vkeys are witness cosigner keys',
    });
  }
  return new Ed25519Verifier(key.name, key.publicKey);
}

/**
 * Signs with an Ed25519 key (deterministic, RFC 8032). The seed is kept in a private field and has
 * no string form except through `formatSignerKey`, so it does not end up in logs by accident.
 */
export class Ed25519Signer implements NoteSigner {
  readonly name: string;
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  readonly #key: KeyObject;
  readonly #seed: Uint8Array;

  constructor(name: string, seed: Uint8Array) {
    checkName(name, 'signer key');
    if (seed.byteLength !== ED25519_KEY_SIZE) {
      throw new LedgerError('LEDGER_BAD_KEY', `signer key ${name}: Ed25519 seed must be 32 bytes, got ${seed.byteLength}`);
    }
    this.name = name;
    // Uint8Array.from copies; Buffer#slice would alias the caller's (soon zeroed) bytes.
    this.#seed = Uint8Array.from(seed);
    this.#key = ed25519PrivateKeyObject(this.#seed);
    this.publicKey = rawPublicKey(this.#key);
    this.keyId = computeKeyId(name, SIG_TYPE_ED25519, this.publicKey);
  }

  /** Raw Ed25519 signature over `message` (64 bytes). */
  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.#key));
  }

  /** The matching verifier. */
  verifier(): Ed25519Verifier {
    return new Ed25519Verifier(this.name, this.publicKey);
  }

  /** The vkey text form of the public half. */
  get vkey(): string {
    return formatVerifierKey({ name: this.name, type: SIG_TYPE_ED25519, publicKey: this.publicKey });
  }

  /** The private key in Go's `PRIVATE+KEY+...` text form. Treat the result as a secret. */
  formatPrivate(): string {
    return `PRIVATE+KEY+${this.name}+${this.keyId}+${encodeBase64(Uint8Array.of(SIG_TYPE_ED25519, ...this.#seed))}`;
  }

  toString(): string {
    return `Ed25519Signer(${this.name}+${this.keyId})`;
  }

  toJSON(): { name: string; keyId: string } {
    return { name: this.name, keyId: this.keyId };
  }
}

/** Parses `PRIVATE+KEY+name+hex8+base64(0x01 ‖ seed)`, checking the key ID against the derived public key. */
export function parseSignerKey(skey: string): Ed25519Signer {
  const prefix = 'PRIVATE+KEY+';
  if (!skey.startsWith(prefix)) {
    throw new LedgerError('LEDGER_BAD_KEY', 'signer key: expected PRIVATE+KEY+<name>+<key id>+<base64 seed>', {
      hint: 'create one with `trainguard key generate <name>`',
    });
  }
  const [name, idHex, keyB64] = splitKey(skey.slice(prefix.length), 'signer key');
  checkName(name, 'signer key');
  if (!KEY_ID_HEX.test(idHex)) {
    throw new LedgerError('LEDGER_BAD_KEY', `signer key ${name}: key ID is not 8 lowercase hex digits`);
  }
  const raw = decodeBase64(keyB64);
  // The error messages never echo the key material.
  if (raw === undefined || raw.byteLength !== 1 + ED25519_KEY_SIZE || raw[0] !== SIG_TYPE_ED25519) {
    throw new LedgerError('LEDGER_BAD_KEY', `signer key ${name}: expected canonical base64 of 0x01 followed by a 32-byte Ed25519 seed`);
  }
  const signer = new Ed25519Signer(name, raw.subarray(1));
  raw.fill(0);
  if (signer.keyId !== idHex) {
    throw new LedgerError('LEDGER_BAD_KEY', `signer key ${name}: key ID ${idHex} does not match the key (expected ${signer.keyId})`, {
      hint: 'the private key was altered or mis-copied',
    });
  }
  return signer;
}

/** A fresh random Ed25519 key pair as text: `{ skey, vkey }` (like Go's note.GenerateKey). */
export function generateKey(name: string): { skey: string; vkey: string } {
  checkName(name, 'generateKey');
  const seed = randomBytes(ED25519_KEY_SIZE);
  const signer = new Ed25519Signer(name, seed);
  seed.fill(0);
  return { skey: signer.formatPrivate(), vkey: signer.vkey };
}
