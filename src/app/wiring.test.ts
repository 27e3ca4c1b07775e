// Guards against: the config schema and the detector drifting apart — config may not import
// detectors (see docs/architecture.md), so it keeps its own list of flagging rules, and a rule
// added to one but not the other would be refused at run time or at config time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FILTER_BY, DEFAULTS } from '../config/index.ts';
import { LABEL_ISSUE_FILTERS, listDetectorNames } from '../detectors/index.ts';

test('config accepts exactly the flagging rules the detector knows', () => {
  assert.deepEqual([...FILTER_BY].sort(), [...LABEL_ISSUE_FILTERS].sort());
});

test('default detectors exist', () => {
  for (const name of DEFAULTS.scan.detectors) assert.ok(listDetectorNames().includes(name), name);
});
