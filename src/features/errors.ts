import { TrainGuardError } from '../core/index.ts';

/** `FEATURES_NO_FEATURES`: nothing to learn from; `FEATURES_BAD_INPUT`: malformed dataset or options. */
export type FeaturesErrorCode = 'FEATURES_NO_FEATURES' | 'FEATURES_BAD_INPUT';

export class FeaturesError extends TrainGuardError<FeaturesErrorCode> {
  override readonly name = 'FeaturesError';
  readonly module = 'features';
}
