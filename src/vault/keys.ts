/**
 * Key-encryption keys (KEKs) behind a KMS-shaped interface: the vault hands a provider a data key
 * and associated data and gets back an opaque wrap record, and the reverse; it never sees a KEK.
 * Two providers live here: a local key file (key-file.ts) and a passphrase (passphrase.ts).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { VaultError } from './errors.ts';
import { DEK_SIZE } from './format.ts';

export type KekStatus = 'active' | 'retired';

/** What a provider tells about one of its KEKs; never the key itself. */
export interface KekInfo {
  readonly id: string;
  /** ISO 8601 creation time. */
  readonly created: string;
  /** `active` keys wrap and unwrap; `retired` keys only unwrap (a restored backup stays readable). */
  readonly status: KekStatus;
  /** The key new objects are wrapped under. Exactly one key is primary. */
  readonly primary: boolean;
}

/** A data key wrapped under a KEK: the id goes in the object header, the record after it. */
export interface WrappedKey {
  readonly kekId: string;
  readonly record: Uint8Array;
}

/**
 * Where KEKs live. `wrap` uses the primary KEK; `unwrap` throws VaultError VAULT_UNKNOWN_KEY when
 * the KEK is not held, VAULT_WRONG_KEY when the held key is not the one that wrapped the record,
 * and VAULT_CORRUPT when the record or the associated data was altered. The lifecycle methods are
 * optional: a passphrase has no ring to manage (it rotates by re-wrapping under a new passphrase).
 */
export interface KeyProvider {
  /** For messages: "key file /etc/trainguard/keys.json". */
  readonly description: string;
  /** The KEKs held, the primary first. */
  keys(): Promise<readonly KekInfo[]>;
  wrap(dek: Uint8Array, aad: Uint8Array): Promise<WrappedKey>;
  unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array>;
  /** Adds a KEK and makes it primary. */
  createKey?(): Promise<KekInfo>;
  /** Marks a non-primary KEK retired. The vault calls this only when no object uses it. */
  retireKey?(id: string): Promise<void>;
  /** Erases a retired KEK. Irreversible: anything still wrapped under it is lost. */
  destroyKey?(id: string): Promise<void>;
}

const CHECK_SIZE = 16;
const IV_SIZE = 12;
const TAG_SIZE = 16;
/** Size of a sealed data key: key check ‖ IV ‖ encrypted DEK ‖ GCM tag. */
export const SEALED_DEK_SIZE = CHECK_SIZE + IV_SIZE + DEK_SIZE + TAG_SIZE;
const CHECK_LABEL = 'trainguard/vault/v1 kek check';

/**
 * A 128-bit public fingerprint of a KEK: HMAC-SHA-256(KEK, label). Stored beside each wrapped key
 * so that a wrong key or passphrase is told apart from a damaged record; it reveals nothing an
 * attacker could not learn by trying the GCM unwrap itself.
 */
function keyCheck(kek: Uint8Array): Buffer {
  return createHmac('sha256', kek).update(CHECK_LABEL).digest().subarray(0, CHECK_SIZE);
}

/** Wraps a data key under a 256-bit KEK with AES-256-GCM and a random IV, binding `aad`. */
export function sealDek(kek: Uint8Array, dek: Uint8Array, aad: Uint8Array): Uint8Array {
  if (dek.length !== DEK_SIZE) throw new VaultError('VAULT_BAD_INPUT', `data key must be ${DEK_SIZE} bytes`);
  const iv = randomBytes(IV_SIZE);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(dek), cipher.final()]);
  return Buffer.concat([keyCheck(kek), iv, ct, cipher.getAuthTag()]);
}

/** True when `sealed` was made with this KEK (by its key check), whatever the rest holds. */
export function sealedWith(kek: Uint8Array, sealed: Uint8Array): boolean {
  return sealed.length === SEALED_DEK_SIZE && timingSafeEqual(keyCheck(kek), sealed.subarray(0, CHECK_SIZE));
}

/** Reverses {@link sealDek}; the caller has checked {@link sealedWith}. */
export function openDek(kek: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  if (sealed.length !== SEALED_DEK_SIZE) throw new VaultError('VAULT_CORRUPT', 'wrapped data key has the wrong length');
  let o = CHECK_SIZE;
  const iv = sealed.subarray(o, (o += IV_SIZE));
  const ct = sealed.subarray(o, (o += DEK_SIZE));
  const decipher = createDecipheriv('aes-256-gcm', kek, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(o));
  const dek = decipher.update(ct);
  try {
    decipher.final();
  } catch (err) {
    dek.fill(0);
    throw new VaultError('VAULT_CORRUPT', 'wrapped data key or header failed authentication', {
      hint: 'the object header was damaged or tampered with; restore it from a replica or delete the object',
      cause: err,
    });
  }
  return dek;
}

/** The error a provider raises for a record its key check does not match. */
export function wrongKey(what: string, hint: string): VaultError {
  return new VaultError('VAULT_WRONG_KEY', `${what} does not match the key that wrapped this object`, { hint });
}
