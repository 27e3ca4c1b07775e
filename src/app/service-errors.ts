import { TrainGuardError } from '../core/index.ts';

export type ServiceErrorCode = 'SERVICE_BAD_INPUT' | 'SERVICE_NOT_FOUND' | 'SERVICE_TOO_LARGE' | 'SERVICE_CONFLICT' | 'SERVICE_SELF_REVIEW' | 'SERVICE_SCAN_FAILED';

export class ServiceError extends TrainGuardError<ServiceErrorCode> {
  override readonly name = 'ServiceError';
  readonly module = 'app';
}
