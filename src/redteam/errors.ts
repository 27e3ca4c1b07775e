import { TrainGuardError } from '../core/index.ts';

export type RedteamErrorCode =
  | 'REDTEAM_BAD_RATE'
  | 'REDTEAM_UNKNOWN_CLASS'
  | 'REDTEAM_LENGTH_MISMATCH'
  | 'REDTEAM_BAD_ATTACK'
  | 'REDTEAM_BAD_NOISE_MATRIX'
  | 'REDTEAM_TOO_FEW_CLASSES'
  | 'REDTEAM_BAD_INPUT'
  | 'REDTEAM_BAD_FORMAT'
  | 'REDTEAM_BAD_TRUTH'
  | 'REDTEAM_BAD_REPORT'
  | 'REDTEAM_NO_MATCH'
  | 'REDTEAM_BAD_TRIGGER'
  | 'REDTEAM_BAD_IMAGE_SHAPE';

export class RedteamError extends TrainGuardError<RedteamErrorCode> {
  override readonly name = 'RedteamError';
  readonly module = 'redteam';
}
