// EXTRACTORS validation: RIG's checks, their order and their messages (spec 5.2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExtractorConfig } from '../../../../src/shared/extractors/config.js';

const field = (index: unknown, pointer: unknown = '/data/x', jwt?: unknown) =>
  jwt === undefined
    ? { stable_field_index: index, event: { json_pointer: pointer } }
    : { stable_field_index: index, event: { json_pointer: pointer }, jwt };

function throwsMessage(value: unknown, message: string): void {
  assert.throws(() => parseExtractorConfig(value), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.equal(e.message, message);
    return true;
  });
}

test('null or undefined means no extractors', () => {
  assert.equal(parseExtractorConfig(null).size, 0);
  assert.equal(parseExtractorConfig(undefined).size, 0);
  assert.equal(parseExtractorConfig({}).size, 0);
});

test('valid config: pointers decoded, fields sorted by stable_field_index', () => {
  const cfg = parseExtractorConfig({
    greeting: {
      name: field(2, '/data/name', { json_pointer: '/username' }),
      age: field(0, '/data/age'),
      'odd/name': field(1, '/data/a~1b'),
    },
    empty: {},
  });
  assert.deepEqual([...cfg.keys()], ['greeting']);
  assert.deepEqual(cfg.get('greeting'), [
    { name: 'age', stableFieldIndex: 0, eventPointer: ['data', 'age'] },
    { name: 'odd/name', stableFieldIndex: 1, eventPointer: ['data', 'a/b'] },
    { name: 'name', stableFieldIndex: 2, eventPointer: ['data', 'name'], jwtPointer: ['username'] },
  ]);
});

test('jwt: null is the same as no jwt pointer', () => {
  const cfg = parseExtractorConfig({ t: { f: field(0, '/data/f', null) } });
  assert.equal(cfg.get('t')![0]!.jwtPointer, undefined);
});

test('missing stable_field_index', () => {
  throwsMessage(
    { greeting: { name: { event: { json_pointer: '/data/name' } }, age: field(1) } },
    'greeting: stable_field_index is required, but missing for fields: ["name"]',
  );
  throwsMessage(
    { greeting: { b: { event: { json_pointer: '/x' } }, a: {} } },
    'greeting: stable_field_index is required, but missing for fields: ["a", "b"]',
  );
});

test('duplicate index', () => {
  throwsMessage(
    { greeting: { a: field(1), b: field(1) } },
    'greeting: Duplicate index - please use a different stable_field_index value for each field',
  );
});

test('negative index', () => {
  throwsMessage(
    { greeting: { a: field(-1) } },
    'greeting: Negative index - please use only non-negative values for stable_field_index',
  );
});

test('checks run in RIG order: missing, duplicate, negative, invalid', () => {
  throwsMessage(
    { t: { a: {}, b: field(-1), c: field(-1) } },
    't: stable_field_index is required, but missing for fields: ["a"]',
  );
  throwsMessage(
    { t: { b: field(-1), c: field(-1), d: field(0, 42) } },
    't: Duplicate index - please use a different stable_field_index value for each field',
  );
  throwsMessage(
    { t: { b: field(-1), d: field(0, 42) } },
    't: Negative index - please use only non-negative values for stable_field_index',
  );
});

test('invalid field configuration', () => {
  const invalid = (fields: string) => `greeting: Invalid configuation for fields: ${fields}`;
  throwsMessage({ greeting: { name: field(0, '') } }, invalid('["name"]'));
  throwsMessage({ greeting: { name: field(0, 5) } }, invalid('["name"]'));
  throwsMessage({ greeting: { name: { stable_field_index: 0 } } }, invalid('["name"]'));
  throwsMessage({ greeting: { name: { stable_field_index: 0, event: '/x' } } }, invalid('["name"]'));
  throwsMessage({ greeting: { name: field('0') } }, invalid('["name"]'));
  throwsMessage({ greeting: { name: field(1.5) } }, invalid('["name"]'));
  throwsMessage({ greeting: { name: field(null) } }, invalid('["name"]'));
  // Not RFC 6901 pointers (RIG accepted these but could never extract with them):
  throwsMessage({ greeting: { name: field(0, 'data/name') } }, invalid('["name"]'));
  throwsMessage({ greeting: { name: field(0, '#/data/name') } }, invalid('["name"]'));
  throwsMessage({ greeting: { name: field(0, '/a~2') } }, invalid('["name"]'));
  // A given jwt pointer must be usable too:
  throwsMessage({ greeting: { name: field(0, '/x', { json_pointer: 'user' }) } }, invalid('["name"]'));
  throwsMessage({ greeting: { name: field(0, '/x', {}) } }, invalid('["name"]'));
  throwsMessage({ greeting: { name: field(0, '/x', '/user') } }, invalid('["name"]'));
  // Field definitions that are not objects:
  throwsMessage({ greeting: { b: 'nope', a: field(0, '') } }, invalid('["a", "b"]'));
});

test('structural errors', () => {
  throwsMessage([], 'extractor configuration is expected to be a JSON object keyed by event type');
  throwsMessage('x', 'extractor configuration is expected to be a JSON object keyed by event type');
  throwsMessage({ greeting: [] }, 'greeting: expected a JSON object keyed by field name');
  throwsMessage({ greeting: null }, 'greeting: expected a JSON object keyed by field name');
});

test('errors of several event types are all reported', () => {
  throwsMessage(
    { one: { a: field(-1) }, ok: { a: field(0) }, two: { a: field(0, '') } },
    'one: Negative index - please use only non-negative values for stable_field_index; ' +
      'two: Invalid configuation for fields: ["a"]',
  );
});
