import { TrainGuardError } from '../core/index.ts';

/** Closed set of access error codes; docs/access.md says when each is raised. */
export type AccessErrorCode =
  // authentication and authorisation
  | 'ACCESS_UNAUTHENTICATED'
  | 'ACCESS_DENIED'
  // requests a user can get wrong
  | 'ACCESS_BAD_INPUT'
  | 'ACCESS_WEAK_PASSWORD'
  | 'ACCESS_NOT_FOUND'
  | 'ACCESS_EXISTS'
  | 'ACCESS_BOOTSTRAP_CLOSED'
  | 'ACCESS_LAST_ADMIN'
  // the store
  | 'ACCESS_CORRUPT'
  | 'ACCESS_INSECURE_FILE'
  | 'ACCESS_LOCKED'
  | 'ACCESS_IO'
  // delivery of committed events to a listener
  | 'ACCESS_EVENT_SINK_FAILED';

export class AccessError extends TrainGuardError<AccessErrorCode> {
  override readonly name = 'AccessError';
  readonly module = 'access';
}
