/**
 * `target: "kafka"` endpoints through the real gateway and the real broker (RIG spec 6.6 and its
 * publish_to_event_stream / response_from kafka tests): what the produced record carries, the
 * answers and their CORS headers, refused bodies, produce failures that RIG hid behind a 202,
 * wrapping of non-CloudEvent bodies, and replies consumed from the response topic.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import type { Consumer, KafkaMessage } from 'kafkajs';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { freshRequest } from '../helpers/raw-http.js';
import { closeKafka, kafkaBrokers, kafkaSkip, produce, uniqueName, uniqueTopic } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';
import { stats, waitReady } from './kafka-common.js';

after(closeKafka);
const skip = kafkaSkip();

interface Seen {
  message: KafkaMessage;
  partition: number;
}

/** Every record of `topic` from its beginning, with partition, key and headers. */
async function reader(topic: string): Promise<{ seen: Seen[]; consumer: Consumer }> {
  const kafka = new Kafka({ clientId: 'proxy-kafka-reader', brokers: kafkaBrokers()!.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('proxy-reader'), maxWaitTimeInMs: 100 });
  const seen: Seen[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message, partition }) => void seen.push({ message, partition }) });
  return { seen, consumer };
}

function definition(id: string, endpoints: Record<string, unknown>[]): unknown {
  return { id, name: id, version_data: { default: { endpoints } }, proxy: { target_url: 'localhost', port: 9 } };
}

