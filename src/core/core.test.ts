// Guards against: canonical JSON that depends on key insertion order (breaks content addresses
// and signatures), and an RNG that is not reproducible for a given seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, createRng, sha256Parts, CoreError } from './index.ts';

test('canonicalJson sorts keys and is insertion-order independent', () => {
  assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'] }), '{"a":[true,null,"x"],"b":1}');
  assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
});

test('canonicalJson follows RFC 8785 number and string rules', () => {
  assert.equal(canonicalJson([1e21, 1e-7, -0, 0.1, 333333333.3333333]), '[1e+21,1e-7,0,0.1,333333333.3333333]');
  assert.equal(canonicalJson({ '\u20ac': 1, '\r': 2, '1': 3 }), '{"\\r":2,"1":3,"€":1}');
});

test('canonicalJson rejects values with no JSON form', () => {
  assert.throws(() => canonicalJson({ x: Number.NaN }), (e: unknown) => e instanceof CoreError && e.code === 'CORE_NON_CANONICAL_VALUE');
  assert.throws(() => canonicalJson({ x: 1n }), CoreError);
});

test('createRng is reproducible and roughly uniform', () => {
  const a = createRng(42);
  const b = createRng(42);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.next()));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  assert.notDeepEqual(xs.slice(0, 5), Array.from({ length: 5 }, createRng(43).next));
});

test('sha256Parts is length-prefixed', () => {
  assert.notEqual(sha256Parts(['ab', 'c']), sha256Parts(['a', 'bc']));
});
