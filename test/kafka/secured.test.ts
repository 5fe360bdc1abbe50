/**
 * The gateway's Kafka consumer against a secured real broker: `scripts/kafka-local.sh start
 * --secured` on a free port group (P plaintext, P+1 controller, P+2 SASL_PLAINTEXT, P+3 SSL with an
 * optional client certificate, P+4 SSL with a required one). One gateway per security mode, all
 * at once: SASL PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, TLS verified against the throwaway CA, mutual
 * TLS, and mutual TLS with an encrypted key. Each must become ready and deliver a CloudEvent
 * produced (over the plaintext listener) to its own topic to an SSE subscriber. A gateway with a
 * wrong SASL password must keep serving: /health OK, /ready 503 naming the authentication failure.
 * Without Java or openssl the test is skipped on a developer machine; under CI=true it fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { KafkaConfig } from 'kafkajs';
import { startGateway } from '../helpers/gateway.js';
import { http } from '../helpers/http.js';
import { brokerPorts, kafkaLocal, uniqueName } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';
import { greetingSub, kafkaEnv, stats, subscribe, waitReady } from './kafka-common.js';

const works = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const hasJava = works('java', ['-version']);
const hasOpenssl = works('openssl', ['version']);
if (process.env.CI && !hasJava) throw new Error('Java is required for the Kafka tests under CI (OpenJDK 17)');
if (process.env.CI && !hasOpenssl) throw new Error('openssl is required for the secured Kafka test under CI');
const skip = !hasJava ? 'no Java on this machine' : !hasOpenssl ? 'no openssl on this machine' : false;

/** The `KEY=value` lines `start --secured` prints on standard output. */
function parseAddresses(out: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^(KAFKA_[A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) vars[m[1]!] = m[2]!;
  }
  return vars;
}

