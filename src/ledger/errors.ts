import { TrainGuardError } from '../core/index.ts';

/**
 * Closed set of ledger error codes. Other ledger files append their codes to this union
 * (small additions only).
 */
export type LedgerErrorCode = 'LEDGER_BAD_PROOF' | 'LEDGER_BAD_INPUT'
  // signed notes, keys, checkpoints, cosignatures, DSSE (keys.ts, note.ts, checkpoint.ts, dsse.ts)
  | 'LEDGER_BAD_KEY'
  | 'LEDGER_BAD_NOTE'
  | 'LEDGER_BAD_SIGNATURE'
  | 'LEDGER_UNVERIFIED'
  | 'LEDGER_BAD_CHECKPOINT'
  | 'LEDGER_BAD_ENVELOPE'
  | 'LEDGER_BAD_STATEMENT'
  | 'LEDGER_BAD_POLICY'
  // receipts and snapshots (receipt.ts, snapshot.ts)
  | 'LEDGER_BAD_RECEIPT'
  | 'LEDGER_BAD_SNAPSHOT'
  | 'LEDGER_FORK'
  | 'LEDGER_SNAPSHOT_MISMATCH'
  // tile storage and the append path (tiles.ts, log.ts)
  | 'LEDGER_BAD_TILE_PATH'
  | 'LEDGER_ENTRY_TOO_LARGE'
  | 'LEDGER_CORRUPT'
  | 'LEDGER_IO'
  | 'LEDGER_LOCKED'
  | 'LEDGER_NOT_FOUND'
  | 'LEDGER_EXISTS'
  | 'LEDGER_IDEMPOTENCY_CONFLICT'
  | 'LEDGER_READ_ONLY'
  | 'LEDGER_CLOSED';

export class LedgerError extends TrainGuardError<LedgerErrorCode> {
  override readonly name = 'LedgerError';
  readonly module = 'ledger';
}
