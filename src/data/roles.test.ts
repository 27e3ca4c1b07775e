// Guards against: role inference that picks the wrong label/text/embedding column, a spec naming a
// column that is not there being ignored, and a missing label column failing without naming the
// columns the user could pick.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError } from './errors.ts';
import { inferRoles } from './roles.ts';
import type { ColumnProfile } from './roles.ts';

const col = (name: string, kind: ColumnProfile['kind'], meanLength = 0): ColumnProfile => ({ name, kind, meanLength });

test('infers label, id, source, text, numeric and categorical by name and values', () => {
  const r = inferRoles([col('UUID', 'string', 36), col('Class', 'string', 3), col('annotator', 'string', 5), col('body2', 'string', 80), col('age', 'number'), col('city', 'string', 6), col('blank', 'empty')]);
  assert.equal(r.label, 'Class');
  assert.equal(r.id, 'UUID');
  assert.equal(r.source, 'annotator');
  assert.equal(r.text, 'body2');
  assert.deepEqual(r.roles, { UUID: 'id', Class: 'label', annotator: 'source', body2: 'text', age: 'numeric', city: 'categorical', blank: 'numeric' });
});

test('label priority follows the name list; a text name beats a longer column', () => {
  const r = inferRoles([col('category', 'string', 4), col('label', 'string', 1), col('notes', 'string', 200), col('message', 'string', 25)]);
  assert.equal(r.label, 'label');
  assert.equal(r.roles.category, 'categorical');
  assert.equal(r.text, 'message');
  assert.equal(r.roles.notes, 'categorical');
});

test('gathers emb_0..emb_n in index order, not name order', () => {
  const names = ['emb_10', 'emb_2', 'emb_0', 'emb_1', 'emb_3', 'emb_4', 'emb_5', 'emb_6', 'emb_7', 'emb_8', 'emb_9'];
  const r = inferRoles([col('y', 'string'), ...names.map((n) => col(n, 'number'))]);
  assert.deepEqual(r.embedding, { kind: 'columns', columns: Array.from({ length: 11 }, (_, i) => `emb_${i}`) });
  assert.equal(r.roles.emb_10, 'embedding');
});

test('a gap in emb_i indices means no gathering', () => {
  const r = inferRoles([col('label', 'string'), col('emb_0', 'number'), col('emb_2', 'number')]);
  assert.equal(r.embedding, null);
  assert.equal(r.roles.emb_2, 'numeric');
});

test('an array column named embedding (or the only array column) is the embedding', () => {
  assert.deepEqual(inferRoles([col('label', 'string'), col('vec', 'array')]).embedding, { kind: 'array', column: 'vec' });
  const r = inferRoles([col('label', 'string'), col('other', 'array'), col('embedding', 'array')]);
  assert.deepEqual(r.embedding, { kind: 'array', column: 'embedding' });
  assert.equal(r.roles.other, 'ignore');
});

test('the spec wins, including a prefix for gathered columns and ignore', () => {
  const r = inferRoles([col('label', 'string'), col('truth', 'string'), col('f_0', 'number'), col('f_1', 'number'), col('junk', 'number')], {
    label: 'truth',
    embedding: 'f',
    ignore: ['junk'],
  });
  assert.equal(r.label, 'truth');
  assert.equal(r.roles.label, 'categorical');
  assert.deepEqual(r.embedding, { kind: 'columns', columns: ['f_0', 'f_1'] });
  assert.equal(r.roles.junk, 'ignore');
});

test('no label column → DATA_NO_LABEL_COLUMN naming the columns and --label', () => {
  assert.throws(
    () => inferRoles([col('a', 'number'), col('b', 'string')], {}, 'd.csv'),
    (e: unknown) => e instanceof DataError && e.code === 'DATA_NO_LABEL_COLUMN' && (e.hint ?? '').includes('a, b') && (e.hint ?? '').includes('--label') && e.file === 'd.csv',
  );
});

test('a spec naming a missing column → DATA_UNKNOWN_COLUMN listing the available ones', () => {
  for (const spec of [{ label: 'nope' }, { text: 'nope' }, { ignore: ['nope'] }, { embedding: 'nope' }]) {
    assert.throws(
      () => inferRoles([col('label', 'string'), col('x', 'number')], spec),
      (e: unknown) => e instanceof DataError && e.code === 'DATA_UNKNOWN_COLUMN' && (e.hint ?? '').includes('label, x'),
    );
  }
});
