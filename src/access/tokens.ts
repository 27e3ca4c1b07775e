import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API tokens: `tg_<id>_<secret>`, where id is 24 hex digits (96 bits, looked up directly, so
 * authentication never scans) and secret is 256 random bits in base64url (43 characters).
 * Only SHA-256(secret) is stored. A fast hash is enough here, unlike for passwords: the secret is
 * uniformly random, so there is nothing to guess that a slow hash would protect.
 */

export const TOKEN_PREFIX = 'tg_';
const TOKEN_FORMAT = /^tg_([0-9a-f]{24})_([A-Za-z0-9_-]{43})$/;
const SECRET_BYTES = 32;

export interface IssuedToken {
  readonly id: string;
  /** The whole token, to show once and never store. */
  readonly token: string;
  /** Hex SHA-256 of the secret part: what the store keeps. */
  readonly secretSha256: string;
}

/** Makes a fresh token from the operating system's CSPRNG. */
export function issueToken(): IssuedToken {
  const id = randomBytes(12).toString('hex');
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { id, token: `${TOKEN_PREFIX}${id}_${secret}`, secretSha256: sha256(secret).toString('hex') };
}

/** Splits a presented token into id and secret; undefined when it is not in the token format. */
export function parseToken(token: string): { readonly id: string; readonly secret: string } | undefined {
  const m = TOKEN_FORMAT.exec(token);
  if (m === null || m[1] === undefined || m[2] === undefined) return undefined;
  return { id: m[1], secret: m[2] };
}

// Compared against when the token id is unknown, so every failed lookup costs one hash and one
// constant-time comparison, like a wrong secret does.
const DECOY_SHA256 = randomBytes(32);

/**
 * True when `secret` hashes to `storedSha256` (hex; undefined: no such token). The comparison is
 * crypto.timingSafeEqual over the two 32-byte digests, so its time does not depend on where they differ.
 */
export function secretMatches(secret: string, storedSha256: string | undefined): boolean {
  const stored = storedSha256 === undefined ? undefined : Buffer.from(storedSha256, 'hex');
  const expected = stored !== undefined && stored.length === DECOY_SHA256.length ? stored : DECOY_SHA256;
  const same = timingSafeEqual(sha256(secret), expected);
  return same && expected === stored;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
