// Kafka -> client benchmark: events produced to a multi-partition topic, consumed by the gateway
// and delivered to SSE/WebSocket subscribers. What it measures and the latest figures:
// docs/benchmarks.md ("Kafka → client benchmark").
//
//   node bench/kafka-fanout.mjs --quick      # 10 000 subscribers, ~3 min
//   node bench/kafka-fanout.mjs --smoke      # 50 subscribers, seconds (plus broker start)
//
// Starts its own broker (scripts/kafka-local.sh on a free port, stopped at the end, also on error
// or Ctrl-C), creates the topic, starts the built gateway (npm run build first) with Kafka on, the
// load clients of bench/fanout.mjs (bench/clients/fanout-client.mjs) and a producer process
// (bench/clients/kafka-producer.mjs). JSON result to bench/results/, Markdown summary to stdout.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, freePort, nowUs, percentiles, round, sleep, split } from './lib/common.mjs';
import { Kafka, logLevel } from 'kafkajs';
import * as gatewayTarget from './targets/gateway.mjs';
import { machineCpu, machineFacts, processCpu, rssBytes, threadCpu } from './lib/procfs.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const CLIENT_ENTRY = join(BENCH_DIR, 'clients/fanout-client.mjs');
const PRODUCER_ENTRY = join(BENCH_DIR, 'clients/kafka-producer.mjs');
const KAFKA_LOCAL = join(ROOT, 'scripts/kafka-local.sh');

const PROFILES = {
  smoke: { backlog: 20000, subscribers: 50, rateSubscribers: [50], floodSeconds: 3, rateSeconds: 3, bigRateSeconds: 3, drainSeconds: 15 },
  quick: { backlog: 600000, subscribers: 10000, rateSubscribers: [100, 1000, 10000], floodSeconds: 10, rateSeconds: 15, bigRateSeconds: 5, drainSeconds: 60 },
};

function parseArgs(argv) {
  const o = {
    profile: 'quick', partitions: 8, shards: 2, rate: 1000, payload: 100, batch: 500, inflight: 8,
    perClient: 9000, sampleEvery: 50, out: undefined,
  };
  let custom = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--smoke') o.profile = 'smoke';
    else if (a === '--quick') o.profile = 'quick';
    else if (a === '--subscribers') custom.subscribers = Number(v());
    else if (a === '--rate-subscribers') custom.rateSubscribers = v().split(',').map(Number);
    else if (a === '--flood-seconds') custom.floodSeconds = Number(v());
    else if (a === '--rate-seconds') custom.rateSeconds = Number(v());
    else if (a === '--backlog') custom.backlog = Number(v());
    else if (a === '--partitions') o.partitions = Number(v());
    else if (a === '--shards') o.shards = Number(v());
    else if (a === '--rate') o.rate = Number(v());
    else if (a === '--batch') o.batch = Number(v());
    else if (a === '--inflight') o.inflight = Number(v());
    else if (a === '--out') o.out = v();
    else if (a === '--help') {
      process.stdout.write(
        'node bench/kafka-fanout.mjs [--smoke|--quick] [--backlog N] [--subscribers N] [--rate-subscribers 100,1000,10000]\n' +
          '  [--flood-seconds S] [--rate-seconds S] [--rate R] [--partitions P] [--shards N] [--batch B] [--inflight K] [--out FILE]\n',
      );
      process.exit(0);
    } else throw new Error(`unknown option ${a} (--help)`);
  }
  Object.assign(o, PROFILES[o.profile], custom);
  o.rateSubscribers = o.rateSubscribers.filter((n) => n <= o.subscribers).sort((a, b) => a - b);
  return o;
}

const log = (msg) => process.stderr.write(`[kafka-fanout] ${msg}\n`);

// ------------------------------------------------------------------------------------------------
// Broker and gateway

