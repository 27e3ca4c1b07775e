import { TrainGuardError } from '../core/index.ts';

export type CliErrorCode = 'CLI_BAD_FLAG' | 'CLI_USAGE' | 'CLI_NETWORK' | 'CLI_REMOTE';

export class CliError extends TrainGuardError<CliErrorCode> {
  override readonly name = 'CliError';
  readonly module = 'cli';
}
