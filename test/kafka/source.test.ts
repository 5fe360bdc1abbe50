/**
 * The Kafka event source against the real test broker: structured and binary records reach SSE,
 * WebSocket and long-polling subscribers with extractor constraints applied, and a record that is
 * not a CloudEvent is counted and skipped without holding up the records after it.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../helpers/gateway.js';
import { http } from '../helpers/http.js';
import { closeKafka, kafkaBrokers, kafkaSkip, produce, uniqueName, uniqueTopic } from '../helpers/kafka.js';
import type { ReceivedEvent } from '../helpers/clients.js';
import { greetingSub, kafkaEnv, stats, subscribe, waitReady } from './kafka-common.js';
import type { Kind } from './kafka-common.js';

after(closeKafka);
const skip = kafkaSkip();

test('structured and binary Kafka records reach SSE, WS and long-polling subscribers, constraints applied', { skip, timeout: 60_000 }, async (t) => {
  const topic = await uniqueTopic('src-ab', 2);
  const gw = await startGateway(t, kafkaEnv(kafkaBrokers()!, topic, uniqueName('grp')));
  await waitReady(gw);
  const ready = JSON.parse((await http(`${gw.apiUrl}/ready`)).body);
  assert.deepEqual(ready, { status: 'ready', kafka: 'connected' });

  const kinds: Kind[] = ['sse', 'ws', 'longpolling'];
  const alices = await Promise.all(kinds.map((k) => subscribe(gw, k, [greetingSub('alice')])));
  const bob = await subscribe(gw, 'sse', [greetingSub('bob')]);
  t.after(() => [...alices, bob].forEach((s) => s.close()));

  const id = uniqueName('ev');
  // Structured mode, with members in an unusual order and spacing: delivered byte-for-byte.
  const structured = `{"data":{"name":"alice"},  "id":"${id}-s","type":"greeting","specversion":"1.0","source":"kafka-test"}`;
  const forBob = JSON.stringify({ specversion: '1.0', type: 'greeting', source: 'kafka-test', id: `${id}-bob`, data: { name: 'bob' } });
  await produce(topic, [
    { key: 'k1', value: structured, headers: { 'content-type': 'application/cloudevents+json' } },
    { key: 'k2', value: forBob }, // no content type: structured JSON as well
    {
      key: 'k3',
      value: '{"name":"alice","n":1}',
      headers: {
        'content-type': 'application/json', ce_specversion: '1.0', ce_type: 'greeting', ce_source: 'kafka-test', ce_id: `${id}-b`,
      },
    },
  ]);

  // The records sit on different partitions (by key), so they may arrive in either order.
  for (const s of alices) {
    const [st, bin] = (await s.waitIds([`${id}-s`, `${id}-b`])) as [ReceivedEvent, ReceivedEvent];
    if (s.kind === 'sse') assert.equal(st.raw, structured, 'structured value forwarded byte-for-byte');
    assert.deepEqual(st.data.data, { name: 'alice' });
    assert.equal(bin.data.type, 'greeting');
    assert.equal(bin.data.specversion, '1.0');
    assert.equal(bin.data.datacontenttype, 'application/json');
    assert.deepEqual(bin.data.data, { name: 'alice', n: 1 });
  }
  const b = await bob.next((e) => e.data.type === 'greeting');
  assert.equal(b.data.id, `${id}-bob`);
  for (const s of alices) assert.ok(!s.received().some((e) => e.data.id === `${id}-bob`), `${s.kind} got bob's event`);
  assert.ok(!bob.received().some((e) => String(e.data.id).startsWith(`${id}-`) && e.data.id !== `${id}-bob`), 'bob got alice\'s events');

  const s = await stats(gw);
  assert.equal(s['kafka_consumed'], 3);
  assert.equal(s['kafka_consumed_failed'], 0);
  assert.equal((await http(`${gw.apiUrl}/health`)).body, 'OK');
});

test('a record that is not a CloudEvent is counted and skipped; the records around it are delivered', { skip, timeout: 60_000 }, async (t) => {
  const topic = await uniqueTopic('src-poison', 1);
  const gw = await startGateway(t, kafkaEnv(kafkaBrokers()!, topic, uniqueName('grp')));
  await waitReady(gw);
  const sub = await subscribe(gw, 'sse', [greetingSub('carol')]);
  t.after(() => sub.close());

  const ev = (id: string) => JSON.stringify({ specversion: '1.0', type: 'greeting', source: 'kafka-test', id, data: { name: 'carol' } });
  await produce(topic, [
    { value: ev('good-1') },
    { value: 'this is not JSON', headers: { 'content-type': 'application/cloudevents+json' } },
    { value: ev('good-2') },
  ]);
  assert.equal((await sub.next((e) => e.data.type === 'greeting')).data.id, 'good-1');
  assert.equal((await sub.next((e) => e.data.type === 'greeting')).data.id, 'good-2');
  const s = await stats(gw);
  assert.equal(s['kafka_consumed'], 2);
  assert.equal(s['kafka_consumed_failed'], 1);
  // The partition keeps flowing after the poison record.
  await produce(topic, [{ value: ev('good-3') }]);
  assert.equal((await sub.next((e) => e.data.type === 'greeting')).data.id, 'good-3');
});
