// RFC 6901 parsing and the restricted resolution RIG's extractors need (no array indexing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePointer, resolvePointer } from '../../../../src/shared/extractors/pointer.js';

test('parsePointer decodes reference tokens', () => {
  assert.deepEqual(parsePointer(''), []);
  assert.deepEqual(parsePointer('/'), ['']);
  assert.deepEqual(parsePointer('/data/name'), ['data', 'name']);
  assert.deepEqual(parsePointer('/a~1b/c~0d'), ['a/b', 'c~d']);
  // "~1" is unescaped before "~0": "~01" is the literal "~1", not "/".
  assert.deepEqual(parsePointer('/~01'), ['~1']);
  assert.deepEqual(parsePointer('/a//b'), ['a', '', 'b']);
});

test('parsePointer rejects malformed pointers', () => {
  for (const bad of ['data/name', '#/data', 'x', '/a~', '/a~2', '/~/']) {
    assert.throws(() => parsePointer(bad), Error, bad);
  }
});

test('resolvePointer walks own properties of plain objects', () => {
  const doc = { data: { name: 'joe', nothing: null, nested: { x: 1 } }, 'a/b': true };
  assert.equal(resolvePointer(doc, ['data', 'name']), 'joe');
  assert.equal(resolvePointer(doc, ['data', 'nothing']), null);
  assert.deepEqual(resolvePointer(doc, ['data', 'nested']), { x: 1 });
  assert.equal(resolvePointer(doc, parsePointer('/a~1b')), true);
  assert.equal(resolvePointer(doc, ['data', 'missing']), undefined);
  assert.equal(resolvePointer(doc, ['data', 'name', 'length']), undefined);
  assert.equal(resolvePointer(doc, []), doc);
});

test('resolvePointer never indexes arrays (RIG crashed there; now "not found")', () => {
  const doc = { data: { items: ['a', 'b'], list: [{ name: 'x' }] } };
  assert.equal(resolvePointer(doc, parsePointer('/data/items/0')), undefined);
  assert.equal(resolvePointer(doc, parsePointer('/data/items/length')), undefined);
  assert.equal(resolvePointer(doc, parsePointer('/data/list/0/name')), undefined);
  assert.deepEqual(resolvePointer(doc, parsePointer('/data/items')), ['a', 'b']);
});

test('resolvePointer ignores inherited properties', () => {
  assert.equal(resolvePointer({}, ['constructor']), undefined);
  assert.equal(resolvePointer({ a: {} }, ['a', 'toString']), undefined);
  const parsed = JSON.parse('{"__proto__": {"x": 1}}') as unknown;
  assert.equal(resolvePointer(parsed, ['__proto__', 'x']), 1);
  assert.equal(resolvePointer(new Date(0), ['getTime']), undefined);
});
