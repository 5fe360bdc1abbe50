// Latency of an event submitted over HTTP until an SSE subscriber receives it, with the gateway
// routing locally (no Kafka) and with Kafka configured (the event goes through the source topic).
// Sequential: one event in flight at a time, so the figures are the path's latency, not queueing.
//
//   node bench/kafka-latency.mjs --brokers 127.0.0.1:19092 [--samples 300]
//
// Needs a built gateway (npm run build) and a broker (bash scripts/kafka-local.sh start).
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';

const { values: args } = parseArgs({ options: { brokers: { type: 'string' }, samples: { type: 'string', default: '300' } } });
const brokers = args.brokers ?? process.env.KAFKA_BROKERS;
if (!brokers) throw new Error('--brokers host:port (or KAFKA_BROKERS) is required');
const SAMPLES = Number(args.samples);
const ENTRY = new URL('../dist/src/main/index.js', import.meta.url).pathname;

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startGateway(env) {
  const port = await freePort();
  const proc = spawn(process.execPath, [ENTRY], {
    env: { PATH: process.env.PATH, INBOUND_HOST: '127.0.0.1', API_HTTP_HOST: '127.0.0.1', INBOUND_PORT: String(port), API_HTTP_PORT: '0', SHARDS: '2', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let out = '';
  proc.stderr.on('data', (d) => (out += d));
  const apiPort = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(out)), 15000);
    proc.stderr.on('data', () => {
      const m = /internal API [^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
  });
  for (let i = 0; i < 300 && (await fetch(`http://127.0.0.1:${apiPort}/ready`)).status !== 200; i++) await sleep(100);
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise((r) => (proc.once('exit', r), proc.kill('SIGTERM'))) };
}

function sse(url, onEvent) {
  return new Promise((resolve) => {
    const req = request(`${url}/_rig/v1/connection/sse?subscriptions=${encodeURIComponent(JSON.stringify([{ eventType: 'lat' }]))}`, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = frame.split('\n').find((l) => l.startsWith('data: '));
          if (data) onEvent(JSON.parse(data.slice(6)));
        }
      });
      resolve(req);
    });
    req.end();
  });
}

async function measure(label, env) {
  const gw = await startGateway(env);
  const waiting = new Map();
  const req = await sse(gw.url, (e) => waiting.get(e.id)?.());
  await sleep(300);
  const lat = [];
  for (let i = 0; i < SAMPLES + 20; i++) {
    const id = `${label}-${i}`;
    const got = new Promise((r) => waiting.set(id, r));
    const t0 = process.hrtime.bigint();
    await fetch(`${gw.url}/_rig/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ specversion: '1.0', type: 'lat', source: 'bench', id, data: { i } }),
    });
    await got;
    if (i >= 20) lat.push(Number(process.hrtime.bigint() - t0) / 1e6); // first 20: warm-up
    waiting.delete(id);
  }
  req.destroy();
  await gw.stop();
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2);
  console.log(`${label}: ${lat.length} samples, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${lat[lat.length - 1].toFixed(2)} ms`);
}

const topic = `latency-${Date.now()}`;
const admin = new Kafka({ clientId: 'latency-bench', brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
await measure('local', {});
await measure('kafka', { KAFKA_BROKERS: brokers, KAFKA_SOURCE_TOPICS: topic, KAFKATOFILTER_KAFKA_GROUP_ID: `latency-${Date.now()}` });
await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
await admin.disconnect();
