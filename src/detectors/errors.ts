import { TrainGuardError } from '../core/index.ts';

/**
 * Closed set of detector error codes. Detectors return findings for bad samples; these are for
 * inputs that make a whole run meaningless (wrong shapes, NaN probabilities) or bad options.
 */
export type DetectorErrorCode = 'DETECTOR_UNKNOWN' | 'DETECTOR_BAD_INPUT' | 'DETECTOR_BAD_OPTION';

export class DetectorError extends TrainGuardError<DetectorErrorCode> {
  override readonly name = 'DetectorError';
  readonly module = 'detectors';
}
