import { TrainGuardError } from '../core/index.ts';

/** Closed set of jobs error codes. Tests and the CLI/HTTP tables switch on these, never on text. */
export type JobsErrorCode =
  | 'JOBS_BAD_INPUT'
  | 'JOBS_UNKNOWN_KIND'
  | 'JOBS_NOT_STARTED'
  | 'JOBS_STOPPED'
  | 'JOBS_UNAVAILABLE'
  | 'JOBS_TIMEOUT'
  // abort reasons handed to a running handler through its signal
  | 'JOBS_LEASE_LOST'
  // recorded as a job's last error when its handler returns something that is not JSON
  | 'JOBS_BAD_RESULT';

export class JobsError extends TrainGuardError<JobsErrorCode> {
  override readonly name = 'JobsError';
  readonly module = 'jobs';
}
