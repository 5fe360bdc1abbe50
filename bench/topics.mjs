#!/usr/bin/env node
/**
 * Topic-spread benchmark (S4): N WebSocket connections, each subscribed to its personal topic and
 * 1–4 groups of at most 10 members (2–5 topics; bench/lib/topic-layout.mjs), and events whose
 * topic follows a Zipf distribution (s = --zipf, fixed seed), the shape of Centrifugo's
 * million-connection test. Per target of --targets (gateway, node, centrifuge), in turn:
 *
 *   memory  server RSS after every connection subscribed minus RSS before the first one, each read
 *           after a full GC in every isolate (Node targets run with --inspect on loopback; the Go
 *           server after a settle wait), divided by connections and by subscriptions (topics).
 *   burst   closed-loop bursts of --burst events: publish them concurrently, wait until every
 *           subscriber of each event's topic has it, repeat for --duration seconds.
 *           deliveries/s = deliveries / sum over bursts of (first publish -> last receipt).
 *   rate    --rate events/s for --duration seconds, each stamped with its intended send time (a
 *           late publisher shows up as latency).
 *
 * Every delivery's publish -> receipt latency is recorded (histograms in the clients). Expected
 * deliveries are the subscriber counts of the published events' topics; what is missing once the
 * wait is over counts as lost, anything more as unexpected (an event for a topic the connection
 * did not subscribe to, or a late one). Server CPU-s per million deliveries from /proc.
 *
 * How each target routes: the gateway with EXTRACTORS (`user` <- /data/user, `group` <-
 * /data/group) and one subscription per connection whose oneOf lists its topics; the plain Node
 * baseline with the same subscriptions (a Map from field=value to its sockets); Centrifuge with one
 * channel per topic, subscribed server-side from the connect command's data, published with
 * ?channel=. Clients: bench/clients/topic-client.mjs, at most --per-client connections each.
 *
 * Usage: node bench/topics.mjs [--smoke|--quick] [--connections N] [--targets gateway,node,centrifuge]
 *        [--duration S] [--rate EV_PER_S] [--burst B] [--zipf S] [--seed N] [--shards N]
 *        [--per-client N] [--payload BYTES] [--wait-quiet S] [--env NAME=VALUE (gateway)] [--out FILE]
 * --wait-quiet S: wait up to S seconds for a second in which the machine is at most 10 % busy.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, freePort, machineBusyBeforeStart, nowUs, options, raisePriority, round, sleep, split, stopOnSignals } from './lib/common.mjs';
import { Histogram } from './lib/histogram.mjs';
import { InspectorGc } from './lib/inspector-gc.mjs';
import { machineCpu, machineFacts, processCpu, rssBytes } from './lib/procfs.mjs';
import { Publisher } from './lib/publisher.mjs';
import { EXTRACTORS, dataFieldsOf, topicTable, zipfSampler } from './lib/topic-layout.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const CLIENT = join(BENCH, 'clients/topic-client.mjs');
const TARGETS = ['gateway', 'node', 'centrifuge'];

const PROFILES = {
  quick: { connections: 10_000, duration: 10, rate: 2000, burst: 200, settleMs: 2000 },
  smoke: { connections: 300, duration: 1, rate: 200, burst: 20, settleMs: 200 },
};

function parseArgs(argv) {
  const o = { profile: 'quick', targets: ['gateway', 'centrifuge'], zipf: 1, seed: 42, shards: 2, perClient: 5000, payload: 100, concurrency: 200, publishConcurrency: 32, waitQuiet: 0, env: {}, out: undefined };
  const explicit = {};
  for (const { name: a, value: val } of options(argv, 2)) {
    const num = () => {
      const n = Number(val());
      if (!(n > 0)) throw new Error(`${a}: a positive number`);
      return n;
    };
    if (a === '--quick' || a === '--smoke') o.profile = a.slice(2);
    else if (a === '--connections') explicit.connections = Math.round(num());
    else if (a === '--duration') explicit.duration = num();
    else if (a === '--rate') explicit.rate = num();
    else if (a === '--burst') explicit.burst = Math.round(num());
    else if (a === '--zipf') o.zipf = num();
    else if (a === '--seed') o.seed = Math.round(num());
    else if (a === '--shards') o.shards = Math.round(num());
    else if (a === '--per-client') o.perClient = Math.round(num());
    else if (a === '--payload') o.payload = Math.round(num());
    else if (a === '--wait-quiet') o.waitQuiet = num();
    else if (a === '--env') {
      const kv = val();
      const eq = kv.indexOf('=');
      if (eq < 1) throw new Error(`--env wants NAME=VALUE, got ${kv}`);
      o.env[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else if (a === '--out') o.out = val();
    else if (a === '--targets') {
      o.targets = val().split(',').map((t) => t.trim());
      for (const t of o.targets) if (!TARGETS.includes(t)) throw new Error(`--targets: one of ${TARGETS.join(', ')}`);
    } else throw new Error(`unknown option ${a} (see the header of bench/topics.mjs)`);
  }
  Object.assign(o, PROFILES[o.profile], explicit);
  if (o.connections < 20) throw new Error('--connections: at least 20 (two groups of 10)');
  return o;
}

const log = (m) => process.stderr.write(`[topics] ${m}\n`);
const sumOf = (list, f) => list.reduce((x, v) => x + f(v), 0);

// ------------------------------------------------------------------------------------------------
// Server and clients

async function startServer(kind, o) {
  const target = await import(`./targets/${kind}.mjs`);
  const installed = await target.install({ log });
  const inspectPort = target.inspectable ? await freePort() : undefined;
  const server = await target.start({
    port: await freePort(),
    apiPort: await freePort(),
    shards: o.shards,
    inspectPort,
    // Only the gateway reads it: which event fields subscription constraints match on.
    env: kind === 'gateway' ? { EXTRACTORS: JSON.stringify(EXTRACTORS), ...o.env } : {},
    log,
  });
  const gc = inspectPort ? await InspectorGc.connect(inspectPort, server.isolates ?? 0) : undefined;
  return { ...server, kind, installed, gc };
}

/** Server RSS after `settleMs` and (Node targets) a full GC in every isolate. */
async function settledRss(server, settleMs) {
  await sleep(settleMs);
  if (server.gc) {
    await server.gc.collectEverywhere();
    await sleep(300);
  }
  return sumOf(server.pids, rssBytes);
}

