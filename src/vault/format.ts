/**
 * The object header: a versioned binary record in three parts (docs/vault.md has the byte table).
 *
 *   stable  — magic, version, suite, segment size, object id, nonce prefix, context. Fixed when the
 *             object is created; its exact bytes are the HKDF info of the segment key, so the body
 *             authenticates them and any change makes every segment fail.
 *   digest  — plaintext size, plaintext SHA-256 (the object's name), body SHA-256. Known only once
 *             the body is written; authenticated as associated data of the wrapped data key.
 *   key     — KEK id and the provider's wrap record. The only part rotation rewrites; the wrap's
 *             associated data is stable ‖ digest, which rotation leaves byte for byte as it was.
 */
import { canonicalJson } from '../core/index.ts';
import { VaultError } from './errors.ts';

/** "TGVA": TrainGuard vault object header. */
export const MAGIC = Uint8Array.of(0x54, 0x47, 0x56, 0x41);
const FORMAT_VERSION = 1;
/** AES-256-GCM STREAM segments, segment key by HKDF-SHA-256, 7-byte nonce prefix. */
const SUITE_AES256_GCM_HKDF_SHA256 = 1;

// 1 MiB, as Tink's AES256_GCM_HKDF_1MB template: measured ~35 % faster than 64 KiB here (docs/vault.md).
export const DEFAULT_SEGMENT_SIZE = 1024 * 1024;
/** Small enough for exhaustive tamper tests; large enough that the 16-byte tag stays overhead. */
export const MIN_SEGMENT_SIZE = 64;
/** A reader holds one segment in memory; a hostile header must not make it allocate more. */
export const MAX_SEGMENT_SIZE = 16 * 1024 * 1024;
/** Keeps the stable header under node's 1024-byte HKDF info limit. */
export const MAX_CONTEXT_BYTES = 512;
const MAX_KEK_ID_LENGTH = 64;
const MAX_WRAP_RECORD_SIZE = 1024;

export const DEK_SIZE = 32;
export const OBJECT_ID_SIZE = 16;
export const NONCE_PREFIX_SIZE = 7;
export const TAG_SIZE = 16;
/** The STREAM counter is a uint32, so an object has at most 2^32 segments. */
export const MAX_SEGMENTS = 2 ** 32;

const STABLE_FIXED_SIZE = 4 + 1 + 1 + 4 + OBJECT_ID_SIZE + NONCE_PREFIX_SIZE + 2;
const DIGEST_SIZE = 8 + 32 + 32;
const KEK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** Caller-supplied associated data (dataset id, object kind, ...), bound into the object. */
export type VaultContext = Readonly<Record<string, string>>;

export interface StableHeader {
  readonly segmentSize: number;
  readonly objectId: Uint8Array;
  readonly noncePrefix: Uint8Array;
  readonly context: VaultContext;
  /** The exact encoded bytes: HKDF info of the segment key and the first part of the wrap's AAD. */
  readonly bytes: Uint8Array;
}

export interface ObjectDigest {
  /** Plaintext bytes. */
  readonly size: number;
  /** SHA-256 of the plaintext, lowercase hex: the object's name. */
  readonly sha256: string;
  /** SHA-256 of the encrypted body (all segments, header excluded), lowercase hex. */
  readonly ciphertextSha256: string;
}

export interface ObjectHeader {
  readonly stable: StableHeader;
  readonly digest: ObjectDigest;
  readonly kekId: string;
  readonly wrapRecord: Uint8Array;
}

/** True for a 64-character lowercase hex SHA-256, the only form object names take. */
export function isSha256Hex(s: string): boolean {
  return SHA256_PATTERN.test(s);
}

export function isValidKekId(id: string): boolean {
  return id.length <= MAX_KEK_ID_LENGTH && KEK_ID_PATTERN.test(id);
}

/** Number of STREAM segments for a plaintext size: empty plaintext is one empty final segment. */
function segmentCount(size: number, segmentSize: number): number {
  return Math.max(1, Math.ceil(size / segmentSize));
}

/** Body bytes for a plaintext size: the plaintext plus one tag per segment. */
export function bodySize(size: number, segmentSize: number): number {
  return size + segmentCount(size, segmentSize) * TAG_SIZE;
}

