/**
 * The load process of bench/kafka-rpc.mjs: request/reply round trips at a fixed rate, open loop
 * (request i is due at start + i / rate whether or not earlier ones were answered; latency counts
 * from that planned time, so a late sender shows up as latency instead of hiding it), each round
 * trip timed from its planned time to the end of its answer, in a Histogram (bench/lib/histogram.mjs).
 * The responder's receive time in each reply splits the round trip into its request and reply legs.
 *
 * Two ways to make the same round trip:
 *   gateway   HTTP POST of a CloudEvent to the gateway's `target: "kafka"`, `response_from: "kafka"`
 *             endpoint over kept-alive connections; the answer is the HTTP response.
 *   baseline  what a service does by hand without the gateway: kafkajs produces the same CloudEvent
 *             (with `rig.correlation` set by the sender) to a request topic, and a consumer of the
 *             reply topic in the same process matches the reply by its `rig-correlation` header.
 *             Requests due in the same timer turn go out in one produce request, as the gateway
 *             batches those of one event-loop turn.
 *
 * Protocol (process.send / 'message'):
 *   -> {cmd:'init', mode:'gateway', url, connections, payload}
 *   -> {cmd:'init', mode:'baseline', brokers, requestTopic, replyTopic, groupId, acks, payload}  <- {evt:'ready'}
 *   -> {cmd:'prime', timeoutMs}   a request every 250 ms until one is answered 200 (the gateway's and
 *                                 the baseline's reply consumers start at the latest offset once
 *                                 they joined their group: replies before that are never seen)
 *                                                                 <- {evt:'primed', ok, attempts, ms}
 *   -> {cmd:'run', rate, seconds, drainMs}                         <- {evt:'done', ...counts, latency}
 *   -> {cmd:'close'}
 */
import http from 'node:http';
import { Kafka, logLevel } from 'kafkajs';
import { nowUs, sleep } from '../lib/common.mjs';
import { Histogram } from '../lib/histogram.mjs';

let send; // (i, onAnswer(status)) => void
let closeMode = async () => {};
let pad = '';
let runId = 0;
let nextSeq = 1;
const RT = /"rt":(\d+)/;

function event(seq, rig) {
  return `{"specversion":"1.0","type":"bench.rpc","source":"/bench/rpc","id":"${seq}","datacontenttype":"application/json","data":{"i":${seq},"p":"${pad}"}${rig ? `,"rig":${rig}` : ''}}`;
}

function initGateway({ url, connections }) {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  send = (onAnswer, timeoutMs) => {
    const body = event(nextSeq++);
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': 'application/cloudevents+json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => onAnswer(res.statusCode, undefined, body));
        res.on('error', (e) => onAnswer(undefined, e.code ?? e.message));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('client timeout')));
    req.on('error', (e) => onAnswer(undefined, e.code ?? e.message));
    req.end(body);
  };
  closeMode = async () => agent.destroy();
}

async function initBaseline({ brokers, requestTopic, replyTopic, groupId, acks }) {
  const kafka = new Kafka({ clientId: 'rpc-baseline', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [replyTopic], fromBeginning: false });
  const pending = new Map(); // correlation -> onAnswer
  const joined = new Promise((r) => consumer.on(consumer.events.GROUP_JOIN, r));
  // Like the gateway's reply consumer: no offset commits (a reply only matters to a request
  // waiting now), so no OffsetCommit round trip sits between two fetches.
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const corr = m.headers?.['rig-correlation']?.toString();
        const done = corr && pending.get(corr);
        if (!done) continue;
        pending.delete(corr);
        done(Number(m.headers['rig-response-code']?.toString()), m.value?.toString());
      }
    },
  });
  await joined;
  // Requests due in one timer turn are collected here and sent in one produce request.
  let queued = [];
  const flush = () => {
    const messages = queued;
    queued = [];
    producer.send({ topic: requestTopic, acks, messages: messages.map((q) => q.message) }).catch((e) => {
      for (const q of messages) {
        if (pending.delete(q.corr)) q.onAnswer(undefined, e.type ?? e.message);
      }
    });
  };
  const prefix = `${process.pid}-${Date.now().toString(36)}-`;
  send = (onAnswer, timeoutMs) => {
    const seq = nextSeq++;
    const corr = prefix + seq;
    const timer = setTimeout(() => pending.delete(corr) && onAnswer(undefined, 'client timeout'), timeoutMs);
    pending.set(corr, (status, body) => {
      clearTimeout(timer);
      onAnswer(status, undefined, body);
    });
    if (queued.length === 0) setImmediate(flush);
    queued.push({ corr, onAnswer, message: { value: event(seq, `{"correlation":"${corr}"}`), headers: { 'content-type': 'application/cloudevents+json' } } });
  };
  closeMode = async () => {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
  };
}

