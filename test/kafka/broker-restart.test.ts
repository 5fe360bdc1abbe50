/**
 * Stopping and restarting the broker mid-stream: the gateway keeps every SSE, WebSocket and
 * long-polling connection open while the broker is away (health OK, /ready 503, HTTP submissions
 * still answered 202 and, as docs/kafka.md says, counted in kafka_produce_failed and lost), and
 * once the broker is back delivery resumes on the same connections.
 *
 * The broker is a private one (scripts/kafka-local.sh on a free port pair, not the shared test
 * broker), so that it can be stopped. KAFKA_LOCAL_KEEP_DATA=1 makes `stop` keep its data folder
 * and the second `start` reuse it: a real restart of the same cluster (same cluster id, the topic
 * and the gateway's committed offsets survive), not a new, empty cluster.
 *
 * After the restart the gateway's new consumer typically needs about 10 s to join its group: the
 * broker reloads the group with the member of the consumer that was cut off (it could not leave
 * while the broker was down) and waits for that member's session timeout (KAFKA_SESSION_TIMEOUT_MS,
 * 10 s by default) before completing the rebalance. The 40 s bound on /ready leaves room for a
 * slow machine; with kafkajs's own default of 30 s it would rarely be met.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Producer } from 'kafkajs';
import { LongPollClient, SseClient, WsClient } from '../helpers/clients.js';
import type { ReceivedEvent } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import { http, postEvent } from '../helpers/http.js';
import { brokerPortPair, kafkaLocal, kafkaSkip, uniqueName } from '../helpers/kafka.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { greetingSub, kafkaEnv, stats, waitReady } from './kafka-common.js';

const greeting = (id: string) => JSON.stringify({ specversion: '1.0', type: 'greeting', source: 'restart-test', id, data: { name: 'rita' } });

test('stopping and restarting the broker mid-stream loses no gateway connection and delivery resumes', { skip: kafkaSkip(), timeout: 120_000 }, async (t) => {
  const t0 = Date.now();
  const port = await brokerPortPair();
  const brokers = `127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'rig-kafka-restart-'));
  rmSync(dir, { recursive: true }); // the script creates (and marks) the folder itself
  const keep = { KAFKA_LOCAL_DIR: dir, KAFKA_LOCAL_KEEP_DATA: '1' };
  t.after(async () => {
    await kafkaLocal(['stop', '--port', String(port)], { KAFKA_LOCAL_DIR: dir }, 40_000); // also deletes the data
    rmSync(dir, { recursive: true, force: true });
  });
  const first = await kafkaLocal(['start', '--port', String(port)], keep, 50_000);
  assert.equal(first.code, 0, first.out);

  const topic = uniqueName('src-restart');
  const kafka = new Kafka({ clientId: 'restart-test', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  let producer: Producer | undefined;
  const produce = async (ids: string[]) => {
    if (!producer) {
      const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
      await p.connect();
      producer = p;
    }
    await producer.send({ topic, acks: -1, messages: ids.map((id) => ({ value: greeting(id) })) });
  };
  t.after(() => producer?.disconnect().catch(() => undefined));

  const gw = await startGateway(t, kafkaEnv(brokers, topic, uniqueName('grp')));
  const query = { subscriptions: JSON.stringify([greetingSub('rita')]) };
  const sse = await SseClient.connect(gw.url, query);
  const ws = await WsClient.connect(gw.url, query);
  t.after(() => {
    sse.close();
    ws.close();
  });
  const lp = new LongPollClient(gw.url);
  assert.equal((await lp.get(query)).status, 200, lp.lastBody);
  await sse.next((e) => e.event === 'rig.subscriptions_set', 5000);
  await ws.next((e) => e.event === 'rig.subscriptions_set', 5000);
  await lp.poll((e) => e.event === 'rig.subscriptions_set', 5000);
  const tokens = { sse: await sse.token(), ws: await ws.token(), lp: await lp.token() };
  const lpCookie = lp.cookies.get('connection_token');
  assert.ok(lpCookie, 'long polling got a connection_token cookie');
  await waitReady(gw, 30_000);

  const has = (events: ReceivedEvent[], id: string) => events.some((e) => e.data.id === id);
  const allReceive = async (ids: string[], what: string) => {
    await waitFor(() => ids.every((id) => has(sse.events, id)), 15_000, `SSE: ${what}`);
    await waitFor(() => ids.every((id) => has(ws.events, id)), 15_000, `WS: ${what}`);
    const deadline = Date.now() + 15_000;
    while (!ids.every((id) => has(lp.events, id))) {
      if (Date.now() > deadline) throw new Error(`long polling: ${what}`);
      const r = await lp.get();
      assert.equal(r.status, 200, `long poll answered ${r.status}: ${r.body}`);
    }
  };
  const stillConnected = (when: string) => {
    assert.equal(sse.ended, false, `SSE stream ended ${when}`);
    assert.equal(ws.closeCode, undefined, `WebSocket closed ${when} (${ws.closeCode} ${ws.closeReason})`);
  };

  // 1. Events flow.
  const before = ['before-1', 'before-2', 'before-3'].map((s) => `${s}-${port}`);
  await produce(before);
  await allReceive(before, 'events produced before the outage');

  // 2. The broker goes away.
  await producer?.disconnect().catch(() => undefined);
  producer = undefined;
  const stopped = await kafkaLocal(['stop', '--port', String(port)], keep, 40_000);
  assert.equal(stopped.code, 0, stopped.out);
  const outageStart = Date.now();
  t.diagnostic(`broker stopped after ${Date.now() - t0} ms`);
  await waitFor(async () => (await http(`${gw.apiUrl}/ready`)).status === 503, 30_000, `/ready to answer 503 after the broker stopped\n${gw.output()}`);
  const notReady = JSON.parse((await http(`${gw.apiUrl}/ready`)).body) as Record<string, string>;
  assert.equal(notReady['status'], 'not ready');
  assert.ok(['connecting', 'reconnecting'].includes(notReady['kafka']!), JSON.stringify(notReady));
  assert.equal((await http(`${gw.apiUrl}/health`)).body, 'OK');
  assert.equal((await http(`${gw.url}/_rig/health`)).status, 200);

  // An HTTP submission is still accepted; producing it fails, it is counted and lost (docs/kafka.md).
  const failedBefore = Number((await stats(gw))['kafka_produce_failed']);
  const lostId = `lost-${port}`;
  const posted = await postEvent(gw.url, JSON.parse(greeting(lostId)) as Record<string, unknown>);
  assert.equal(posted.status, 202, posted.body);
  await waitFor(async () => Number((await stats(gw))['kafka_produce_failed']) > failedBefore, 30_000, 'kafka_produce_failed to count the lost submission');

  // The clients stay connected throughout (a few seconds of outage; long polling keeps polling).
  while (Date.now() - outageStart < 5000) {
    const r = await lp.get();
    assert.equal(r.status, 200, `long poll during the outage answered ${r.status}: ${r.body}`);
  }
  stillConnected('while the broker was down');
  assert.equal((await http(`${gw.apiUrl}/ready`)).status, 503);

  // 3. The same broker (same data, same port) comes back.
  const again = await kafkaLocal(['start', '--port', String(port)], keep, 50_000);
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /reusing the data/);
  t.diagnostic(`broker restarted after ${Date.now() - t0} ms`);
  await waitReady(gw, 40_000);
  t.diagnostic(`gateway ready again after ${Date.now() - t0} ms`);
  const s = await stats(gw);
  assert.ok(Number(s['kafka_restarts']) >= 1, `the consumer was restarted: ${JSON.stringify(s)}`);

  // 4. Delivery resumes on the same connections, from Kafka and from HTTP submissions.
  const after = ['after-1', 'after-2', 'after-3'].map((x) => `${x}-${port}`);
  await produce(after);
  await allReceive(after, 'events produced after the restart');
  const viaHttp = `http-after-${port}`;
  // The gateway's producer reconnects lazily; a submission right after the restart may still meet
  // the dropped connection, so it is retried (each one is a new event) until one arrives.
  await waitFor(
    async () => {
      if (has(sse.events, viaHttp)) return true;
      assert.equal((await postEvent(gw.url, JSON.parse(greeting(viaHttp)) as Record<string, unknown>)).status, 202);
      await sleep(1000);
      return has(sse.events, viaHttp);
    },
    20_000,
    'an HTTP submission after the restart to arrive',
  );
  await allReceive([viaHttp], 'an HTTP submission after the restart');

  stillConnected('after the broker came back');
  assert.deepEqual({ sse: await sse.token(), ws: await ws.token(), lp: await lp.token() }, tokens);
  assert.equal(lp.cookies.get('connection_token'), lpCookie, 'long polling kept its session cookie');
  for (const [name, events] of [['SSE', sse.events], ['WS', ws.events], ['long polling', lp.events]] as const) {
    assert.equal(events.filter((e) => e.event === 'rig.connection.create').length, 1, `${name}: one connection, never a new one`);
    assert.ok(!has(events, lostId), `${name} received the submission that could not be produced`);
    // Order per partition (one partition here): before-*, then after-*.
    const ids = events.map((e) => String(e.data.id)).filter((id) => /^(before|after)-/.test(id));
    assert.deepEqual(ids, [...before, ...after], `${name}: every event once, in order`);
  }
});
