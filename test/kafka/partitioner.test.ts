/**
 * KAFKA_PARTITIONER against the real broker: the gateway's producer, built from the configuration,
 * puts keyed records on the partition the formula says, for a 6-partition topic:
 * murmur2 = toPositive(Java's Utils.murmur2(keyBytes)) mod 6 (the values below were computed with
 * kafka-clients 4.1.1), murmur3 = murmur3_x86_32(keyBytes, 0) mod 6 (RIG 3.0).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../../src/shared/config/load.js';
import { createLogger } from '../../src/shared/logger.js';
import { createKafka } from '../../src/main/kafka/client.js';
import { murmur3x86_32 } from '../../src/main/kafka/partitioner.js';
import { JsonProducer, PRODUCER_ACKS } from '../../src/main/kafka/producer.js';
import { closeKafka, kafkaBrokers, kafkaSkip, uniqueName, uniqueTopic } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';

after(closeKafka);
const skip = kafkaSkip();
const log = createLogger('error', 'test');

/** Java's Utils.murmur2 of the UTF-8 key. */
const JAVA_MURMUR2: Record<string, number> = {
  '21': -973932308,
  foobar: -790332482,
  'a-little-bit-long-string': -985981536,
  abc: 479470107,
  'user-1': 1404122828,
  partition: 1683102466,
  'ümlaut-€': -202957179,
};

async function producedPartitions(partitioner: string, keys: Array<string | null>): Promise<Array<{ key: string | null; partition: number }>> {
  const topic = await uniqueTopic(`partitioner-${partitioner}`, 6);
  const config = loadConfig({ KAFKA_BROKERS: kafkaBrokers() ?? '', KAFKA_PARTITIONER: partitioner });
  const producer = new JsonProducer(createKafka(config, log, 'producer'), log, {
    acks: PRODUCER_ACKS[config.kafkaProducerAcks],
    partitioner: config.kafkaPartitioner,
  });
  try {
    await producer.send(topic, keys.map((key) => ({ key, value: '{}' })));
  } finally {
    await producer.close();
  }
  const kafka = new Kafka({ clientId: 'partitioner-test-reader', brokers: kafkaBrokers()!.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 200 });
  const got: Array<{ key: string | null; partition: number }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ partition, message }) => void got.push({ key: message.key?.toString('utf8') ?? null, partition }) });
    await waitFor(() => got.length >= keys.length, 20_000, `${keys.length} records on ${topic}`);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

test('murmur2 (default): keys land where Kafka\'s Java client puts them', { skip, timeout: 60_000 }, async () => {
  assert.equal(loadConfig({}).kafkaPartitioner, 'murmur2');
  const got = await producedPartitions('murmur2', Object.keys(JAVA_MURMUR2));
  assert.deepEqual([...new Set(got.map((g) => g.key))].sort(), Object.keys(JAVA_MURMUR2).sort());
  for (const { key, partition } of got) assert.equal(partition, (JAVA_MURMUR2[key!]! & 0x7fffffff) % 6, `key ${key}`);
  assert.ok(new Set(got.map((g) => g.partition)).size > 1, 'the keys spread over several partitions');
});

test('murmur3: keys land on murmur3_x86_32(key) mod 6, as RIG 3.0 placed them', { skip, timeout: 60_000 }, async () => {
  const keys = [...Object.keys(JAVA_MURMUR2), 'hello', 'a', 'ab', ...Array.from({ length: 20 }, (_, i) => `order-${i}`)];
  const got = await producedPartitions('murmur3', keys);
  // A retried produce request may write a record twice (the producer is not idempotent here);
  // what counts is that every key is there, on its partition.
  assert.deepEqual([...new Set(got.map((g) => g.key))].sort(), [...keys].sort());
  for (const { key, partition } of got) assert.equal(partition, murmur3x86_32(Buffer.from(key!, 'utf8')) % 6, `key ${key}`);
  // Not the same placement as murmur2: the choice matters for consumers relying on key order.
  assert.ok(Object.keys(JAVA_MURMUR2).some((k) => murmur3x86_32(Buffer.from(k)) % 6 !== (JAVA_MURMUR2[k]! & 0x7fffffff) % 6));
});

test('keyless records are spread over the partitions with either partitioner', { skip, timeout: 60_000 }, async () => {
  for (const name of ['murmur2', 'murmur3']) {
    const got = await producedPartitions(name, Array.from({ length: 120 }, () => null));
    assert.ok(got.length >= 120);
    assert.ok(new Set(got.map((g) => g.partition)).size >= 4, `${name}: keyless records on ${new Set(got.map((g) => g.partition)).size} partitions`);
  }
});
