import { TrainGuardError } from '../core/index.ts';

/** Closed set of store error codes; docs/store.md says when each is raised. */
export type StoreErrorCode =
  // the schema on disk does not match this code
  | 'STORE_MIGRATION_UNKNOWN'
  | 'STORE_MIGRATION_CHANGED'
  // the database cannot be reached or opened
  | 'STORE_UNAVAILABLE'
  // writes a caller can get wrong
  | 'STORE_CONFLICT'
  | 'STORE_NOT_FOUND'
  | 'STORE_BAD_INPUT'
  // a transaction kept losing to concurrent ones; retrying later will do
  | 'STORE_BUSY';

export class StoreError extends TrainGuardError<StoreErrorCode> {
  override readonly name = 'StoreError';
  readonly module = 'store';
}

/** The SQLSTATE of a database error from pg or PGlite (both set `code`), or undefined. */
export function sqlState(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';
export const CHECK_VIOLATION = '23514';
export const NOT_NULL_VIOLATION = '23502';
export const SERIALIZATION_FAILURE = '40001';
export const DEADLOCK_DETECTED = '40P01';

/**
 * Turns a constraint violation from the database into our typed error, so a caller sees
 * STORE_CONFLICT / STORE_BAD_INPUT instead of a driver error; anything else is rethrown as is
 * (a bug or an outage, not something the user did).
 */
export function translateWriteError(err: unknown, what: string): never {
  const state = sqlState(err);
  const constraint = typeof err === 'object' && err !== null && 'constraint' in err ? String((err as { constraint: unknown }).constraint) : '';
  if (state === UNIQUE_VIOLATION) {
    throw new StoreError('STORE_CONFLICT', `${what}: already exists${constraint === '' ? '' : ` (${constraint})`}`, {
      hint: 'the record (or its key) is already stored; read it instead of writing it again',
      cause: err,
    });
  }
  if (state === FOREIGN_KEY_VIOLATION) {
    throw new StoreError('STORE_NOT_FOUND', `${what}: refers to a record that does not exist${constraint === '' ? '' : ` (${constraint})`}`, {
      hint: 'create the dataset, source, batch or sample it refers to first',
      cause: err,
    });
  }
  if (state === CHECK_VIOLATION || state === NOT_NULL_VIOLATION || state?.startsWith('22') === true) {
    throw new StoreError('STORE_BAD_INPUT', `${what}: a value is out of range or missing${constraint === '' ? '' : ` (${constraint})`}`, {
      hint: 'check the fields against docs/store.md',
      cause: err,
    });
  }
  throw err;
}
