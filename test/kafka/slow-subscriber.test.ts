/**
 * A slow subscriber does not stall the Kafka consumer for everyone: with a small per-connection
 * queue (OUTBOUND_QUEUE_MAX_BYTES), an SSE client that stops reading is disconnected
 * (slow_consumer) while a fast SSE and a fast WebSocket subscriber receive every event of the
 * stream in order, and the consumer keeps consuming (kafka_consumed rises to the number produced).
 * Whether a partition is ever paused for backpressure is not asserted: that depends on timing.
 *
 * The loopback kernel buffers absorb several MB before the gateway sees backpressure from the
 * paused socket, so the test produces ~1 KB events until the gateway has let the slow client go
 * (bounded in count and time). Producing waits while the fast readers lag behind, so that a fast
 * reader in this (possibly starved) test process never looks slow to the gateway.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SseClient, WsClient } from '../helpers/clients.js';
import type { ReceivedEvent } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import { freshRequest } from '../helpers/raw-http.js';
import { closeKafka, kafkaBrokers, kafkaSkip, produce, uniqueName, uniqueTopic } from '../helpers/kafka.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { kafkaEnv, stats, waitReady } from './kafka-common.js';

after(closeKafka);

const QUEUE_LIMIT = 65_536;
const MAX_EVENTS = 30_000;
const MAX_PRODUCE_MS = 25_000;
/** Events produced after the slow client is gone: the consumer still runs for the others. */
const TAIL = 200;
const BATCH = 10;
/** Events the fast readers may be behind (with one batch in flight well under QUEUE_LIMIT). */
const MAX_LAG = 30;
const PAD = 'p'.repeat(900);
const SUBS = JSON.stringify([{ eventType: 'burst' }]);

function bursts(events: ReceivedEvent[]): number[] {
  return events.filter((e) => e.event === 'burst').map((e) => (e.data.data as { n: number }).n);
}

test('a slow subscriber is disconnected without stalling the Kafka consumer for the others', { skip: kafkaSkip(), timeout: 60_000 }, async (t) => {
  const topic = await uniqueTopic('src-slow', 1);
  const gw = await startGateway(t, { ...kafkaEnv(kafkaBrokers()!, topic, uniqueName('grp')), OUTBOUND_QUEUE_MAX_BYTES: String(QUEUE_LIMIT) });
  await waitReady(gw);

  const fastSse = await SseClient.connect(gw.url, { subscriptions: SUBS });
  const fastWs = await WsClient.connect(gw.url, { subscriptions: SUBS });
  const slowSse = await SseClient.connect(gw.url, { subscriptions: SUBS });
  t.after(() => {
    fastSse.close();
    fastWs.close();
    slowSse.close();
  });
  for (const c of [fastSse, fastWs, slowSse]) await c.next((e) => e.event === 'rig.subscriptions_set', 5000);
  const slowToken = await slowSse.token();
  slowSse.pause();

  // The gateway forgets a connection it dropped: a PUT for it then answers 410.
  const gone = async () =>
    (
      await freshRequest(`${gw.url}/_rig/v1/connection/sse/${slowToken}/subscriptions`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ subscriptions: [{ eventType: 'burst' }] }),
      })
    ).status === 410;

  let produced = 0;
  let slowGone = false;
  let slowDrained: Promise<unknown> | undefined;
  const consumedSamples: number[] = [];
  const started = Date.now();
  const lagging = () => produced - bursts(fastSse.events).length > MAX_LAG || produced - bursts(fastWs.events).length > MAX_LAG;
  const batch = async (count: number) => {
    const messages = Array.from({ length: count }, (_, i) => {
      const n = produced + i;
      return { value: JSON.stringify({ specversion: '1.0', type: 'burst', source: 'slow-test', id: `b-${n}`, data: { n, pad: PAD } }) };
    });
    await produce(topic, messages);
    produced += count;
  };
  const watcher = (async () => {
    while (!slowGone && Date.now() - started < MAX_PRODUCE_MS + 1000) {
      await sleep(100);
      consumedSamples.push(Number((await stats(gw))['kafka_consumed']));
      if (await gone()) {
        slowGone = true;
        // Read what was buffered for it, so that the test sees how its stream ended.
        slowSse.resume();
        slowDrained = waitFor(() => slowSse.ended, 15_000, 'the slow SSE stream to end');
      }
    }
  })();
  while (!slowGone && produced < MAX_EVENTS && Date.now() - started < MAX_PRODUCE_MS) {
    if (lagging()) {
      await sleep(1);
      continue;
    }
    await batch(BATCH);
  }
  await watcher;
  assert.ok(slowGone, `the slow SSE client was not disconnected after ${produced} events (${Date.now() - started} ms)`);
  const producedWhenGone = produced;
  t.diagnostic(`slow client dropped after ${produced} events (${Date.now() - started} ms)`);

  // The consumer keeps going for the others.
  while (produced < producedWhenGone + TAIL) {
    if (lagging()) {
      await sleep(1);
      continue;
    }
    await batch(BATCH);
  }
  const expected = Array.from({ length: produced }, (_, n) => n);
  await waitFor(() => bursts(fastSse.events).length >= produced || fastSse.ended, 15_000, 'fast SSE to catch up');
  await waitFor(() => bursts(fastWs.events).length >= produced || fastWs.closeCode !== undefined, 15_000, 'fast WS to catch up');
  assert.deepEqual(bursts(fastSse.events), expected, 'fast SSE: every event once, in order');
  assert.deepEqual(bursts(fastWs.events), expected, 'fast WS: every event once, in order');
  assert.equal(fastSse.ended, false, 'the fast SSE stream is still open');
  assert.equal(fastWs.closeCode, undefined, 'the fast WebSocket is still open');

  const final = await stats(gw);
  assert.equal(Number(final['kafka_consumed']), produced, `kafka_consumed: ${JSON.stringify(final)}`);
  assert.equal(Number(final['kafka_consumed_failed']), 0);
  consumedSamples.push(produced);
  for (let i = 1; i < consumedSamples.length; i++) assert.ok(consumedSamples[i]! >= consumedSamples[i - 1]!, `kafka_consumed never goes down: ${consumedSamples}`);
  assert.ok(consumedSamples.at(-1)! > consumedSamples[0]!, `kafka_consumed rose: ${consumedSamples}`);
  assert.equal(final['kafka'], 'connected');

  // The slow client's stream ended; if the close notice got through, it names the reason.
  await slowDrained;
  const received = bursts(slowSse.events);
  assert.deepEqual(received, received.map((_, n) => n), 'the slow client got a gap-free prefix');
  assert.ok(received.length < produced, 'the slow client did not get everything');
  const last = slowSse.events.at(-1);
  t.diagnostic(`slow SSE: ${received.length} of ${produced} events, last ${last?.event}; stats ${JSON.stringify(final)}`);
  if (last?.event === 'rig.connection.closed') assert.equal(last.data.data.reason, 'slow_consumer');
});
