import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSasl } from '../../../../src/main/kafka/client.js';
import { kafkaGroupId } from '../../../../src/main/kafka/consumer.js';
import { Router } from '../../../../src/main/router/router.js';
import { parseExtractorConfig } from '../../../../src/shared/extractors/config.js';
import { parseStructuredEvent } from '../../../../src/shared/cloudevents/structured.js';
import { encodeEventRecord } from '../../../../src/shared/channel/event-record.js';
import { ShardBacklog, createBacklogBuffer, markDispatched } from '../../../../src/shared/channel/backlog.js';

test('KAFKA_SASL: mechanism in any case, the password keeps its colons', () => {
  assert.equal(parseSasl(''), undefined);
  assert.deepEqual(parseSasl('plain:alice:secret'), { mechanism: 'plain', username: 'alice', password: 'secret' });
  assert.deepEqual(parseSasl('SCRAM-SHA-256:bob:a:b::c'), { mechanism: 'scram-sha-256', username: 'bob', password: 'a:b::c' });
  assert.deepEqual(parseSasl('scram-sha-512:u:p'), { mechanism: 'scram-sha-512', username: 'u', password: 'p' });
  assert.throws(() => parseSasl('oauthbearer:u:p'));
});

test('each node consumes in its own group derived from the configured group and NODE_ID', () => {
  assert.equal(kafkaGroupId({ kafkaGroupId: 'rig-kafka-to-filter', nodeId: 'gw-1' }), 'rig-kafka-to-filter-gw-1');
});

test('with a forwarder set, HTTP submissions are forwarded as their JSON and not routed; Kafka events are routed', () => {
  const extractors = parseExtractorConfig({});
  const pushed: number[] = [];
  const router = new Router(extractors, { pushEvent: (shard) => pushed.push(shard) });
  router.interest.add(0, ['greeting']);
  const forwarded: string[] = [];
  router.forwardSubmitted = (json) => forwarded.push(Buffer.from(json).toString('utf8'));
  const json = '{"specversion":"1.0","type":"greeting","source":"s","id":"1"}';
  const event = parseStructuredEvent(json);
  router.routeBatch(encodeEventRecord(event.type, undefined, event.json));
  router.submitHttp(event);
  assert.deepEqual(forwarded, [json, json]);
  assert.deepEqual(pushed, [], 'nothing routed locally');
  router.submit(event); // what the Kafka consumer calls
  assert.equal(pushed.length, router.stats.shardDeliveries);
  router.forwardSubmitted = undefined;
  router.submitHttp(event);
  assert.equal(forwarded.length, 2);
  assert.ok(router.stats.events >= 2);
});

test('shard backlog: bytes posted minus bytes the shard dispatched, reset with a new worker', () => {
  const buf = createBacklogBuffer(2);
  const b1 = new ShardBacklog(buf, 1);
  b1.addPosted(1000);
  assert.equal(b1.bytes(), 1000);
  markDispatched(buf, 1, 600);
  markDispatched(buf, 0, 999); // another shard's slot
  assert.equal(b1.bytes(), 400);
  markDispatched(buf, 1, 400);
  assert.equal(b1.bytes(), 0);
  // Counters wrap at 2^32; the difference stays exact.
  b1.addPosted(0x7fffffff);
  b1.addPosted(0x7fffffff);
  markDispatched(buf, 1, 0x7fffffff);
  assert.equal(b1.bytes(), 0x7fffffff);
  b1.reset();
  assert.equal(b1.bytes(), 0);
});
