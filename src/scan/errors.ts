import { TrainGuardError } from '../core/index.ts';

export type ScanErrorCode = 'SCAN_EMPTY_DATASET' | 'SCAN_SINGLE_CLASS' | 'SCAN_TOO_FEW_SAMPLES' | 'SCAN_BAD_OPTION';

export class ScanError extends TrainGuardError<ScanErrorCode> {
  override readonly name = 'ScanError';
  readonly module = 'scan';
}
