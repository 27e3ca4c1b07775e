// Guards against: a CSV that spreadsheets or parsers misread — wrong header, broken quoting of ids with
// commas, quotes or newlines — and CSV (formula) injection through ids or labels taken from the data.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { CSV_HEADER, renderCsv, textCell } from './csv.ts';
import { HOSTILE_CSV, HOSTILE_SCRIPT, fixtureId, fixtureReport } from './fixture-report.ts';

describe('renderCsv', () => {
  const out = renderCsv(fixtureReport());
  const rows = parse(out, { columns: true }) as Record<string, string>[];

  it('has the exact header and one row per sample in input order', () => {
    assert.equal(out.slice(0, out.indexOf('\r\n')), 'id,externalId,score,flagged,label,suggestedLabel,detectors');
    assert.deepEqual(CSV_HEADER, ['id', 'externalId', 'score', 'flagged', 'label', 'suggestedLabel', 'detectors']);
    assert.equal(rows.length, 10);
    rows.forEach((r, i) => assert.equal(r['id'], fixtureId(i)));
    assert.ok(out.endsWith('\r\n'));
  });

  it('formats score, flagged, absent values and detectors', () => {
    assert.deepEqual(rows[2], {
      id: fixtureId(2),
      externalId: HOSTILE_SCRIPT,
      score: '0.930000',
      flagged: 'true',
      label: 'ham',
      suggestedLabel: 'spam',
      detectors: 'label-issues;knn-consensus',
    });
    assert.equal(rows[0]!['flagged'], 'false');
    assert.equal(rows[0]!['suggestedLabel'], '');
    assert.equal(rows[7]!['externalId'], '', 'null externalId is an empty field');
  });

  it('quotes commas, quotes and newlines (RFC 4180)', () => {
    assert.equal(rows[3]!['externalId'], HOSTILE_CSV);
    assert.ok(out.includes('"""quotes"", commas\nnewlines"'));
  });

  it('guards formula cells but leaves plain numbers alone', () => {
    assert.equal(rows[4]!['externalId'], "'=cmd|' /C calc'!A0");
    assert.equal(rows[6]!['externalId'], "'@SUM(A1:A9)");
    assert.equal(rows[8]!['externalId'], "'+malicious");
    assert.equal(rows[5]!['externalId'], '-42');
    assert.equal(textCell('\tx'), "'\tx");
    assert.equal(textCell('\rx'), `"'\rx"`);
    assert.equal(textCell('-1.5e3'), '-1.5e3');
    assert.equal(textCell('-'), "'-");
    assert.equal(textCell('=A1,"b"'), `"'=A1,""b"""`);
    assert.equal(textCell('plain'), 'plain');
  });
});
