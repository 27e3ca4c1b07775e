import { CoreError } from './errors.ts';

/**
 * RFC 8785 JSON Canonicalization Scheme: object keys sorted by UTF-16 code units, no whitespace,
 * numbers in ECMAScript shortest round-trip form (which `JSON.stringify` already produces),
 * strings escaped as `JSON.stringify` does. Non-finite numbers, undefined, functions, bigint and
 * symbols have no JSON form and are rejected rather than silently dropped.
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, '$');
}

function serialize(value: unknown, where: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) {
        throw new CoreError('CORE_NON_CANONICAL_VALUE', `non-finite number at ${where}`);
      }
      return Object.is(value, -0) ? '0' : JSON.stringify(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((v, i) => serialize(v, `${where}[${i}]`)).join(',')}]`;
      }
      if (ArrayBuffer.isView(value)) {
        return serialize(Array.from(value as unknown as ArrayLike<number>), where);
      }
      const obj = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, which is exactly what RFC 8785 §3.2.3 asks for.
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${serialize(obj[k], `${where}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new CoreError('CORE_NON_CANONICAL_VALUE', `${typeof value} has no JSON form at ${where}`);
  }
}