test('the Kafka consumer works with SASL (PLAIN, SCRAM-SHA-256/512) and TLS (one-way, mutual) brokers', { skip, timeout: 240_000, concurrency: true }, async (t) => {
  const port = await brokerPorts(5);
  const state = mkdtempSync(join(tmpdir(), 'rig-kafka-secured-'));
  rmSync(state, { recursive: true }); // the script creates its own folder
  const localEnv = { KAFKA_LOCAL_DIR: state };
  t.after(async () => {
    await kafkaLocal(['stop', '--port', String(port)], localEnv, 60_000);
    rmSync(state, { recursive: true, force: true });
  });

  const start = await kafkaLocal(['start', '--port', String(port), '--secured'], localEnv, 180_000);
  assert.equal(start.code, 0, `start --secured failed:\n${start.out}`);
  const v = parseAddresses(start.out);
  const p = (n: number) => `127.0.0.1:${port + n}`;
  assert.equal(v.KAFKA_BROKERS, p(0));
  assert.equal(v.KAFKA_SASL_BROKERS, p(2));
  assert.equal(v.KAFKA_SSL_BROKERS, p(3));
  assert.equal(v.KAFKA_MTLS_BROKERS, p(4));
  for (const k of ['KAFKA_SASL_PLAIN', 'KAFKA_SASL_SCRAM_SHA_256', 'KAFKA_SASL_SCRAM_SHA_512', 'KAFKA_SSL_CA_CERTFILE', 'KAFKA_SSL_CERTFILE',
    'KAFKA_SSL_KEYFILE', 'KAFKA_SSL_KEYFILE_ENCRYPTED', 'KAFKA_SSL_KEYFILE_ENCRYPTED_PASS']) {
    assert.ok(v[k], `start --secured printed no ${k}=:\n${start.out}`);
  }

  // Topics are created and records produced over the plaintext listener.
  const quiet: Partial<KafkaConfig> = { logLevel: logLevel.NOTHING, connectionTimeout: 3000 };
  const kafka = new Kafka({ clientId: 'rig-tests-secured', brokers: [v.KAFKA_BROKERS!], ...quiet });
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  t.after(async () => {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  });
  await Promise.all([admin.connect(), producer.connect()]);

  // The MTLS listener refuses a client without a certificate, so the mutual-TLS cases below prove
  // that the gateway sends its certificate.
  const noCert = new Kafka({ clientId: 'rig-tests-no-cert', brokers: [v.KAFKA_MTLS_BROKERS!], ...quiet, retry: { retries: 0 }, ssl: { ca: [readFileSync(v.KAFKA_SSL_CA_CERTFILE!, 'utf8')] } }).admin();
  await assert.rejects(noCert.connect().then(() => noCert.listTopics()), /certificate|alert|Connection|closed/i, 'the MTLS listener accepted a client without a certificate');
  await noCert.disconnect().catch(() => undefined);

  const tls = { KAFKA_SSL_ENABLED: 'true', KAFKA_SSL_CA_CERTFILE: v.KAFKA_SSL_CA_CERTFILE! };
  const cases: Array<[string, Record<string, string>]> = [
    ['SASL PLAIN', { KAFKA_BROKERS: v.KAFKA_SASL_BROKERS!, KAFKA_SASL: v.KAFKA_SASL_PLAIN! }],
    ['SASL SCRAM-SHA-256', { KAFKA_BROKERS: v.KAFKA_SASL_BROKERS!, KAFKA_SASL: v.KAFKA_SASL_SCRAM_SHA_256! }],
    ['SASL SCRAM-SHA-512', { KAFKA_BROKERS: v.KAFKA_SASL_BROKERS!, KAFKA_SASL: v.KAFKA_SASL_SCRAM_SHA_512! }],
    ['TLS, broker verified against KAFKA_SSL_CA_CERTFILE', { KAFKA_BROKERS: v.KAFKA_SSL_BROKERS!, ...tls }],
    ['mutual TLS (KAFKA_SSL_CERTFILE, KAFKA_SSL_KEYFILE)', {
      KAFKA_BROKERS: v.KAFKA_MTLS_BROKERS!, ...tls, KAFKA_SSL_CERTFILE: v.KAFKA_SSL_CERTFILE!, KAFKA_SSL_KEYFILE: v.KAFKA_SSL_KEYFILE!,
    }],
    ['mutual TLS with an encrypted key (KAFKA_SSL_KEYFILE_PASS)', {
      KAFKA_BROKERS: v.KAFKA_MTLS_BROKERS!, ...tls, KAFKA_SSL_CERTFILE: v.KAFKA_SSL_CERTFILE!,
      KAFKA_SSL_KEYFILE: v.KAFKA_SSL_KEYFILE_ENCRYPTED!, KAFKA_SSL_KEYFILE_PASS: v.KAFKA_SSL_KEYFILE_ENCRYPTED_PASS!,
    }],
  ];

  const subtests = cases.map(([name, env]) => t.test(name, async (st) => {
    const topic = uniqueName('secured');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    const gw = await startGateway(st, { ...kafkaEnv(env.KAFKA_BROKERS!, topic, uniqueName('grp')), SHARDS: '1', ...env });
    await waitReady(gw, 40_000);
    assert.deepEqual(JSON.parse((await http(`${gw.apiUrl}/ready`)).body), { status: 'ready', kafka: 'connected' });
    const sub = await subscribe(gw, 'sse', [greetingSub('alice')]);
    st.after(() => sub.close());

    const id = uniqueName('ev');
    const value = JSON.stringify({ specversion: '1.0', type: 'greeting', source: 'kafka-secured-test', id, data: { name: 'alice' } });
    await producer.send({ topic, acks: -1, messages: [{ value }] });
    const got = await sub.next((e) => e.data.id === id, 15_000);
    assert.equal(got.raw, value);
    assert.equal((await stats(gw))['kafka_consumed'], 1);
  }));

  subtests.push(t.test('a wrong SASL password: the gateway keeps serving, /ready names the Kafka failure', async (st) => {
    const topic = uniqueName('secured-badpass');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    const user = v.KAFKA_SASL_PLAIN!.split(':')[1]!;
    const badPassword = `not-the-password-${process.pid}`;
    const gw = await startGateway(st, {
      ...kafkaEnv(v.KAFKA_SASL_BROKERS!, topic, uniqueName('grp')), SHARDS: '1', KAFKA_SASL: `plain:${user}:${badPassword}`,
    });
    // A first failed attempt, then at least one restart after KAFKA_RESTART_DELAY_MS (1 s) that fails again.
    const ready = await waitFor(async () => {
      const r = await http(`${gw.apiUrl}/ready`);
      const s = await stats(gw);
      return r.status !== 200 && Number(s['kafka_restarts']) >= 1 && r.body.includes('"error"') ? r : undefined;
    }, 30_000, `/ready of the gateway with a wrong SASL password to report the failure\n${gw.output()}`);
    st.diagnostic(`/ready: ${ready.body}`);
    assert.equal(ready.status, 503);
    const body = JSON.parse(ready.body) as Record<string, string>;
    assert.equal(body.status, 'not ready');
    assert.match(body.kafka!, /^(connecting|reconnecting)$/);
    assert.match(body.error!, /SASL|authenticat/i, `error does not name the authentication failure: ${ready.body}`);
    assert.ok(!ready.body.includes(badPassword) && !gw.output().includes(badPassword), 'the SASL password was echoed');

    const health = await http(`${gw.apiUrl}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body, 'OK');
    assert.equal(gw.proc.exitCode, null, 'the gateway exited');
    assert.equal(gw.proc.signalCode, null, 'the gateway was killed');
    // Clients are still served meanwhile.
    const sub = await subscribe(gw, 'sse', [greetingSub('alice')]);
    sub.close();
  }));

  await Promise.all(subtests);
});
