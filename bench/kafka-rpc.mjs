#!/usr/bin/env node
/**
 * Kafka request/reply benchmark: the round trip of a `target: "kafka"`, `response_from: "kafka"`
 * endpoint (docs/api-gateway.md, "Asynchronous replies") at fixed request rates, against the same
 * round trip built by hand without the gateway. What it measures and the latest figures:
 * docs/benchmarks.md ("Kafka request/reply benchmark").
 *
 *   node bench/kafka-rpc.mjs --quick       # 200, 1 000 and 2 000 requests/s, 10 s each, ~2 min
 *   node bench/kafka-rpc.mjs --smoke       # 100 requests/s for 2 s per way, seconds (plus broker start)
 *   node bench/kafka-rpc.mjs --full        # 200 … 4 000 requests/s, 20 s each
 *   options: --brokers host:port (use that broker instead of starting one) --rates 500,1000
 *            --seconds S --warmup S --jit-warmup S --connections N --partitions P --acks all|leader|none
 *            --payload BYTES --shards N --out FILE
 *
 * Processes (all on loopback): a broker (scripts/kafka-local.sh on a free port, stopped at the
 * end, also on error or Ctrl-C; or --brokers), the built gateway (npm run build first; SHARDS=2)
 * with one kafka-target endpoint `POST /rpc`, the responder (bench/clients/kafka-responder.mjs,
 * the backend answering every request on the reply topic) and one load process per way
 * (bench/clients/rpc-load.mjs): `gateway` posts over HTTP, `baseline` produces to Kafka and
 * consumes the replies itself. Both ways use their own request and reply topics and the same
 * responder. First each way runs --jit-warmup seconds at the highest rate (unrecorded: a fresh
 * broker's JVM compiles its hot code then); then per rate and way a warm-up at the rate and the
 * measured run. The responder's receive time in each reply splits every round trip into the
 * request leg (sent → responder) and the reply leg (responder → answer). CPU of every process
 * from /proc over the measured run. JSON result to --out or bench/results/, Markdown to stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { Child, freePort, machineBusyBeforeStart, nowUs, options, round, sleep } from './lib/common.mjs';
import { startBroker } from './lib/kafka-broker.mjs';
import { machineCpu, machineFacts, processCpu, threadCpu } from './lib/procfs.mjs';
import * as gatewayTarget from './targets/gateway.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const RESPONDER = join(BENCH, 'clients/kafka-responder.mjs');
const LOAD = join(BENCH, 'clients/rpc-load.mjs');
const WAYS = ['gateway', 'baseline'];
/** The gateway's PROXY_KAFKA_RESPONSE_TIMEOUT default: a request waits this long, then 504. */
const REPLY_TIMEOUT_MS = 5000;
const ACKS = { all: -1, leader: 1, none: 0 };

const PROFILES = {
  smoke: { rates: [100], seconds: 2, warmup: 1, jitWarmup: 1 },
  quick: { rates: [200, 1000, 2000], seconds: 10, warmup: 2, jitWarmup: 10 },
  full: { rates: [200, 500, 1000, 2000, 4000], seconds: 20, warmup: 3, jitWarmup: 15 },
};

function parseArgs(argv) {
  const o = { profile: 'quick', brokers: undefined, connections: 64, partitions: 2, acks: 'all', payload: 100, shards: 2, out: undefined };
  const custom = {};
  for (const { name: a, value: val } of options(argv)) {
    if (a === '--smoke' || a === '--quick' || a === '--full') o.profile = a.slice(2);
    else if (a === '--brokers') o.brokers = val();
    else if (a === '--rates') custom.rates = val().split(',').map(Number);
    else if (a === '--seconds') custom.seconds = Number(val());
    else if (a === '--warmup') custom.warmup = Number(val());
    else if (a === '--jit-warmup') custom.jitWarmup = Number(val());
    else if (a === '--connections') o.connections = Number(val());
    else if (a === '--partitions') o.partitions = Number(val());
    else if (a === '--acks') o.acks = val();
    else if (a === '--payload') o.payload = Number(val());
    else if (a === '--shards') o.shards = Number(val());
    else if (a === '--out') o.out = val();
    else throw new Error(`unknown option ${a} (see the head of bench/kafka-rpc.mjs)`);
  }
  Object.assign(o, PROFILES[o.profile], custom);
  if (!(o.acks in ACKS)) throw new Error('--acks must be all, leader or none');
  if (!o.rates.every((r) => r > 0 && r <= 20_000)) throw new Error('--rates: 1..20000 requests/s each');
  if (!(o.seconds > 0 && o.seconds <= 300)) throw new Error('--seconds: 0..300');
  return o;
}

