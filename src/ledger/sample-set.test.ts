// Guards against: a snapshot root that depends on row order or duplicates; a membership proof
// that verifies for a sample not in the set, or fails for one that is; hostile ids accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { LedgerError } from './errors.ts';
import { buildSampleSet, sampleProof, verifySampleProof } from './sample-set.ts';

const id = (i: number): string => createHash('sha256').update(`sample ${i}`).digest('hex');

test('the root commits to the set: order and repeats do not change it, one more sample does', () => {
  const ids = Array.from({ length: 1000 }, (_, i) => id(i));
  const a = buildSampleSet(ids);
  const b = buildSampleSet([...ids].reverse().concat(ids.slice(0, 10)));
  assert.deepEqual(Buffer.from(a.root), Buffer.from(b.root));
  assert.equal(a.ids.length, 1000);
  const c = buildSampleSet([...ids, id(1000)]);
  assert.notDeepEqual(Buffer.from(a.root), Buffer.from(c.root));
});

test('every member has a proof that verifies; a non-member or a tampered proof fails', async () => {
  const set = buildSampleSet(Array.from({ length: 777 }, (_, i) => id(i)));
  for (const i of [0, 1, 2, 255, 256, 500, 776]) {
    const member = id(i);
    const { index, proof } = await sampleProof(set, member);
    verifySampleProof(member, index, set.ids.length, proof, set.root);
    assert.throws(() => verifySampleProof(id(9999), index, set.ids.length, proof, set.root), (e: unknown) => e instanceof LedgerError && e.code === 'LEDGER_BAD_PROOF');
    const tampered = proof.map((h) => Uint8Array.from(h));
    tampered[0]![0]! ^= 1;
    assert.throws(() => verifySampleProof(member, index, set.ids.length, tampered, set.root), (e: unknown) => e instanceof LedgerError);
  }
  await assert.rejects(sampleProof(set, id(5000)), (e: unknown) => e instanceof LedgerError && e.code === 'LEDGER_BAD_SNAPSHOT');
});

test('ids that are not 64 lowercase hex digits are refused', () => {
  for (const bad of ['', 'abc', id(1).toUpperCase(), `${id(1)}0`, 'g'.repeat(64)]) {
    assert.throws(() => buildSampleSet([bad]), (e: unknown) => e instanceof LedgerError && e.code === 'LEDGER_BAD_SNAPSHOT');
  }
});