async function prime({ timeoutMs }) {
  const t0 = Date.now();
  let attempts = 0;
  let ok = false;
  let outstanding = 0;
  const statuses = {};
  while (!ok && Date.now() - t0 < timeoutMs) {
    attempts++;
    outstanding++;
    send((status, err) => {
      outstanding--;
      const k = status ?? err;
      statuses[k] = (statuses[k] ?? 0) + 1;
      if (status === 200) ok = true;
    }, 10_000);
    await sleep(250);
  }
  const ms = Date.now() - t0;
  // Let the attempts sent before the reply path was ready finish (504 after the gateway's timeout),
  // so that none of them is still holding a connection when the measured run starts.
  const settleUntil = Date.now() + 12_000;
  while (outstanding > 0 && Date.now() < settleUntil) await sleep(100);
  return { ok, attempts, ms, statuses, outstanding };
}

async function run({ rate, seconds, drainMs }) {
  const id = ++runId;
  const n = Math.max(1, Math.round(rate * seconds));
  const intervalUs = 1e6 / rate;
  const latency = new Histogram();
  const lateness = new Histogram();
  // The two halves of a round trip, from the actual send time: until the responder had the
  // request (its `rt` in the reply), and from there until the answer was complete.
  const requestLeg = new Histogram();
  const replyLeg = new Histogram();
  const statuses = {};
  const errorSamples = [];
  let answered = 0;
  let ok = 0;
  let errors = 0;
  let sent = 0;
  const start = nowUs() + 2000;
  await new Promise((allSent) => {
    const tick = () => {
      const now = nowUs();
      while (sent < n && start + sent * intervalUs <= now) {
        const planned = start + sent * intervalUs;
        lateness.add(now - planned);
        sent++;
        const sentAt = nowUs();
        send((status, err, body) => {
          if (id !== runId) return; // an answer after its run ended
          answered++;
          if (status === 200) {
            ok++;
            const t = nowUs();
            latency.add(t - planned);
            const rt = RT.exec(body ?? '');
            if (rt) {
              requestLeg.add(Number(rt[1]) - sentAt);
              replyLeg.add(t - Number(rt[1]));
            }
          } else if (status !== undefined) statuses[status] = (statuses[status] ?? 0) + 1;
          else {
            errors++;
            if (errorSamples.length < 5) errorSamples.push(err);
          }
        }, drainMs);
      }
      if (sent < n) setTimeout(tick, 1);
      else allSent();
    };
    tick();
  });
  const sendEnd = nowUs();
  while (answered < n && nowUs() - sendEnd < drainMs * 1000) await sleep(20);
  const end = nowUs();
  runId++; // answers arriving from now on belong to no run
  return {
    planned: n,
    sent,
    answered,
    ok,
    statuses,
    errors,
    errorSamples,
    unanswered: n - answered,
    sendSeconds: (sendEnd - start) / 1e6,
    wallSeconds: (end - start) / 1e6,
    latencyMs: latency.percentiles(),
    latencyCounts: latency.counts,
    latencyMaxUs: latency.max,
    sendLatenessMs: lateness.percentiles(),
    requestLegMs: requestLeg.percentiles(),
    replyLegMs: replyLeg.percentiles(),
    cpuUs: process.cpuUsage(),
  };
}

process.on('message', async (m) => {
  try {
    if (m.cmd === 'init') {
      pad = 'x'.repeat(Math.max(0, (m.payload ?? 100) - 20));
      if (m.mode === 'gateway') initGateway(m);
      else await initBaseline(m);
      process.send({ evt: 'ready' });
    } else if (m.cmd === 'prime') process.send({ evt: 'primed', ...(await prime(m)) });
    else if (m.cmd === 'run') process.send({ evt: 'done', ...(await run(m)) });
    else if (m.cmd === 'close') {
      await closeMode();
      process.exit(0);
    }
  } catch (e) {
    process.stderr.write(`[rpc-load] ${m.cmd} failed: ${e?.stack ?? e}\n`);
    process.exit(1);
  }
});
process.on('disconnect', () => process.exit(0));
