// Interest keys: canonical equality and the row/event key contract between main thread and shards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExtractorConfig } from '../../../../src/shared/extractors/config.js';
import {
  canonicalValue,
  compileRow,
  eventInterestKeys,
  fieldKey,
  rowInterestKey,
  rowMatches,
  wildcardKey,
  type Scalar,
} from '../../../../src/shared/subscriptions/interest.js';

test('canonicalValue follows Erlang term equality for JSON scalars', () => {
  assert.equal(canonicalValue(1), canonicalValue(1.0));
  assert.equal(canonicalValue(JSON.parse('1.0') as number), canonicalValue(JSON.parse('1') as number));
  assert.equal(canonicalValue(-0), canonicalValue(0));
  assert.notEqual(canonicalValue('1'), canonicalValue(1));
  assert.notEqual(canonicalValue(true), canonicalValue('true'));
  assert.notEqual(canonicalValue(true), canonicalValue('t'));
  assert.notEqual(canonicalValue(false), canonicalValue('f'));
  assert.notEqual(canonicalValue(true), canonicalValue(1));
  assert.notEqual(canonicalValue(0), canonicalValue(false));
  assert.notEqual(canonicalValue(''), canonicalValue(0));
  assert.notEqual(canonicalValue(1.5), canonicalValue(1));
});

test('keys are unambiguous whatever characters types and values contain', () => {
  const types = ['', 'a', 'a1', 'a*', 'a\u0000', '1:a', 'a1=sx', '3:abc*'];
  const values: Scalar[] = ['', 'x', '*', '1=sx', 'a\u00000=s', 0, 1, 10, true, false, 'n1', 't'];
  const seen = new Map<string, string>();
  const add = (key: string, what: string) => {
    const prev = seen.get(key);
    assert.ok(prev === undefined || prev === what, `${JSON.stringify(key)}: ${prev} vs ${what}`);
    seen.set(key, what);
  };
  for (const t of types) {
    add(wildcardKey(t), JSON.stringify([t]));
    for (let pos = 0; pos < 12; pos++) {
      for (const v of values) add(fieldKey(t, pos, v), JSON.stringify([t, pos, typeof v, v]));
    }
  }
});

test('eventInterestKeys: the wildcard key plus one key per non-null value', () => {
  assert.deepEqual(eventInterestKeys('t', undefined), [wildcardKey('t')]);
  assert.deepEqual(eventInterestKeys('t', ['joe', null, 30, false]), [
    wildcardKey('t'),
    fieldKey('t', 0, 'joe'),
    fieldKey('t', 2, 30),
    fieldKey('t', 3, false),
  ]);
});

const fields = parseExtractorConfig({
  t: {
    name: { stable_field_index: 0, event: { json_pointer: '/data/name' } },
    age: { stable_field_index: 1, event: { json_pointer: '/data/age' } },
  },
}).get('t');

test('compileRow: null and absent are wildcards, unknown keys ignored, non-scalars never match', () => {
  assert.deepEqual(compileRow(fields, {}), [undefined, undefined]);
  assert.deepEqual(compileRow(fields, { name: null, age: 3, other: 'x' }), [undefined, 3]);
  assert.deepEqual(compileRow(fields, { name: 'joe' }), ['joe', undefined]);
  assert.equal(compileRow(fields, { name: 'joe', age: { n: 1 } }), null);
  assert.equal(compileRow(fields, { age: [30] }), null);
  assert.deepEqual(compileRow(undefined, { name: 'joe' }), []);
  // Inherited properties are not constraints.
  const inherited = parseExtractorConfig({ t: { constructor: { stable_field_index: 0, event: { json_pointer: '/c' } } } });
  assert.deepEqual(compileRow(inherited.get('t'), {}), [undefined]);
});

test('rowInterestKey: wildcard key, or the key of the first constrained field', () => {
  assert.equal(rowInterestKey('t', [undefined, undefined]), wildcardKey('t'));
  assert.equal(rowInterestKey('t', []), wildcardKey('t'));
  assert.equal(rowInterestKey('t', ['joe', 30]), fieldKey('t', 0, 'joe'));
  assert.equal(rowInterestKey('t', [undefined, 30]), fieldKey('t', 1, 30));
});

test('rowMatches: wildcard or equal non-null value for every field', () => {
  assert.equal(rowMatches([undefined, undefined], undefined), true);
  assert.equal(rowMatches(['joe', undefined], ['joe', null]), true);
  assert.equal(rowMatches(['joe', 30], ['joe', null]), false);
  assert.equal(rowMatches([undefined, 1], [null, 1.0]), true);
  assert.equal(rowMatches([undefined, 1], [null, '1']), false);
  assert.equal(rowMatches([true], ['true']), false);
  assert.equal(rowMatches(['joe'], undefined), false);
});
