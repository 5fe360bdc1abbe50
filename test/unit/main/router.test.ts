import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../../src/main/router/router.js';
import { InterestTable } from '../../../src/main/router/interest-table.js';
import { parseExtractorConfig } from '../../../src/shared/extractors/config.js';
import { parseStructuredEvent } from '../../../src/shared/cloudevents/structured.js';
import { readEventRecords } from '../../../src/shared/channel/event-record.js';
import { SubscriptionIndex } from '../../../src/shards/subscription-index.js';

const extractors = parseExtractorConfig({
  greeting: { name: { stable_field_index: 1, event: { json_pointer: '/data/name' } } },
});

test('interest table keeps a bitmask per key and forgets a restarted shard', () => {
  const t = new InterestTable();
  t.add(0, ['a', 'b']);
  t.add(3, ['b']);
  assert.equal(t.lookup(['a']), 0b1);
  assert.equal(t.lookup(['b']), 0b1001);
  assert.equal(t.lookup(['a', 'b', 'zzz']), 0b1001);
  t.remove(0, ['b']);
  assert.equal(t.lookup(['b']), 0b1000);
  t.clearShard(3);
  assert.equal(t.lookup(['b']), 0);
  assert.equal(t.size, 1);
});

test('the router sends an event only to shards whose subscriptions can match it', () => {
  const sent: Array<[number, string]> = [];
  const router = new Router(extractors, {
    pushEvent: (shard, record) => {
      for (const r of readEventRecords(record)) sent.push([shard, r.type]);
    },
  });
  // Shard 0 subscribes to alice's greetings, shard 1 to every greeting: feed the table from real indexes.
  const idx0 = new SubscriptionIndex<object>(extractors, (k, added) => (added ? router.interest.add(0, [k]) : router.interest.remove(0, [k])));
  const idx1 = new SubscriptionIndex<object>(extractors, (k, added) => (added ? router.interest.add(1, [k]) : router.interest.remove(1, [k])));
  idx0.set({}, [{ eventType: 'greeting', oneOf: [{ name: 'alice' }] }]);
  const everyone = {};
  idx1.set(everyone, [{ eventType: 'greeting', oneOf: [] }]);
  const ev = (name: string, type = 'greeting') =>
    parseStructuredEvent(JSON.stringify({ specversion: '0.2', type, id: name, data: { name } }));

  router.submit(ev('alice'));
  router.submit(ev('bob'));
  router.submit(ev('alice', 'unrelated'));
  assert.deepEqual(sent, [
    [0, 'greeting'],
    [1, 'greeting'],
    [1, 'greeting'],
  ]);
  assert.equal(router.stats.unrouted, 1);
  idx1.remove(everyone);
  sent.length = 0;
  router.submit(ev('bob'));
  assert.deepEqual(sent, []);
});