async function startClients(server, o, table) {
  const count = Math.max(2, Math.ceil(o.connections / o.perClient));
  const topicIds = Object.fromEntries(table.names.map((t, id) => [t, id]));
  const clients = Array.from({ length: count }, (_, i) => new Child(CLIENT, `client ${i}`));
  const sub = server.subscribe.ws;
  const basePath = sub.path.split('?')[0];
  // The gateway and the node baseline confirm subscriptions with rig.subscriptions_set; Centrifuge
  // answers the connect command with the channels it subscribed ("subs":{"u.1":{},...}).
  const ready = server.kind === 'centrifuge' ? '"subs":{"' : sub.ready;
  await Promise.all(clients.map((c) => c.request({ cmd: 'init', host: server.host, port: server.port, n: o.connections, target: server.kind, basePath, ready, topicIds }, 'ready')));
  return clients;
}

async function connectAll(clients, o) {
  const parts = split(o.connections, clients.length);
  let first = 0;
  const t0 = Date.now();
  const res = await Promise.all(
    clients.map((c, i) => {
      const m = { cmd: 'connect', first, count: parts[i], concurrency: Math.ceil(o.concurrency / clients.length) };
      first += parts[i];
      return c.request(m, 'connected', 300_000);
    }),
  );
  return {
    connections: sumOf(res, (r) => r.ok),
    subscriptions: sumOf(res, (r) => r.subscriptions),
    failed: sumOf(res, (r) => r.failed),
    failureSamples: res.flatMap((r) => r.failureSamples).slice(0, 5),
    seconds: round((Date.now() - t0) / 1000, 1),
  };
}

// ------------------------------------------------------------------------------------------------
// Measurement

async function snapshot(ctx, reset) {
  const clients = await Promise.all(ctx.clients.map((c) => c.request({ cmd: 'stats', reset }, 'stats', 60_000)));
  return { t: nowUs(), serverCpu: sumOf(ctx.server.pids, processCpu), machine: machineCpu(), self: process.cpuUsage(), clients };
}

function phaseReport(ctx, a, b) {
  const wall = (b.t - a.t) / 1e6;
  const pct = (s) => round((100 * s) / wall, 1);
  const server = b.serverCpu - a.serverCpu;
  const clients = b.clients.map((c, i) => (c.cpuUs.user + c.cpuUs.system - a.clients[i].cpuUs.user - a.clients[i].cpuUs.system) / 1e6);
  const publisher = (b.self.user + b.self.system - a.self.user - a.self.system) / 1e6;
  const hist = new Histogram();
  for (const c of b.clients) hist.merge(c.histogram, c.max);
  const deliveries = sumOf(b.clients, (c) => c.delivered);
  return {
    deliveries,
    lost: sumOf(b.clients, (c) => c.lost),
    unexpected: sumOf(b.clients, (c) => c.extra) - sumOf(a.clients, (c) => c.extra),
    eventsPerClientRead: round(deliveries / Math.max(1, sumOf(b.clients, (c) => c.reads)), 2),
    disconnects: sumOf(b.clients, (c) => c.disconnects),
    latencyMs: hist.percentiles(),
    cpu: {
      wallSeconds: round(wall, 2),
      serverSeconds: round(server, 2),
      serverPercent: pct(server),
      clientsPercent: clients.map(pct),
      publisherPercent: pct(publisher),
      machineBusyPercent: round((100 * (b.machine.busy - a.machine.busy)) / (b.machine.total - a.machine.total), 1),
    },
    serverCpuSecondsPerMillionDeliveries: round((server * 1e6) / Math.max(1, deliveries), 3),
  };
}

