// Subscription list parsing (spec 5.1) and the cases of RIG's own json_test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SubscriptionParseError,
  dedupeSubscriptions,
  parseSubscriptionList,
} from '../../../../src/shared/subscriptions/parse.js';

function throwsMessage(value: unknown, message: string): void {
  assert.throws(() => parseSubscriptionList(value), (e: unknown) => {
    assert.ok(e instanceof SubscriptionParseError);
    assert.ok(e instanceof Error);
    assert.equal(e.message, message);
    return true;
  });
}

const entryError = (reason: string, entry: unknown) =>
  `invalid subscription: ${reason} when parsing ${JSON.stringify(entry)}`;

test('RIG json_test: good subscriptions are decoded as expected', () => {
  const input = JSON.parse('[{"eventType": "foo", "oneOf": [{"a": "b"}]}, {"eventType": "bar", "oneOf": []}]');
  assert.deepEqual(parseSubscriptionList(input), [
    { eventType: 'foo', oneOf: [{ a: 'b' }] },
    { eventType: 'bar', oneOf: [] },
  ]);
});

test('RIG json_test: all or nothing (eventType 123 is invalid)', () => {
  const input = [
    { eventType: 'greeting', oneOf: [] },
    { eventType: 123, oneOf: [] },
  ];
  throwsMessage(input, entryError('event-type empty', { eventType: 123, oneOf: [] }));
});

test('absent lists mean no subscriptions', () => {
  assert.deepEqual(parseSubscriptionList(null), []);
  assert.deepEqual(parseSubscriptionList(undefined), []);
  assert.deepEqual(parseSubscriptionList([]), []);
  assert.deepEqual(parseSubscriptionList({ subscriptions: [] }), []);
});

test('body form {"subscriptions": [...]}', () => {
  assert.deepEqual(parseSubscriptionList({ subscriptions: [{ eventType: 'a' }], other: 1 }), [
    { eventType: 'a', oneOf: [] },
  ]);
});

test('anything but a list is rejected', () => {
  const msg = 'subscriptions is expected to be a JSON encoded list';
  for (const v of [{}, { subscriptions: null }, { subscriptions: {} }, { subscriptions: 'x' }, 'x', 1, true]) {
    throwsMessage(v, msg);
  }
});

test('key aliases are normalized to {eventType, oneOf}', () => {
  const c = { name: 'joe' };
  assert.deepEqual(
    parseSubscriptionList([
      { event_type: 'a', one_of: [c] },
      { eventType: 'b', constraints: [c] },
      { eventType: 'c', oneOf: [c], extra: true },
    ]),
    [
      { eventType: 'a', oneOf: [c] },
      { eventType: 'b', oneOf: [c] },
      { eventType: 'c', oneOf: [c] },
    ],
  );
  // Constraint objects are kept as given (same objects, values untouched).
  const [sub] = parseSubscriptionList([{ eventType: 'x', oneOf: [c] }]);
  assert.equal(sub!.oneOf[0], c);
});

test('snake_case keys take precedence, as in RIG', () => {
  assert.deepEqual(parseSubscriptionList([{ event_type: 'snake', eventType: 'camel' }]), [
    { eventType: 'snake', oneOf: [] },
  ]);
  assert.deepEqual(
    parseSubscriptionList([{ eventType: 'x', constraints: [{ a: 1 }], one_of: [{ b: 2 }], oneOf: [{ c: 3 }] }]),
    [{ eventType: 'x', oneOf: [{ a: 1 }] }],
  );
  assert.deepEqual(parseSubscriptionList([{ eventType: 'x', one_of: [{ b: 2 }], oneOf: [{ c: 3 }] }]), [
    { eventType: 'x', oneOf: [{ b: 2 }] },
  ]);
});

