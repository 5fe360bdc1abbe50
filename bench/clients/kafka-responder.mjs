/**
 * The backend of bench/kafka-rpc.mjs: consumes request topics and answers every request on the
 * reply topic paired with its request topic, as a service behind the gateway's
 * `response_from: "kafka"` would (docs/api-gateway.md, "Asynchronous replies"). Runs in a process
 * of its own so that its CPU time is its own.
 *
 * Kept lean so that it is not what the round trip measures: no offset commits, and one fetch's
 * records (eachBatch) are answered with one produce request, which is not awaited before the next batch (at most
 * MAX_IN_FLIGHT produce requests outstanding). Each request value is parsed as JSON and the reply
 * carries `rig.correlation` back in the `rig-correlation` header with `rig-response-code: 200`;
 * the baseline's requests carry their correlation the same way, so both paths cost the responder
 * the same.
 *
 * Protocol (process.send / 'message'):
 *   -> {cmd:'init', brokers, routes: {requestTopic: replyTopic}, groupId, acks}  <- {evt:'ready'}
 *   -> {cmd:'stats'}                                                <- {evt:'stats', received, replied, ...}
 *   -> {cmd:'close'}
 */
import { Kafka, logLevel } from 'kafkajs';
import { nowUs } from '../lib/common.mjs';

const MAX_IN_FLIGHT = 32;
const HEADERS_CT = 'application/json';
const stats = { received: 0, replied: 0, unparsable: 0, produceErrors: 0, batches: 0, produceRequests: 0 };
let consumer;
let producer;
const inFlight = new Set();

async function init({ brokers, routes, groupId, acks }) {
  const kafka = new Kafka({ clientId: 'rpc-responder', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  // The broker answers a fetch as soon as a record arrives; the wait only bounds empty fetches.
  consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topics: Object.keys(routes), fromBeginning: true });
  const joined = new Promise((r) => consumer.on(consumer.events.GROUP_JOIN, r));
  // No offset commits: kafkajs' default (autoCommit) commits after every batch and fetches the
  // next one only after that OffsetCommit returned, which put a broker round trip (and a write to
  // __consumer_offsets) into every request's path. A benchmark responder never needs to resume.
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const replyTopic = routes[batch.topic];
      // When the batch reached the responder (CLOCK_MONOTONIC µs, the clock of every process on
      // the host), sent back in the reply so that the load process can split the round trip into
      // the request's way here and the reply's way back.
      const rt = Math.round(nowUs());
      const messages = [];
      for (const m of batch.messages) {
        stats.received++;
        let correlation;
        let id;
        try {
          const event = JSON.parse(m.value.toString());
          correlation = event.rig?.correlation;
          id = event.id;
        } catch {
          // counted below
        }
        if (typeof correlation !== 'string') {
          stats.unparsable++;
          continue;
        }
        messages.push({ value: `{"ok":true,"id":${JSON.stringify(String(id))},"rt":${rt}}`, headers: { 'rig-correlation': correlation, 'rig-response-code': '200', 'content-type': HEADERS_CT } });
      }
      stats.batches++;
      if (messages.length === 0) return;
      while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      stats.produceRequests++;
      const p = producer.send({ topic: replyTopic, acks, messages }).then(
        () => (stats.replied += messages.length),
        () => (stats.produceErrors += messages.length),
      );
      inFlight.add(p);
      p.finally(() => inFlight.delete(p));
    },
  });
  await joined;
}

process.on('message', async (m) => {
  try {
    if (m.cmd === 'init') {
      await init(m);
      process.send({ evt: 'ready' });
    } else if (m.cmd === 'stats') {
      process.send({ evt: 'stats', ...stats, cpuUs: process.cpuUsage() });
    } else if (m.cmd === 'close') {
      await Promise.allSettled(inFlight);
      await consumer?.disconnect().catch(() => undefined);
      await producer?.disconnect().catch(() => undefined);
      process.exit(0);
    }
  } catch (e) {
    process.stderr.write(`[rpc-responder] ${m.cmd} failed: ${e?.stack ?? e}\n`);
    process.exit(1);
  }
});
process.on('disconnect', () => process.exit(0));
