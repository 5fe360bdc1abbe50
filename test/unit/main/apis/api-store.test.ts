/** RIG's create/update/delete semantics of the internal API's store (spec 3.2). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiStore } from '../../../../src/main/apis/api-store.js';
import type { JsonObject } from '../../../../src/shared/apis/types.js';

const def = (id: string, extra: JsonObject = {}): JsonObject => ({
  id, name: id, version_data: { default: { endpoints: [] } }, proxy: { target_url: 'localhost', port: 1 }, ...extra,
});

function store(): ApiStore {
  let t = Date.UTC(2024, 0, 1);
  return new ApiStore('node-a', () => new Date((t += 1000)));
}

test('create, conflict, read, list in creation order', () => {
  const s = store();
  s.load([def('one')]);
  assert.equal(s.create(def('two')), 'created');
  assert.equal(s.create(def('one')), 'exists');
  assert.deepEqual(s.active().map((a) => a['id']), ['one', 'two']);
  assert.equal(s.get('two')!['node_name'], 'node-a');
  assert.equal(s.get('two')!['active'], true);
  assert.equal(s.get('nope'), undefined);
});

test('delete is soft: 404 afterwards, the id can be created again with the next ref_number', () => {
  const s = store();
  s.load([def('one')]);
  assert.equal(s.deactivate('one'), true);
  assert.equal(s.get('one'), undefined);
  assert.equal(s.deactivate('one'), false, 'already deleted');
  assert.equal(s.update('one', def('one')), false, 'a deleted id cannot be updated');
  assert.deepEqual(s.active(), []);
  assert.equal(s.create(def('one', { name: 'again' })), 'created');
  assert.equal(s.get('one')!['ref_number'], 2, 'create 0, delete 1, re-create 2');
  assert.equal(s.get('one')!['name'], 'again');
});

test('update merges top-level keys and bumps ref_number and timestamp', () => {
  const s = store();
  s.load([def('one', { extra: 'kept' })]);
  const before = s.get('one')!;
  assert.equal(s.update('one', { id: 'one', name: 'renamed' }), true);
  const after = s.get('one')!;
  assert.equal(after['name'], 'renamed');
  assert.equal(after['extra'], 'kept');
  assert.equal(after['ref_number'], 1);
  assert.notEqual(after['timestamp'], before['timestamp']);
  assert.equal(s.update('nope', { id: 'nope' }), false);
});