test('entry error messages', () => {
  const cases: [unknown, string][] = [
    ['greeting', 'not a map'],
    [null, 'not a map'],
    [['greeting'], 'not a map'],
    [{ oneOf: [] }, 'event-type not found'],
    [{ eventType: '' }, 'event-type empty'],
    [{ eventType: null }, 'event-type empty'],
    [{ event_type: 42 }, 'event-type empty'],
    [{ eventType: 'a', oneOf: {} }, 'constraints expected to be a list of disjunctive clauses'],
    [{ eventType: 'a', oneOf: null }, 'constraints expected to be a list of disjunctive clauses'],
    [{ eventType: 'a', constraints: 'x' }, 'constraints expected to be a list of disjunctive clauses'],
    [{ eventType: 'a', oneOf: ['x'] }, 'a disjunctive clause expected to be a conjunction represented by a map'],
    [{ eventType: 'a', oneOf: [null] }, 'a disjunctive clause expected to be a conjunction represented by a map'],
    [{ eventType: 'a', oneOf: [[]] }, 'a disjunctive clause expected to be a conjunction represented by a map'],
    [{ eventType: 'a', oneOf: [{ '': 1 }] }, 'conjunctive clauses expected to be a map with nonempty strings as keys'],
    [
      { eventType: 'a', oneOf: [{ ok: 1 }, { fine: 2, '': 3 }] },
      'conjunctive clauses expected to be a map with nonempty strings as keys',
    ],
  ];
  for (const [entry, reason] of cases) {
    throwsMessage([{ eventType: 'good' }, entry], entryError(reason, entry));
  }
});

test('constraint values may be any JSON', () => {
  const oneOf = [{ a: null, b: { x: 1 }, c: [1], d: 1.5, e: false }];
  assert.deepEqual(parseSubscriptionList([{ eventType: 't', oneOf }]), [{ eventType: 't', oneOf }]);
});

test('dedupeSubscriptions drops later deep-equal duplicates', () => {
  const list = [
    { eventType: 'a', oneOf: [{ x: 1, y: 'z' }] },
    { eventType: 'b', oneOf: [] },
    { eventType: 'a', oneOf: [{ y: 'z', x: 1 }] }, // same, key order differs
    { eventType: 'a', oneOf: [{ x: '1', y: 'z' }] }, // "1" is not 1
    { eventType: 'b', oneOf: [] },
    { eventType: 'a', oneOf: [{ x: 1 }, { y: 'z' }] },
    { eventType: 'a', oneOf: [{ y: 'z' }, { x: 1 }] }, // oneOf order matters
    { eventType: 'a', oneOf: [{ n: { p: 1, q: [1, { r: 2, s: 3 }] } }] },
    { eventType: 'a', oneOf: [{ n: { q: [1, { s: 3, r: 2 }], p: 1 } }] },
  ];
  const out = dedupeSubscriptions(list);
  assert.deepEqual(out, [list[0], list[1], list[3], list[5], list[6], list[7]]);
  assert.equal(out[0], list[0]);
});

test('limits: too many subscriptions, constraint objects or fields answer GW_ERR_SUBSCRIPTION_LIMIT', async () => {
  const { GatewayError } = await import('../../../../src/shared/errors.js');
  const limits = { maxSubscriptions: 2, maxConstraints: 2, maxFields: 2 };
  const sub = (oneOf: unknown[]) => ({ event_type: 'greeting', one_of: oneOf });
  const limitError = (value: unknown, detail: RegExp) =>
    assert.throws(() => parseSubscriptionList(value, limits), (e: unknown) => {
      assert.ok(e instanceof GatewayError);
      assert.equal(e.code, 'GW_ERR_SUBSCRIPTION_LIMIT');
      assert.equal(e.status, 400);
      assert.match(e.message, detail);
      return true;
    });
  // At the limits: accepted.
  assert.equal(parseSubscriptionList([sub([{ a: 1, b: 2 }, {}]), sub([])], limits).length, 2);
  limitError([sub([]), sub([]), sub([])], /^Too many subscriptions: 3 subscriptions given, the limit is 2 \(MAX_SUBSCRIPTIONS_PER_CONNECTION\)\.$/);
  limitError({ subscriptions: [sub([{}, {}, {}])] }, /"greeting" has 3 constraint objects, the limit is 2 \(MAX_CONSTRAINTS_PER_SUBSCRIPTION\)/);
  limitError([sub([{ a: 1, b: 2, c: 3 }])], /"greeting" has 3 fields, the limit is 2 \(MAX_FIELDS_PER_CONSTRAINT\)/);
  // The list's length is checked before its entries: an oversized list of junk is a limit error.
  limitError([1, 2, 3], /3 subscriptions given/);
  // Without limits (unit use) nothing is bounded.
  assert.equal(parseSubscriptionList(Array.from({ length: 5000 }, () => sub([]))).length, 5000);
});
