import { createPublicKey, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from '../core/index.ts';
import { LedgerError } from './errors.ts';
import { createNoteVerifier, ed25519Verify, encodeBase64 } from './keys.ts';
import type { Ed25519Signer, Ed25519Verifier, VerifierKey } from './keys.ts';

/**
 * DSSE v1 envelopes (secure-systems-lab/dsse protocol.md) and in-toto Statement v1
 * (in-toto/attestation spec/v1). Signatures cover PAE(payloadType, payload), never the JSON.
 */

/** Most signatures accepted in one envelope (bounds the work a hostile envelope can cause). */
export const MAX_ENVELOPE_SIGNATURES = 100;

export interface EnvelopeSignature {
  /** Unauthenticated hint naming the key; undefined when absent or empty. */
  readonly keyid: string | undefined;
  readonly sig: Uint8Array;
}

export interface Envelope {
  readonly payloadType: string;
  readonly payload: Uint8Array;
  readonly signatures: readonly EnvelopeSignature[];
}

export interface DsseSigner {
  readonly keyid: string;
  /** Signature over the PAE bytes. */
  sign(pae: Uint8Array): Uint8Array;
}

export interface DsseVerifier {
  /** When set, only signatures with this keyid (or none) are tried against the key. */
  readonly keyid: string | undefined;
  /** True when `sig` is valid over the PAE bytes. Never throws. */
  verify(pae: Uint8Array, sig: Uint8Array): boolean;
}

/** What `verifyEnvelope` returns: the exact payload bytes that were verified, never re-encoded. */
export interface VerifiedEnvelope {
  readonly payloadType: string;
  readonly payload: Uint8Array;
  /** Key ids of the distinct trusted keys whose signatures verified. */
  readonly keyids: readonly string[];
}

function badEnvelope(message: string, hint?: string): LedgerError {
  return new LedgerError('LEDGER_BAD_ENVELOPE', message, hint === undefined ? {} : { hint });
}

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN in decimal bytes. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.byteLength} `, 'utf8'),
    type,
    Buffer.from(` ${payload.byteLength} `, 'utf8'),
    payload,
  ]);
}

const STD_B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_B64 = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * DSSE requires accepting standard and URL-safe base64; we accept either alphabet, padded or not,
 * but only canonical encodings (no mixed alphabets, no whitespace, zero trailing bits).
 */
export function decodeDsseBase64(s: string): Uint8Array | undefined {
  const url = !STD_B64.test(s);
  if (url && !URL_B64.test(s)) return undefined;
  const bytes = Buffer.from(s, 'base64');
  let canonical = bytes.toString('base64');
  if (url) canonical = canonical.replace(/\+/g, '-').replace(/\//g, '_');
  if (s !== canonical && s !== canonical.replace(/=+$/, '')) return undefined;
  return Uint8Array.from(bytes);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkFields(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw badEnvelope(`${where} has unknown field ${JSON.stringify(k)}`);
  }
}

/** Parses the JSON envelope strictly: required fields, string types, canonical base64. */
export function parseEnvelope(json: string | Uint8Array): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(typeof json === 'string' ? json : utf8.decode(json));
  } catch (cause) {
    throw new LedgerError('LEDGER_BAD_ENVELOPE', 'DSSE envelope is not valid UTF-8 JSON', { cause });
  }
  if (!isRecord(value)) throw badEnvelope('DSSE envelope must be a JSON object');
  checkFields(value, ['payload', 'payloadType', 'signatures'], 'DSSE envelope');
  const { payload, payloadType, signatures } = value;
  if (typeof payloadType !== 'string' || payloadType.length === 0) throw badEnvelope('DSSE envelope needs a non-empty string payloadType');
  if (typeof payload !== 'string') throw badEnvelope('DSSE envelope needs a base64 string payload');
  const body = decodeDsseBase64(payload);
  if (body === undefined) throw badEnvelope('DSSE payload is not canonical base64');
  if (!Array.isArray(signatures) || signatures.length === 0) throw badEnvelope('DSSE envelope needs a non-empty signatures array');
  if (signatures.length > MAX_ENVELOPE_SIGNATURES) throw badEnvelope(`DSSE envelope has ${signatures.length} signatures; at most ${MAX_ENVELOPE_SIGNATURES} are accepted`);
  const sigs = signatures.map((s: unknown, i): EnvelopeSignature => {
    if (!isRecord(s)) throw badEnvelope(`DSSE signature ${i} must be an object`);
    checkFields(s, ['keyid', 'sig'], `DSSE signature ${i}`);
    if (s.keyid !== undefined && typeof s.keyid !== 'string') throw badEnvelope(`DSSE signature ${i}: keyid must be a string`);
    if (typeof s.sig !== 'string') throw badEnvelope(`DSSE signature ${i}: sig must be a base64 string`);
    const sig = decodeDsseBase64(s.sig);
    if (sig === undefined || sig.byteLength === 0) throw badEnvelope(`DSSE signature ${i}: sig is not canonical, non-empty base64`);
    return { keyid: s.keyid === undefined || s.keyid === '' ? undefined : s.keyid, sig };
  });
  return { payloadType, payload: body, signatures: sigs };
}

/** Envelope JSON (RFC 8785 canonical, standard padded base64; keyid omitted when undefined). */
export function formatEnvelope(env: Envelope): string {
  return canonicalJson({
    payload: encodeBase64(env.payload),
    payloadType: env.payloadType,
    signatures: env.signatures.map((s) => (s.keyid === undefined ? { sig: encodeBase64(s.sig) } : { keyid: s.keyid, sig: encodeBase64(s.sig) })),
  });
}

/** Signs `payload` of `payloadType` with each signer. */
export function signEnvelope(payloadType: string, payload: Uint8Array, signers: readonly DsseSigner[]): Envelope {
  if (payloadType.length === 0) throw new LedgerError('LEDGER_BAD_INPUT', 'DSSE payloadType must be non-empty');
  if (signers.length === 0) throw new LedgerError('LEDGER_BAD_INPUT', 'signEnvelope needs at least one signer');
  const message = pae(payloadType, payload);
  return { payloadType, payload: Uint8Array.from(payload), signatures: signers.map((s) => ({ keyid: s.keyid, sig: s.sign(message) })) };
}

/** A DSSE signer from a note signing key; keyid = the key's C2SP key ID in hex. */
export function createDsseSigner(signer: Ed25519Signer): DsseSigner {
  return { keyid: signer.keyId, sign: (m) => signer.sign(m) };
}

/** A DSSE verifier from a type-0x01 vkey (or note verifier); keyid = its key ID in hex. */
export function createDsseVerifier(key: string | VerifierKey | Ed25519Verifier): DsseVerifier {
  const v = typeof key === 'string' || !('keyObject' in key) ? createNoteVerifier(key) : key;
  return { keyid: v.keyId, verify: (m, sig) => v.verify(m, sig) };
}

const EC_CURVES: Readonly<Record<string, { hash: string; size: number }>> = {
  prime256v1: { hash: 'sha256', size: 32 },
  secp384r1: { hash: 'sha384', size: 48 },
};

/**
 * A DSSE verifier for a node:crypto public key: Ed25519, or ECDSA P-256/SHA-256 and P-384/SHA-384
 * with raw r‖s (IEEE P1363, as in the DSSE spec example) or DER signatures (as sigstore emits).
 */
export function createDsseVerifierFromKey(publicKey: KeyObject, keyid?: string): DsseVerifier {
  const key = publicKey.type === 'public' ? publicKey : createPublicKey(publicKey);
  const kind = key.asymmetricKeyType;
  if (kind === 'ed25519') return { keyid, verify: (m, sig) => ed25519Verify(key, m, sig) };
  const curve = kind === 'ec' ? EC_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
  if (curve === undefined) {
    throw new LedgerError('LEDGER_BAD_KEY', `unsupported DSSE key type ${kind ?? 'unknown'}`, {
      hint: 'use Ed25519, ECDSA P-256 or ECDSA P-384 keys',
    });
  }
  return {
    keyid,
    verify: (m, sig) => {
      try {
        const dsaEncoding = sig.byteLength === 2 * curve.size ? 'ieee-p1363' : 'der';
        return verify(curve.hash, m, { key, dsaEncoding }, sig);
      } catch {
        return false;
      }
    },
  };
}

export interface VerifyEnvelopeOptions {
  /** Distinct trusted keys that must have signed (default 1). */
  readonly threshold?: number;
  /** When given, the payloadType must equal it. */
  readonly payloadType?: string;
}

/**
 * Verifies a DSSE envelope against trusted keys and returns the verified payload bytes. Throws
 * LEDGER_BAD_SIGNATURE when a signature tried against a trusted key fails and too few verify,
 * LEDGER_UNVERIFIED when no signature is even addressed to a trusted key.
 */
export function verifyEnvelope(envelope: string | Uint8Array | Envelope, trusted: readonly DsseVerifier[], options: VerifyEnvelopeOptions = {}): VerifiedEnvelope {
  const env = typeof envelope === 'string' || envelope instanceof Uint8Array ? parseEnvelope(envelope) : envelope;
  const threshold = options.threshold ?? 1;
  if (!Number.isSafeInteger(threshold) || threshold < 1) throw new LedgerError('LEDGER_BAD_INPUT', `threshold ${threshold} must be a positive integer`);
  if (options.payloadType !== undefined && env.payloadType !== options.payloadType) {
    throw badEnvelope(`DSSE payloadType ${JSON.stringify(env.payloadType)} is not the expected ${JSON.stringify(options.payloadType)}`);
  }
  const message = pae(env.payloadType, env.payload);
  const ok = new Set<DsseVerifier>();
  let attempted = false;
  for (const s of env.signatures) {
    for (const v of trusted) {
      if (ok.has(v)) continue;
      if (s.keyid !== undefined && v.keyid !== undefined && s.keyid !== v.keyid) continue;
      attempted = true;
      if (v.verify(message, s.sig)) {
        ok.add(v);
        break;
      }
    }
  }
  if (ok.size < threshold) {
    if (!attempted) {
      throw new LedgerError('LEDGER_UNVERIFIED', `DSSE envelope has no signature from a trusted key (keyids: ${env.signatures.map((s) => s.keyid ?? '-').join(', ')})`, {
        hint: 'check that the verifying key is the one that signed the envelope',
      });
    }
    throw new LedgerError('LEDGER_BAD_SIGNATURE', `DSSE envelope: ${ok.size} of the required ${threshold} trusted signatures verify`, {
      hint: 'the payload, payloadType or signature was altered, or the key is wrong',
    });
  }
  return { payloadType: env.payloadType, payload: env.payload, keyids: [...ok].map((v) => v.keyid ?? '') };
}

// ---- in-toto Statement v1 ----

export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** in-toto ResourceDescriptor (subset used for subjects; all fields optional but one of uri/digest/content). */
export interface ResourceDescriptor {
  readonly name?: string;
  readonly uri?: string;
  readonly digest?: Readonly<Record<string, string>>;
  readonly content?: string;
  readonly downloadLocation?: string;
  readonly mediaType?: string;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

export interface Statement<P = unknown> {
  readonly _type: typeof IN_TOTO_STATEMENT_TYPE;
  readonly subject: readonly ResourceDescriptor[];
  readonly predicateType: string;
  readonly predicate?: P;
}

function badStatement(message: string, hint?: string): LedgerError {
  return new LedgerError('LEDGER_BAD_STATEMENT', message, hint === undefined ? {} : { hint });
}

/** Hex lengths of the digest algorithms we check strictly; other DigestSet keys need a non-empty string. */
const HEX_DIGEST_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128, sha224: 56, sha1: 40, sha3_256: 64, sha3_384: 96, sha3_512: 128 };

function checkDigestSet(digest: unknown, where: string): Record<string, string> {
  if (!isRecord(digest) || Object.keys(digest).length === 0) throw badStatement(`${where}: digest must be a non-empty object`);
  const out: Record<string, string> = {};
  for (const [alg, value] of Object.entries(digest)) {
    if (typeof value !== 'string' || value.length === 0) throw badStatement(`${where}: digest ${alg} must be a non-empty string`);
    const len = HEX_DIGEST_LENGTH[alg];
    if (len !== undefined && !new RegExp(`^[0-9a-f]{${len}}$`).test(value)) {
      throw badStatement(`${where}: digest ${alg} must be ${len} lowercase hex digits`);
    }
    out[alg] = value;
  }
  return out;
}

function isUri(s: string): boolean {
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

function checkSubject(value: unknown, i: number): ResourceDescriptor {
  const where = `subject ${i}`;
  if (!isRecord(value)) throw badStatement(`${where} must be an object`);
  // Statement v1: every subject MUST have a digest; subjects are matched by digest only.
  const digest = checkDigestSet(value.digest, where);
  const out: { -readonly [K in keyof ResourceDescriptor]: ResourceDescriptor[K] } = { digest };
  for (const field of ['name', 'uri', 'content', 'downloadLocation', 'mediaType'] as const) {
    const v = value[field];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw badStatement(`${where}: ${field} must be a string`);
    out[field] = v;
  }
  if (value.annotations !== undefined) {
    if (!isRecord(value.annotations)) throw badStatement(`${where}: annotations must be an object`);
    out.annotations = value.annotations;
  }
  return out;
}

function checkStatement(value: unknown): Statement {
  if (!isRecord(value)) throw badStatement('statement must be a JSON object');
  if (value._type !== IN_TOTO_STATEMENT_TYPE) {
    throw badStatement(`statement _type must be ${IN_TOTO_STATEMENT_TYPE}`, 'only in-toto Statement v1 is supported');
  }
  if (!Array.isArray(value.subject) || value.subject.length === 0) throw badStatement('statement needs a non-empty subject array');
  const subject = value.subject.map((s: unknown, i) => checkSubject(s, i));
  const predicateType = value.predicateType;
  if (typeof predicateType !== 'string' || !isUri(predicateType)) throw badStatement('statement predicateType must be a URI');
  if (value.predicate !== undefined && !isRecord(value.predicate)) throw badStatement('statement predicate must be a JSON object');
  // Unrecognized fields are ignored, as the in-toto spec asks of consumers.
  return value.predicate === undefined
    ? { _type: IN_TOTO_STATEMENT_TYPE, subject, predicateType }
    : { _type: IN_TOTO_STATEMENT_TYPE, subject, predicateType, predicate: value.predicate };
}

/** Builds and validates a Statement v1. */
export function buildStatement<P extends object>(input: {
  readonly subject: readonly ResourceDescriptor[];
  readonly predicateType: string;
  readonly predicate: P;
}): Statement<P> {
  checkStatement(JSON.parse(canonicalJson({ _type: IN_TOTO_STATEMENT_TYPE, ...input })));
  return { _type: IN_TOTO_STATEMENT_TYPE, subject: input.subject, predicateType: input.predicateType, predicate: input.predicate };
}

/** The statement as RFC 8785 canonical JSON bytes (the DSSE payload). */
export function encodeStatement(statement: Statement): Uint8Array {
  return Buffer.from(canonicalJson(statement), 'utf8');
}

/** Parses and validates Statement v1 JSON. */
export function parseStatement(payload: string | Uint8Array): Statement {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : utf8.decode(payload));
  } catch (cause) {
    throw new LedgerError('LEDGER_BAD_STATEMENT', 'statement is not valid UTF-8 JSON', { cause });
  }
  return checkStatement(value);
}

/** The subject whose digest set has `digest` under `algorithm` (subjects match by digest only). */
export function findSubject(statement: Statement, algorithm: string, digest: string): ResourceDescriptor | undefined {
  return statement.subject.find((s) => s.digest?.[algorithm] === digest);
}

/** Signs a statement into a DSSE envelope with payloadType application/vnd.in-toto+json. */
export function signStatement(statement: Statement, signers: readonly DsseSigner[]): Envelope {
  return signEnvelope(IN_TOTO_PAYLOAD_TYPE, encodeStatement(statement), signers);
}

/** Verifies the envelope first, then parses the exact verified bytes as a statement. */
export function verifyStatement(
  envelope: string | Uint8Array | Envelope,
  trusted: readonly DsseVerifier[],
  options: Omit<VerifyEnvelopeOptions, 'payloadType'> = {},
): VerifiedEnvelope & { readonly statement: Statement } {
  const verified = verifyEnvelope(envelope, trusted, { ...options, payloadType: IN_TOTO_PAYLOAD_TYPE });
  return { ...verified, statement: parseStatement(verified.payload) };
}
