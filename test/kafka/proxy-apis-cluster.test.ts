/**
 * API definitions shared between nodes through the compacted PROXY_APIS_TOPIC (RIG spec 6.12,
 * 11.2): a change through /v3/apis on one node is served by the other, deletes too, and a node
 * that starts later (or again) serves the definitions created at run time.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { freshRequest } from '../helpers/raw-http.js';
import { closeKafka, kafkaBrokers, kafkaSkip, uniqueName, uniqueTopic } from '../helpers/kafka.js';
import { startUpstream } from '../helpers/upstream.js';
import type { Upstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';
import { waitReady } from './kafka-common.js';

after(closeKafka);
const skip = kafkaSkip();

function api(id: string, path: string, port: number): string {
  return JSON.stringify({ id, name: id, version_data: { default: { endpoints: [{ id: `${id}-get`, method: 'GET', path_regex: path }] } }, proxy: { target_url: 'localhost', port } });
}

describe('API definitions across nodes', { skip, timeout: 120_000 }, () => {
  let a: RunningGateway;
  let b: RunningGateway;
  let up: Upstream;
  let env: Record<string, string>;

  const status = async (gw: RunningGateway, path: string) => (await freshRequest(`${gw.url}${path}`)).status;
  const call = (gw: RunningGateway, method: string, path: string, body?: string) =>
    freshRequest(`${gw.apiUrl}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined && { body }) });

  before(async () => {
    up = await startUpstream(undefined);
    env = {
      KAFKA_BROKERS: kafkaBrokers()!,
      KAFKA_SOURCE_TOPICS: await uniqueTopic('apis-source', 1),
      KAFKATOFILTER_KAFKA_GROUP_ID: uniqueName('apis'),
      PROXY_APIS_TOPIC: uniqueName('apis-topic'),
      KAFKA_RESTART_DELAY_MS: '1000',
    };
    [a, b] = await Promise.all([startGateway(undefined, { ...env, NODE_ID: 'node-a' }), startGateway(undefined, { ...env, NODE_ID: 'node-b' })]);
    await Promise.all([waitReady(a), waitReady(b)]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await up?.close();
  });

  test('created on one node, served by the other; updated there, served here; deleted, gone on both', async () => {
    assert.equal((await call(a, 'POST', '/v3/apis', api('shared', '/shared/(.+)', up.port))).status, 201);
    await waitFor(async () => (await status(b, '/shared/x')) === 200, 15_000, 'node b to serve the definition created on node a');
    const onB = JSON.parse((await call(b, 'GET', '/v3/apis/shared')).body);
    assert.equal(onB.node_name, 'node-a');

    assert.equal((await call(b, 'PUT', '/v3/apis/shared', api('shared', '/moved/(.+)', up.port))).status, 200);
    await waitFor(async () => (await status(a, '/moved/x')) === 200 && (await status(a, '/shared/x')) === 404, 15_000, 'node a to serve node b\'s update');

    assert.equal((await call(a, 'DELETE', '/v3/apis/shared')).status, 204);
    await waitFor(async () => (await status(b, '/moved/x')) === 404, 15_000, 'node b to drop the deleted definition');
    assert.equal((await call(b, 'GET', '/v3/apis/shared')).status, 404);
  });

  test('a node started later serves the definitions created at run time', async () => {
    assert.equal((await call(b, 'POST', '/v3/apis', api('kept', '/kept/(.+)', up.port))).status, 201);
    const c = await startGateway(undefined, { ...env, NODE_ID: 'node-c' });
    try {
      await waitReady(c);
      // Read to its end before the shards started: served at once, the deleted one not at all.
      assert.equal(await status(c, '/kept/x'), 200);
      assert.equal(await status(c, '/moved/x'), 404);
      const list = JSON.parse((await call(c, 'GET', '/v3/apis')).body) as Array<{ id: string }>;
      assert.deepEqual(list.map((d) => d.id), ['kept']);
    } finally {
      await c.stop();
    }
  });
});
