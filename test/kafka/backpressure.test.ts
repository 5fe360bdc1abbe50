/**
 * Backpressure: while a shard cannot take events (its thread is blocked through fault injection),
 * the consumer pauses the partition once the shard backlog passes its bound instead of queueing
 * everything, then resumes, and every event is still delivered, in order.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SseClient } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import { http } from '../helpers/http.js';
import { closeKafka, kafkaBrokers, kafkaSkip, produce, uniqueName, uniqueTopic } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';
import { kafkaEnv, stats, waitReady } from './kafka-common.js';

after(closeKafka);

const COUNT = 3000;
const PAD = 'x'.repeat(4000); // ~12 MB in all: more than the 8 MiB pause bound

test('a shard that falls behind pauses the partition; everything is delivered after it catches up', { skip: kafkaSkip(), timeout: 60_000 }, async (t) => {
  const topic = await uniqueTopic('src-bp', 1);
  const gw = await startGateway(t, {
    ...kafkaEnv(kafkaBrokers()!, topic, uniqueName('grp')),
    SHARDS: '1',
    ENABLE_FAULT_INJECTION: 'true',
    OUTBOUND_QUEUE_MAX_BYTES: String(256 * 1024 * 1024), // this test is about the shard, not a slow client
  });
  await waitReady(gw);
  const sse = await SseClient.connect(gw.url, { subscriptions: JSON.stringify([{ eventType: 'bulk' }]) });
  t.after(() => sse.close());
  await sse.next((e) => e.event === 'rig.subscriptions_set');

  const stall = await http(`${gw.apiUrl}/_fault/shards/0/stall/6000`, { method: 'POST' });
  assert.equal(stall.status, 202, stall.body);
  const ev = (i: number) => JSON.stringify({ specversion: '1.0', type: 'bulk', source: 'bp', id: String(i), data: { pad: PAD } });
  for (let i = 0; i < COUNT; i += 200) {
    await produce(topic, Array.from({ length: Math.min(200, COUNT - i) }, (_, j) => ({ value: ev(i + j) })));
  }
  // While the shard is blocked, the backlog crosses the bound and the partition is paused.
  await waitFor(async () => Number((await stats(gw))['kafka_pauses']) >= 1, 8000, 'a pause');

  await waitFor(() => sse.events.filter((e) => e.event === 'bulk').length >= COUNT, 40_000, `${COUNT} events`);
  const ids = sse.events.filter((e) => e.event === 'bulk').map((e) => Number(e.data.id));
  assert.deepEqual(ids, Array.from({ length: COUNT }, (_, i) => i), 'every event once, in partition order');
  const s = await stats(gw);
  assert.equal(s['kafka_consumed'], COUNT);
  assert.equal(s['kafka_consumed_failed'], 0);
});
