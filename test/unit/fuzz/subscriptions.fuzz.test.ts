// Subscription lists (connect parameter and PUT body): any decoded JSON is a list of subscriptions,
// a SubscriptionParseError or a limit GatewayError; valid lists round-trip; dedupe never throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GatewayError } from '../../../src/shared/errors.js';
import { SubscriptionParseError, dedupeSubscriptions, parseSubscriptionList } from '../../../src/shared/subscriptions/parse.js';
import { json, params } from './fuzz.js';

const limits = { maxSubscriptions: 20, maxConstraints: 5, maxFields: 4 };

const constraint = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), json, { maxKeys: 6 });
const entry = fc.oneof(
  fc.record({ event_type: fc.string({ minLength: 1, maxLength: 20 }), one_of: fc.array(constraint, { maxLength: 7 }) }),
  fc.record({ eventType: fc.string({ minLength: 1, maxLength: 20 }), oneOf: fc.array(constraint, { maxLength: 7 }) }, { requiredKeys: [] }),
  fc.record({ event_type: json, constraints: json }, { requiredKeys: [] }),
  json,
);
const lists = fc.oneof(
  fc.array(entry, { maxLength: 25 }),
  fc.array(entry, { maxLength: 25 }).map((subscriptions) => ({ subscriptions })),
  json,
);

function isAllowed(e: unknown): boolean {
  return e instanceof SubscriptionParseError || (e instanceof GatewayError && e.code === 'GW_ERR_SUBSCRIPTION_LIMIT' && e.status === 400);
}

test('parseSubscriptionList: any JSON gives subscriptions, a SubscriptionParseError or the limit error', () => {
  fc.assert(
    fc.property(lists, (value) => {
      let parsed;
      try {
        parsed = parseSubscriptionList(value, limits);
      } catch (e) {
        assert.ok(isAllowed(e), String(e));
        return;
      }
      assert.ok(parsed.length <= limits.maxSubscriptions);
      for (const s of parsed) {
        assert.equal(typeof s.eventType, 'string');
        assert.ok(s.oneOf.length <= limits.maxConstraints);
        for (const c of s.oneOf) assert.ok(Object.keys(c).length <= limits.maxFields);
      }
      // Dedupe is applied to every parsed connect list.
      const deduped = dedupeSubscriptions(parsed);
      assert.ok(deduped.length <= parsed.length);
    }),
    params,
  );
});

test('parseSubscriptionList: a valid list survives a JSON round trip unchanged', () => {
  const valid = fc.array(
    fc.record({ eventType: fc.string({ minLength: 1, maxLength: 20 }), oneOf: fc.array(constraint, { maxLength: 3 }) }),
    { maxLength: 10 },
  );
  fc.assert(
    fc.property(valid, (subs) => {
      const wire = JSON.parse(JSON.stringify({ subscriptions: subs.map((s) => ({ event_type: s.eventType, one_of: s.oneOf })) }));
      const parsed = parseSubscriptionList(wire);
      assert.deepEqual(parsed, JSON.parse(JSON.stringify(subs)));
      // Dedupe keeps exactly one of each and the first occurrence's order.
      assert.deepEqual(dedupeSubscriptions([...parsed, ...parsed]), dedupeSubscriptions(parsed));
    }),
    params,
  );
});

test('deeply nested constraint values: parsed or refused, never a stack overflow', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 200_000 }), fc.constantFrom('[', '{"a":'), (depth, open) => {
      const close = open === '[' ? ']' : '}';
      const text = `[{"event_type":"t","one_of":[{"f":${open.repeat(depth)}1${close.repeat(depth)}}]}]`;
      try {
        dedupeSubscriptions(parseSubscriptionList(JSON.parse(text), limits));
      } catch (e) {
        assert.ok(isAllowed(e), String(e));
      }
    }),
    { numRuns: 20 },
  );
});
