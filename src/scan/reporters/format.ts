/** Small formatting helpers shared by the reporters. All are total: non-finite numbers render as '-'. */

/** `0.0312` → `3.1%`; non-finite → `-`. */
export function formatPercent(x: number, digits = 1): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : '-';
}

/** Fixed decimals; non-finite → `-`. */
export function formatFixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '-';
}

/** Integer with thousands separators (`12,345`), independent of the host locale so output is reproducible. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const s = Math.round(Math.abs(n)).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${s}` : s;
}

/** Milliseconds as `850 ms` or `12.3 s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms).toString()} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const min = Math.floor(ms / 60_000);
  return `${min} min ${Math.round((ms - min * 60_000) / 1000)} s`;
}

/** First 12 hex digits of a content id: enough to tell samples apart on screen. */
export function shortId(id: string): string {
  return id.length > 12 ? id.slice(0, 12) : id;
}

/**
 * Cut a string to at most `max` code points, ending with `…` when cut. Counts code points, not
 * UTF-16 units, so a surrogate pair is never split.
 */
export function truncate(s: string, max: number): string {
  const chars = Array.from(s);
  if (chars.length <= max) return s;
  if (max <= 1) return chars.slice(0, Math.max(0, max)).join('');
  return `${chars.slice(0, max - 1).join('')}…`;
}

/** Length in code points (what `truncate` counts). */
export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * Characters that change how the surrounding text is displayed without being visible: C0/C1 controls,
 * DEL, bidirectional overrides and isolates (Trojan Source, CVE-2021-42574), zero-width characters and
 * the BOM. Sample content and labels are attacker-controlled; in a terminal a raw ESC can rewrite the
 * screen, and on any page a bidi override can make a reviewer read a different label than the data holds.
 * Zero-width characters are also a common hidden backdoor trigger, so reviewers must see them.
 */
export const INVISIBLE_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/gu;

/** `U+202E` for a character. */
export function codePointName(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** One-line, terminal-safe version of an untrusted string: newlines and tabs as `\n` / `\t`, other invisible characters as `<U+XXXX>`. */
export function oneLine(s: string): string {
  return s
    .replace(/\r\n|\r|\n/g, '\\n')
    .replace(/\t/g, '\\t')
    .replace(INVISIBLE_CHARS, (ch) => `<${codePointName(ch)}>`);
}