export function checkSegmentSize(segmentSize: number): void {
  if (!Number.isSafeInteger(segmentSize) || segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE) {
    throw new VaultError('VAULT_BAD_INPUT', `segment size ${segmentSize} is outside ${MIN_SEGMENT_SIZE}..${MAX_SEGMENT_SIZE} bytes`, {
      hint: `use the default (${DEFAULT_SEGMENT_SIZE}) unless you measured a reason not to`,
    });
  }
}

/** Canonical (RFC 8785) UTF-8 bytes of a context, checked for shape and size. */
export function encodeContext(context: VaultContext): Uint8Array {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new VaultError('VAULT_BAD_INPUT', 'context must be an object of strings', { hint: 'pass e.g. { dataset: "d1", kind: "batch" }' });
  }
  for (const [k, v] of Object.entries(context)) {
    if (typeof v !== 'string') {
      throw new VaultError('VAULT_BAD_INPUT', `context value for "${k}" is not a string`, { hint: 'context values must be strings' });
    }
  }
  const bytes = Buffer.from(canonicalJson(context), 'utf8');
  if (bytes.length > MAX_CONTEXT_BYTES) {
    throw new VaultError('VAULT_BAD_INPUT', `context is ${bytes.length} bytes; the limit is ${MAX_CONTEXT_BYTES}`, {
      hint: 'bind short identifiers (dataset id, object kind), not metadata',
    });
  }
  return bytes;
}

export function encodeStable(fields: {
  segmentSize: number;
  objectId: Uint8Array;
  noncePrefix: Uint8Array;
  context: VaultContext;
}): StableHeader {
  checkSegmentSize(fields.segmentSize);
  if (fields.objectId.length !== OBJECT_ID_SIZE || fields.noncePrefix.length !== NONCE_PREFIX_SIZE) {
    throw new VaultError('VAULT_BAD_INPUT', 'object id or nonce prefix has the wrong length');
  }
  const ctx = encodeContext(fields.context);
  const bytes = Buffer.alloc(STABLE_FIXED_SIZE + ctx.length);
  let o = 0;
  bytes.set(MAGIC, o);
  o += 4;
  bytes[o++] = FORMAT_VERSION;
  bytes[o++] = SUITE_AES256_GCM_HKDF_SHA256;
  o = bytes.writeUInt32BE(fields.segmentSize, o);
  bytes.set(fields.objectId, o);
  o += OBJECT_ID_SIZE;
  bytes.set(fields.noncePrefix, o);
  o += NONCE_PREFIX_SIZE;
  o = bytes.writeUInt16BE(ctx.length, o);
  bytes.set(ctx, o);
  return {
    segmentSize: fields.segmentSize,
    objectId: Uint8Array.from(fields.objectId),
    noncePrefix: Uint8Array.from(fields.noncePrefix),
    context: JSON.parse(Buffer.from(ctx).toString('utf8')) as VaultContext,
    bytes,
  };
}

function encodeDigest(digest: ObjectDigest): Uint8Array {
  const out = Buffer.alloc(DIGEST_SIZE);
  out.writeBigUInt64BE(BigInt(digest.size), 0);
  out.write(digest.sha256, 8, 'hex');
  out.write(digest.ciphertextSha256, 40, 'hex');
  return out;
}

/** Associated data of the wrapped data key: the stable part and the digest, both fixed for life. */
export function wrapAad(stable: StableHeader, digest: ObjectDigest): Uint8Array {
  return Buffer.concat([stable.bytes, encodeDigest(digest)]);
}

export function encodeHeader(header: ObjectHeader): Uint8Array {
  const id = Buffer.from(header.kekId, 'ascii');
  if (!isValidKekId(header.kekId)) throw new VaultError('VAULT_BAD_INPUT', `invalid KEK id "${header.kekId}"`);
  if (header.wrapRecord.length > MAX_WRAP_RECORD_SIZE) throw new VaultError('VAULT_BAD_INPUT', 'wrap record too large');
  const tail = Buffer.alloc(1 + id.length + 2);
  tail[0] = id.length;
  tail.set(id, 1);
  tail.writeUInt16BE(header.wrapRecord.length, 1 + id.length);
  return Buffer.concat([header.stable.bytes, encodeDigest(header.digest), tail, header.wrapRecord]);
}

