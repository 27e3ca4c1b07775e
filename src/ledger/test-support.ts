/** TEST SUPPORT ONLY (not exported from index.ts). */
import { LedgerError } from './errors.ts';

/** The LedgerError code `fn` throws, or 'OK'; any other error is rethrown. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof LedgerError) return err.code;
    throw err;
  }
  return 'OK';
}
