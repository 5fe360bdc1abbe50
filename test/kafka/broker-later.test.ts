/**
 * A gateway started while its broker is unreachable serves clients meanwhile, reports "not ready"
 * on /ready (while /health stays OK), retries every KAFKA_RESTART_DELAY_MS, and delivers once the
 * broker is up. The broker here is a second one started by scripts/kafka-local.sh after the
 * gateway, on a port nothing listened on before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { SseClient } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import { http } from '../helpers/http.js';
import { brokerPortPair, kafkaLocal, kafkaSkip, uniqueName } from '../helpers/kafka.js';
import { sleep } from '../helpers/wait.js';
import { greetingSub, kafkaEnv, stats, subscribe, waitReady } from './kafka-common.js';

test('without a reachable broker the gateway serves, is not ready, and delivers once the broker appears', { skip: kafkaSkip(), timeout: 60_000 }, async (t) => {
  const port = await brokerPortPair();
  const brokers = `127.0.0.1:${port}`;
  const topic = uniqueName('src-late');
  const gw = await startGateway(t, kafkaEnv(brokers, topic, uniqueName('grp')));

  // Serving meanwhile: health, SSE with subscriptions, and /ready says why it is not ready.
  const sse = await subscribe(gw, 'sse', [greetingSub('frank')]);
  t.after(() => sse.close());
  assert.equal((await http(`${gw.apiUrl}/health`)).body, 'OK');
  assert.equal((await http(`${gw.url}/_rig/health`)).status, 200);
  await sleep(1500); // at least one failed attempt
  const notReady = await http(`${gw.apiUrl}/ready`);
  assert.equal(notReady.status, 503, notReady.body);
  const body = JSON.parse(notReady.body);
  assert.equal(body.status, 'not ready');
  assert.ok(['connecting', 'reconnecting'].includes(body.kafka), notReady.body);
  const plain = await SseClient.connect(gw.url);
  plain.close();

  // Now the broker appears.
  const dir = mkdtempSync(join(tmpdir(), 'rig-kafka-late-'));
  rmSync(dir, { recursive: true });
  const env = { KAFKA_LOCAL_DIR: dir };
  t.after(async () => {
    await kafkaLocal(['stop', '--port', String(port)], env, 60_000);
  });
  const started = await kafkaLocal(['start', '--port', String(port)], env, 50_000);
  assert.equal(started.code, 0, started.out);
  const kafka = new Kafka({ clientId: 'late-test', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true }).catch(() => false);
  await admin.disconnect();

  await waitReady(gw, 30_000);
  assert.ok(Number((await stats(gw))['kafka_restarts']) >= 1, 'the consumer was restarted after failing');
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  t.after(() => producer.disconnect());
  await producer.send({
    topic,
    messages: [{ value: JSON.stringify({ specversion: '1.0', type: 'greeting', source: 'late', id: 'late-1', data: { name: 'frank' } }) }],
  });
  assert.equal((await sse.next((e) => e.data.type === 'greeting')).data.id, 'late-1');
});
