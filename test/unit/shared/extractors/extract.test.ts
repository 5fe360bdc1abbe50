// Field extraction per event (spec 5.4 step 3), including the #391 fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExtractorConfig } from '../../../../src/shared/extractors/config.js';
import { extractFieldValues } from '../../../../src/shared/extractors/extract.js';

const cfg = parseExtractorConfig({
  person: {
    name: { stable_field_index: 1, event: { json_pointer: '/data/name' } },
    age: { stable_field_index: 2, event: { json_pointer: '/data/age' } },
    vip: { stable_field_index: 3, event: { json_pointer: '/data/vip' } },
    src: { stable_field_index: 0, event: { json_pointer: '/source' } },
  },
});

const event = (data: unknown, extra: Record<string, unknown> = {}) => ({
  specversion: '0.2',
  type: 'person',
  id: '1',
  source: 'test',
  data,
  ...extra,
});

test('undefined for types without configured fields', () => {
  assert.equal(extractFieldValues(cfg, 'other', event({ name: 'joe' })), undefined);
  assert.equal(extractFieldValues(new Map([['person', []]]), 'person', event({})), undefined);
});

test('one value per field, in field order', () => {
  assert.deepEqual(extractFieldValues(cfg, 'person', event({ name: 'joe', age: 30, vip: false })), [
    'test',
    'joe',
    30,
    false,
  ]);
});

test('missing, null, object and array values become null', () => {
  assert.deepEqual(extractFieldValues(cfg, 'person', event({ age: null, name: { first: 'joe' }, vip: [true] })), [
    'test',
    null,
    null,
    null,
  ]);
  assert.deepEqual(extractFieldValues(cfg, 'person', event('a string payload')), ['test', null, null, null]);
  assert.deepEqual(extractFieldValues(cfg, 'person', event(undefined)), ['test', null, null, null]);
});

test('a pointer into an array is "not found"', () => {
  const arr = parseExtractorConfig({ t: { first: { stable_field_index: 0, event: { json_pointer: '/data/items/0' } } } });
  assert.deepEqual(extractFieldValues(arr, 't', event({ items: ['a'] })), [null]);
});

test('contenttype does not prevent extraction from an object data (RIG #391)', () => {
  const e = event({ name: 'joe', age: 20 }, { contenttype: 'application/json' });
  assert.deepEqual(extractFieldValues(cfg, 'person', e), ['test', 'joe', 20, null]);
  const e2 = event({ name: 'joe' }, { contenttype: 'text/plain' });
  assert.deepEqual(extractFieldValues(cfg, 'person', e2), ['test', 'joe', null, null]);
});
