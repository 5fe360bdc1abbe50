/**
 * The session blacklist shared between nodes through the compacted SESSION_BLACKLIST_TOPIC (RIG
 * spec 11.3; RIG's lived in memory only): a session blacklisted on one node is killed and refused
 * on the other, and a node that starts later refuses it from its first connection.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SseClient, WsClient } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { http } from '../helpers/http.js';
import { TEST_JWT_SECRET, signJwt } from '../helpers/jwt.js';
import { closeKafka, kafkaBrokers, kafkaSkip, uniqueName, uniqueTopic } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';
import { waitReady } from './kafka-common.js';

after(closeKafka);
const skip = kafkaSkip();

const blacklist = (gw: RunningGateway, sessionId: string) =>
  http(`${gw.apiUrl}/v3/session-blacklist`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sessionId, validityInSeconds: 120 }),
  });

describe('session blacklist across nodes', { skip, timeout: 120_000 }, () => {
  let a: RunningGateway;
  let b: RunningGateway;
  let env: Record<string, string>;

  before(async () => {
    env = {
      KAFKA_BROKERS: kafkaBrokers()!,
      KAFKA_SOURCE_TOPICS: await uniqueTopic('blacklist-source', 1),
      KAFKATOFILTER_KAFKA_GROUP_ID: uniqueName('blacklist'),
      SESSION_BLACKLIST_TOPIC: uniqueName('blacklist-topic'),
      KAFKA_RESTART_DELAY_MS: '1000',
      JWT_SECRET_KEY: TEST_JWT_SECRET,
    };
    [a, b] = await Promise.all([startGateway(undefined, { ...env, NODE_ID: 'node-a' }), startGateway(undefined, { ...env, NODE_ID: 'node-b' })]);
    await Promise.all([waitReady(a), waitReady(b)]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test('blacklisted on one node: killed and refused on the other', async () => {
    const x = signJwt({ jti: 'cluster-x' });
    const y = signJwt({ jti: 'cluster-y' });
    const sseOnB = await SseClient.connect(b.url, { jwt: x });
    const wsOnB = await WsClient.connect(b.url, { jwt: x });
    const otherOnB = await SseClient.connect(b.url, { jwt: y });
    await sseOnB.next((e) => e.event === 'rig.subscriptions_set');
    await wsOnB.next((e) => e.event === 'rig.subscriptions_set');

    assert.equal((await blacklist(a, 'cluster-x')).status, 201);
    await sseOnB.next((e) => e.event === 'rig.session_killed', 15_000);
    await wsOnB.closed(15_000);
    assert.equal(wsOnB.closeReason, 'Session killed.');
    assert.equal((await http(`${b.apiUrl}/v3/session-blacklist/cluster-x`)).status, 200);
    await SseClient.connect(b.url, { jwt: x }, { expectStatus: 400 });
    assert.equal(otherOnB.ended, false, 'another session on node b is not touched');
    otherOnB.close();
  });

  test('a node started later refuses the session from the start', async () => {
    assert.equal((await blacklist(b, 'cluster-later')).status, 201);
    await waitFor(async () => (await http(`${a.apiUrl}/v3/session-blacklist/cluster-later`)).status === 200, 15_000, 'node a to learn of it');
    const c = await startGateway(undefined, { ...env, NODE_ID: 'node-c' });
    try {
      // The topic was read to its end before c's shards started.
      assert.equal((await http(`${c.apiUrl}/v3/session-blacklist/cluster-later`)).status, 200);
      const refused = await SseClient.connect(c.url, { jwt: signJwt({ jti: 'cluster-later' }) }, { expectStatus: 400 });
      assert.match(refused.body, /Ignoring blacklisted JWT/);
    } finally {
      await c.stop();
    }
  });
});