/** Tells every client which topics the next events go to; `wait()` resolves when all have them. */
async function expectTopics(ctx, topics, timeoutMs) {
  const seq = ++ctx.seq;
  const arr = Int32Array.from(topics);
  for (const c of ctx.clients) c.send({ cmd: 'expect', topics: arr, seq });
  return async () => {
    const res = await Promise.allSettled(ctx.clients.map((c) => c.next((m) => m.evt === 'reached' && m.seq === seq, timeoutMs)));
    if (res.every((r) => r.status === 'fulfilled')) return { complete: true, at: Math.max(...res.map((r) => r.value.at)) };
    await Promise.all(ctx.clients.map((c) => c.request({ cmd: 'sync', seq }, 'synced', 30_000)));
    return { complete: false, at: nowUs() };
  };
}

function route(ctx, id) {
  const topic = ctx.table.names[id];
  return { data: dataFieldsOf(topic), query: ctx.server.kind === 'centrifuge' ? `?channel=${topic}` : undefined };
}

async function oneBurst(ctx, sample, size) {
  const topics = Array.from({ length: size }, sample);
  const expected = sumOf(topics, (id) => ctx.table.members[id]);
  const wait = await expectTopics(ctx, topics, 10_000 + expected / 20);
  const t0 = nowUs();
  const ok = await Promise.all(topics.map((id) => ctx.publisher.publish(nowUs(), route(ctx, id))));
  const r = await wait();
  return { ms: (r.at - t0) / 1000, accepted: ok.filter(Boolean).length, expected, complete: r.complete };
}

async function burstPhase(ctx) {
  const { burst, duration } = ctx.o;
  const sample = zipfSampler(ctx.table.names.length, ctx.o.zipf, ctx.o.seed);
  await oneBurst(ctx, sample, burst); // warm-up, not counted
  const a = await snapshot(ctx, true);
  const bursts = [];
  const end = Date.now() + duration * 1000;
  while (bursts.length < 2 || (Date.now() < end && bursts.length < 100_000)) bursts.push(await oneBurst(ctx, sample, burst));
  const b = await snapshot(ctx, true);
  const rep = phaseReport(ctx, a, b);
  const activeMs = sumOf(bursts, (x) => x.ms);
  const ms = bursts.map((x) => x.ms).sort((x, y) => x - y);
  return {
    name: `burst-${burst}`,
    kind: 'burst',
    burstSize: burst,
    bursts: bursts.length,
    events: sumOf(bursts, (x) => x.accepted),
    expectedDeliveries: sumOf(bursts, (x) => x.expected),
    incompleteBursts: bursts.filter((x) => !x.complete).length,
    ...rep,
    deliveriesPerSecond: round((rep.deliveries * 1000) / activeMs),
    eventsPerSecond: round((sumOf(bursts, (x) => x.accepted) * 1000) / activeMs),
    burstMs: { p50: round(ms[ms.length >> 1], 1), max: round(ms.at(-1), 1) },
  };
}

async function ratePhase(ctx) {
  const { rate, duration } = ctx.o;
  const n = Math.max(1, Math.round(rate * duration));
  const sample = zipfSampler(ctx.table.names.length, ctx.o.zipf, ctx.o.seed + 1);
  const topics = Array.from({ length: n }, sample);
  const expected = sumOf(topics, (id) => ctx.table.members[id]);
  const a = await snapshot(ctx, true);
  // Bounded: what has not arrived 15 s after the phase's planned end is lost.
  const wait = await expectTopics(ctx, topics, 15_000 + duration * 1000);
  const intervalUs = 1e6 / rate;
  const start = nowUs() + 2000;
  const sends = [];
  let late = 0;
  await new Promise((done) => {
    let i = 0;
    const tick = () => {
      const now = nowUs();
      while (i < n && start + i * intervalUs <= now) {
        const intended = start + i * intervalUs;
        if (now - intended > 1000) late++;
        sends.push(ctx.publisher.publish(intended, route(ctx, topics[i])));
        i++;
      }
      if (i >= n) return done();
      setTimeout(tick, Math.max(0, (start + i * intervalUs - nowUs()) / 1000));
    };
    tick();
  });
  const ok = await Promise.all(sends);
  const r = await wait();
  const b = await snapshot(ctx, true);
  const rep = phaseReport(ctx, a, b);
  return {
    name: `rate-${rate}`,
    kind: 'rate',
    ratePerSecond: rate,
    seconds: duration,
    events: ok.filter(Boolean).length,
    expectedDeliveries: expected,
    complete: r.complete,
    eventsSentOverOneMsLate: late,
    ...rep,
    deliveriesPerSecond: round(rep.deliveries / ((r.at - start) / 1e6)),
  };
}

