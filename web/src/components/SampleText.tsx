/**
 * Sample text as a reviewer must see it: every occurrence of a trigger n-gram marked, and every
 * character that renders as nothing or reorders text (controls, bidi overrides, zero-width joiners,
 * tag characters) shown as a visible ⟨U+XXXX⟩ badge — a poisoned sample can otherwise look clean
 * (Trojan Source, CVE-2021-42574). React escapes all text; nothing here builds HTML.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import { countHidden, markTriggers, NAMES, splitHidden } from '../text.ts';

/** Text with hidden characters replaced by visible badges. */
export function VisibleText({ text }: { text: string }): ReactNode {
  return (
    <>
      {splitHidden(text).map((run, i) =>
        run.hidden === null ? (
          run.text
        ) : (
          <span key={i} className="hidden-char" title={NAMES[run.text.codePointAt(0) ?? 0] ?? 'invisible character'} aria-label={`hidden character ${run.hidden}`}>
            ⟨{run.hidden}⟩
          </span>
        ),
      )}
    </>
  );
}

export function SampleText({ text, triggers }: { text: string; triggers: readonly string[] }): ReactNode {
  const runs = markTriggers(text, triggers);
  const hidden = countHidden(text);
  const marks = runs.filter((r) => r.marked).length;
  const box = useRef<HTMLDivElement>(null);
  // Long mails scroll inside the box: bring the first marked trigger into view, not the headers.
  useEffect(() => {
    const el = box.current;
    const first = el?.querySelector('mark');
    if (el && first instanceof HTMLElement) el.scrollTop = Math.max(0, first.offsetTop - el.clientHeight / 3);
  }, [text, marks]);
  return (
    <div>
      {hidden > 0 && (
        <p className="warning" role="note">
          This text holds {hidden} invisible or direction-changing character{hidden === 1 ? '' : 's'}, shown as ⟨U+…⟩.
        </p>
      )}
      {triggers.length > 0 && (
        <p className="muted small">
          {marks > 0 ? `Trigger marked ${marks} time${marks === 1 ? '' : 's'}.` : 'The trigger does not appear verbatim (it may be split by punctuation or folded by Unicode normalisation).'}
        </p>
      )}
      <div className="sample-text" data-testid="sample-text" dir="ltr" ref={box} tabIndex={0} aria-label="sample text">
        {runs.map((r, i) => (r.marked ? <mark key={i}><VisibleText text={r.text} /></mark> : <VisibleText key={i} text={r.text} />))}
      </div>
    </div>
  );
}
