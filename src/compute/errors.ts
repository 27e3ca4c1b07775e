import { TrainGuardError } from '../core/index.ts';

/** Closed set of failures the compute module reports; callers switch on `code`. */
export type ComputeErrorCode =
  | 'COMPUTE_SHAPE_MISMATCH'
  | 'COMPUTE_INVALID_ARGUMENT'
  | 'COMPUTE_TOO_FEW_SAMPLES'
  | 'COMPUTE_RUNTIME_UNAVAILABLE'
  | 'COMPUTE_RUNTIME_FAILED'
  | 'COMPUTE_NON_FINITE';

export class ComputeError extends TrainGuardError<ComputeErrorCode> {
  override readonly name = 'ComputeError';
  readonly module = 'compute';
}
