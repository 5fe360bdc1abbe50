/**
 * Asynchronous replies in a cluster of two gateway nodes sharing one Kafka and one NODE_COOKIE:
 * a reply reaches the waiting request on whichever node holds it (RIG spec 11.5), both when a
 * backend posts it to the other node's /v3/responses and when it is produced to the response
 * topic that every node consumes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { freshRequest } from '../helpers/raw-http.js';
import { closeKafka, kafkaBrokers, kafkaSkip, produce, uniqueName, uniqueTopic } from '../helpers/kafka.js';
import { startUpstream } from '../helpers/upstream.js';
import type { Upstream } from '../helpers/upstream.js';
import { stats, waitReady } from './kafka-common.js';

after(closeKafka);
const skip = kafkaSkip();

describe('replies across nodes', { skip, timeout: 120_000 }, () => {
  let a: RunningGateway;
  let b: RunningGateway;
  let up: Upstream;
  let replies: string;

  before(async () => {
    replies = await uniqueTopic('cluster-replies', 2);
    // The upstream answers 202 and then replies: through the internal API of the node named in
    // the query (`via=a|b`), or onto the response topic (`via=kafka`).
    up = await startUpstream(undefined, (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const token = url.searchParams.get('correlation') ?? '';
      const via = url.searchParams.get('via');
      const n = url.searchParams.get('n') ?? '';
      req.resume();
      req.on('end', () => {
        res.writeHead(202).end();
        setTimeout(() => {
          const headers = { 'rig-correlation': token, 'rig-response-code': '200', 'content-type': 'text/plain' };
          if (via === 'kafka') void produce(replies, [{ value: `reply ${n}`, headers }]);
          else void freshRequest(`${(via === 'a' ? a : b).apiUrl}/v3/responses`, { method: 'POST', headers, body: `reply ${n}` });
        }, 20);
      });
    });
    const apis = JSON.stringify([
      {
        id: 'cluster',
        name: 'cluster',
        version_data: { default: { endpoints: [
          { id: 'http-async', method: 'GET', path_regex: '/async', response_from: 'http_async' },
          { id: 'kafka-reply', method: 'GET', path_regex: '/kafka-reply', response_from: 'kafka' },
        ] } },
        proxy: { target_url: 'localhost', port: up.port },
      },
    ]);
    const common = {
      KAFKA_BROKERS: kafkaBrokers()!,
      KAFKA_SOURCE_TOPICS: await uniqueTopic('cluster-source', 1),
      KAFKATOFILTER_KAFKA_GROUP_ID: uniqueName('cluster'),
      PROXY_KAFKA_RESPONSE_TOPICS: replies,
      PROXY_KAFKA_RESPONSE_KAFKA_GROUP_ID: uniqueName('cluster-replies'),
      PROXY_HTTP_ASYNC_RESPONSE_TIMEOUT: '8000',
      PROXY_KAFKA_RESPONSE_TIMEOUT: '8000',
      KAFKA_RESTART_DELAY_MS: '1000',
      PROXY_CONFIG_FILE: apis,
      NODE_COOKIE: 'cluster-cookie',
    };
    [a, b] = await Promise.all([startGateway(undefined, { ...common, NODE_ID: 'node-a' }), startGateway(undefined, { ...common, NODE_ID: 'node-b' })]);
    await Promise.all([waitReady(a), waitReady(b)]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await up?.close();
  });

  test('http_async: a reply posted to the other node is passed on through the response topic', async () => {
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => freshRequest(`${a.url}/async?via=b&n=a${i}`)),
      ...Array.from({ length: 10 }, (_, i) => freshRequest(`${b.url}/async?via=a&n=b${i}`)),
    ]);
    for (const [i, r] of answers.entries()) {
      const n = i < 10 ? `a${i}` : `b${i - 10}`;
      assert.equal(r.status, 200, `${n}: ${r.body}`);
      assert.equal(r.body, `reply ${n}`);
    }
    const [sa, sb] = await Promise.all([stats(a), stats(b)]);
    assert.equal(sa.replies_forwarded, 10);
    assert.equal(sb.replies_forwarded, 10);
  });

  test('response_from kafka: both nodes consume the reply, only the owner answers; the other ignores it', async () => {
    const before = await stats(a);
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => freshRequest(`${a.url}/kafka-reply?via=kafka&n=ka${i}`)),
      ...Array.from({ length: 5 }, (_, i) => freshRequest(`${b.url}/kafka-reply?via=kafka&n=kb${i}`)),
    ]);
    for (const [i, r] of answers.entries()) {
      const n = i < 5 ? `ka${i}` : `kb${i - 5}`;
      assert.equal(r.status, 200, `${n}: ${r.body}`);
      assert.equal(r.body, `reply ${n}`);
    }
    const after = await stats(a);
    assert.ok((after.replies_foreign as number) - (before.replies_foreign as number) >= 5, 'node a ignored node b\'s replies');
  });
});
