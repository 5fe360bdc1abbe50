/** Defaults on create, merge on update, soft delete (spec 6.1.2, 3.2); path_regex is in path-regex.test.ts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deactivated, replaced, updated, withDefaults } from '../../../../src/shared/apis/defaults.js';
import { sortedJson } from '../../../../src/shared/apis/json.js';
import type { JsonObject } from '../../../../src/shared/apis/types.js';

const META = { nodeName: 'gw-1', now: '2024-01-02T03:04:05.678Z' };
const LATER = { nodeName: 'gw-2', now: '2024-02-02T00:00:00.000Z' };

const def = (extra: JsonObject = {}): JsonObject => ({
  id: 'svc',
  name: 'svc',
  version_data: { default: { endpoints: [{ id: 'e', method: 'get', path_regex: '/a' }] } },
  proxy: { target_url: 'localhost', port: 80 },
  ...extra,
});

test('create: defaults under the definition, node_name set, methods upper-cased', () => {
  assert.deepEqual(withDefaults(def(), META), {
    active: true,
    auth_type: 'none',
    auth: { use_header: false, header_name: '', use_query: false, query_name: '' },
    proxy: { target_url: 'localhost', port: 80 },
    ref_number: 0,
    timestamp: META.now,
    versioned: false,
    id: 'svc',
    name: 'svc',
    version_data: { default: { endpoints: [{ id: 'e', method: 'GET', path_regex: '/a' }] } },
    node_name: 'gw-1',
  });
});

test('create: the merge is shallow, a given proxy or auth replaces the default entirely', () => {
  const api = withDefaults(def({ auth: { use_query: true, query_name: 'jwt' }, extra: { kept: 1 } }), META);
  assert.deepEqual(api['proxy'], { target_url: 'localhost', port: 80 }, 'no use_env added');
  assert.deepEqual(api['auth'], { use_query: true, query_name: 'jwt' });
  assert.deepEqual(api['extra'], { kept: 1 }, 'unknown keys are kept');
  assert.equal(withDefaults(def({ active: false, ref_number: 7 }), META)['ref_number'], 7, 'given meta fields win, as in RIG');
});

test('create with auth_type jwt forces the Authorization header and keeps the query settings', () => {
  const api = withDefaults(def({ auth_type: 'jwt', auth: { use_header: false, header_name: 'x-token', use_query: true, query_name: 'token' } }), META);
  assert.deepEqual(api['auth'], { use_header: true, header_name: 'Authorization', use_query: true, query_name: 'token' });
  const bare = withDefaults(def({ auth_type: 'jwt' }), META);
  assert.deepEqual(bare['auth'], { use_header: true, header_name: 'Authorization', use_query: false, query_name: '' });
});

test('update: shallow merge without defaults, ref_number + 1, timestamp and node_name set', () => {
  const current = withDefaults(def({ auth_type: 'jwt' }), META);
  const next = updated(current, { id: 'svc', name: 'renamed', auth: { use_header: true, header_name: 'x-token' } }, LATER);
  assert.equal(next['name'], 'renamed');
  assert.deepEqual(next['auth'], { use_header: true, header_name: 'x-token' }, 'defaults are not re-applied');
  assert.deepEqual(next['proxy'], current['proxy'], 'keys not sent are kept');
  assert.equal(next['ref_number'], 1);
  assert.equal(next['timestamp'], LATER.now);
  assert.equal(next['node_name'], 'gw-2');
  assert.equal(updated(current, { ref_number: 9 }, LATER)['ref_number'], 10, 'counts from the merged value');
  assert.equal(updated(current, { ref_number: 'x' }, LATER)['ref_number'], 1);
  const methods = updated(current, { version_data: { default: { endpoints: [{ id: 'e', method: 'post', path_regex: '/b' }] } } }, LATER);
  assert.deepEqual(methods['version_data'], { default: { endpoints: [{ id: 'e', method: 'POST', path_regex: '/b' }] } });
});

test('delete is a tombstone; re-create over it starts from defaults with the next ref_number', () => {
  const current = { ...withDefaults(def(), META), ref_number: 3 };
  const gone = deactivated(current, LATER);
  assert.equal(gone['active'], false);
  assert.equal(gone['ref_number'], 4);
  assert.equal(gone['timestamp'], LATER.now);
  assert.equal(gone['node_name'], 'gw-1');
  const again = replaced(gone, def({ name: 'again' }), LATER);
  assert.equal(again['active'], true);
  assert.equal(again['ref_number'], 5);
  assert.equal(again['name'], 'again');
});

test('inputs are never changed (they may be frozen configuration)', () => {
  const input = Object.freeze(def({ auth_type: 'jwt', auth: Object.freeze({ use_query: true }) }));
  assert.doesNotThrow(() => withDefaults(input, META));
  assert.deepEqual(input['auth'], { use_query: true });
});

test('JSON output with keys in byte order, as RIG wrote its maps', () => {
  assert.equal(sortedJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null }, '10': true, '2': 'x' }), '{"10":true,"2":"x","a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
});
