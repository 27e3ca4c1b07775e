// Guards against: a terminal summary that drops or misorders the numbers a user acts on, lets ANSI codes
// into piped output, or lets a hostile label (ESC sequences, bidi overrides) rewrite the user's terminal.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ScanReport } from '../report.ts';
import { fixtureReport } from './fixture-report.ts';
import { codePointLength } from './format.ts';
import { FULL_REPORT_HINT, renderText } from './text.ts';

const ESC = '\u001b';

function tableLines(out: string): string[] {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.includes('rank') && l.includes('detectors'));
  assert.ok(start >= 0, 'table header present');
  const end = lines.indexOf('', start);
  return lines.slice(start, end);
}

describe('renderText', () => {
  it('shows the summary numbers', () => {
    const out = renderText(fixtureReport());
    for (const expected of [
      'data/messages.csv',
      '10 read',
      '2 skipped (DATA_BAD_ROW 1, DATA_MISSING_LABEL 1)',
      'line 5: DATA_BAD_ROW',
      'estimated noise 30.0%',
      'out-of-fold accuracy 70.0%',
      'flagged 3 of 10 (30.0%)',
      'max severity high',
      'model 120 ms',
      'total 189 ms',
      FULL_REPORT_HINT,
    ]) {
      assert.ok(out.includes(expected), `missing ${JSON.stringify(expected)}`);
    }
    // Per-class rows: name, count, flagged, estimated noise.
    assert.match(out, /^\s+ham\s+4\s+1\s+25\.0%$/m);
    assert.match(out, /^\s+promo\s+2\s+1\s+50\.0%$/m);
  });

  it('lists the top samples in score order with their columns aligned', () => {
    const out = renderText(fixtureReport());
    const [header, ...rows] = tableLines(out);
    assert.equal(rows.length, 3);
    assert.match(rows[0]!, /^\s+1\s+4\s+<script>alert…\s+ham\s+spam \(0\.91\)\s+0\.930\s+high\s+label-issues, knn-consensus$/);
    assert.match(rows[1]!, /^\s+2\s+11\s+c37796419cc0\s+spam\s+ham \(0\.74\)\s+0\.740\s+medium\s+label-issues$/);
    assert.match(rows[2]!, /^\s+3\s+13\s+msg-0010\s+promo\s+spam \(0\.55\)\s+0\.550\s+low\s+label-issues$/);
    // Right-aligned score column: every score ends where the header's `score` ends.
    const end = header!.indexOf('score') + 'score'.length;
    for (const row of rows) assert.equal(row.search(/\d\.\d{3}\s+(high|medium|low)/) + 5, end);
  });

  it('honours top and reportPath', () => {
    const out = renderText(fixtureReport(), { top: 1, reportPath: 'out/report.html' });
    assert.ok(out.includes('Top 1 of 3 suspicious samples'));
    assert.equal(tableLines(out).length, 2);
    assert.ok(out.trimEnd().endsWith('Full report: out/report.html'));
  });

  it('fits the table into width', () => {
    const out = renderText(fixtureReport(), { width: 84 });
    for (const line of tableLines(out)) assert.ok(codePointLength(line) <= 84, line);
    const first = tableLines(out)[1]!;
    assert.ok(first.endsWith('…') && first.includes('label-issues, k'), first);
  });

  it('emits ANSI codes only when color is on', () => {
    const plain = renderText(fixtureReport());
    assert.ok(!plain.includes(ESC));
    const colored = renderText(fixtureReport(), { color: true });
    assert.ok(colored.includes(`${ESC}[1;31mhigh`));
    // Stripping the codes gives back the plain text: colour never shifts the alignment.
    assert.equal(colored.replace(/\u001b\[[0-9;]*m/g, ''), plain);
  });

  it('neutralises control and bidi characters from the data', () => {
    const base = fixtureReport();
    const hostile: ScanReport = {
      ...base,
      input: { ...base.input, path: `evil${ESC}]0;pwned\u0007.csv` },
      samples: base.samples.map((s) => (s.index === 2 ? { ...s, label: `h\u202Eam${ESC}[2J`, externalId: 'a\nb' } : s)),
    };
    const out = renderText(hostile);
    assert.ok(!out.includes(ESC));
    assert.ok(!out.includes('\u0007'));
    assert.ok(!out.includes('\u202E'));
    assert.ok(out.includes('h<U+202E>am<U+001B>…'));
    assert.ok(out.includes('a\\nb'));
  });

  it('says so when nothing is suspicious, and prints non-finite numbers as -', () => {
    const base = fixtureReport();
    const clean: ScanReport = {
      ...base,
      samples: base.samples.map((s) => ({ ...s, flagged: false })),
      findings: [],
      summary: { ...base.summary, flagged: 0, maxSeverity: null, outOfFoldAccuracy: Number.NaN },
    };
    const out = renderText(clean);
    assert.ok(out.includes('No suspicious samples found.'));
    assert.ok(out.includes('out-of-fold accuracy -'));
    assert.ok(!out.includes('NaN'));
  });
});
