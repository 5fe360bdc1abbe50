/**
 * Kafka producer process for bench/kafka-fanout.mjs, driven over the IPC channel. Runs apart from
 * the orchestrator so that its CPU time is its own and a busy producer cannot delay the
 * orchestrator's measurements.
 *
 * Every record is a structured-mode CloudEvent 0.2 (`content-type: application/cloudevents+json`)
 * of type `bench` whose `data` is `{"t":"<16 digits>","p":"xxx…"}`, exactly the body bench/fanout.mjs
 * publishes over HTTP, so bench/clients/fanout-client.mjs counts and times it the same way. `t` is
 * CLOCK_MONOTONIC microseconds (process.hrtime), the same clock in every process of the host.
 *
 * Protocol (process.send / 'message'):
 *   -> {cmd:'init', brokers, topic, payload}                        <- {evt:'ready'}
 *   -> {cmd:'flood', seconds, count?, batch, inflight}  as fast as possible <- {evt:'done', produced, errors, ...}
 *   -> {cmd:'rate', rate, seconds}  one record at each planned time, stamped with that time
 *                                                                   <- {evt:'done', produced, errors, latenessUs, ...}
 *   -> {cmd:'close'}
 */
import { Kafka, logLevel } from 'kafkajs';
import { TS_DIGITS } from '../lib/client-wire.mjs';
import { nowUs } from '../lib/common.mjs';

let producer;
let cfg;
let nextId = 1;
let pad;

function value(tUs) {
  const t = String(Math.round(tUs)).padStart(TS_DIGITS, '0');
  return `{"specversion":"0.2","type":"bench","source":"kafka-fanout-bench","id":"${nextId++}","data":{"t":"${t}","p":"${pad}"}}`;
}

const HEADERS = { 'content-type': 'application/cloudevents+json' };

async function flood({ seconds, count = Infinity, batch, inflight }) {
  const end = nowUs() + seconds * 1e6;
  let claimed = 0;
  const t0 = nowUs();
  let produced = 0;
  let errors = 0;
  let sends = 0;
  const worker = async () => {
    while (nowUs() < end && claimed < count) {
      const now = nowUs();
      const n = Math.min(batch, count - claimed);
      claimed += n;
      const messages = new Array(n);
      for (let i = 0; i < n; i++) messages[i] = { value: value(now), headers: HEADERS };
      try {
        await producer.send({ topic: cfg.topic, acks: 1, messages });
        produced += n;
      } catch {
        errors += n;
      }
      sends++;
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  const seconds_ = (nowUs() - t0) / 1e6;
  return { produced, errors, sends, seconds: seconds_, perSecond: produced / seconds_ };
}

async function rate({ rate, seconds }) {
  const n = Math.max(1, Math.round(rate * seconds));
  const intervalUs = 1e6 / rate;
  const start = nowUs() + 2000;
  const lateness = new Float64Array(n);
  const pending = [];
  let produced = 0;
  let errors = 0;
  await new Promise((done) => {
    let i = 0;
    const tick = () => {
      const now = nowUs();
      const messages = [];
      // Everything whose planned time has passed goes out now, each stamped with its planned
      // time: a late producer counts as latency (no coordinated omission).
      while (i < n && start + i * intervalUs <= now) {
        const intended = start + i * intervalUs;
        lateness[i] = now - intended;
        messages.push({ value: value(intended), headers: HEADERS });
        i++;
      }
      if (messages.length) {
        pending.push(
          producer.send({ topic: cfg.topic, acks: 1, messages }).then(
            () => (produced += messages.length),
            () => (errors += messages.length),
          ),
        );
      }
      if (i >= n) return done();
      setTimeout(tick, Math.max(0, (start + i * intervalUs - nowUs()) / 1000));
    };
    tick();
  });
  await Promise.all(pending);
  return { produced, errors, startUs: start, seconds: (nowUs() - start) / 1e6, latenessUs: lateness };
}

process.on('message', async (m) => {
  switch (m.cmd) {
    case 'init': {
      cfg = m;
      pad = 'x'.repeat(Math.max(1, m.payload - 31));
      const kafka = new Kafka({ clientId: 'kafka-fanout-bench-producer', brokers: m.brokers.split(','), logLevel: logLevel.NOTHING });
      producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      process.send({ evt: 'ready', pid: process.pid });
      break;
    }
    case 'flood': {
      const r = await flood(m);
      process.send({ evt: 'done', ...r, cpuUs: process.cpuUsage() });
      break;
    }
    case 'rate': {
      const r = await rate(m);
      process.send({ evt: 'done', ...r, cpuUs: process.cpuUsage() });
      break;
    }
    case 'close':
      await producer?.disconnect().catch(() => undefined);
      process.exit(0);
  }
});

process.on('disconnect', () => process.exit(0));
