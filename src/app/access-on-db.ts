/**
 * The service keeps principals, tokens and grants in its database (`store.access`). The store may
 * not import access, so its errors are the store's own; this adapter gives `AccessControl` the
 * codes the access contract promises (a taken name is ACCESS_EXISTS, a missing record
 * ACCESS_NOT_FOUND), whatever the backend.
 */
import { AccessError, type AccessStore } from '../access/index.ts';
import { StoreError, type Store } from '../store/index.ts';

export function accessStoreOnDb(store: Store): AccessStore {
  const db: AccessStore = store.access;
  return {
    read: (fn) => db.read(fn).catch(translate),
    transaction: (fn) => db.transaction(fn).catch(translate),
  };
}

function translate(err: unknown): never {
  if (err instanceof StoreError) {
    if (err.code === 'STORE_CONFLICT') {
      throw new AccessError('ACCESS_EXISTS', err.message, { hint: 'choose another name, or use the existing record', cause: err });
    }
    if (err.code === 'STORE_NOT_FOUND') throw new AccessError('ACCESS_NOT_FOUND', err.message, { hint: 'list the records to see what exists', cause: err });
  }
  throw err;
}
