import { TrainGuardError } from '../core/index.ts';

export type RedteamErrorCode = 'REDTEAM_BAD_RATE' | 'REDTEAM_UNKNOWN_CLASS' | 'REDTEAM_LENGTH_MISMATCH';

export class RedteamError extends TrainGuardError<RedteamErrorCode> {
  override readonly name = 'RedteamError';
  readonly module = 'redteam';
}
