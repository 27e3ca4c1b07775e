import { randomBytes } from 'node:crypto';
import { hash, parseOptions, verify } from '@node-rs/argon2';
import type { Algorithm } from '@node-rs/argon2';
import { AccessError } from './errors.ts';

/**
 * Passwords (web UI users only) are hashed with argon2id at OWASP's first recommended setting
 * (m = 19 MiB, t = 2, p = 1; OWASP Password Storage Cheat Sheet). The PHC string that the library
 * returns records algorithm, version, parameters and the 16-byte salt, so old hashes keep verifying
 * after the policy is raised, and `needsRehash` tells when to upgrade one at the next login.
 */

/** NIST SP 800-63B-4: at least 15 characters for a password that is the only factor. */
export const MIN_PASSWORD_LENGTH = 15;
/** Bounds the work one login request can ask for. */
export const MAX_PASSWORD_LENGTH = 1024;
export const ARGON2_PARAMS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

// The package declares Algorithm as an ambient const enum, which isolatedModules code cannot read
// (its runtime object is empty); 2 is Argon2id in that enum.
const ARGON2ID = 2 as Algorithm;

/**
 * Normalises (NFKC, as NIST asks, so the same password typed on two keyboards matches) and checks
 * length in code points; throws ACCESS_WEAK_PASSWORD. No composition rules: NIST advises against them.
 */
export function normalizePassword(password: string): string {
  const normalized = password.normalize('NFKC');
  const length = [...normalized].length;
  if (length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    throw new AccessError('ACCESS_WEAK_PASSWORD', `password must have ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters, got ${length}`, {
      hint: `choose a passphrase of at least ${MIN_PASSWORD_LENGTH} characters, e.g. several unrelated words`,
    });
  }
  return normalized;
}

/** argon2id PHC string of a password that passes the policy. */
export async function hashPassword(password: string): Promise<string> {
  return hash(normalizePassword(password), { algorithm: ARGON2ID, ...ARGON2_PARAMS });
}

/**
 * True when `password` matches the stored PHC string (the library compares in constant time).
 * A stored string the library cannot read is a damaged store, not a wrong password.
 */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const candidate = password.normalize('NFKC');
  if ([...candidate].length > MAX_PASSWORD_LENGTH) return false;
  try {
    return await verify(stored, candidate);
  } catch (err) {
    throw new AccessError('ACCESS_CORRUPT', 'a stored password hash cannot be read', {
      cause: err,
      hint: 'the access store is damaged; restore it from a backup or reset this password',
    });
  }
}

/** True when a stored hash is not argon2id or is weaker than `ARGON2_PARAMS`. */
export function needsRehash(stored: string): boolean {
  const p = parseOptions(stored);
  return p.algorithm !== ARGON2ID
    || p.memoryCost < ARGON2_PARAMS.memoryCost
    || p.timeCost < ARGON2_PARAMS.timeCost
    || p.parallelism < ARGON2_PARAMS.parallelism;
}

let decoy: Promise<string> | undefined;

/**
 * Verifies against a fixed hash of a random password, so a login for an unknown user (or one
 * without a password) takes as long as a wrong password and does not reveal which names exist.
 */
export async function verifyDecoy(password: string): Promise<void> {
  decoy ??= hash(randomBytes(24).toString('base64url'), { algorithm: ARGON2ID, ...ARGON2_PARAMS });
  await verifyPassword(await decoy, password);
}
