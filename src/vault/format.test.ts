// Guards the header as hostile input: a parser that accepts trailing or missing bytes, a second
// spelling of one context, oversized fields that would make a reader allocate, or an unknown
// version read as if it were ours; and an encoder that lets bad fields through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { VaultError } from './errors.ts';
import type { VaultErrorCode } from './errors.ts';
import {
  MAGIC,
  MAX_CONTEXT_BYTES,
  MAX_SEGMENT_SIZE,
  MIN_SEGMENT_SIZE,
  encodeContext,
  encodeHeader,
  encodeStable,
  parseHeader,
  wrapAad,
} from './format.ts';
import type { ObjectHeader } from './format.ts';

const SHA = 'ab'.repeat(32);

function sample(context: Record<string, string> = { kind: 'batch', dataset: 'd1' }): ObjectHeader {
  return {
    stable: encodeStable({ segmentSize: 65536, objectId: randomBytes(16), noncePrefix: randomBytes(7), context }),
    digest: { size: 2 ** 40 + 5, sha256: SHA, ciphertextSha256: 'cd'.repeat(32) },
    kekId: 'kek-0123456789abcdef',
    wrapRecord: randomBytes(76),
  };
}

function code(fn: () => unknown): VaultErrorCode | 'OK' {
  try {
    fn();
  } catch (err) {
    if (err instanceof VaultError) return err.code;
    throw err;
  }
  return 'OK';
}

test('a header round-trips field for field; the stable part is its exact prefix', () => {
  const h = sample();
  const bytes = encodeHeader(h);
  const back = parseHeader(bytes, SHA);
  assert.deepEqual(back.digest, h.digest);
  assert.equal(back.kekId, h.kekId);
  assert.deepEqual(Buffer.from(back.wrapRecord), Buffer.from(h.wrapRecord));
  assert.deepEqual(back.stable.context, { dataset: 'd1', kind: 'batch' });
  assert.deepEqual(Buffer.from(back.stable.bytes), Buffer.from(h.stable.bytes));
  assert.deepEqual(Buffer.from(bytes.subarray(0, h.stable.bytes.length)), Buffer.from(h.stable.bytes));
  assert.deepEqual(Buffer.from(bytes.subarray(0, 4)), Buffer.from(MAGIC));
  // Associated data of the wrap: stable ‖ digest, untouched by a new KEK id or record.
  const rewrapped = parseHeader(encodeHeader({ ...h, kekId: 'kek-other', wrapRecord: randomBytes(95) }), SHA);
  assert.deepEqual(Buffer.from(wrapAad(rewrapped.stable, rewrapped.digest)), Buffer.from(wrapAad(h.stable, h.digest)));
});

test('malformed headers are VAULT_CORRUPT, unknown versions VAULT_UNSUPPORTED', () => {
  const bytes = Buffer.from(encodeHeader(sample()));
  const edit = (f: (b: Buffer) => Buffer): Buffer => f(Buffer.from(bytes));
  const ctxAt = 33; // context length field
  const cases: [string, Buffer, VaultErrorCode][] = [
    ['empty', Buffer.alloc(0), 'VAULT_CORRUPT'],
    ['bad magic', edit((b) => ((b[0] = 0x55), b)), 'VAULT_CORRUPT'],
    ['version 2', edit((b) => ((b[4] = 2), b)), 'VAULT_UNSUPPORTED'],
    ['suite 9', edit((b) => ((b[5] = 9), b)), 'VAULT_UNSUPPORTED'],
    ['segment size 0', edit((b) => (b.writeUInt32BE(0, 6), b)), 'VAULT_CORRUPT'],
    ['segment size 4 GiB', edit((b) => (b.writeUInt32BE(0xffffffff, 6), b)), 'VAULT_CORRUPT'],
    ['context length too large', edit((b) => (b.writeUInt16BE(0xffff, ctxAt), b)), 'VAULT_CORRUPT'],
    ['context length off by one', edit((b) => (b.writeUInt16BE(b.readUInt16BE(ctxAt) - 1, ctxAt), b)), 'VAULT_CORRUPT'],
    ['trailing byte', Buffer.concat([bytes, Buffer.from([0])]), 'VAULT_CORRUPT'],
    ['one byte short', bytes.subarray(0, bytes.length - 1), 'VAULT_CORRUPT'],
    ['cut after the stable part', bytes.subarray(0, 60), 'VAULT_CORRUPT'],
  ];
  for (const [what, b, want] of cases) assert.equal(code(() => parseHeader(b, SHA)), want, what);
});

test('a context must be canonical JSON of strings, and small', () => {
  const bytes = Buffer.from(encodeHeader(sample({ a: '10' })));
  const at = bytes.indexOf('{"a":"10"}');
  assert.ok(at > 0);
  // Same length as the original, so only the spelling differs.
  const spellings: [string, Buffer][] = [
    ['trailing space', Buffer.from('{"a":"1"} ')],
    ['leading space', Buffer.from(' {"a":"1"}')],
    ['a number', Buffer.from('{"a":10.0}')],
    ['an array', Buffer.from('["a","10"]')],
    ['invalid UTF-8', Buffer.from([...Buffer.from('{"a":"'), 0xff, 0x30, ...Buffer.from('"}')])],
  ];
  for (const [what, spelling] of spellings) {
    const b = Buffer.from(bytes);
    spelling.copy(b, at);
    assert.equal(code(() => parseHeader(b, SHA)), 'VAULT_CORRUPT', what);
  }
  assert.equal(code(() => encodeContext({ big: 'x'.repeat(MAX_CONTEXT_BYTES) })), 'VAULT_BAD_INPUT');
  assert.equal(code(() => encodeContext({ n: 1 } as unknown as Record<string, string>)), 'VAULT_BAD_INPUT');
  assert.equal(code(() => encodeContext([] as unknown as Record<string, string>)), 'VAULT_BAD_INPUT');
  assert.equal(Buffer.from(encodeContext({ b: '2', a: '1' })).toString(), '{"a":"1","b":"2"}');
});

test('segment sizes and KEK ids are bounded when writing', () => {
  const fields = { objectId: randomBytes(16), noncePrefix: randomBytes(7), context: {} };
  for (const s of [0, MIN_SEGMENT_SIZE - 1, MAX_SEGMENT_SIZE + 1, 1.5]) assert.equal(code(() => encodeStable({ ...fields, segmentSize: s })), 'VAULT_BAD_INPUT', String(s));
  for (const s of [MIN_SEGMENT_SIZE, MAX_SEGMENT_SIZE]) assert.equal(code(() => encodeStable({ ...fields, segmentSize: s })), 'OK');
  for (const id of ['', 'has space', 'x'.repeat(65), '-lead', 'é']) assert.equal(code(() => encodeHeader({ ...sample(), kekId: id })), 'VAULT_BAD_INPUT', id);
});
