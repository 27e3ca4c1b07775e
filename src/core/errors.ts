/**
 * The one error base class. Each module subclasses it with a closed union of codes, so callers
 * (CLI exit codes, HTTP statuses) can switch on `code` and tests can assert it without matching text.
 */
export interface ErrorDetails {
  /** Where the problem is: a file, optionally with line and column, or a path inside an archive. */
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly path?: string;
  /** What the user can do about it, one sentence. */
  readonly hint?: string;
  readonly cause?: unknown;
}

export abstract class TrainGuardError<C extends string = string> extends Error {
  /** Which module raised it (`data`, `compute`, ...). */
  abstract readonly module: string;
  readonly code: C;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly path: string | undefined;
  readonly hint: string | undefined;

  constructor(code: C, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.file = details.file;
    this.line = details.line;
    this.column = details.column;
    this.path = details.path;
    this.hint = details.hint;
  }

  /** `file:line:column` when known, else the path, else undefined. */
  get location(): string | undefined {
    const where = this.file ?? this.path;
    if (where === undefined) return undefined;
    if (this.line === undefined) return where;
    return this.column === undefined ? `${where}:${this.line}` : `${where}:${this.line}:${this.column}`;
  }

  /** One line for a person: `CODE file:line: message (hint: ...)`. */
  toUserString(): string {
    const loc = this.location;
    const hint = this.hint === undefined ? '' : `\n  hint: ${this.hint}`;
    return `error ${this.code}${loc === undefined ? '' : ` ${loc}`}: ${this.message}${hint}`;
  }
}

export type CoreErrorCode = 'CORE_INVALID_ARGUMENT' | 'CORE_NON_CANONICAL_VALUE';

export class CoreError extends TrainGuardError<CoreErrorCode> {
  override readonly name = 'CoreError';
  readonly module = 'core';
}

/** True for errors we raised on purpose (user input, integrity), as opposed to bugs. */
export function isTrainGuardError(err: unknown): err is TrainGuardError {
  return err instanceof TrainGuardError;
}
