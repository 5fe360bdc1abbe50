// JWT-inferred subscriptions (spec 5.3), including RIG's own example.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExtractorConfig } from '../../../../src/shared/extractors/config.js';
import { inferSubscriptionsFromClaims } from '../../../../src/shared/subscriptions/jwt-infer.js';

const cfg = parseExtractorConfig({
  event_one: {
    name: { event: { json_pointer: '/data/name' }, jwt: { json_pointer: '/username' }, stable_field_index: 1 },
  },
  event_two: {
    fullname: { event: { json_pointer: '/data/fullname' }, jwt: { json_pointer: '/fullname' }, stable_field_index: 1 },
    name: { event: { json_pointer: '/data/name' }, jwt: { json_pointer: '/username' }, stable_field_index: 2 },
  },
  example: {
    email: { event: { json_pointer: '/data/email' }, stable_field_index: 1 },
  },
});

test('RIG example: one conjunctive constraint per event type', () => {
  assert.deepEqual(inferSubscriptionsFromClaims(cfg, { username: 'john', fullname: 'John Doe' }), [
    { eventType: 'event_one', oneOf: [{ name: 'john' }] },
    { eventType: 'event_two', oneOf: [{ fullname: 'John Doe', name: 'john' }] },
  ]);
});

test('unresolvable fields are omitted; types without any resolved field yield nothing', () => {
  assert.deepEqual(inferSubscriptionsFromClaims(cfg, { fullname: 'John Doe' }), [
    { eventType: 'event_two', oneOf: [{ fullname: 'John Doe' }] },
  ]);
  assert.deepEqual(inferSubscriptionsFromClaims(cfg, { sub: 'x' }), []);
  assert.deepEqual(inferSubscriptionsFromClaims(new Map(), { username: 'john' }), []);
});

test('claim values are taken as found (null becomes a wildcard constraint later)', () => {
  const nested = parseExtractorConfig({
    t: {
      org: { event: { json_pointer: '/data/org' }, jwt: { json_pointer: '/org/id' }, stable_field_index: 0 },
      role: { event: { json_pointer: '/data/role' }, jwt: { json_pointer: '/role' }, stable_field_index: 1 },
      first: { event: { json_pointer: '/data/g' }, jwt: { json_pointer: '/groups/0' }, stable_field_index: 2 },
    },
  });
  assert.deepEqual(inferSubscriptionsFromClaims(nested, { org: { id: 7 }, role: null, groups: ['a'] }), [
    { eventType: 't', oneOf: [{ org: 7, role: null }] },
  ]);
});

test('a field named __proto__ becomes an ordinary own property', () => {
  const odd = parseExtractorConfig({
    t: { ['__proto__']: { event: { json_pointer: '/data/p' }, jwt: { json_pointer: '/p' }, stable_field_index: 0 } },
  });
  // Object literals with a computed __proto__ key define an own property, as JSON.parse does.
  assert.equal(odd.get('t')![0]!.name, '__proto__');
  const [sub] = inferSubscriptionsFromClaims(odd, { p: 'v' });
  const constraint = sub!.oneOf[0]!;
  assert.equal(Object.getPrototypeOf(constraint), Object.prototype);
  assert.deepEqual(Object.keys(constraint), ['__proto__']);
  assert.equal(Object.getOwnPropertyDescriptor(constraint, '__proto__')!.value, 'v');
});
