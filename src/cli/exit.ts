import { isTrainGuardError } from '../core/index.ts';

/** CLI exit codes (docs/cli.md#exit-codes). */
export const EXIT = { ok: 0, findings: 1, error: 2 } as const;

/**
 * Print an error the way a person needs it: our own errors (bad input, bad flag, integrity) as one
 * line with the code and a hint, no stack; anything else is a bug, so the stack is printed.
 */
export function reportError(err: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  if (isTrainGuardError(err)) {
    stderr.write(`${err.toUserString()}\n`);
    return EXIT.error;
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  stderr.write(`internal error (a bug in trainguard; please report it with this trace):\n${stack}\n`);
  return EXIT.error;
}
