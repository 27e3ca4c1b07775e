/**
 * The text logic of the review card, without React (so node tests cover it): which characters are
 * hidden or reorder text, and where the trigger n-grams occur.
 */

// C0/C1 controls (except tab and newline), soft hyphen, Arabic letter mark, Hangul fillers, Mongolian
// vowel separator, zero-width and bidi characters, invisible operators, variation selectors, BOM,
// interlinear annotation, and the tag block.
export const HIDDEN = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u061C\u115F\u1160\u180E\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\u{E0000}-\u{E007F}]/gu;

export const NAMES: Readonly<Record<number, string>> = {
  0x200b: 'zero-width space',
  0x200c: 'zero-width non-joiner',
  0x200d: 'zero-width joiner',
  0x200e: 'left-to-right mark',
  0x200f: 'right-to-left mark',
  0x202a: 'left-to-right embedding',
  0x202b: 'right-to-left embedding',
  0x202c: 'pop directional formatting',
  0x202d: 'left-to-right override',
  0x202e: 'right-to-left override',
  0x2066: 'left-to-right isolate',
  0x2067: 'right-to-left isolate',
  0x2068: 'first strong isolate',
  0x2069: 'pop directional isolate',
  0xfeff: 'zero-width no-break space',
  0x00ad: 'soft hyphen',
};

export function codePointLabel(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Counts the hidden characters, so the card can warn before the reviewer reads. */
export function countHidden(text: string): number {
  return text.match(HIDDEN)?.length ?? 0;
}

const WORD = '[\\p{L}\\p{N}]';
const URL_PATTERN = '(?:https?://|www\\.)[^\\s<>"\'()\\[\\]{}]+';

function escapeRegExp(s: string): string {
  // Only syntax characters: a needless escape such as \- is an error under the `u` flag.
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * A pattern for one trigger as the tokenizer sees it (lower-cased words of ≥ 2 letters/digits joined
 * by a space; `<num>` for a digit run, `<url>` for a URL followed by its host's words): the words
 * in order, anything that is not a letter or digit between them, case-insensitive.
 */
function triggerPattern(trigger: string): string | null {
  const tokens = trigger.split(/\s+/).filter((t) => t.length > 0);
  const parts: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (t === '<num>') parts.push('[0-9]+');
    else if (t === '<url>') {
      parts.push(URL_PATTERN);
      // The host's words follow <url> in the token stream but sit inside the URL in the text.
      while (i + 1 < tokens.length && !(tokens[i + 1] as string).startsWith('<')) i++;
    } else parts.push(escapeRegExp(t));
  }
  if (parts.length === 0) return null;
  return `(?<!${WORD})${parts.join(`[^\\p{L}\\p{N}]+`)}(?!${WORD})`;
}

/** Splits text into plain and marked runs, marking every occurrence of any trigger. */
export function markTriggers(text: string, triggers: readonly string[]): { text: string; marked: boolean }[] {
  const patterns = [...new Set(triggers)].map(triggerPattern).filter((p): p is string => p !== null);
  if (patterns.length === 0) return [{ text, marked: false }];
  // Longest first, so an n-gram wins over a word it contains.
  patterns.sort((a, b) => b.length - a.length);
  let re: RegExp;
  try {
    re = new RegExp(patterns.join('|'), 'giu');
  } catch {
    return [{ text, marked: false }];
  }
  const runs: { text: string; marked: boolean }[] = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m[0].length === 0) continue;
    if (m.index > last) runs.push({ text: text.slice(last, m.index), marked: false });
    runs.push({ text: m[0], marked: true });
    last = m.index + m[0].length;
  }
  if (last < text.length) runs.push({ text: text.slice(last), marked: false });
  return runs;
}

/** Splits text into plain runs and single hidden characters (with their U+ label). */
export function splitHidden(text: string): { text: string; hidden: string | null }[] {
  const out: { text: string; hidden: string | null }[] = [];
  let last = 0;
  for (const m of text.matchAll(HIDDEN)) {
    if (m.index > last) out.push({ text: text.slice(last, m.index), hidden: null });
    out.push({ text: m[0], hidden: codePointLabel(m[0].codePointAt(0) ?? 0) });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last), hidden: null });
  return out;
}
