#!/usr/bin/env node
// End-to-end check of a running broker: creates a unique topic, produces three
// messages with kafkajs, reads them back with a consumer group from the beginning
// and checks order and content.
//
//   node scripts/kafka-local/roundtrip.mjs [--brokers 127.0.0.1:19092] [--timeout 60]
//
// The broker list also comes from KAFKA_BROKERS when --brokers is not given.
// Exit code 0 when all three messages came back in order, 1 otherwise.

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

const args = process.argv.slice(2);
let brokersArg = process.env.KAFKA_BROKERS || '127.0.0.1:19092';
let timeoutSeconds = 60;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--brokers' && args[i + 1]) brokersArg = args[++i];
  else if (args[i] === '--timeout' && args[i + 1]) timeoutSeconds = Number(args[++i]);
  else {
    console.error(`roundtrip: unknown argument ${args[i]}`);
    console.error('usage: roundtrip.mjs [--brokers host:port[,host:port]] [--timeout seconds]');
    process.exit(1);
  }
}

let kafkajs;
try {
  kafkajs = await import('kafkajs');
} catch {
  console.error('roundtrip: FAIL: the kafkajs package is not installed; run `npm install` in the repository first');
  process.exit(1);
}
const { Kafka, logLevel } = kafkajs.default ?? kafkajs;

const brokers = brokersArg.split(',').map((b) => b.trim()).filter(Boolean);
const suffix = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const topic = `kafka-local-roundtrip-${suffix}`;
const groupId = `kafka-local-roundtrip-group-${suffix}`;
const expected = [1, 2, 3].map((n) => ({ key: `key-${n}`, value: `message ${n} of 3 (${suffix})` }));

const kafka = new Kafka({
  clientId: 'kafka-local-roundtrip',
  brokers,
  logLevel: logLevel.WARN,
  connectionTimeout: 5000,
  requestTimeout: 15000,
  retry: { retries: 5, initialRetryTime: 200 },
});
const admin = kafka.admin();
const producer = kafka.producer({ allowAutoTopicCreation: false });
const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000 });

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(2)}s`;
let failed = null;
let timer;

try {
  await admin.connect();
  const created = await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
  });
  if (!created) throw new Error(`topic ${topic} already existed`);
  console.error(`roundtrip: created topic ${topic} (${elapsed()})`);

  await producer.connect();
  await producer.send({ topic, acks: -1, messages: expected.map((m) => ({ key: m.key, value: m.value })) });
  console.error(`roundtrip: produced ${expected.length} messages (${elapsed()})`);

  const received = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise((resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutSeconds}s with ${received.length} of ${expected.length} messages`)),
      timeoutSeconds * 1000,
    );
    consumer
      .run({
        eachMessage: async ({ message, partition }) => {
          received.push({
            key: message.key?.toString(),
            value: message.value?.toString(),
            offset: message.offset,
            partition,
          });
          if (received.length >= expected.length) resolve();
        },
      })
      .catch(reject);
  });
  clearTimeout(timer);
  console.error(`roundtrip: consumed ${received.length} messages with group ${groupId} (${elapsed()})`);

  for (let i = 0; i < expected.length; i++) {
    const got = received[i];
    const want = expected[i];
    if (got.key !== want.key || got.value !== want.value || got.offset !== String(i)) {
      throw new Error(
        `message ${i} mismatch: expected ${JSON.stringify({ ...want, offset: String(i) })}, got ${JSON.stringify(got)}`,
      );
    }
  }
  if (received.length !== expected.length) throw new Error(`expected ${expected.length} messages, got ${received.length}`);
} catch (err) {
  failed = err;
} finally {
  clearTimeout(timer);
  await consumer.disconnect().catch(() => {});
  await producer.disconnect().catch(() => {});
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect().catch(() => {});
}

if (failed) {
  console.error(`roundtrip: FAIL against ${brokers.join(',')}: ${failed.message ?? failed}`);
  process.exit(1);
}
console.log(`roundtrip: OK: 3 messages produced and consumed in order via ${brokers.join(',')} on ${topic} in ${elapsed()}`);
process.exit(0);