const log = (m) => process.stderr.write(`[kafka-rpc] ${m}\n`);
const running = { broker: undefined, gateway: undefined, children: [] };

async function cleanup() {
  await Promise.allSettled(running.children.map((c) => c.close()));
  running.children = [];
  if (running.gateway) {
    const gw = running.gateway;
    running.gateway = undefined;
    await gw.stop().catch(() => undefined);
  }
  running.broker?.stop();
  running.broker = undefined;
}

// ------------------------------------------------------------------------------------------------
// CPU over a measured run

function snapshot(ctx, load) {
  return {
    t: nowUs(),
    gw: processCpu(ctx.gw.pids[0]),
    gwThreads: threadCpu(ctx.gw.pids[0]),
    broker: ctx.brokerPid ? processCpu(ctx.brokerPid) : NaN,
    responder: processCpu(ctx.responder.pid),
    load: processCpu(load.pid),
    machine: machineCpu(),
  };
}

/** % of one core per process between two snapshots, the gateway split into main and shards. */
function cpuReport(ctx, a, b) {
  const wall = (b.t - a.t) / 1e6;
  const pct = (s) => round((100 * s) / wall, 1);
  const gwPid = ctx.gw.pids[0];
  const threads = [];
  for (const [tid, s] of b.gwThreads) {
    const d = s - (a.gwThreads.get(tid) ?? 0);
    if (d > 0 && tid !== gwPid) threads.push(pct(d));
  }
  threads.sort((x, y) => y - x);
  const r = {
    wallSeconds: round(wall, 2),
    gatewaySeconds: round(b.gw - a.gw, 2),
    gateway: pct(b.gw - a.gw),
    gatewayMain: pct((b.gwThreads.get(gwPid) ?? 0) - (a.gwThreads.get(gwPid) ?? 0)),
    // The busiest worker threads are the shards (the others are libuv's and V8's helpers).
    gatewayShards: threads.slice(0, ctx.opts.shards),
    brokerSeconds: round(b.broker - a.broker, 2),
    broker: pct(b.broker - a.broker),
    responderSeconds: round(b.responder - a.responder, 2),
    responder: pct(b.responder - a.responder),
    loadSeconds: round(b.load - a.load, 2),
    load: pct(b.load - a.load),
    machineBusyPercent: round((100 * (b.machine.busy - a.machine.busy)) / (b.machine.total - a.machine.total), 1),
  };
  const hot = [];
  if (r.gatewayMain >= 85) hot.push(`gateway main thread ${r.gatewayMain}%`);
  r.gatewayShards.forEach((s, i) => s >= 85 && hot.push(`shard ${i} ${s}%`));
  for (const k of ['broker', 'responder', 'load']) if (r[k] >= 85) hot.push(`${k} ${r[k]}%`);
  if (r.machineBusyPercent >= 90) hot.push(`machine ${r.machineBusyPercent}% busy of ${ctx.facts.cores} cores`);
  const busiest = [['gateway', r.gateway], ['broker', r.broker], ['responder', r.responder], ['load', r.load]].sort((x, y) => (y[1] ?? -1) - (x[1] ?? -1))[0];
  r.saturated = hot.length ? hot.join(', ') : `none (busiest: ${busiest[0]} ${busiest[1]}% of one core; machine ${r.machineBusyPercent}% of ${ctx.facts.cores} cores)`;
  return r;
}

