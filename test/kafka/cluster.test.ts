/**
 * Events submitted over HTTP while Kafka is configured go through the source topic, and every node
 * (its own consumer group) delivers every event: exactly once per subscriber, whichever node took
 * the submission.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../helpers/gateway.js';
import { http, postEvent } from '../helpers/http.js';
import { closeKafka, collect, kafkaBrokers, kafkaSkip, produce, uniqueName, uniqueTopic } from '../helpers/kafka.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { greetingSub, kafkaEnv, stats, subscribe, waitReady } from './kafka-common.js';

after(closeKafka);
const skip = kafkaSkip();

const event = (id: string, name: string) => ({ specversion: '1.0', type: 'greeting', source: 'http-test', id, data: { name } });

test('an event POSTed with Kafka configured goes through the topic and is delivered exactly once', { skip, timeout: 60_000 }, async (t) => {
  const topic = await uniqueTopic('src-http', 2);
  const reader = await collect(t, topic);
  const gw = await startGateway(t, kafkaEnv(kafkaBrokers()!, topic, uniqueName('grp')));
  await waitReady(gw);
  const sse = await subscribe(gw, 'sse', [greetingSub('dave')]);
  const ws = await subscribe(gw, 'ws', [greetingSub('dave')]);
  t.after(() => [sse, ws].forEach((s) => s.close()));

  const id = uniqueName('posted');
  const posted = await postEvent(gw.url, event(`${id}-pub`, 'dave'));
  assert.equal(posted.status, 202, posted.body);
  const internal = await http(`${gw.apiUrl}/v3/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify(event(`${id}-int`, 'dave')),
  });
  assert.equal(internal.status, 202, internal.body);

  // The two may sit on different partitions: any order.
  for (const s of [sse, ws]) await s.waitIds([`${id}-pub`, `${id}-int`]);
  // Both are on the topic, as the JSON that was submitted.
  const onTopic = await waitFor(() => {
    const ids = reader.values.map((v) => JSON.parse(v).id as string);
    return ids.includes(`${id}-pub`) && ids.includes(`${id}-int`) && ids;
  }, 15_000, 'the submitted events on the topic');
  assert.equal(onTopic.length, 2);
  await sleep(1000);
  for (const s of [sse, ws]) {
    const mine = s.received().filter((e) => String(e.data.id).startsWith(id));
    assert.equal(mine.length, 2, `${s.kind}: each event exactly once, got ${mine.map((e) => e.data.id)}`);
  }
  const st = await stats(gw);
  assert.equal(st['kafka_produced'], 2);
  assert.equal(st['kafka_produce_failed'], 0);
  assert.equal(st['kafka_consumed'], 2);
});

test('two gateways consume the same topic in their own groups and both deliver every event', { skip, timeout: 60_000 }, async (t) => {
  const topic = await uniqueTopic('src-two', 3);
  const group = uniqueName('grp');
  const [gw1, gw2] = await Promise.all([
    startGateway(t, { ...kafkaEnv(kafkaBrokers()!, topic, group), NODE_ID: 'node-a' }),
    startGateway(t, { ...kafkaEnv(kafkaBrokers()!, topic, group), NODE_ID: 'node-b' }),
  ]);
  await Promise.all([waitReady(gw1), waitReady(gw2)]);
  const s1 = await subscribe(gw1, 'sse', [greetingSub('erin')]);
  const s2 = await subscribe(gw2, 'ws', [greetingSub('erin')]);
  t.after(() => [s1, s2].forEach((s) => s.close()));

  const id = uniqueName('both');
  const ids = Array.from({ length: 12 }, (_, i) => `${id}-${i}`);
  // Spread over the partitions by key, plus one submission through each node's HTTP API.
  await produce(topic, ids.slice(0, 10).map((x, i) => ({ key: `k${i}`, value: JSON.stringify(event(x, 'erin')) })));
  assert.equal((await postEvent(gw1.url, event(ids[10]!, 'erin'))).status, 202);
  assert.equal((await postEvent(gw2.url, event(ids[11]!, 'erin'))).status, 202);

  for (const s of [s1, s2]) {
    await waitFor(() => ids.every((x) => s.received().some((e) => e.data.id === x)), 20_000, `${s.kind}: all ${ids.length} events`);
  }
  await sleep(500);
  for (const s of [s1, s2]) {
    const got = s.received().filter((e) => String(e.data.id).startsWith(id)).map((e) => e.data.id as string);
    assert.deepEqual([...got].sort(), [...ids].sort(), `${s.kind}: every event exactly once`);
  }
});
