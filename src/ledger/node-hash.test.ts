import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { leafHash32Into, nodeHashInto } from './node-hash.ts';

function reference(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.from([1])).update(left).update(right).digest();
}

test('nodeHashInto equals node:crypto SHA-256(0x01 ‖ left ‖ right) on random and edge-case inputs', () => {
  const cases: [Uint8Array, Uint8Array][] = [
    [new Uint8Array(32), new Uint8Array(32)],
    [new Uint8Array(32).fill(0xff), new Uint8Array(32).fill(0xff)],
    [new Uint8Array(32).fill(0x80), new Uint8Array(32).fill(0x7f)],
  ];
  for (let i = 0; i < 5000; i++) cases.push([randomBytes(32), randomBytes(32)]);
  const out = new Uint8Array(32);
  for (const [l, r] of cases) {
    nodeHashInto(l, 0, r, 0, out, 0);
    assert.deepEqual(Buffer.from(out), reference(l, r));
  }
});

test('nodeHashInto reads at offsets and may write over its own input', () => {
  const buf = randomBytes(32 * 4);
  const want = reference(buf.subarray(64, 96), buf.subarray(96, 128));
  nodeHashInto(buf, 64, buf, 96, buf, 64);
  assert.deepEqual(Buffer.from(buf.subarray(64, 96)), want);
  const again = randomBytes(64);
  const want2 = reference(again.subarray(0, 32), again.subarray(32, 64));
  nodeHashInto(again, 0, again, 32, again, 32);
  assert.deepEqual(Buffer.from(again.subarray(32, 64)), want2);
});

test('leafHash32Into equals node:crypto SHA-256(0x00 ‖ entry), at offsets and in place', () => {
  const entries = [new Uint8Array(32), new Uint8Array(32).fill(0xff), new Uint8Array(32).fill(0x80)];
  for (let i = 0; i < 5000; i++) entries.push(randomBytes(32));
  const out = new Uint8Array(40);
  for (const e of entries) {
    leafHash32Into(e, 0, out, 8);
    assert.deepEqual(Buffer.from(out.subarray(8)), createHash('sha256').update(Buffer.from([0])).update(e).digest());
  }
  const buf = randomBytes(96);
  const want = createHash('sha256').update(Buffer.from([0])).update(buf.subarray(32, 64)).digest();
  leafHash32Into(buf, 32, buf, 32);
  assert.deepEqual(Buffer.from(buf.subarray(32, 64)), want);
});
