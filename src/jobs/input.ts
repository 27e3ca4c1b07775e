import { isTrainGuardError } from '../core/index.ts';
import { JobsError } from './errors.ts';

/** pg-boss queue names and our store's kinds: short, printable, no spaces (they appear in logs and SQL). */
const KIND = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
export const DEFAULT_MAX_ATTEMPTS = 3;
const MAX_ATTEMPTS_LIMIT = 100;

export function checkKind(kind: unknown): string {
  if (typeof kind !== 'string' || !KIND.test(kind)) {
    throw new JobsError('JOBS_BAD_INPUT', `bad job kind ${JSON.stringify(String(kind)).slice(0, 120)}`, {
      hint: 'use 1–100 characters: letters, digits, "_", "." or "-", starting with a letter or digit',
    });
  }
  return kind;
}

export function checkMaxAttempts(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(value) || value < 1 || value > MAX_ATTEMPTS_LIMIT) {
    throw new JobsError('JOBS_BAD_INPUT', `maxAttempts must be an integer from 1 to ${MAX_ATTEMPTS_LIMIT}, got ${value}`, {
      hint: 'maxAttempts counts every run, the first included',
    });
  }
  return value;
}

export function checkSingletonKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 500) {
    throw new JobsError('JOBS_BAD_INPUT', 'singletonKey must be a non-empty string of at most 500 characters', {
      hint: 'derive it from what makes the job unique, e.g. `scan:<batch id>`',
    });
  }
  return value;
}

export function checkConcurrency(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    throw new JobsError('JOBS_BAD_INPUT', `concurrency must be an integer from 1 to 1000, got ${value}`, {
      hint: 'concurrency is how many handlers of this kind run at once in this process',
    });
  }
  return value;
}

/**
 * A deep copy of `value` as plain JSON, or JOBS_BAD_INPUT naming the first part that has no JSON
 * form. Payloads and results cross a database, so a Date, Map, class instance, bigint or cycle
 * would silently come back different (or not at all); we refuse it where the caller can see why.
 */
export function jsonCopy(value: unknown, what: string): unknown {
  return copy(value, '$', new Set(), what);
}

function copy(value: unknown, where: string, ancestors: Set<object>, what: string): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw notJson(what, where, 'a non-finite number');
  }
  if (typeof value !== 'object') throw notJson(what, where, typeof value);
  if (ancestors.has(value)) throw notJson(what, where, 'a cycle');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item, i) => copy(item, `${where}[${i}]`, ancestors, what));
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) throw notJson(what, where, `a ${value.constructor?.name ?? 'class'} instance`);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) out[key] = copy(item, `${where}.${key}`, ancestors, what);
    }
    return out;
  } finally {
    ancestors.delete(value);
  }
}

function notJson(what: string, where: string, found: string): JobsError {
  return new JobsError('JOBS_BAD_INPUT', `${what} is not plain JSON: ${found} at ${where}`, {
    hint: 'pass strings, numbers, booleans, null, arrays and plain objects (dates as ISO strings)',
  });
}

/** The message to record for a failed attempt; bounded, because a handler may throw anything. */
export function describeError(err: unknown): string {
  const text = isTrainGuardError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}