// ------------------------------------------------------------------------------------------------

async function measure(ctx, way, rate) {
  const o = ctx.opts;
  const load = ctx.loads[way];
  const drainMs = REPLY_TIMEOUT_MS + 3000;
  const warm = await load.request({ cmd: 'run', rate, seconds: o.warmup, drainMs }, 'done', (o.warmup + 30) * 1000);
  const a = snapshot(ctx, load);
  const r = await load.request({ cmd: 'run', rate, seconds: o.seconds, drainMs }, 'done', (o.seconds + 60) * 1000);
  const b = snapshot(ctx, load);
  const cpu = cpuReport(ctx, a, b);
  const per1000 = (s) => (r.ok > 0 ? round((s * 1000) / r.ok, 3) : null);
  const phase = {
    way,
    rate,
    seconds: o.seconds,
    planned: r.planned,
    answered: r.answered,
    ok: r.ok,
    statuses: r.statuses,
    timeouts504: r.statuses[504] ?? 0,
    errors: r.errors,
    errorSamples: r.errorSamples,
    unanswered: r.unanswered,
    achievedPerSecond: round(r.ok / r.sendSeconds),
    latencyMs: r.latencyMs,
    latencyCounts: Array.from(r.latencyCounts),
    sendLatenessMs: r.sendLatenessMs,
    requestLegMs: r.requestLegMs,
    replyLegMs: r.replyLegMs,
    warmup: { planned: warm.planned, ok: warm.ok, p99: warm.latencyMs.p99 },
    cpu,
    cpuSecondsPer1000: { gateway: way === 'gateway' ? per1000(cpu.gatewaySeconds) : null, responder: per1000(cpu.responderSeconds), load: per1000(cpu.loadSeconds), broker: per1000(cpu.brokerSeconds) },
  };
  const l = r.latencyMs;
  log(`${way} @ ${rate}/s: ${r.ok}/${r.planned} answered 200 (${phase.timeouts504} × 504, ${r.errors} errors, ${r.unanswered} unanswered), p50 ${l.p50} p99 ${l.p99} p99.9 ${l.p999} max ${l.max} ms (legs p50/p99: request ${r.requestLegMs.p50}/${r.requestLegMs.p99}, reply ${r.replyLegMs.p50}/${r.replyLegMs.p99}); saturated: ${cpu.saturated}`);
  return phase;
}

