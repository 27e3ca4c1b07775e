// Guards against: a receipt that does not round-trip byte for byte, a lenient parser (non-canonical
// base64, leading zeros, short hashes, a missing checkpoint), and an audit path that does not match
// the C2SP example derived for index 5 of the 8-leaf RFC 6962 tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LedgerError } from './errors.ts';
import { leafHash, verifyInclusion } from './merkle.ts';
import { encodeReceipt, parseReceipt } from './receipt.ts';

const VECTORS = join(import.meta.dirname, '..', '..', '..', 'shared', 'vectors', 'tlog-vectors.json');

interface EndToEnd {
  tlog_proof_index_5: string;
  leaf_input_index_5: string;
  root: string;
}

test('the derived tlog-proof for index 5 parses, re-encodes byte for byte and its path verifies', (t) => {
  if (!existsSync(VECTORS)) {
    t.skip(`no ${VECTORS}: vector case skipped`);
    return;
  }
  const v = (JSON.parse(readFileSync(VECTORS, 'utf8')) as { derived_end_to_end: EndToEnd }).derived_end_to_end;
  const r = parseReceipt(v.tlog_proof_index_5);
  assert.equal(r.index, 5);
  assert.equal(r.proof.length, 3);
  assert.equal(r.extra, null);
  assert.equal(encodeReceipt(r), v.tlog_proof_index_5);
  verifyInclusion(leafHash(Uint8Array.from(Buffer.from(v.leaf_input_index_5, 'hex'))), r.index, 8, r.proof, Uint8Array.from(Buffer.from(v.root, 'hex')));
});

test('extra data round-trips; malformed receipts are LEDGER_BAD_RECEIPT', () => {
  const hash = Buffer.alloc(32, 7).toString('base64');
  const checkpoint = 'origin\n1\n' + hash + '\n\n— origin AAAA\n';
  const r = { extra: Uint8Array.of(1, 2, 3), index: 0, proof: [Uint8Array.from(Buffer.alloc(32, 7))], checkpoint };
  assert.deepEqual(parseReceipt(encodeReceipt(r)), r);
  const good = encodeReceipt(r);
  const bad = [
    good.replace('c2sp.org/tlog-proof@v1', 'c2sp.org/tlog-proof@v2'),
    good.replace('index 0', 'index 00'),
    good.replace('index 0', 'index -1'),
    good.replace(hash, hash.slice(0, -4)),
    good.replace(hash + '\n\n', hash.replace(/=$/, '') + '\n\n'),
    good.replace('extra AQID', 'extra AQIE='),
    good.split('\n\n')[0]!,
    good.slice(0, -1),
  ];
  for (const text of bad) assert.throws(() => parseReceipt(text), (e: unknown) => e instanceof LedgerError && e.code === 'LEDGER_BAD_RECEIPT', JSON.stringify(text.slice(0, 60)));
});
