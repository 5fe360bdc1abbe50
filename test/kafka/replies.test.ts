/**
 * The reply consumer (src/main/kafka/reply-consumer.ts) against the real broker: replies produced
 * with RIG's headers reach onReply with the exact status, headers and body bytes; records with
 * missing or invalid headers are counted and skipped; every node (own group per NODE_ID) sees
 * every reply; an unreachable broker means restarts, not crashes.
 */
import { after, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/shared/config/load.js';
import { createLogger } from '../../src/shared/logger.js';
import { startReplyConsumer } from '../../src/main/kafka/reply-consumer.js';
import type { KafkaReply, ReplyConsumer } from '../../src/main/kafka/reply-consumer.js';
import { closeKafka, kafkaBrokers, kafkaSkip, produce, uniqueName, uniqueTopic } from '../helpers/kafka.js';
import { sleep, waitFor } from '../helpers/wait.js';

after(closeKafka);
const skip = kafkaSkip();
const log = createLogger('error', 'test');

interface Started {
  consumer: ReplyConsumer;
  replies: KafkaReply[];
}

async function startConsumer(t: TestContext, env: Record<string, string>, waitConnected = true): Promise<Started> {
  const config = loadConfig({ KAFKA_BROKERS: kafkaBrokers() ?? '', KAFKA_RESTART_DELAY_MS: '500', ...env });
  const replies: KafkaReply[] = [];
  const consumer = startReplyConsumer({ config, log, onReply: (r) => void replies.push(r) });
  t.after(() => consumer.stop());
  if (waitConnected) await waitFor(() => consumer.state() === 'connected', 30_000, `reply consumer ${consumer.groupId} connected`);
  return { consumer, replies };
}

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

test('a reply reaches onReply with its status, filtered headers and exact body bytes', { skip, timeout: 60_000 }, async (t) => {
  const topic = await uniqueTopic('replies', 2);
  const { consumer, replies } = await startConsumer(t, {
    PROXY_KAFKA_RESPONSE_TOPICS: topic, PROXY_KAFKA_RESPONSE_KAFKA_GROUP_ID: uniqueName('rgrp'), NODE_ID: 'node-a',
  });
  assert.match(consumer.groupId, /^rgrp-.+-node-a$/);

  const binary = Buffer.from([0x00, 0xff, 0x7b, 0x0a, 0x80]);
  await produce(topic, [
    {
      value: '{"ok":true, "n": 1}',
      headers: {
        'rig-correlation': 'corr-1', 'rig-response-code': '201', 'Content-Type': 'application/json', 'x-trace': ['a', 'b'],
        'content-length': '999', host: 'backend', connection: 'close', 'transfer-encoding': 'chunked', 'bad header': 'x',
      },
    },
    { value: binary, headers: { 'rig-correlation': Buffer.from('corr-2'), 'rig-response-code': Buffer.from('200') } },
    { value: null, headers: { 'rig-correlation': 'corr-3', 'rig-response-code': '204' } },
  ]);
  await waitFor(() => replies.length === 3, 15_000, '3 replies');
  const by = (c: string) => replies.find((r) => r.correlation === c)!;
  assert.equal(by('corr-1').status, 201);
  assert.deepEqual(by('corr-1').headers, [['content-type', 'application/json'], ['x-trace', 'a'], ['x-trace', 'b']]);
  assert.equal(text(by('corr-1').body), '{"ok":true, "n": 1}', 'the body is not re-encoded');
  assert.equal(by('corr-2').status, 200);
  assert.deepEqual(by('corr-2').headers, []);
  assert.deepEqual(Buffer.from(by('corr-2').body), binary);
  assert.equal(by('corr-2').body.byteOffset, 0, 'the body has its own buffer');
  assert.equal(by('corr-2').body.buffer.byteLength, binary.length);
  assert.equal(by('corr-3').status, 204);
  assert.equal(by('corr-3').body.length, 0, 'a null value is an empty body');
  assert.deepEqual({ ...consumer.stats }, { received: 3, delivered: 3, invalid: 0, restarts: 0 });
});

test('records without valid rig headers are counted as invalid and skipped; the consumer goes on', { skip, timeout: 60_000 }, async (t) => {
  const topic = await uniqueTopic('replies-invalid', 1);
  const { consumer, replies } = await startConsumer(t, {
    PROXY_KAFKA_RESPONSE_TOPICS: topic, PROXY_KAFKA_RESPONSE_KAFKA_GROUP_ID: uniqueName('rgrp'), NODE_ID: 'node-inv',
  });
  await produce(topic, [
    { value: 'no correlation', headers: { 'rig-response-code': '200' } },
    { value: 'no code', headers: { 'rig-correlation': 'c-nocode' } },
    { value: 'not an integer', headers: { 'rig-correlation': 'c-abc', 'rig-response-code': 'abc201' } },
    { value: 'out of range', headers: { 'rig-correlation': 'c-999', 'rig-response-code': '999' } },
    { value: 'no headers at all' },
    { value: 'fine', headers: { 'rig-correlation': 'c-ok', 'rig-response-code': '202' } },
  ]);
  await waitFor(() => consumer.stats.received === 6, 15_000, '6 records read');
  assert.equal(consumer.stats.invalid, 5);
  assert.equal(consumer.stats.delivered, 1);
  assert.deepEqual(replies.map((r) => [r.correlation, r.status, text(r.body)]), [['c-ok', 202, 'fine']]);
  assert.equal(consumer.state(), 'connected');
  assert.equal(consumer.stats.restarts, 0);
});

test('every node sees every reply: two NODE_IDs, two groups, both receive it', { skip, timeout: 60_000 }, async (t) => {
  const topic = await uniqueTopic('replies-nodes', 3);
  const group = uniqueName('rgrp');
  const env = { PROXY_KAFKA_RESPONSE_TOPICS: topic, PROXY_KAFKA_RESPONSE_KAFKA_GROUP_ID: group };
  const [a, b] = await Promise.all([startConsumer(t, { ...env, NODE_ID: 'node-1' }), startConsumer(t, { ...env, NODE_ID: 'node-2' })]);
  assert.notEqual(a.consumer.groupId, b.consumer.groupId);
  await produce(topic, [1, 2, 3, 4, 5, 6].map((i) => ({
    key: `k${i}`, value: `reply ${i}`, headers: { 'rig-correlation': `c${i}`, 'rig-response-code': '200' },
  })));
  await waitFor(() => a.replies.length === 6 && b.replies.length === 6, 15_000, 'both nodes got all 6 replies');
  const ids = (s: Started) => s.replies.map((r) => r.correlation).sort();
  assert.deepEqual(ids(a), ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
  assert.deepEqual(ids(b), ids(a));
});

test('replies from before the consumer joined are not delivered (latest offset), and nothing is committed', { skip, timeout: 60_000 }, async (t) => {
  const topic = await uniqueTopic('replies-latest', 1);
  await produce(topic, [{ value: 'old', headers: { 'rig-correlation': 'old', 'rig-response-code': '200' } }]);
  const env = { PROXY_KAFKA_RESPONSE_TOPICS: topic, PROXY_KAFKA_RESPONSE_KAFKA_GROUP_ID: uniqueName('rgrp'), NODE_ID: 'node-l' };
  const first = await startConsumer(t, env);
  await produce(topic, [{ value: 'new', headers: { 'rig-correlation': 'new', 'rig-response-code': '200' } }]);
  await waitFor(() => first.replies.length === 1, 15_000, 'the new reply');
  assert.equal(first.replies[0]!.correlation, 'new');
  await first.consumer.stop();

  // Same NODE_ID again: with nothing committed it starts at the end, so "new" is not replayed.
  const second = await startConsumer(t, env);
  await produce(topic, [{ value: 'newer', headers: { 'rig-correlation': 'newer', 'rig-response-code': '200' } }]);
  await waitFor(() => second.replies.length >= 1, 15_000, 'the newer reply');
  await sleep(300);
  assert.deepEqual(second.replies.map((r) => r.correlation), ['newer']);
});

test('an unreachable broker: restarts every KAFKA_RESTART_DELAY_MS, never throws, stops cleanly', { skip, timeout: 60_000 }, async (t) => {
  const states: string[] = [];
  const config = loadConfig({ KAFKA_BROKERS: '127.0.0.1:1', KAFKA_RESTART_DELAY_MS: '200', NODE_ID: 'node-x' });
  const consumer = startReplyConsumer({ config, log, onReply: () => assert.fail('no reply expected'), onState: (s) => states.push(s) });
  t.after(() => consumer.stop());
  await waitFor(() => consumer.stats.restarts >= 2, 30_000, 'two restarts');
  assert.equal(consumer.state(), 'reconnecting');
  assert.match(consumer.lastError() ?? '', /connect|ECONNREFUSED/i);
  await consumer.stop();
  assert.equal(consumer.state(), 'stopped');
  const restarts = consumer.stats.restarts;
  await sleep(600);
  assert.equal(consumer.stats.restarts, restarts, 'no attempt after stop');
  assert.deepEqual([...new Set(states)], ['reconnecting', 'stopped']);
});