// ------------------------------------------------------------------------------------------------

async function runAgainst(kind, o, table, running) {
  log(`${kind}: starting`);
  const server = await startServer(kind, o);
  running.add(server);
  const ctx = { o, server, table, seq: 0, clients: [] };
  const run = { server: kind, settings: server.settings, installed: server.installed, phases: [] };
  try {
    ctx.clients = await startClients(server, o, table);
    for (const c of ctx.clients) running.add(c);
    const rssBefore = await settledRss(server, o.settleMs);
    const conn = await connectAll(ctx.clients, o);
    log(`${kind}: ${conn.connections}/${o.connections} connections, ${conn.subscriptions} subscriptions in ${conn.seconds} s${conn.failed ? `; ${conn.failed} failed: ${conn.failureSamples.join(' | ')}` : ''}`);
    const rssAfter = await settledRss(server, o.settleMs);
    run.connect = conn;
    run.memory = {
      rssBeforeBytes: rssBefore,
      rssSubscribedBytes: rssAfter,
      bytesPerConnection: round((rssAfter - rssBefore) / Math.max(1, conn.connections)),
      bytesPerSubscription: round((rssAfter - rssBefore) / Math.max(1, conn.subscriptions)),
      afterFullGc: Boolean(server.gc),
    };
    log(`${kind}: RSS ${round(rssBefore / 1048576, 1)} -> ${round(rssAfter / 1048576, 1)} MB: ${run.memory.bytesPerConnection} B per connection, ${run.memory.bytesPerSubscription} B per subscription`);
    ctx.publisher = new Publisher(server.publish, o.publishConcurrency, o.payload);
    for (const phase of [burstPhase, ratePhase]) {
      const p = await phase(ctx);
      run.phases.push(p);
      const l = p.latencyMs;
      log(`${kind} ${p.name}: ${p.deliveries}/${p.expectedDeliveries} deliveries (${p.lost} lost, ${p.unexpected} unexpected), ${p.deliveriesPerSecond}/s, p50 ${l.p50} ms p99 ${l.p99} ms; server ${p.cpu.serverPercent}% CPU, machine ${p.cpu.machineBusyPercent}% busy`);
    }
    run.publishStatuses = ctx.publisher.statuses;
    run.publishErrors = ctx.publisher.errors;
    run.serverAliveAtEnd = server.alive();
  } finally {
    ctx.publisher?.close();
    await Promise.allSettled(ctx.clients.map((c) => c.close()));
    for (const c of ctx.clients) running.delete(c);
    server.gc?.close();
    await server.stop();
    running.delete(server);
  }
  return run;
}

async function main() {
  const o = parseArgs(process.argv);
  const facts = machineFacts();
  const startedAt = new Date().toISOString();
  const table = topicTable(o.connections);
  const subscriptions = sumOf(Array.from(table.members), (m) => m);
  const res = {
    benchmark: 'topics',
    startedAt,
    command: `node ${relative(ROOT, fileURLToPath(import.meta.url))} ${process.argv.slice(2).join(' ')}`.trim(),
    options: o,
    machine: facts,
    layout: { connections: o.connections, topics: table.names.length, subscriptions, topicsPerConnection: round(subscriptions / o.connections, 2), meanSubscribersPerTopic: round(subscriptions / table.names.length, 2) },
    runs: [],
  };
  res.publisherNice = raisePriority();
  res.machineBusyBeforeStartPercent = await machineBusyBeforeStart(o.waitQuiet);
  if (res.machineBusyBeforeStartPercent > 10) log(`warning: the machine was ${res.machineBusyBeforeStartPercent}% busy before the start; other load skews every figure`);
  const running = new Set();
  stopOnSignals(running, log);
  for (const kind of o.targets) res.runs.push(await runAgainst(kind, o, table, running));
  res.finishedAt = new Date().toISOString();
  const out = resolve(ROOT, o.out ?? `bench/results/topics-${startedAt.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(res, null, 2) + '\n');
  process.stdout.write(`Result: ${relative(process.cwd(), out)}\n`);
  const failed = res.runs.some((r) => !r.serverAliveAtEnd || r.phases.some((p) => p.deliveries === 0));
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`[topics] failed: ${e?.stack ?? e}\n`);
  process.exit(1);
});