/**
 * Parses a header as hostile input: every length is bounded, nothing may trail, and the context must
 * be in canonical form. It does not authenticate anything; unwrapping the data key does.
 * `name` (the object's SHA-256) is only used in messages.
 */
export function parseHeader(bytes: Uint8Array, name: string): ObjectHeader {
  const corrupt = (what: string): VaultError =>
    new VaultError('VAULT_CORRUPT', `object ${name}: header ${what}`, {
      path: name,
      hint: 'the stored object was damaged or tampered with; restore it from a replica or delete it',
    });
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < STABLE_FIXED_SIZE) throw corrupt('is truncated');
  if (!buf.subarray(0, 4).equals(MAGIC)) throw corrupt('has a bad magic number (not a TrainGuard vault object)');
  const version = buf[4];
  const suite = buf[5];
  if (version !== FORMAT_VERSION || suite !== SUITE_AES256_GCM_HKDF_SHA256) {
    throw new VaultError('VAULT_UNSUPPORTED', `object ${name}: format version ${version}, suite ${suite} is not supported`, {
      path: name,
      hint: `this TrainGuard reads format ${FORMAT_VERSION} suite ${SUITE_AES256_GCM_HKDF_SHA256}; the object is damaged or from a newer version`,
    });
  }
  const segmentSize = buf.readUInt32BE(6);
  if (segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE) throw corrupt(`has segment size ${segmentSize} outside the allowed range`);
  let o = 10;
  const objectId = Uint8Array.from(buf.subarray(o, o + OBJECT_ID_SIZE));
  o += OBJECT_ID_SIZE;
  const noncePrefix = Uint8Array.from(buf.subarray(o, o + NONCE_PREFIX_SIZE));
  o += NONCE_PREFIX_SIZE;
  const ctxLen = buf.readUInt16BE(o);
  o += 2;
  if (ctxLen > MAX_CONTEXT_BYTES) throw corrupt('has an oversized context');
  if (buf.length < o + ctxLen + DIGEST_SIZE + 1) throw corrupt('is truncated');
  const context = parseContext(buf.subarray(o, o + ctxLen), corrupt);
  o += ctxLen;
  const stableBytes = Uint8Array.from(buf.subarray(0, o));

  const size = buf.readBigUInt64BE(o);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt('has an impossible size');
  const digest: ObjectDigest = {
    size: Number(size),
    sha256: buf.toString('hex', o + 8, o + 40),
    ciphertextSha256: buf.toString('hex', o + 40, o + 72),
  };
  o += DIGEST_SIZE;

  const idLen = buf[o] ?? 0;
  o += 1;
  if (idLen === 0 || idLen > MAX_KEK_ID_LENGTH || buf.length < o + idLen + 2) throw corrupt('has a bad KEK id length');
  const kekId = buf.toString('latin1', o, o + idLen);
  if (!isValidKekId(kekId)) throw corrupt('has a malformed KEK id');
  o += idLen;
  const recLen = buf.readUInt16BE(o);
  o += 2;
  if (recLen > MAX_WRAP_RECORD_SIZE) throw corrupt('has an oversized wrap record');
  if (buf.length !== o + recLen) throw corrupt(buf.length < o + recLen ? 'is truncated' : 'has trailing bytes');
  const wrapRecord = Uint8Array.from(buf.subarray(o, o + recLen));
  return { stable: { segmentSize, objectId, noncePrefix, context, bytes: stableBytes }, digest, kekId, wrapRecord };
}

function parseContext(bytes: Uint8Array, corrupt: (what: string) => VaultError): VaultContext {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw corrupt('has an unreadable context');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw corrupt('has a context that is not an object of strings');
  }
  // One context, one encoding: the bytes are authenticated, so a second spelling must not parse.
  if (!Buffer.from(canonicalJson(value), 'utf8').equals(bytes)) throw corrupt('has a non-canonical context');
  return value as VaultContext;
}
