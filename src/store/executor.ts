import type { Kysely, Transaction } from 'kysely';
import { StoreError } from './errors.ts';
import type { Database } from './schema.ts';

/** A database handle a repository runs on: the store's pool, or a transaction it joins. */
export type Executor = Kysely<Database>;

/** Runs `fn` in a transaction, joining the caller's when `db` already is one (kysely cannot nest). */
export function inTransaction<T>(db: Executor, fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db as Transaction<Database>);
  return db.transaction().execute(fn);
}

/** Rows per unnest insert: large enough to amortise the round trip, small enough for one message. */
export const INSERT_CHUNK = 5000;

export const HEX64 = /^[0-9a-f]{64}$/;

/** Throws STORE_BAD_INPUT unless `value` is a lowercase hex SHA-256. */
export function checkHex64(value: string, what: string): void {
  if (!HEX64.test(value)) {
    throw new StoreError('STORE_BAD_INPUT', `${what} is not a lowercase hex SHA-256`, { hint: 'pass the 64-character digest as computed by TrainGuard' });
  }
}

/** Throws STORE_BAD_INPUT unless `value` is a whole number in [min, max]. */
export function checkInteger(value: number, what: string, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new StoreError('STORE_BAD_INPUT', `${what} must be a whole number from ${min} to ${max}`, { hint: `got ${String(value).slice(0, 40)}` });
  }
}

/** Throws STORE_BAD_INPUT unless `limit` is a page size from 1 to 1000. */
export function checkLimit(limit: number): void {
  checkInteger(limit, 'limit', 1, 1000);
}

/** Splits `items` into runs of at most `size`. */
export function chunks<T>(items: readonly T[], size = INSERT_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