function markdown(res) {
  const o = res.options;
  const lines = [];
  lines.push(`### Kafka request/reply, ${res.when} (\`${res.command}\`)`, '');
  lines.push(`${res.machine.cpuModel}, ${res.machine.cores} cores, load average ${res.loadAverageAtStart.map((x) => round(x, 2)).join(' / ')} at the start (machine ${res.machineBusyAtStartPercent}% busy just before); broker ${res.broker.external ? o.brokers : 'scripts/kafka-local.sh'}, topics of ${o.partitions} partitions, acks ${o.acks}, SHARDS=${o.shards}, ${o.connections} keep-alive connections, ${o.seconds} s per rate and way after a ${o.warmup} s warm-up.`, '');
  lines.push('| requests/s | way | answered 200 / planned | 504 | errors | p50 / p90 / p99 / p99.9 / max (ms) | request leg / reply leg p50, p99 (ms) | gateway ÷ baseline p99 | CPU-s per 1 000 requests (gateway / responder / load / broker) | saturated |');
  lines.push('| ---: | --- | --- | ---: | ---: | --- | --- | ---: | --- | --- |');
  const legs = (p) => `${round(p.requestLegMs.p50, 2)} / ${round(p.replyLegMs.p50, 2)}, ${round(p.requestLegMs.p99, 2)} / ${round(p.replyLegMs.p99, 2)}`;
  const num = (x) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : String(x));
  for (const rate of o.rates) {
    const gw = res.phases.find((p) => p.rate === rate && p.way === 'gateway');
    const bl = res.phases.find((p) => p.rate === rate && p.way === 'baseline');
    for (const p of [gw, bl]) {
      if (!p) continue;
      const l = Object.fromEntries(Object.entries(p.latencyMs).map(([k, v]) => [k, round(v, 2)]));
      const ratio = p === gw && bl && bl.latencyMs.p99 > 0 ? `${round(gw.latencyMs.p99 / bl.latencyMs.p99, 2)}×` : '';
      const c = p.cpuSecondsPer1000;
      lines.push(`| ${rate} | ${p.way} | ${p.ok} / ${p.planned} | ${p.timeouts504} | ${p.errors + p.unanswered} | ${l.p50} / ${l.p90} / ${l.p99} / ${l.p999} / ${l.max} | ${legs(p)} | ${ratio} | ${num(c.gateway)} / ${num(c.responder)} / ${num(c.load)} / ${num(c.broker)} | ${p.cpu.saturated} |`);
    }
  }
  if (res.outFile) lines.push('', `Result: ${res.outFile}`);
  return lines.join('\n');
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const facts = machineFacts();
  const when = new Date().toISOString();
  const res = {
    benchmark: 'kafka-rpc',
    when,
    command: `node bench/kafka-rpc.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    options: { ...o, out: undefined, replyTimeoutMs: REPLY_TIMEOUT_MS },
    machine: facts,
    loadAverageAtStart: os.loadavg(),
    machineBusyAtStartPercent: await machineBusyBeforeStart(0),
    phases: [],
  };
  const ctx = { opts: o, facts, loads: {} };
  try {
    if (o.brokers) res.broker = { external: true };
    else {
      running.broker = await startBroker(log);
      o.brokers = running.broker.brokers;
      ctx.brokerPid = running.broker.pid;
      res.broker = { external: false, startSeconds: running.broker.startSeconds };
    }
    const stamp = `${Date.now().toString(36)}-${process.pid}`;
    const topic = (name) => `rpc-${name}-${stamp}`;
    const topics = { gwReq: topic('gw-requests'), gwRep: topic('gw-replies'), blReq: topic('bl-requests'), blRep: topic('bl-replies'), source: topic('source') };
    const admin = new Kafka({ clientId: 'kafka-rpc-admin', brokers: o.brokers.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({
      topics: Object.entries(topics).map(([k, t]) => ({ topic: t, numPartitions: k === 'source' ? 1 : o.partitions, replicationFactor: 1 })),
      waitForLeaders: true,
    });
    await admin.disconnect();

    const port = await freePort();
    const definitions = [
      {
        id: 'rpc',
        name: 'rpc',
        version_data: { default: { endpoints: [{ id: 'ask', method: 'POST', path_regex: '/rpc', target: 'kafka', topic: topics.gwReq, response_from: 'kafka' }] } },
        proxy: { target_url: 'unused.invalid', port: 1 },
      },
    ];
    const gw = await gatewayTarget.start({
      port,
      shards: o.shards,
      log,
      env: {
        KAFKA_BROKERS: o.brokers,
        KAFKA_SOURCE_TOPICS: topics.source,
        KAFKATOFILTER_KAFKA_GROUP_ID: `rpc-source-${stamp}`,
        PROXY_KAFKA_RESPONSE_TOPICS: topics.gwRep,
        PROXY_KAFKA_RESPONSE_KAFKA_GROUP_ID: `rpc-replies-${stamp}`,
        PROXY_KAFKA_RESPONSE_TIMEOUT: String(REPLY_TIMEOUT_MS),
        KAFKA_PRODUCER_ACKS: o.acks,
        PROXY_CONFIG_FILE: JSON.stringify(definitions),
      },
    });
    running.gateway = gw;
    ctx.gw = gw;
    const t0 = Date.now();
    while ((await fetch(`http://127.0.0.1:${gw.apiPort}/ready`).then((r) => r.status, () => 0)) !== 200) {
      if (Date.now() - t0 > 60_000) throw new Error(`gateway not ready after 60 s:\n${gw.output()}`);
      await sleep(100);
    }

    ctx.responder = new Child(RESPONDER, 'responder');
    running.children.push(ctx.responder);
    await ctx.responder.request({ cmd: 'init', brokers: o.brokers, routes: { [topics.gwReq]: topics.gwRep, [topics.blReq]: topics.blRep }, groupId: `rpc-responder-${stamp}`, acks: ACKS[o.acks] }, 'ready', 60_000);
    for (const way of WAYS) {
      const load = new Child(LOAD, `load ${way}`);
      running.children.push(load);
      ctx.loads[way] = load;
      const init = way === 'gateway'
        ? { cmd: 'init', mode: 'gateway', url: `http://127.0.0.1:${port}/rpc`, connections: o.connections, payload: o.payload }
        : { cmd: 'init', mode: 'baseline', brokers: o.brokers, requestTopic: topics.blReq, replyTopic: topics.blRep, groupId: `rpc-baseline-${stamp}`, acks: ACKS[o.acks], payload: o.payload };
      await load.request(init, 'ready', 60_000);
      const primed = await load.request({ cmd: 'prime', timeoutMs: 60_000 }, 'primed', 90_000);
      log(`${way}: first reply after ${primed.ms} ms (${primed.attempts} attempts)`);
      if (!primed.ok) throw new Error(`${way}: no reply within 60 s (${JSON.stringify(primed.statuses)})${way === 'gateway' ? `\n${gw.output()}` : ''}`);
    }
    // A fresh broker's JVM and the gateway's code are still being compiled during the first
    // seconds of load: each way first runs at the highest rate, unrecorded, so that the first
    // measured phase is not the one that pays for it.
    for (const way of WAYS) {
      const w = await ctx.loads[way].request({ cmd: 'run', rate: Math.max(...o.rates), seconds: o.jitWarmup, drainMs: REPLY_TIMEOUT_MS + 3000 }, 'done', (o.jitWarmup + 30) * 1000);
      log(`${way}: warm-up ${o.jitWarmup} s at ${Math.max(...o.rates)}/s, ${w.ok}/${w.planned} answered 200, p99 ${w.latencyMs.p99} ms`);
    }
    for (const rate of o.rates) for (const way of WAYS) res.phases.push(await measure(ctx, way, rate));
    res.gatewayStats = await fetch(`http://127.0.0.1:${gw.apiPort}/v3/stats`).then((r) => r.json(), () => undefined);
    res.responderStats = await ctx.responder.request({ cmd: 'stats' }, 'stats', 10_000);
    res.loadAverageAtEnd = os.loadavg();
    res.gatewayAliveAtEnd = gw.alive();
  } finally {
    const gwOut = running.gateway?.output().trim();
    await cleanup();
    if (gwOut) res.gatewayOutputTail = gwOut.slice(-4000);
  }
  if (o.out) res.outFile = o.out;
  else {
    mkdirSync(join(BENCH, 'results'), { recursive: true });
    res.outFile = join('bench/results', `kafka-rpc-${o.profile}-${when.replace(/[:.]/g, '-')}.json`);
  }
  writeFileSync(resolve(ROOT, res.outFile), JSON.stringify(res, null, 2) + '\n');
  process.stdout.write(markdown(res) + '\n');
  process.exitCode = res.phases.length > 0 && res.phases.every((p) => p.ok > 0) ? 0 : 1;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, async () => {
    log(`${sig}: stopping`);
    const t = setTimeout(() => process.exit(130), 20_000);
    await cleanup();
    clearTimeout(t);
    process.exit(130);
  });
}
main().catch(async (e) => {
  log(`failed: ${e?.stack ?? e}`);
  await cleanup();
  process.exit(1);
});
