/**
 * A KEK derived from a passphrase with scrypt (RFC 7914). Every wrap record carries the scrypt
 * parameters and salt, so an object can be unwrapped later with the passphrase alone. One salt per
 * provider instance (not per object) keeps reading many objects to one scrypt run per salt; the
 * KEK id names the salt. Changing the passphrase: open with `{ passphrase: new, previous: [old] }`
 * and call `vault.rewrap()`.
 */
import { randomBytes, scrypt } from 'node:crypto';
import { VaultError } from './errors.ts';
import { SEALED_DEK_SIZE, openDek, sealDek, sealedWith, wrongKey } from './keys.ts';
import type { KekInfo, KeyProvider, WrappedKey } from './keys.ts';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/** N = 2^17, r = 8, p = 1: 128 MiB and about a third of a second here, once per salt. */
export const DEFAULT_SCRYPT: ScryptParams = { logN: 17, r: 8, p: 1 };
/** Bounds for writing and for reading: a hostile record must not buy more than 1 GiB of scrypt. */
const LOG_N_MIN = 14;
const LOG_N_MAX = 20;
const R_MAX = 32;
const P_MAX = 16;
const MAX_SCRYPT_MEMORY = 2 ** 30;
const SALT_SIZE = 16;
const RECORD_SIZE = 3 + SALT_SIZE + SEALED_DEK_SIZE;

export interface PassphraseOptions {
  readonly passphrase: string;
  /** Earlier passphrases, used only to unwrap (so objects can be re-wrapped under the new one). */
  readonly previous?: readonly string[];
  readonly scrypt?: Partial<ScryptParams>;
}

export class PassphraseKeyProvider implements KeyProvider {
  readonly description = 'passphrase';
  readonly #passphrases: readonly Buffer[];
  readonly #params: ScryptParams;
  readonly #salt = randomBytes(SALT_SIZE);
  readonly #id: string;
  readonly #created = new Date().toISOString();
  /** Derived KEKs by passphrase index, parameters and salt. */
  readonly #derived = new Map<string, Promise<Buffer>>();

  constructor(options: PassphraseOptions) {
    const all = [options.passphrase, ...(options.previous ?? [])];
    if (all.some((p) => typeof p !== 'string' || p.length === 0)) {
      throw new VaultError('VAULT_BAD_INPUT', 'a passphrase must be a non-empty string', { hint: 'pass the passphrase you chose' });
    }
    // NFC, so the same passphrase typed on two systems derives the same key.
    this.#passphrases = all.map((p) => Buffer.from(p.normalize('NFC'), 'utf8'));
    this.#params = { ...DEFAULT_SCRYPT, ...options.scrypt };
    if (!validParams(this.#params)) {
      throw new VaultError('VAULT_BAD_INPUT', `scrypt parameters ${JSON.stringify(this.#params)} are out of bounds`, {
        hint: `logN ${LOG_N_MIN}..${LOG_N_MAX}, r 1..${R_MAX}, p 1..${P_MAX}, at most 1 GiB of memory`,
      });
    }
    this.#id = kekIdFor(this.#salt);
  }

  async keys(): Promise<readonly KekInfo[]> {
    return [{ id: this.#id, created: this.#created, status: 'active', primary: true }];
  }

  async wrap(dek: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    const kek = await this.#derive(0, this.#params, this.#salt);
    const head = Buffer.from([this.#params.logN, this.#params.r, this.#params.p]);
    return { kekId: this.#id, record: Buffer.concat([head, this.#salt, sealDek(kek, dek, aad)]) };
  }

  async unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    const rec = wrapped.record;
    if (rec.length !== RECORD_SIZE) throw badRecord('has the wrong length');
    const params: ScryptParams = { logN: rec[0] ?? 0, r: rec[1] ?? 0, p: rec[2] ?? 0 };
    if (!validParams(params)) throw badRecord('has scrypt parameters out of bounds');
    const salt = rec.subarray(3, 3 + SALT_SIZE);
    if (wrapped.kekId !== kekIdFor(salt)) throw badRecord('does not belong to its KEK id');
    const sealed = rec.subarray(3 + SALT_SIZE);
    for (let i = 0; i < this.#passphrases.length; i++) {
      const kek = await this.#derive(i, params, salt);
      if (sealedWith(kek, sealed)) return openDek(kek, sealed, aad);
    }
    throw wrongKey('the passphrase', 'use the passphrase the object was stored with (after a change, pass the old one as `previous`)');
  }

  #derive(index: number, params: ScryptParams, salt: Uint8Array): Promise<Buffer> {
    const cacheKey = `${index}:${params.logN}:${params.r}:${params.p}:${Buffer.from(salt).toString('hex')}`;
    let kek = this.#derived.get(cacheKey);
    if (kek === undefined) {
      const N = 2 ** params.logN;
      const pass = this.#passphrases[index] ?? Buffer.alloc(0);
      kek = new Promise<Buffer>((resolve, reject) => {
        scrypt(pass, salt, 32, { N, r: params.r, p: params.p, maxmem: 128 * N * params.r + 2 ** 24 }, (err, key) => (err ? reject(err) : resolve(key)));
      });
      this.#derived.set(cacheKey, kek);
    }
    return kek;
  }
}

function validParams(p: ScryptParams): boolean {
  const int = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;
  return int(p.logN, LOG_N_MIN, LOG_N_MAX) && int(p.r, 1, R_MAX) && int(p.p, 1, P_MAX) && 128 * 2 ** p.logN * p.r <= MAX_SCRYPT_MEMORY;
}

function kekIdFor(salt: Uint8Array): string {
  return `pp-${Buffer.from(salt).subarray(0, 8).toString('hex')}`;
}

function badRecord(what: string): VaultError {
  return new VaultError('VAULT_CORRUPT', `passphrase wrap record ${what}`, {
    hint: 'the object header was damaged or tampered with; restore it from a replica or delete the object',
  });
}
