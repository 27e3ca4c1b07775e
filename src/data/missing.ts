/**
 * Missing-value tokens and the one number parser every reader shares, so "NA" in a CSV and null in
 * JSONL mean the same thing and give the same content id.
 */

/** Cell texts that mean "no value". Compared exactly; whitespace-only cells are missing too. */
export const MISSING_TOKENS: ReadonlySet<string> = new Set(['', 'NA', 'N/A', 'null', 'NULL', 'None', 'nan', 'NaN', '?']);

/** True when a cell's text means "no value" (empty, whitespace, NA, null, NaN, ?...). */
export function isMissing(cell: string | null | undefined): boolean {
  if (cell === null || cell === undefined) return true;
  if (MISSING_TOKENS.has(cell)) return true;
  return isBlank(cell);
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    if (!isSpace(s.charCodeAt(i))) return false;
  }
  return true;
}

/** Result of `parseNumberCell`: a number, NaN for missing, or undefined when the text is not a number. */
export type ParsedCell = number | undefined;

/**
 * Parses a cell as a number: decimal and exponent forms, Infinity/inf (kept as ±Infinity for the
 * validator to flag), missing tokens → NaN. Hex/binary/octal forms are text, not numbers: a zip
 * code "0x12" is not 18. Returns undefined when the cell is a string.
 */
export function parseNumberCell(s: string): ParsedCell {
  if (s.length === 0) return Number.NaN;
  const v = +s;
  if (v === v) {
    // `+` accepts "", "  ", "0x1f", "0b1", "0o7"; those are missing or text, not numbers.
    if (v === 0 && isBlank(s)) return Number.NaN;
    let k = 0;
    while (k < s.length && isSpace(s.charCodeAt(k))) k++;
    if (s.charCodeAt(k) === 48 && k + 1 < s.length) {
      const c1 = s.charCodeAt(k + 1) | 32;
      if (c1 === 120 || c1 === 98 || c1 === 111) return undefined;
    }
    return v;
  }
  if (MISSING_TOKENS.has(s) || isBlank(s)) return Number.NaN;
  const t = s.trim().toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Number.POSITIVE_INFINITY;
  if (t === '-inf' || t === '-infinity') return Number.NEGATIVE_INFINITY;
  return undefined;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}