async function startBroker() {
  // kafka-local.sh uses port P and P + 1 (controller).
  let port;
  for (let i = 0; i < 20; i++) {
    port = await freePort();
    if (port < 65000 && (await portFree(port + 1))) break;
  }
  const dir = mkdtempSync(join(os.tmpdir(), 'kafka-fanout-broker-'));
  rmSync(dir, { recursive: true, force: true }); // the script creates it (and only deletes its own)
  const env = { ...process.env, KAFKA_LOCAL_DIR: dir };
  const broker = { port, dir, env, brokers: `127.0.0.1:${port}`, pid: undefined, started: false };
  brokerToStop = broker;
  const t0 = Date.now();
  const r = spawnSync('bash', [KAFKA_LOCAL, 'start', '--port', String(port)], { env, encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`kafka-local.sh start failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  broker.started = true;
  broker.pid = Number(readFileSync(join(dir, 'kafka.pid'), 'utf8').trim());
  broker.startSeconds = round((Date.now() - t0) / 1000, 1);
  log(`broker on 127.0.0.1:${port} (pid ${broker.pid}) ready in ${broker.startSeconds} s`);
  return broker;
}
function portFree(port) {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}
let brokerToStop;
function stopBroker() {
  const b = brokerToStop;
  brokerToStop = undefined;
  if (!b) return;
  spawnSync('bash', [KAFKA_LOCAL, 'stop', '--port', String(b.port)], { env: b.env, stdio: 'ignore', timeout: 60_000 });
  rmSync(b.dir, { recursive: true, force: true }); // our own temporary folder
  log('broker stopped');
}

async function startGateway(o, broker, topic, groupPrefix, nodeId) {
  const publicPort = await freePort();
  const server = await gatewayTarget.start({
    port: publicPort,
    shards: o.shards,
    env: { KAFKA_BROKERS: broker.brokers, KAFKA_SOURCE_TOPICS: topic, KAFKATOFILTER_KAFKA_GROUP_ID: groupPrefix, NODE_ID: nodeId },
  });
  const gw = { ...server, pid: server.pids[0], publicPort, nodeId };
  gatewayToStop = gw;
  const t0 = Date.now();
  while ((await fetch(`http://127.0.0.1:${gw.apiPort}/ready`).then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() - t0 > 60_000) throw new Error(`gateway not ready after 60 s:\n${gw.output()}`);
    await sleep(100);
  }
  log(`gateway pid ${gw.pid} ready (Kafka joined) in ${Date.now() - t0} ms`);
  return gw;
}
let gatewayToStop;

async function stats(ctx) {
  return (await fetch(`http://127.0.0.1:${ctx.gw.apiPort}/v3/stats`)).json();
}

// ------------------------------------------------------------------------------------------------
// Measurements

async function snapshot(ctx, reset) {
  const clients = await Promise.all(ctx.clients.map((c) => c.request({ cmd: 'stats', reset }, 'stats', 180_000)));
  return {
    t: nowUs(),
    gw: processCpu(ctx.gw.pid),
    gwThreads: threadCpu(ctx.gw.pid),
    gwRss: rssBytes(ctx.gw.pid),
    broker: processCpu(ctx.broker.pid),
    producer: processCpu(ctx.producer.pid),
    machine: machineCpu(),
    self: process.cpuUsage(),
    clients,
    stats: await stats(ctx),
  };
}

/** CPU in % of one core between two snapshots, per process; shard threads are the busiest non-main. */
function cpuReport(ctx, a, b) {
  const wall = (b.t - a.t) / 1e6;
  const pct = (s) => round((100 * s) / wall, 1);
  const threads = [];
  for (const [tid, s] of b.gwThreads) {
    const d = s - (a.gwThreads.get(tid) ?? 0);
    if (d > 0) threads.push({ tid, role: tid === ctx.gw.pid ? 'main' : 'thread', cpuPercent: pct(d) });
  }
  threads.sort((x, y) => y.cpuPercent - x.cpuPercent);
  let shards = ctx.opts.shards;
  for (const t of threads) if (t.role !== 'main' && shards-- > 0) t.role = 'shard';
  const clients = b.clients.map((c, i) => pct((c.cpuUs.user + c.cpuUs.system - a.clients[i].cpuUs.user - a.clients[i].cpuUs.system) / 1e6));
  const machineTotal = b.machine.total - a.machine.total;
  const r = {
    wallSeconds: round(wall, 2),
    gateway: { cpuPercent: pct(b.gw - a.gw), main: threads.find((t) => t.role === 'main')?.cpuPercent ?? 0, shards: threads.filter((t) => t.role === 'shard').map((t) => t.cpuPercent), threads: threads.slice(0, 6) },
    broker: pct(b.broker - a.broker),
    producer: pct(b.producer - a.producer),
    clients,
    clientsTotal: round(clients.reduce((x, c) => x + c, 0), 1),
    orchestrator: pct((b.self.user + b.self.system - a.self.user - a.self.system) / 1e6),
    machineBusyPercent: round((100 * (b.machine.busy - a.machine.busy)) / machineTotal, 1),
  };
  // Busy time no benchmark process was charged with (other processes, kernel threads), % of one core.
  r.otherPercent = round(((b.machine.busy - a.machine.busy) * 100) / wall - r.gateway.cpuPercent - r.broker - r.producer - r.clientsTotal - r.orchestrator, 1);
  const hot = [];
  if (r.gateway.main >= 85) hot.push(`gateway main thread ${r.gateway.main}%`);
  r.gateway.shards.forEach((s, i) => s >= 85 && hot.push(`shard ${i} ${s}%`));
  if (r.broker >= 85) hot.push(`broker ${r.broker}%`);
  if (r.producer >= 85) hot.push(`producer ${r.producer}%`);
  clients.forEach((c, i) => c >= 85 && hot.push(`client ${i} ${c}%`));
  r.saturated = `${hot.length ? hot.join(', ') + '; ' : ''}machine ${r.machineBusyPercent}% busy of ${ctx.facts.cores} cores`;
  return r;
}

function latencyOf(snap) {
  const parts = snap.clients.flatMap((c) => [c.latencies.sse, c.latencies.ws]);
  const all = new Float64Array(parts.reduce((x, p) => x + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return percentiles(all);
}
const sumClients = (snap, key) => snap.clients.reduce((x, c) => x + c[key], 0);

async function connectTo(ctx, total) {
  const add = total - ctx.connected;
  if (add <= 0) return;
  const plan = { sse: Math.ceil(add / 2), ws: Math.floor(add / 2) };
  const t0 = Date.now();
  for (const [transport, count] of Object.entries(plan)) {
    const parts = split(count, ctx.clients.length);
    let first = ctx.nextIndex;
    ctx.nextIndex += count;
    const res = await Promise.all(
      ctx.clients.map((c, i) => {
        const firstIndex = first;
        first += parts[i];
        return c.request({ cmd: 'connect', transport, count: parts[i], firstIndex, concurrency: Math.ceil(200 / ctx.clients.length) }, 'connected', 300_000);
      }),
    );
    const ok = res.reduce((x, r) => x + r.ok, 0);
    ctx.connected += ok;
    if (ok < count) log(`${transport}: only ${ok}/${count} connected: ${res.flatMap((r) => r.failureSamples).slice(0, 3).join(' | ')}`);
  }
  log(`${ctx.connected} subscribers connected (+${add} in ${Date.now() - t0} ms)`);
  await sleep(1000);
}

/** Waits until the gateway has consumed `target` records or consumption stalls for `stallMs`. */
async function drain(ctx, target, timeoutMs, stallMs = 5000) {
  const t0 = Date.now();
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const s = await stats(ctx);
    if (s.kafka_consumed >= target) return { drained: true, consumed: s.kafka_consumed, ms: Date.now() - t0 };
    if (s.kafka_consumed !== last) {
      last = s.kafka_consumed;
      lastChange = Date.now();
    }
    if (Date.now() - t0 > timeoutMs || Date.now() - lastChange > stallMs) return { drained: false, consumed: s.kafka_consumed, ms: Date.now() - t0 };
    await sleep(100);
  }
}

/** The gateway starts on a filled topic; consumed/s until the backlog is gone (nobody subscribed). */
async function backlogPhase(ctx, total) {
  const series = [];
  const a = await snapshot(ctx, true);
  series.push({ t: a.t, consumed: a.stats.kafka_consumed });
  const t0 = Date.now();
  for (;;) {
    await sleep(200);
    const s = await stats(ctx);
    series.push({ t: nowUs(), consumed: s.kafka_consumed });
    if (s.kafka_consumed >= total || Date.now() - t0 > ctx.opts.drainSeconds * 1000) break;
  }
  const b = await snapshot(ctx, false);
  // Steady rate: between the samples where 10 % and 90 % of the backlog had been consumed.
  const lo = series.find((x) => x.consumed >= 0.1 * total) ?? series[0];
  const hi = [...series].reverse().find((x) => x.consumed <= 0.9 * total) ?? series.at(-1);
  const steady = hi.t > lo.t ? (hi.consumed - lo.consumed) / ((hi.t - lo.t) / 1e6) : NaN;
  const res = {
    name: 'backlog-0',
    subscribers: 0,
    backlog: total,
    consumedAtFirstSample: series[0].consumed,
    consumed: b.stats.kafka_consumed,
    consumedPerSecondSteady: round(steady),
    consumedPerSecond: round((b.stats.kafka_consumed - a.stats.kafka_consumed) / ((b.t - a.t) / 1e6)),
    pauses: b.stats.kafka_pauses,
    cpu: cpuReport(ctx, a, b),
  };
  log(`backlog-0: ${res.consumed}/${total} consumed, steady ${res.consumedPerSecondSteady}/s (${res.consumedAtFirstSample} already at first sample); ${res.cpu.saturated}`);
  return res;
}

/** Produce as fast as possible for `seconds`; consumed/s from kafka_consumed deltas. */
async function floodPhase(ctx) {
  const o = ctx.opts;
  const name = `flood-${ctx.connected}`;
  const before = await stats(ctx);
  const a = await snapshot(ctx, true);
  ctx.producer.send({ cmd: 'flood', seconds: o.floodSeconds, batch: o.batch, inflight: o.inflight });
  const series = [];
  const poller = setInterval(async () => {
    const t = nowUs();
    const s = await stats(ctx).catch(() => undefined);
    if (s) series.push({ t, consumed: s.kafka_consumed, pauses: s.kafka_pauses });
  }, 500);
  const p = await ctx.producer.next((m) => m.evt === 'done', o.floodSeconds * 1000 + 120_000);
  const b = await snapshot(ctx, false); // CPU and deliveries over the production window
  clearInterval(poller);
  // Steady-state consume rate: from the first sample after 1 s to the last one in the window.
  const inWin = series.filter((x) => x.t - a.t >= 1e6 && x.t <= b.t);
  const steady = inWin.length >= 2 ? (inWin.at(-1).consumed - inWin[0].consumed) / ((inWin.at(-1).t - inWin[0].t) / 1e6) : NaN;
  const windowConsumed = b.stats.kafka_consumed - before.kafka_consumed;
  const wall = (b.t - a.t) / 1e6;
  const delivered = sumClients(b, 'delivered');
  const target = before.kafka_consumed + p.produced;
  // With subscribers the gateway cannot keep up with a flood; do not wait for hours.
  const d = ctx.connected === 0 ? await drain(ctx, target, o.drainSeconds * 1000) : { drained: false, skipped: true };
  const res = {
    name,
    subscribers: ctx.connected,
    produced: p.produced,
    produceErrors: p.errors,
    producedPerSecond: round(p.perSecond),
    consumedInWindow: windowConsumed,
    consumedPerSecond: round(windowConsumed / wall),
    consumedPerSecondSteady: round(steady),
    deliveries: delivered,
    deliveriesPerSecond: round(delivered / wall),
    eventsPerClientRead: round(delivered / Math.max(1, sumClients(b, 'reads')), 2),
    pauses: b.stats.kafka_pauses - before.kafka_pauses,
    drain: d,
    latencyMs: ctx.connected ? latencyOf(b) : undefined,
    cpu: cpuReport(ctx, a, b),
  };
  if (d.drained) res.consumedPerSecondUntilDrained = round(p.produced / ((wall * 1000 + d.ms) / 1000));
  log(
    `${name}: produced ${res.producedPerSecond}/s, consumed ${res.consumedPerSecond}/s (steady ${res.consumedPerSecondSteady}/s), ` +
      `${res.deliveriesPerSecond} deliveries/s, ${res.pauses} pauses; ${res.cpu.saturated}`,
  );
  return res;
}

/** `rate` events/s for `seconds`, each stamped with its planned produce time. */
async function ratePhase(ctx, seconds) {
  const o = ctx.opts;
  const name = `rate-${o.rate}-${ctx.connected}`;
  const n = Math.round(o.rate * seconds);
  const before = await stats(ctx);
  const a = await snapshot(ctx, true);
  const expectedDeliveries = n * ctx.connected;
  ctx.producer.send({ cmd: 'rate', rate: o.rate, seconds });
  const p = await ctx.producer.next((m) => m.evt === 'done', seconds * 1000 + 60_000);
  const d = await drain(ctx, before.kafka_consumed + p.produced, o.drainSeconds * 1000, 10_000);
  // Deliveries keep arriving after the last record was consumed (fan-out passes): wait for them.
  const t1 = Date.now();
  let b = await snapshot(ctx, false);
  let progressAt = Date.now();
  while (sumClients(b, 'delivered') < expectedDeliveries && Date.now() - t1 < o.drainSeconds * 1000) {
    await sleep(250);
    const prev = sumClients(b, 'delivered');
    b = await snapshot(ctx, false);
    if (sumClients(b, 'delivered') !== prev) progressAt = Date.now();
    else if (Date.now() - progressAt > 5000) break; // nothing for 5 s: the rest is lost
  }
  const delivered = sumClients(b, 'delivered');
  const res = {
    name,
    subscribers: ctx.connected,
    ratePerSecond: o.rate,
    seconds,
    produced: p.produced,
    produceErrors: p.errors,
    consumed: b.stats.kafka_consumed - before.kafka_consumed,
    drained: d.drained,
    expectedDeliveries,
    deliveries: delivered,
    complete: delivered >= expectedDeliveries,
    deliveriesPerSecond: round(delivered / ((b.t - p.startUs) / 1e6)),
    pauses: b.stats.kafka_pauses - before.kafka_pauses,
    latencyMs: latencyOf(b),
    producerLatenessMs: percentiles(p.latenessUs),
    cpu: cpuReport(ctx, a, b),
  };
  const l = res.latencyMs;
  log(`${name}: ${res.consumed}/${n} consumed, ${delivered}/${expectedDeliveries} deliveries, produce->receipt p50 ${l.p50} p99 ${l.p99} max ${l.max} ms; ${res.cpu.saturated}`);
  return res;
}

// ------------------------------------------------------------------------------------------------
// Report

const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
function cpuCell(c) {
  return `gw main ${c.gateway.main} / shards ${c.gateway.shards.join(' + ')}; broker ${c.broker}; producer ${c.producer}; clients ${c.clientsTotal}; other ${c.otherPercent}; machine ${c.machineBusyPercent} %`;
}
function markdown(r) {
  const lines = [];
  lines.push(`### Kafka → client, ${r.when} (${r.command})`, '');
  lines.push(`${r.facts.cpuModel}, ${r.facts.cores} cores; broker Kafka 4.1.1 (scripts/kafka-local.sh), topic of ${r.opts.partitions} partitions, SHARDS=${r.opts.shards}, payload ${r.opts.payload} B of data.`, '');
  for (const f of r.phases.filter((x) => x.name.startsWith('backlog'))) {
    lines.push(`Backlog of ${fmt(f.backlog)} records, 0 subscribers: **${fmt(f.consumedPerSecondSteady)} consumed/s** (steady, 10 %–90 % of the backlog; ${fmt(f.consumedPerSecond)}/s over the measured window); ${cpuCell(f.cpu)}.`, '');
  }
  lines.push('| flood (producer as fast as it can) | produced/s | consumed/s (window) | consumed/s (steady) | deliveries/s | partition pauses | CPU % of one core |', '| --- | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const f of r.phases.filter((x) => x.name.startsWith('flood'))) {
    lines.push(`| ${fmt(f.subscribers)} subscribers | ${fmt(f.producedPerSecond)} | ${fmt(f.consumedPerSecond)} | ${fmt(f.consumedPerSecondSteady)} | ${fmt(f.deliveriesPerSecond)} | ${f.pauses} | ${cpuCell(f.cpu)} |`);
  }
  lines.push('', `| ${r.opts.rate} events/s | subscribers | consumed | deliveries (expected) | deliveries/s | produce → receipt p50 / p90 / p99 / max | CPU % of one core |`, '| --- | ---: | ---: | ---: | ---: | --- | --- |');
  for (const p of r.phases.filter((x) => x.name.startsWith('rate'))) {
    const l = p.latencyMs;
    lines.push(`| ${p.seconds} s | ${fmt(p.subscribers)} | ${fmt(p.consumed)} / ${fmt(p.produced)} | ${fmt(p.deliveries)} (${fmt(p.expectedDeliveries)}) | ${fmt(p.deliveriesPerSecond)} | ${l.p50} / ${l.p90} / ${l.p99} / ${l.max} ms | ${cpuCell(p.cpu)} |`);
  }
  lines.push('', `Result: ${r.outFile}`);
  return lines.join('\n');
}

// ------------------------------------------------------------------------------------------------

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const facts = machineFacts();
  const result = { when: new Date().toISOString(), command: `node bench/kafka-fanout.mjs ${process.argv.slice(2).join(' ')}`.trim(), opts: o, facts, phases: [] };
  const ctx = { opts: o, facts, clients: [], connected: 0, nextIndex: 0 };
  try {
    ctx.broker = await startBroker();
    result.broker = { startSeconds: ctx.broker.startSeconds };
    const topic = `kafka-fanout-${Date.now()}`;
    const admin = new Kafka({ clientId: 'kafka-fanout-admin', brokers: [ctx.broker.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: o.partitions, replicationFactor: 1 }], waitForLeaders: true });
    await admin.disconnect();
    ctx.brokerCpuAtStart = processCpu(ctx.broker.pid);
    ctx.producer = new Child(PRODUCER_ENTRY, 'producer');
    await ctx.producer.request({ cmd: 'init', brokers: ctx.broker.brokers, topic, payload: o.payload }, 'ready', 30_000);

    // 0. Consume ceiling from a backlog: the topic is filled before the gateway starts and the
    // gateway's group is given committed offsets of 0 (what a node restarted after an outage
    // finds), so the gateway consumes as fast as it can with no producer competing for the CPU.
    const groupPrefix = `kafka-fanout-${Date.now()}`;
    const nodeId = `bench-${process.pid}`;
    const fill = await ctx.producer.request({ cmd: 'flood', seconds: 600, count: o.backlog, batch: o.batch, inflight: o.inflight }, 'done', 700_000);
    log(`backlog: ${fill.produced} records produced at ${Math.round(fill.perSecond)}/s (${fill.errors} errors)`);
    await admin.connect();
    await admin.setOffsets({ groupId: `${groupPrefix}-${nodeId}`, topic, partitions: Array.from({ length: o.partitions }, (_, partition) => ({ partition, offset: '0' })) });
    await admin.disconnect();
    ctx.gw = await startGateway(o, ctx.broker, topic, groupPrefix, nodeId);
    result.phases.push(await backlogPhase(ctx, fill.produced));
    const nClients = Math.max(2, Math.ceil(o.subscribers / o.perClient));
    for (let i = 0; i < nClients; i++) ctx.clients.push(new Child(CLIENT_ENTRY, `client ${i}`));
    const subscribe = { sse: ctx.gw.subscribe.sse, ws: ctx.gw.subscribe.ws };
    await Promise.all(ctx.clients.map((c) => c.request({ cmd: 'init', host: '127.0.0.1', port: ctx.gw.publicPort, subscribe, sampleEvery: o.sampleEvery }, 'ready', 30_000)));

    // Warm-up: a few records through the whole path (producer connections, fetch sessions, JIT).
    ctx.producer.send({ cmd: 'rate', rate: 200, seconds: 1 });
    await ctx.producer.next((m) => m.evt === 'done');
    await sleep(1500);

    // 1. Raw consume ceiling: nobody subscribed, every record is still fetched, decoded, routed.
    result.phases.push(await floodPhase(ctx));
    // 2. Fixed rate with growing numbers of subscribers; the largest one last but one.
    for (const n of o.rateSubscribers) {
      await connectTo(ctx, n);
      result.phases.push(await ratePhase(ctx, n >= 5000 ? o.bigRateSeconds : o.rateSeconds));
    }
    // 3. Flood with every subscriber connected (last: the backlog it leaves is not drained).
    await connectTo(ctx, o.subscribers);
    result.phases.push(await floodPhase(ctx));

    const end = await snapshot(ctx, false);
    result.connectionsAtEnd = sumClients(end, 'live');
    result.disconnects = sumClients(end, 'disconnects');
    result.kafkaStats = end.stats;
    result.gatewayAliveAtEnd = ctx.gw.alive();
  } finally {
    await ctx.producer?.close().catch(() => undefined);
    await Promise.all(ctx.clients.map((c) => c.close().catch(() => undefined)));
    if (gatewayToStop) {
      result.gatewayExit = await gatewayToStop.stop();
      const out = gatewayToStop.output().trim();
      if (out) result.gatewayOutputTail = out.slice(-4000);
      gatewayToStop = undefined;
    }
    stopBroker();
  }
  mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
  result.outFile = o.out ?? join('bench/results', `kafka-fanout-${o.profile}-${result.when.replace(/[:.]/g, '-')}.json`);
  writeFileSync(resolve(ROOT, result.outFile), JSON.stringify(result, null, 2));
  process.stdout.write(markdown(result) + '\n');
  const ok = result.phases.every((p) => (p.subscribers === 0 ? (p.consumedInWindow ?? p.consumed) > 0 : p.deliveries > 0));
  process.exitCode = ok ? 0 : 1;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    log(`${sig}: stopping`);
    await gatewayToStop?.stop().catch(() => undefined);
    stopBroker();
    process.exit(130);
  });
}
main().catch(async (e) => {
  log(`failed: ${e.stack ?? e}`);
  await gatewayToStop?.stop().catch(() => undefined);
  stopBroker();
  process.exit(1);
});