describe('kafka target', { skip, timeout: 120_000 }, () => {
  let gw: RunningGateway;
  let requests: string;
  let replies: string;
  let logTopic: string;
  let read: { seen: Seen[]; consumer: Consumer };

  before(async () => {
    requests = await uniqueTopic('proxy-requests', 3);
    replies = await uniqueTopic('proxy-replies', 2);
    logTopic = await uniqueTopic('proxy-request-log', 1);
    gw = await startGateway(undefined, {
      SHARDS: '3',
      KAFKA_BROKERS: kafkaBrokers()!,
      KAFKA_SOURCE_TOPICS: await uniqueTopic('proxy-source', 1),
      KAFKATOFILTER_KAFKA_GROUP_ID: uniqueName('proxy-kafka'),
      PROXY_KAFKA_RESPONSE_TOPICS: replies,
      PROXY_KAFKA_RESPONSE_KAFKA_GROUP_ID: uniqueName('proxy-replies'),
      PROXY_KAFKA_RESPONSE_TIMEOUT: '3000',
      KAFKA_RESTART_DELAY_MS: '1000',
      REQUEST_LOG: 'console,kafka',
      KAFKA_LOG_TOPIC: logTopic,
      PROXY_CONFIG_FILE: JSON.stringify([
        definition('kafka', [
          { id: 'publish', method: 'POST', path_regex: '/publish/(.+)', path_replacement: '/events/\\1', target: 'kafka', topic: requests },
          { id: 'publish-options', method: 'OPTIONS', path_regex: '/publish/(.+)', target: 'kafka', topic: requests },
          { id: 'ask', method: 'POST', path_regex: '/ask', target: 'kafka', topic: requests, response_from: 'kafka' },
          { id: 'nowhere', method: 'POST', path_regex: '/nowhere', target: 'kafka', topic: 'no-such-topic-for-the-gateway' },
        ]),
      ]),
    });
    await waitReady(gw);
    read = await reader(requests);
  });

  after(async () => {
    await read?.consumer.disconnect();
    await gw?.stop();
  });

  test('OPTIONS: 204, empty, with the kafka CORS headers', async () => {
    const r = await freshRequest(`${gw.url}/publish/orders`, { method: 'OPTIONS' });
    assert.equal(r.status, 204);
    assert.equal(r.body, '');
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(r.headers['access-control-allow-methods'], '*');
    assert.equal(r.headers['access-control-allow-headers'], 'content-type,authorization');
  });

  test('a CloudEvent is produced with the rig metadata, keyed by rig.target_partition; 202 Accepted. with CORS', async () => {
    const event = { specversion: '0.2', id: 'evt-1', type: 'com.example.test', source: '/test', contenttype: 'application/json', data: { foo: 'bar' }, rig: { target_partition: 'test_key', other: 'dropped' } };
    const r = await freshRequest(`${gw.url}/publish/orders?x=1&y[z]=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      body: JSON.stringify(event),
    });
    assert.equal(r.status, 202, r.body);
    assert.equal(r.body, 'Accepted.');
    assert.equal(r.headers['access-control-allow-headers'], 'content-type,authorization');
    const got = await waitFor(() => read.seen.find((s) => JSON.parse(s.message.value!.toString()).id === 'evt-1'), 15_000, 'the produced record');
    const value = JSON.parse(got.message.value!.toString());
    assert.equal(got.message.key?.toString(), 'test_key');
    assert.equal(got.message.headers?.['ce_contenttype']?.toString(), 'application/json');
    assert.deepEqual(value.data, { foo: 'bar' });
    assert.equal(value.type, 'com.example.test');
    assert.equal(value.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal(value.rig.path, '/events/orders');
    assert.equal(value.rig.remoteip, '127.0.0.1');
    assert.equal(value.rig.method, 'POST');
    assert.equal(value.rig.query, 'x=1&y[z]=2');
    assert.equal(value.rig.scheme, 'http');
    assert.equal(value.rig.port, gw.publicPort);
    assert.equal(value.rig.host, '127.0.0.1');
    assert.ok(value.rig.headers.some(([k, v]: [string, string]) => k === 'host' && v === `127.0.0.1:${gw.publicPort}`));
    assert.match(value.rig.correlation, /^[A-Za-z0-9_-]{40,}$/);
    assert.equal(value.rig.other, undefined, 'rig is replaced, not merged');
  });

  test('without a partition key the record is produced too (any partition)', async () => {
    const r = await freshRequest(`${gw.url}/publish/plain`, { method: 'POST', body: JSON.stringify({ specversion: '1.0', id: 'evt-2', type: 't', source: '/s' }) });
    assert.equal(r.status, 202);
    const got = await waitFor(() => read.seen.find((s) => JSON.parse(s.message.value!.toString()).id === 'evt-2'), 15_000, 'the keyless record');
    assert.equal(got.message.key, null);
  });

  test('bodies that are not CloudEvents: RIG\'s 400 texts with a usage text, no CORS; nothing produced', async () => {
    const notJson = await freshRequest(`${gw.url}/publish/x`, { method: 'POST', body: 'not json' });
    assert.equal(notJson.status, 400);
    assert.match(notJson.body, /^Bad request: expected a JSON encoded request body\.\n\n# Usage\n\n/);
    assert.equal(notJson.headers['access-control-allow-origin'], undefined);
    const noSpec = await freshRequest(`${gw.url}/publish/x`, { method: 'POST', body: '{"id":"no-spec"}' });
    assert.equal(noSpec.status, 400);
    assert.match(noSpec.body, /^Bad request: the body does not look like a CloudEvent\./);
    const array = await freshRequest(`${gw.url}/publish/x`, { method: 'POST', body: '[1,2]' });
    assert.match(array.body, /^Bad request: the body does not look like a CloudEvent\./);
    const badKey = await freshRequest(`${gw.url}/publish/x`, { method: 'POST', body: '{"specversion":"1.0","rig":{"target_partition":5}}' });
    assert.equal(badKey.status, 400);
    assert.match(badKey.body, /^Bad request: rig\.target_partition must be a string\./);
    const big = await freshRequest(`${gw.url}/publish/x`, { method: 'POST', body: `{"specversion":"1.0","data":"${'x'.repeat(1024 * 1024)}"}` });
    assert.equal(big.status, 413);
  });

  test('a record Kafka refuses: 502 with the reason (RIG answered 202 and lost it)', async () => {
    const r = await freshRequest(`${gw.url}/nowhere`, { method: 'POST', body: '{"specversion":"1.0","id":"lost"}', timeoutMs: 60_000 });
    assert.equal(r.status, 502, r.body);
    assert.match(r.body, /^The request could not be written to Kafka: /);
    assert.equal(r.headers['access-control-allow-origin'], '*');
  });

  test('response_from kafka: a responder reads the record and produces the reply; the client gets it', async () => {
    const responder = (async () => {
      const asked = await waitFor(() => read.seen.find((s) => JSON.parse(s.message.value!.toString()).id === 'question-1'), 15_000, 'the request record');
      const correlation = JSON.parse(asked.message.value!.toString()).rig.correlation as string;
      await produce(replies, [{ value: JSON.stringify({ answer: 42 }), headers: { 'rig-correlation': correlation, 'rig-response-code': '201', 'content-type': 'application/json' } }]);
    })();
    const r = await freshRequest(`${gw.url}/ask`, { method: 'POST', body: JSON.stringify({ specversion: '1.0', id: 'question-1', type: 't', source: '/s' }) });
    await responder;
    assert.equal(r.status, 201, r.body);
    assert.deepEqual(JSON.parse(r.body), { answer: 42 });
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['access-control-allow-headers'], 'content-type,authorization');
  });

  test('response_from kafka: an invalid response code is not delivered; the client gets 504 with CORS', async () => {
    const responder = (async () => {
      const asked = await waitFor(() => read.seen.find((s) => JSON.parse(s.message.value!.toString()).id === 'question-2'), 15_000, 'the request record');
      const correlation = JSON.parse(asked.message.value!.toString()).rig.correlation as string;
      await produce(replies, [{ value: 'x', headers: { 'rig-correlation': correlation, 'rig-response-code': 'abc201' } }]);
    })();
    const r = await freshRequest(`${gw.url}/ask`, { method: 'POST', body: JSON.stringify({ specversion: '1.0', id: 'question-2', type: 't', source: '/s' }) });
    await responder;
    assert.equal(r.status, 504);
    assert.equal(r.headers['access-control-allow-origin'], '*');
  });

  test('REQUEST_LOG=console,kafka: a CALL line on stdout and a com.rig.proxy.api.call event per matched request', async () => {
    const log = await reader(logTopic);
    try {
      const r = await freshRequest(`${gw.url}/publish/logged`, { method: 'POST', body: JSON.stringify({ specversion: '1.0', id: 'logged', type: 't', source: '/s' }) });
      assert.equal(r.status, 202);
      const got = await waitFor(
        () => log.seen.map((s) => JSON.parse(s.message.value!.toString())).find((e) => e.data.request_path === '/publish/logged'),
        15_000,
        'the request-log event',
      );
      assert.equal(got.type, 'com.rig.proxy.api.call');
      assert.equal(got.specversion, '0.2');
      assert.equal(got.source, '/rig');
      assert.equal(got.data.remote_ip, '127.0.0.1');
      assert.deepEqual([got.data.endpoint.id, got.data.endpoint.method, got.data.endpoint.path_regex], ['publish', 'POST', '/publish/(.+)']);
      await waitFor(() => gw.output().includes('CALL: [publish] POST /publish/(.+) => localhost'), 5000, 'the console line');
    } finally {
      await log.consumer.disconnect();
    }
  });

  test('clients that leave mid-body or while waiting for a reply: nothing is produced for them, nothing breaks', async () => {
    const before = read.seen.length;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        new Promise<void>((resolve) => {
          const s = connect(gw.publicPort, '127.0.0.1', () => {
            s.write(`POST /publish/cut HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n{"specversion":"1.0","id":"cut"`);
            setTimeout(() => s.destroy(), 50);
          });
          s.on('close', () => resolve());
          s.on('error', () => resolve());
        }),
      ),
    );
    // Waiting for a Kafka reply that never comes, then leaving.
    await new Promise<void>((resolve) => {
      const req = request(`${gw.url}/ask`, { method: 'POST', agent: false }, () => resolve());
      req.on('error', () => resolve());
      req.end(JSON.stringify({ specversion: '1.0', id: 'question-left', type: 't', source: '/s' }));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 500);
    });
    const ok = await freshRequest(`${gw.url}/publish/after`, { method: 'POST', body: JSON.stringify({ specversion: '1.0', id: 'after-cut', type: 't', source: '/s' }) });
    assert.equal(ok.status, 202);
    await waitFor(() => read.seen.some((s) => JSON.parse(s.message.value!.toString()).id === 'after-cut'), 15_000, 'the record after the cut requests');
    assert.ok(!read.seen.slice(before).some((s) => JSON.parse(s.message.value!.toString()).id === 'cut'), 'no record for a cut body');
  });

  test('the gateway stayed healthy', async () => {
    const s = await stats(gw);
    assert.equal(s.kafka, 'connected');
    assert.doesNotMatch(gw.output(), /uncaught|unhandled/i);
  });
});

test('PROXY_KAFKA_WRAP_NON_CLOUDEVENTS: JSON and other bodies are wrapped into a CloudEvent 1.0', { skip, timeout: 90_000 }, async (t) => {
  const topic = await uniqueTopic('proxy-wrap', 1);
  const gw = await startGateway(t, {
    KAFKA_BROKERS: kafkaBrokers()!,
    KAFKA_SOURCE_TOPICS: await uniqueTopic('proxy-wrap-source', 1),
    KAFKATOFILTER_KAFKA_GROUP_ID: uniqueName('proxy-wrap'),
    PROXY_KAFKA_WRAP_NON_CLOUDEVENTS: 'true',
    PROXY_CONFIG_FILE: JSON.stringify([definition('wrap', [{ id: 'w', method: 'POST', path_regex: '/wrap', target: 'kafka', topic }])]),
  });
  t.after(() => gw.stop());
  const read = await reader(topic);
  t.after(() => read.consumer.disconnect());
  assert.equal((await freshRequest(`${gw.url}/wrap`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"orderId":7}' })).status, 202);
  assert.equal((await freshRequest(`${gw.url}/wrap`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b\n1,2' })).status, 202);
  await waitFor(() => read.seen.length >= 2, 15_000, 'two wrapped records');
  const [json, csv] = read.seen.map((s) => JSON.parse(s.message.value!.toString()));
  assert.equal(json.specversion, '1.0');
  assert.equal(json.type, 'rig.proxy.request');
  assert.deepEqual(json.data, { orderId: 7 });
  assert.ok(json.id && json.source && json.rig.correlation);
  assert.equal(csv.datacontenttype, 'text/csv');
  assert.equal(Buffer.from(csv.data_base64, 'base64').toString(), 'a,b\n1,2');
});
