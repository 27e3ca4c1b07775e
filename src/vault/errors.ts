import { TrainGuardError } from '../core/index.ts';

/** Closed set of vault error codes; docs/vault.md says when each is raised. */
export type VaultErrorCode =
  // requests a caller can get wrong
  | 'VAULT_BAD_INPUT'
  | 'VAULT_NOT_FOUND'
  | 'VAULT_CONTEXT_MISMATCH'
  // stored objects that fail to parse or authenticate
  | 'VAULT_CORRUPT'
  | 'VAULT_UNSUPPORTED'
  // keys
  | 'VAULT_WRONG_KEY'
  | 'VAULT_UNKNOWN_KEY'
  | 'VAULT_KEY_IN_USE'
  | 'VAULT_KEY_STATE'
  | 'VAULT_KEYFILE_PERMISSIONS'
  | 'VAULT_KEYFILE_CORRUPT'
  // storage
  | 'VAULT_IO';

export class VaultError extends TrainGuardError<VaultErrorCode> {
  override readonly name = 'VaultError';
  readonly module = 'vault';
}
