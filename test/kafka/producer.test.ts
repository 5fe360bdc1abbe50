/**
 * The gateway's producer module (src/main/kafka/producer.ts) against the real broker, built from
 * the configuration as the gateway builds it: values, keys and headers arrive as sent, acks and
 * idempotence follow KAFKA_PRODUCER_ACKS / KAFKA_PRODUCER_IDEMPOTENT, and failures reach the
 * caller as rejected sends instead of being swallowed or queued without bound.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaMessage } from 'kafkajs';
import { loadConfig } from '../../src/shared/config/load.js';
import { createLogger } from '../../src/shared/logger.js';
import { createKafka } from '../../src/main/kafka/client.js';
import { JsonProducer, PRODUCER_ACKS } from '../../src/main/kafka/producer.js';
import { startGateway } from '../helpers/gateway.js';
import { postEvent } from '../helpers/http.js';
import { closeKafka, kafkaBrokers, kafkaSkip, uniqueName, uniqueTopic } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';
import { greetingSub, kafkaEnv, stats, subscribe, waitReady } from './kafka-common.js';

after(closeKafka);
const skip = kafkaSkip();
const log = createLogger('error', 'test');

function producerFor(env: Record<string, string>): JsonProducer {
  const config = loadConfig({ KAFKA_BROKERS: kafkaBrokers() ?? '', ...env });
  return new JsonProducer(createKafka(config, log, 'producer'), log, {
    acks: PRODUCER_ACKS[config.kafkaProducerAcks],
    idempotent: config.kafkaProducerIdempotent,
  });
}

async function readAll(topic: string, count: number): Promise<KafkaMessage[]> {
  const kafka = new Kafka({ clientId: 'producer-test-reader', brokers: kafkaBrokers()!.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 200 });
  const got: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message) });
    await waitFor(() => got.length >= count, 20_000, `${count} records on ${topic}`);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

test('the producer sends JSON values with keys and headers, acks=all and idempotent', { skip, timeout: 60_000 }, async (t) => {
  const topic = await uniqueTopic('producer', 1);
  const producer = producerFor({ KAFKA_PRODUCER_ACKS: 'all', KAFKA_PRODUCER_IDEMPOTENT: 'true' });
  t.after(() => producer.close());
  await producer.send(topic, [
    { key: 'user-1', value: JSON.stringify({ n: 1 }), headers: { 'content-type': 'application/json', 'x-trace': 'a' } },
    { key: null, value: Buffer.from(JSON.stringify({ n: 2 })) },
  ]);
  const got = await readAll(topic, 2);
  assert.equal(got.length, 2);
  assert.equal(got[0]!.key?.toString(), 'user-1');
  assert.deepEqual(JSON.parse(got[0]!.value!.toString()), { n: 1 });
  assert.equal(got[0]!.headers?.['content-type']?.toString(), 'application/json');
  assert.equal(got[0]!.headers?.['x-trace']?.toString(), 'a');
  assert.equal(got[1]!.key, null);
  assert.deepEqual(JSON.parse(got[1]!.value!.toString()), { n: 2 });
});

test('producer failures reach the caller: unknown topic, unreachable broker, closed producer', { skip, timeout: 60_000 }, async (t) => {
  const producer = producerFor({ KAFKA_PRODUCER_ACKS: 'leader' });
  t.after(() => producer.close());
  // Topics are never created implicitly by the gateway.
  await assert.rejects(producer.send(uniqueName('no-such-topic'), [{ value: '{}' }]), /topic|partition|leader/i);
  // It still works afterwards (a failure starts a fresh connection).
  const topic = await uniqueTopic('producer-after', 1);
  await producer.send(topic, [{ value: '{"ok":true}' }]);

  const dead = new JsonProducer(
    createKafka(loadConfig({ KAFKA_BROKERS: '127.0.0.1:1' }), log, 'producer'),
    log,
  );
  const started = Date.now();
  await assert.rejects(dead.send(topic, [{ value: '{}' }]), /connect|ECONNREFUSED/i);
  assert.ok(Date.now() - started < 30_000, 'an unreachable broker fails within kafkajs\'s bounded retries');
  await dead.close();

  await producer.close();
  await assert.rejects(producer.send(topic, [{ value: '{}' }]), /producer closed/);
});

test('the gateway with an idempotent producer delivers HTTP submissions through the topic', { skip, timeout: 60_000 }, async (t) => {
  const topic = await uniqueTopic('producer-gw', 2);
  const gw = await startGateway(t, { ...kafkaEnv(kafkaBrokers()!, topic, uniqueName('grp')), KAFKA_PRODUCER_IDEMPOTENT: 'true' });
  await waitReady(gw);
  const sse = await subscribe(gw, 'sse', [greetingSub('ida')]);
  t.after(() => sse.close());
  const id = uniqueName('idem');
  const posted = await postEvent(gw.url, { specversion: '1.0', type: 'greeting', source: 'producer-test', id, data: { name: 'ida' } });
  assert.equal(posted.status, 202, posted.body);
  await sse.waitIds([id]);
  await waitFor(async () => (await stats(gw))['kafka_produced'] === 1, 10_000, 'kafka_produced 1');
  assert.equal((await stats(gw))['kafka_produce_failed'], 0);
});
