#!/usr/bin/env node
/**
 * Fan-out benchmark. Starts a server (a target of bench/targets/: the gateway, the plain Node
 * baseline, nginx + Nchan, Centrifuge) as its own process(es), K load client processes
 * (bench/clients/fanout-client.mjs, raw SSE/WS sockets, each <= --per-client connections so no
 * process nears the open-files limit) and publishes from this process over keep-alive HTTP to the
 * target's publish endpoint (the gateway's POST /v3/messages). Each target in --targets runs in
 * turn with the same load. Phases:
 *
 *   idle   gateway RSS per idle connection: RSS with all connections idle minus RSS with none,
 *          each read right after a full GC forced in every thread through the inspector (the
 *          server runs with --inspect on loopback; --no-gc reads after a long idle wait instead).
 *          Per transport: after a warm-up group of each, the rest connect in chunks alternating
 *          SSE and WS, and each transport's figure is the median of its chunks' RSS growth.
 *   burst  closed-loop bursts of B events (default 1, 20, 100): publish B events concurrently,
 *          wait until every subscriber has all of them, repeat for --duration seconds.
 *          deliveries/s = events received by all clients / sum over bursts of (first publish ->
 *          last receipt).
 *   rate   R events/s (default 100) for --duration seconds, sent at their intended times (the
 *          timestamp in the event is the intended time, so a late publisher shows up as latency:
 *          no coordinated omission); every k-th connection records publish -> receipt latency.
 *
 * Two modes replace those phases (no idle measurement; the connections are simply opened):
 *   slow   (--mode slow) slow consumers. For each fraction f of --slow-fractions (default 1 % and
 *          10 %): R events/s for --duration s with every client reading ("without"), then the
 *          clients stop reading f of the connections (socket.pause(): the kernel buffers fill, then
 *          the server sees backpressure) and R events/s run again for a fill time plus --duration s
 *          ("with"). The fill time (--slow-fill, default auto) is how long it takes until a paused
 *          connection was sent --slow-fill-bytes (about what the loopback kernel buffers of one
 *          connection hold plus the gateway's outbound queue), from the bytes per event the
 *          healthy clients received; healthy latency is reported for the window after it. Then the
 *          paused connections read again (unmeasured) to learn whether and why the server closed
 *          them, are closed, and are replaced by fresh ones. Server RSS is sampled every 250 ms
 *          (start/peak/end); past --rss-limit-mb the phase is aborted and the target stopped.
 *   storm  (--mode storm, gateway only) reconnect storms with JWTs: the gateway runs with
 *          JWT_ALG=--jwt-alg (HS256: a random secret; RS256: a fresh 2048-bit key pair, the public
 *          PEM as JWT_SECRET_KEY), every connection carries its own token (distinct sub and jti).
 *          For each storm of --storms (default half-warm,half-cold,all-cold) the selected
 *          connections (half: every second one; all) are reset at once (RST, as when a network
 *          path fails) and reconnect after a random 0..--storm-jitter-ms delay (a failed attempt is
 *          retried after 250–500 ms), with their old token (warm: the gateway may have it
 *          in its per-shard cache) or a new one signed beforehand (cold). Reported: time from the
 *          drop until every one is subscribed again, failed attempts by status/close code, gateway
 *          CPU, kernel listen-queue overflows, and one event delivered to all afterwards.
 *
 * CPU time of every process (gateway per thread, each client, this publisher) is recorded per
 * phase, so the report can say which one saturated. Writes a JSON result (bench/results/) and
 * prints a Markdown summary.
 *
 * Usage: node bench/fanout.mjs [--subscribers 10000] [--transport sse|ws|mixed] [--shards 2]
 *        [--mode all|burst|rate|idle] [--duration 10] [--rate 100] [--bursts 1,20,100]
 *        [--quick] [--smoke] [--out bench/results/fanout-<ts>.json] [--targets gateway,node,nchan,centrifuge]
 *        [--baseline (= --targets gateway,node)] [--wait-quiet S]
 *        [--pin SERVER_CPUS:LOAD_CPUS] [--no-gc] [--payload BYTES] [--sample-every K]
 *        [--env NAME=VALUE ...] [--gateway-node-arg ARG ...]
 *        --mode slow: [--slow-fractions 0.01,0.1] [--slow-fill auto|S] [--slow-fill-bytes B]
 *                     [--slow-fill-max S] [--rss-limit-mb MB]
 *        --mode storm: [--jwt-alg HS256|RS256] [--storms half-warm,half-cold,all-cold,all-warm]
 *                      [--storm-jitter-ms 1000] [--storm-bound-s 30]
 * See docs/benchmarks.md for what each figure means and the latest results.
 */
import { spawnSync } from 'node:child_process';
import { createHmac, createPrivateKey, generateKeyPairSync, randomBytes, sign as rsaSign } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, freePort, int, machineBusyBeforeStart, nowUs, oneOf, options, percentiles, raisePriority, round, sleep, split, stopOnSignals } from './lib/common.mjs';
import { InspectorGc } from './lib/inspector-gc.mjs';
import { Publisher } from './lib/publisher.mjs';
import { kernelMemory, machineCpu, machineFacts, processCpu, rssBytes, threadCpu } from './lib/procfs.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const CLIENT_ENTRY = join(BENCH_DIR, 'clients/fanout-client.mjs');
const TARGETS = ['gateway', 'node', 'nchan', 'centrifuge'];
/** Largest backlog a baseline's rate phase may build before it is skipped (see the rate phase). */
const MAX_BASELINE_BACKLOG_BYTES = 512 * 1024 * 1024;

// ------------------------------------------------------------------------------------------------
// Options

const PROFILES = {
  default: { subscribers: 10_000, duration: 10, settleMs: 2000, longSettleMs: 12_000, warmupConnections: 500, idleChunks: 5 },
  quick: { subscribers: 10_000, duration: 15, settleMs: 2000, longSettleMs: 12_000, warmupConnections: 500, idleChunks: 5 },
  smoke: { subscribers: 200, duration: 1, settleMs: 200, longSettleMs: 300, warmupConnections: 20, idleChunks: 2 },
};

function parseArgs(argv) {
  const o = {
    transport: 'mixed',
    shards: 2,
    mode: 'all',
    rate: 100,
    bursts: [1, 20, 100],
    payload: 100,
    sampleEvery: 50,
    perClient: 9000,
    minClients: 2,
    concurrency: 200,
    publishConcurrency: 32,
    env: {},
    gatewayNodeArgs: [],
    targets: ['gateway'],
    workers: 2,
    waitQuiet: 0,
    gc: true,
    pin: undefined,
    profile: 'default',
    out: undefined,
    slowFractions: [0.01, 0.1],
    slowFill: 'auto',
    // Loopback kernel buffers absorb about 4 MB per connection that is not read (measured on the
    // benchmark machine) before a server sees backpressure, plus the gateway's 256 KiB queue.
    slowFillBytes: 4.5 * 1048576,
    slowFillMax: 120,
    rssLimitMb: 4096,
    jwtAlg: 'HS256',
    storms: ['half-warm', 'half-cold', 'all-cold'],
    stormJitterMs: 1000,
    stormBoundS: 30,
  };
  const explicit = {};
  for (const { name: a, value: val } of options(argv, 2)) {
    switch (a) {
      case '--quick': o.profile = 'quick'; break;
      case '--smoke': o.profile = 'smoke'; break;
      case '--subscribers': explicit.subscribers = int(val(), a); break;
      case '--duration': explicit.duration = Number(val()); break;
      case '--settle-ms': explicit.settleMs = int(val(), a); break;
      case '--long-settle-ms': explicit.longSettleMs = int(val(), a); break;
      case '--warmup-connections': explicit.warmupConnections = int(val(), a); break;
      case '--idle-chunks': explicit.idleChunks = Math.max(1, int(val(), a)); break;
      case '--transport': o.transport = oneOf(val(), ['sse', 'ws', 'mixed'], a); break;
      case '--shards': o.shards = int(val(), a); break;
      case '--mode': o.mode = oneOf(val(), ['all', 'burst', 'rate', 'idle', 'slow', 'storm'], a); break;
      case '--slow-fractions': o.slowFractions = val().split(',').map((x) => fraction(x, a)); break;
      case '--slow-fill': o.slowFill = autoOrSeconds(val(), a); break;
      case '--slow-fill-bytes': o.slowFillBytes = int(val(), a); break;
      case '--slow-fill-max': o.slowFillMax = Number(val()); break;
      case '--rss-limit-mb': o.rssLimitMb = int(val(), a); break;
      case '--jwt-alg': o.jwtAlg = oneOf(val().toUpperCase(), ['HS256', 'RS256'], a); break;
      case '--storms': o.storms = val().split(',').map((x) => oneOf(x.trim(), Object.keys(STORMS), a)); break;
      case '--storm-jitter-ms': o.stormJitterMs = int(val(), a); break;
      case '--storm-bound-s': o.stormBoundS = Number(val()); break;
      case '--rate': o.rate = Number(val()); break;
      case '--bursts': o.bursts = val().split(',').map((s) => int(s, a)); break;
      case '--payload': o.payload = int(val(), a); break;
      case '--sample-every': o.sampleEvery = int(val(), a); break;
      case '--per-client': o.perClient = int(val(), a); break;
      case '--clients': o.minClients = int(val(), a); break;
      case '--concurrency': o.concurrency = int(val(), a); break;
      case '--publish-concurrency': o.publishConcurrency = int(val(), a); break;
      case '--env': {
        const kv = val();
        const eq = kv.indexOf('=');
        if (eq < 1) throw new Error(`--env wants NAME=VALUE, got ${kv}`);
        o.env[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
      case '--gateway-node-arg': o.gatewayNodeArgs.push(val()); break;
      case '--baseline': o.targets = ['gateway', 'node']; break;
      case '--targets': o.targets = val().split(',').map((t) => oneOf(t.trim(), TARGETS, a)); break;
      case '--workers': o.workers = int(val(), a); break;
      case '--no-gc': o.gc = false; break;
      case '--wait-quiet': o.waitQuiet = Number(val()); break;
      case '--pin': {
        const m = /^([\d,-]+):([\d,-]+)$/.exec(val());
        if (!m) throw new Error('--pin wants SERVER_CPUS:LOAD_CPUS, e.g. 1:0');
        o.pin = { server: m[1], load: m[2] };
        break;
      }
      case '--out': o.out = val(); break;
      case '-h':
      case '--help':
        process.stdout.write(readUsage());
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  Object.assign(o, PROFILES[o.profile], explicit);
  if (o.payload < 40) throw new Error('--payload must be at least 40 bytes (timestamp and padding)');
  return o;
}

function readUsage() {
  return `node bench/fanout.mjs [--subscribers N] [--transport sse|ws|mixed] [--shards N] [--mode all|burst|rate|idle|slow|storm]
  [--duration S] [--rate EV_PER_S] [--bursts 1,20,100] [--payload BYTES] [--sample-every K]
  [--quick | --smoke] [--targets gateway,node,nchan,centrifuge] [--baseline] [--workers N] [--no-gc] [--wait-quiet S] [--pin SERVER_CPUS:LOAD_CPUS] [--out FILE] [--env NAME=VALUE] [--gateway-node-arg ARG]
  --mode slow:  [--slow-fractions 0.01,0.1] [--slow-fill auto|S] [--slow-fill-bytes B] [--slow-fill-max S] [--rss-limit-mb MB]
  --mode storm: [--jwt-alg HS256|RS256] [--storms ${Object.keys(STORMS).join(',')}] [--storm-jitter-ms MS] [--storm-bound-s S]
Needs a built gateway (npm run build).\n`;
}

function autoOrSeconds(s, name) {
  if (s === 'auto') return s;
  const n = Number(s);
  if (!(n >= 0)) throw new Error(`${name}: auto or a number of seconds, got ${s}`);
  return n;
}

function fraction(s, name) {
  const f = Number(s);
  if (!(f > 0 && f <= 0.5)) throw new Error(`${name}: fractions between 0 and 0.5, got ${s}`);
  return f;
}

// ------------------------------------------------------------------------------------------------
// Small helpers

function log(msg) {
  process.stderr.write(`[fanout] ${msg}\n`);
}


// ------------------------------------------------------------------------------------------------
// The server under test (a target of bench/targets/), as child process(es)

/** Installs (if needed) and starts target `name` on free ports; see bench/targets/. */
async function startServer(name, o) {
  const target = await import(`./targets/${name}.mjs`);
  const installed = await target.install({ log });
  const port = await freePort();
  // --inspect lets the idle phase force a full GC in every isolate of a Node server before reading RSS.
  const inspectPort = o.gc && target.inspectable ? await freePort() : undefined;
  const server = await target.start({
    port,
    apiPort: await freePort(),
    shards: o.shards,
    workers: o.workers,
    env: o.env,
    nodeArgs: o.gatewayNodeArgs,
    inspectPort,
    pin: o.pin?.server,
    log,
  });
  // Targets that are not Node programs are pinned after they started (every thread of every pid).
  if (o.pin && !target.inspectable) {
    for (const pid of server.pids) {
      const r = spawnSync('taskset', ['-a', '-p', '-c', o.pin.server, String(pid)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`taskset failed: ${r.stderr || r.error}`);
    }
  }
  return { ...server, kind: name, transports: target.transports, installed, inspectPort, output: server.output ?? (() => '') };
}

// ------------------------------------------------------------------------------------------------
// Load client processes

// ------------------------------------------------------------------------------------------------
// Measurement snapshots

async function snapshot(ctx, reset) {
  const clients = await Promise.all(ctx.clients.map((c) => c.request({ cmd: 'stats', reset }, 'stats', 60_000)));
  return {
    t: nowUs(),
    serverCpu: serverCpu(ctx.server),
    serverThreads: serverThreads(ctx.server),
    serverRss: serverRss(ctx.server),
    machine: machineCpu(),
    self: process.cpuUsage(),
    clients,
  };
}

/** CPU seconds, threads and RSS of a server summed over its processes (nginx: master + workers). */
const serverCpu = (server) => server.pids.reduce((x, pid) => x + processCpu(pid), 0);
const serverRss = (server) => server.pids.reduce((x, pid) => x + rssBytes(pid), 0);
function serverThreads(server) {
  const all = new Map();
  for (const pid of server.pids) for (const [tid, s] of threadCpu(pid)) all.set(tid, s);
  return all;
}

/** CPU use between two snapshots, per process (and per gateway thread), and who saturated. */
function cpuReport(ctx, a, b) {
  const wall = (b.t - a.t) / 1e6;
  const pct = (s) => round((100 * s) / wall, 1);
  const server = b.serverCpu - a.serverCpu;
  const threads = [];
  for (const [tid, s] of b.serverThreads) {
    const d = s - (a.serverThreads.get(tid) ?? 0);
    if (d > 0) threads.push({ tid, role: tid === ctx.server.pids[0] ? 'main' : ctx.server.pids.includes(tid) ? 'process' : 'thread', cpuSeconds: round(d, 2), cpuPercent: pct(d) });
  }
  threads.sort((x, y) => y.cpuSeconds - x.cpuSeconds);
  // With SHARDS=n the n busiest non-main threads are the shard workers (uWS event loops); the
  // rest are V8/libuv helpers (GC, compiler).
  let shardLabels = ctx.server.kind === 'gateway' ? ctx.server.threads : 0;
  for (const t of threads) if (t.role !== 'main' && shardLabels-- > 0) t.role = 'shard';
  const clients = b.clients.map((c, i) => {
    const s = (c.cpuUs.user + c.cpuUs.system - a.clients[i].cpuUs.user - a.clients[i].cpuUs.system) / 1e6;
    return { pid: ctx.clients[i].pid, cpuSeconds: round(s, 2), cpuPercent: pct(s) };
  });
  const publisher = (b.self.user + b.self.system - a.self.user - a.self.system) / 1e6;
  const machineTotal = b.machine.total - a.machine.total;
  const machineShare = (k) => round((100 * (b.machine[k] - a.machine[k])) / machineTotal, 1);
  const machineBusy = (b.machine.busy - a.machine.busy) / machineTotal;
  const dm = (k) => b.machine[k] - a.machine[k];
  const ownSeconds = server + clients.reduce((x, c) => x + c.cpuSeconds, 0) + publisher;
  const report = {
    wallSeconds: round(wall, 3),
    // Busy time of the machine no benchmark process was charged with, in % of one core: other
    // processes on the box (a shared machine makes every figure here worse) and kernel threads
    // such as ksoftirqd. (Softirq work done while a benchmark process runs is charged to it.)
    otherProcessesPercent: round((100 * (dm('busy') - dm('steal') - ownSeconds)) / wall, 1),
    server: { cpuSeconds: round(server, 2), cpuPercent: pct(server), threads: threads.slice(0, 6) },
    clients,
    clientsTotalPercent: round(clients.reduce((x, c) => x + c.cpuPercent, 0), 1),
    publisher: { cpuSeconds: round(publisher, 2), cpuPercent: pct(publisher) },
    machineBusyPercent: round(100 * machineBusy, 1),
    // Shares of all cores' time (100% = every core busy): user, system, softirq, steal.
    machine: { userPercent: machineShare('user'), systemPercent: machineShare('system'), softirqPercent: machineShare('softirq'), stealPercent: machineShare('steal') },
  };
  report.saturated = saturation(report, ctx.facts.cores);
  return report;
}

function saturation(r, cores) {
  const hot = [];
  for (const t of r.server.threads) if (t.cpuPercent >= 85) hot.push(`server ${t.role} thread ${t.cpuPercent}%`);
  for (const [i, c] of r.clients.entries()) if (c.cpuPercent >= 85) hot.push(`client ${i} ${c.cpuPercent}%`);
  if (r.publisher.cpuPercent >= 85) hot.push(`publisher ${r.publisher.cpuPercent}%`);
  const machine = r.machineBusyPercent >= 90 ? `all ${cores} cores busy (${r.machineBusyPercent}%)` : `machine ${r.machineBusyPercent}% busy`;
  const shares =
    `server ${r.server.cpuPercent}%, clients ${r.clientsTotalPercent}%, publisher ${r.publisher.cpuPercent}%, ` +
    `other ${r.otherProcessesPercent}% (% of one core; softirq ${round(r.machine.softirqPercent * cores, 1)}% is included in these)`;
  if (hot.length === 0 && r.machineBusyPercent < 90) return `nothing saturated (${machine}; ${shares})`;
  return `${hot.length ? hot.join(', ') + '; ' : ''}${machine}; ${shares}`;
}

function sumClients(snap, key) {
  return snap.clients.reduce((x, c) => x + c[key], 0);
}

function latencyOf(snap) {
  const sse = [];
  const ws = [];
  for (const c of snap.clients) {
    sse.push(c.latencies.sse);
    ws.push(c.latencies.ws);
  }
  const cat = (parts) => {
    const n = parts.reduce((x, p) => x + p.length, 0);
    const out = new Float64Array(n);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  const s = cat(sse);
  const w = cat(ws);
  return { all: percentiles(cat([s, w])), sse: percentiles(s), ws: percentiles(w) };
}

/**
 * p50/p99 over each fifth of the phase (each client's samples are in arrival order): a latency
 * that keeps growing from fifth to fifth means the gateway is not keeping up with the rate.
 */
function latencyByFifth(snap) {
  const fifths = [[], [], [], [], []];
  for (const c of snap.clients) {
    for (const arr of [c.latencies.sse, c.latencies.ws]) {
      for (let f = 0; f < 5; f++) fifths[f].push(arr.subarray(Math.floor((f * arr.length) / 5), Math.floor(((f + 1) * arr.length) / 5)));
    }
  }
  return fifths.map((parts) => {
    const p = percentiles(parts.flatMap((x) => Array.from(x)));
    return { p50: p.p50, p99: p.p99 };
  });
}

// ------------------------------------------------------------------------------------------------
// Phases

async function connectGroup(ctx, transport, count, { quiet = false } = {}) {
  if (count <= 0) return { transport, requested: 0, ok: 0, failed: 0, ms: 0 };
  const parts = split(count, ctx.clients.length);
  const perClientConcurrency = Math.max(1, Math.ceil(ctx.opts.concurrency / ctx.clients.length));
  let first = ctx.nextIndex;
  ctx.nextIndex += count;
  const t0 = Date.now();
  const results = await Promise.all(
    ctx.clients.map((c, i) => {
      const firstIndex = first;
      first += parts[i];
      return c.request({ cmd: 'connect', transport, count: parts[i], firstIndex, concurrency: perClientConcurrency }, 'connected', 300_000);
    }),
  );
  const ok = results.reduce((x, r) => x + r.ok, 0);
  const failed = results.reduce((x, r) => x + r.failed, 0);
  const samples = results.flatMap((r) => r.failureSamples).slice(0, 5);
  ctx.connected[transport] += ok;
  const ms = Date.now() - t0;
  if (!quiet || failed) log(`${transport}: ${ok}/${count} connected and subscribed in ${ms} ms${failed ? `, ${failed} failed: ${samples.join(' | ')}` : ''}`);
  return { transport, requested: count, ok, failed, failureSamples: samples, ms, perSecond: round((1000 * ok) / ms) };
}

/** RSS sampled every 250 ms while the server idles for `ms`; the last sample counts. */
async function settledMemory(ctx, ms = ctx.opts.settleMs) {
  if (ctx.gc) {
    await sleep(ms);
    await ctx.gc.collectEverywhere();
    await sleep(300);
    return { rss: serverRss(ctx.server), heapUsed: await ctx.gc.heapUsed(), kernel: kernelMemory(), traceMB: [] };
  }
  const trace = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await sleep(Math.min(250, Math.max(0, end - Date.now())));
    trace.push(serverRss(ctx.server));
  }
  return { rss: trace.at(-1) ?? serverRss(ctx.server), kernel: kernelMemory(), traceMB: trace.map((b) => round(b / 1048576, 1)) };
}

/**
 * Gateway memory per idle connection. After a warm-up group of each transport, the remaining
 * connections are opened in chunks, alternating transports, and the RSS growth of each chunk is
 * charged to its transport. V8 grows its heap in steps while connections are being set up (young
 * generation growth under allocation pressure) and shrinks it later (memory reducer), so a single
 * before/after difference mostly measures which transport happened to trigger a step. The
 * median over a transport's chunks ignores those steps; the mean (all its chunks' growth over all
 * its connections) includes them.
 */
async function idlePhase(ctx, plan) {
  // Start and end are read after a long idle wait, so V8's memory reducer (it runs about 8 s after
  // allocation stops) has shrunk the heap in both states: the difference is what the connections
  // hold, not garbage from setting them up.
  const start = await settledMemory(ctx, ctx.gc ? ctx.opts.settleMs : ctx.opts.longSettleMs);
  const steps = [];
  for (const [transport, n] of Object.entries(plan)) {
    if (n > 0) steps.push(await connectGroup(ctx, transport, Math.min(ctx.opts.warmupConnections, Math.floor(n / 5))));
  }
  const warm = await settledMemory(ctx);
  const chunks = { sse: [], ws: [] };
  const chunkSize = {};
  for (const [transport, n] of Object.entries(plan)) chunkSize[transport] = Math.max(1, Math.ceil((n - ctx.connected[transport]) / ctx.opts.idleChunks));
  let before = warm;
  for (;;) {
    let progressed = false;
    for (const [transport, n] of Object.entries(plan)) {
      const count = Math.min(chunkSize[transport], n - ctx.connected[transport]);
      if (count <= 0) continue;
      progressed = true;
      const step = await connectGroup(ctx, transport, count, { quiet: true });
      steps.push(step);
      const after = await settledMemory(ctx);
      chunks[transport].push({
        connections: step.ok,
        rssDeltaBytes: after.rss - before.rss,
        heapDeltaBytes: after.heapUsed - before.heapUsed,
        slabDeltaBytes: after.kernel.slabBytes - before.kernel.slabBytes,
        connectPerSecond: step.perSecond,
      });
      before = after;
    }
    if (!progressed) break;
  }
  const end = await settledMemory(ctx, ctx.gc ? ctx.opts.settleMs : ctx.opts.longSettleMs);
  const perTransport = {};
  for (const [transport, list] of Object.entries(chunks)) {
    if (list.length === 0) continue;
    const conns = list.reduce((x, c) => x + c.connections, 0);
    const perConn = list.map((c) => c.rssDeltaBytes / c.connections).sort((x, y) => x - y);
    const slab = list.map((c) => c.slabDeltaBytes / c.connections).sort((x, y) => x - y);
    perTransport[transport] = {
      connections: conns,
      chunks: list.length,
      bytesPerConnection: round(median(perConn)),
      meanBytesPerConnection: round(list.reduce((x, c) => x + c.rssDeltaBytes, 0) / conns),
      chunkBytesPerConnection: perConn.map((x) => round(x)),
      // JS heap in use after a full GC (forced GC only): the part of the RSS that is JS objects.
      jsHeapBytesPerConnection: ctx.gc ? round(median(list.map((c) => c.heapDeltaBytes / c.connections).sort((x, y) => x - y))) : null,
      kernelSlabBytesPerConnection: round(median(slab)),
      connectPerSecond: round(median(list.map((c) => c.connectPerSecond).sort((x, y) => x - y))),
    };
  }
  const total = ctx.connected.sse + ctx.connected.ws;
  const overall = round((end.rss - start.rss) / total);
  log(
    `idle: ${overall} B per connection overall (RSS ${round(start.rss / 1048576, 1)} MB -> ${round(end.rss / 1048576, 1)} MB for ${total}); ` +
      `by transport (median of chunks): ${Object.entries(perTransport).map(([t, m]) => `${t} ${m.bytesPerConnection} B (mean ${m.meanBytesPerConnection})`).join(', ')}`,
  );
  return {
    rssAtStartBytes: start.rss,
    rssWarmBytes: warm.rss,
    rssAllConnectedBytes: end.rss,
    rssAtStartTraceMB: start.traceMB,
    rssAllConnectedTraceMB: end.traceMB,
    connections: { ...ctx.connected },
    // RSS growth from no connections to all of them idle, both read after the heap settled.
    overallBytesPerConnection: overall,
    overallJsHeapBytesPerConnection: ctx.gc ? round((end.heapUsed - start.heapUsed) / total) : null,
    kernelSlabBytesPerConnection: round((end.kernel.slabBytes - start.kernel.slabBytes) / total),
    perTransport,
    kernel: { start: start.kernel, allConnected: end.kernel },
    steps,
  };
}

function median(sorted) {
  if (sorted.length === 0) return NaN;
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

async function expectAll(ctx, add, timeoutMs) {
  const seq = ++ctx.expectSeq;
  for (const c of ctx.clients) c.send({ cmd: 'expect', add, seq });
  return {
    seq,
    wait: async () => {
      const res = await Promise.allSettled(ctx.clients.map((c) => c.next((m) => m.evt === 'reached' && m.seq === seq, timeoutMs)));
      if (res.every((r) => r.status === 'fulfilled')) return { complete: true, at: Math.max(...res.map((r) => r.value.at)) };
      // Some subscriber is missing events: count them as lost and carry on.
      const synced = await Promise.all(ctx.clients.map((c) => c.request({ cmd: 'sync', seq }, 'synced', 30_000)));
      const at = res.filter((r) => r.status === 'fulfilled').map((r) => r.value.at);
      return { complete: false, at: at.length ? Math.max(...at) : nowUs(), lost: synced.reduce((x, s) => x + s.lost, 0) };
    },
  };
}

async function oneBurst(ctx, size) {
  const live = ctx.connected.sse + ctx.connected.ws;
  const exp = await expectAll(ctx, size, 10_000 + Math.ceil((size * live) / 50));
  const t0 = nowUs();
  const sends = [];
  for (let i = 0; i < size; i++) sends.push(ctx.publisher.publish(nowUs()));
  const statuses = await Promise.all(sends);
  const tPublished = nowUs();
  const r = await exp.wait();
  return {
    firstPublishUs: t0,
    publishMs: (tPublished - t0) / 1000,
    completeMs: (r.at - t0) / 1000,
    accepted: statuses.filter(Boolean).length,
    complete: r.complete,
  };
}

async function burstPhase(ctx, size, { seconds = ctx.opts.duration } = {}) {
  const name = `burst-${size}`;
  await oneBurst(ctx, size); // warm-up, not counted
  const a = await snapshot(ctx, true);
  const bursts = [];
  const end = Date.now() + seconds * 1000;
  while (bursts.length < 2 || Date.now() < end) bursts.push(await oneBurst(ctx, size));
  const b = await snapshot(ctx, true);
  const delivered = sumClients(b, 'delivered');
  const activeMs = bursts.reduce((x, r) => x + r.completeMs, 0);
  const live = ctx.connected.sse + ctx.connected.ws;
  const completes = bursts.map((r) => r.completeMs).sort((x, y) => x - y);
  const res = {
    name,
    kind: 'burst',
    burstSize: size,
    bursts: bursts.length,
    events: bursts.reduce((x, r) => x + r.accepted, 0),
    subscribers: live,
    expectedDeliveries: bursts.reduce((x, r) => x + r.accepted, 0) * live,
    deliveries: delivered,
    lost: sumClients(b, 'lost'),
    eventsPerClientRead: round(delivered / Math.max(1, sumClients(b, 'reads')), 2),
    incompleteBursts: bursts.filter((r) => !r.complete).length,
    deliveriesPerSecond: round((delivered * 1000) / activeMs),
    deliveriesPerSecondWall: round(delivered / ((b.t - a.t) / 1e6)),
    burstCompleteMs: { p50: round(completes[Math.floor(completes.length / 2)], 1), max: round(completes.at(-1), 1) },
    publishMsP50: round(bursts.map((r) => r.publishMs).sort((x, y) => x - y)[Math.floor(bursts.length / 2)], 2),
    latencyMs: latencyOf(b),
    cpu: cpuReport(ctx, a, b),
    serverRssBytes: b.serverRss,
  };
  res.serverCpuSecondsPerMillionDeliveries = round((res.cpu.server.cpuSeconds * 1e6) / Math.max(1, delivered), 3);
  log(
    `${name}: ${res.bursts} bursts, ${res.deliveries} deliveries (${res.lost} lost), ${res.deliveriesPerSecond}/s, burst p50 ${res.burstCompleteMs.p50} ms, ` +
      `${res.eventsPerClientRead} events per client read; ${res.cpu.saturated}`,
  );
  return res;
}

async function ratePhase(ctx, rate, seconds, { warmup }) {
  const name = warmup ? 'rate-warmup' : `rate-${rate}`;
  const n = Math.max(1, Math.round(rate * seconds));
  const live = ctx.connected.sse + ctx.connected.ws;
  const a = await snapshot(ctx, true);
  // Bounded: whatever has not arrived 15 s + the phase's length after the last send is lost.
  const exp = await expectAll(ctx, n, 15_000 + seconds * 1000);
  const intervalUs = 1e6 / rate;
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const start = nowUs() + 2000;
  const sends = [];
  const lateness = new Float64Array(n);
  await new Promise((done) => {
    let i = 0;
    const tick = () => {
      const now = nowUs();
      while (i < n && start + i * intervalUs <= now) {
        const intended = start + i * intervalUs;
        lateness[i] = now - intended;
        sends.push(ctx.publisher.publish(intended));
        i++;
      }
      if (i >= n) return done();
      setTimeout(tick, Math.max(0, (start + i * intervalUs - nowUs()) / 1000));
    };
    tick();
  });
  loopDelay.disable();
  const statuses = await Promise.all(sends);
  const r = await exp.wait();
  const b = await snapshot(ctx, true);
  if (warmup) return undefined;
  const delivered = sumClients(b, 'delivered');
  const res = {
    name,
    kind: 'rate',
    ratePerSecond: rate,
    seconds,
    events: statuses.filter(Boolean).length,
    subscribers: live,
    expectedDeliveries: statuses.filter(Boolean).length * live,
    deliveries: delivered,
    lost: sumClients(b, 'lost'),
    eventsPerClientRead: round(delivered / Math.max(1, sumClients(b, 'reads')), 2),
    complete: r.complete,
    deliveriesPerSecond: round(delivered / ((r.at - start) / 1e6)),
    latencyMs: latencyOf(b),
    latencyByFifthMs: latencyByFifth(b),
    publisherLatenessMs: percentiles(lateness),
    publisherLoopDelayMs: { p50: round(loopDelay.percentile(50) / 1e6, 2), p99: round(loopDelay.percentile(99) / 1e6, 2), max: round(loopDelay.max / 1e6, 2) },
    cpu: cpuReport(ctx, a, b),
    serverRssBytes: b.serverRss,
  };
  res.serverCpuSecondsPerMillionDeliveries = round((res.cpu.server.cpuSeconds * 1e6) / Math.max(1, delivered), 3);
  const l = res.latencyMs.all;
  log(
    `${name}: ${res.deliveries} deliveries (${res.lost} lost), latency p50 ${l.p50} ms p99 ${l.p99} ms max ${l.max} ms, ` +
      `${res.eventsPerClientRead} events per client read; ${res.cpu.saturated}`,
  );
  return res;
}

// ------------------------------------------------------------------------------------------------
// Slow consumers (--mode slow)

const TCP_STATES = { '01': 'established', '06': 'timeWait', '0A': 'listen' };

/**
 * Server-side TCP sockets of `port` (from /proc/net/tcp): how many are established, how many the
 * server has closed while bytes were still on their way (FIN_WAIT1 and the like), and the bytes the
 * kernel holds towards clients (server send queues + client receive queues): what a client that
 * stops reading has not read yet without the server having to buffer it.
 */
function tcpSockets(port) {
  const out = { established: 0, closing: 0, kernelQueuedBytes: 0, maxClientRecvQueueBytes: 0 };
  let text;
  try {
    text = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return out;
  }
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let at = text.indexOf('\n') + 1;
  while (at > 0 && at < text.length) {
    const end = text.indexOf('\n', at);
    const line = text.slice(at, end < 0 ? text.length : end);
    at = end < 0 ? -1 : end + 1;
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const [, local, remote, st, queues] = f;
    const colon = queues.indexOf(':');
    if (local.endsWith(suffix)) {
      const state = TCP_STATES[st];
      if (state === 'listen' || state === 'timeWait') continue;
      if (state === 'established') out.established++;
      else out.closing++;
      out.kernelQueuedBytes += parseInt(queues.slice(0, colon), 16);
    } else if (remote.endsWith(suffix)) {
      const rx = parseInt(queues.slice(colon + 1), 16);
      out.kernelQueuedBytes += rx;
      if (rx > out.maxClientRecvQueueBytes) out.maxClientRecvQueueBytes = rx;
    }
  }
  return out;
}

/**
 * Samples the server's RSS every 250 ms and its sockets every second while a phase runs; `exceeded`
 * turns true once RSS passes the limit (the phase then stops publishing).
 */
class ServerMonitor {
  constructor(ctx) {
    this.ctx = ctx;
    this.limit = ctx.opts.rssLimitMb * 1048576;
    this.t0 = nowUs();
    this.startRss = serverRss(ctx.server);
    this.peakRss = this.startRss;
    this.traceMB = [];
    this.sockets = [];
    this.exceeded = undefined;
    let tick = 0;
    const sample = () => {
      const rss = serverRss(ctx.server);
      if (rss > this.peakRss) this.peakRss = rss;
      if (!this.exceeded && rss > this.limit) {
        this.exceeded = `server RSS ${round(rss / 1048576)} MB passed the limit of ${ctx.opts.rssLimitMb} MB after ${round((nowUs() - this.t0) / 1e6, 1)} s`;
        log(`${ctx.server.kind}: ${this.exceeded}; aborting the phase`);
      }
      if (tick++ % 4 === 0) {
        this.traceMB.push(round(rss / 1048576, 1));
        this.sockets.push({ s: round((nowUs() - this.t0) / 1e6, 1), ...tcpSockets(ctx.server.port) });
      }
    };
    sample();
    this.timer = setInterval(sample, 250);
  }

  stop() {
    clearInterval(this.timer);
    const end = serverRss(this.ctx.server);
    const peakKernel = this.sockets.reduce((m, x) => Math.max(m, x.kernelQueuedBytes), 0);
    return {
      rssStartBytes: this.startRss,
      rssPeakBytes: Math.max(this.peakRss, end),
      rssEndBytes: end,
      rssTraceMB: this.traceMB,
      sockets: this.sockets,
      peakKernelQueuedBytes: peakKernel,
      exceeded: this.exceeded,
    };
  }
}

/**
 * `rate` events/s for `seconds`, each stamped with its planned time; a stats snapshot (with reset)
 * at each second of `marks` (relative to the first event), so the caller gets one window per mark
 * plus the last. Stops early when `stop()` turns true. Resolves after every live, unpaused client
 * has every accepted event (or the wait timed out: the rest counts as lost).
 */
async function pacedPublish(ctx, { rate, seconds, marks = [], stop = () => false }) {
  const n = Math.max(1, Math.round(rate * seconds));
  const exp = await expectAll(ctx, n, 15_000 + seconds * 1000);
  const intervalUs = 1e6 / rate;
  const start = nowUs() + 2000;
  const sends = [];
  const snaps = [];
  const lateness = [];
  let i = 0;
  let m = 0;
  let stopped = false;
  await new Promise((done) => {
    const tick = () => {
      const now = nowUs();
      if (stop()) {
        stopped = true;
        return done();
      }
      while (m < marks.length && start + marks[m] * 1e6 <= now) {
        snaps.push(snapshot(ctx, true));
        m++;
      }
      while (i < n && start + i * intervalUs <= now) {
        lateness.push(now - (start + i * intervalUs));
        sends.push(ctx.publisher.publish(start + i * intervalUs));
        i++;
      }
      if (i >= n) return done();
      const next = Math.min(start + i * intervalUs, m < marks.length ? start + marks[m] * 1e6 : Infinity);
      setTimeout(tick, Math.max(0, (next - nowUs()) / 1000));
    };
    tick();
  });
  const statuses = await Promise.all(sends);
  const accepted = statuses.filter(Boolean).length;
  let r;
  if (stopped || accepted < n) {
    // Fewer events than announced: nobody can reach the count; write the difference off at once.
    await Promise.all(ctx.clients.map((c) => c.request({ cmd: 'sync', seq: exp.seq }, 'synced', 30_000)));
    r = { complete: false, at: nowUs() };
  } else r = await exp.wait();
  return { start, planned: n, sent: i, accepted, complete: r.complete, at: r.at, stopped, snaps: await Promise.all(snaps), publisherLatenessMs: percentiles(lateness) };
}

/** One measured stretch at the phase's rate: healthy latency, deliveries, CPU, server memory. */
async function rateWindow(ctx, { name, seconds, fillSeconds = 0 }) {
  const o = ctx.opts;
  const monitor = new ServerMonitor(ctx);
  const a = await snapshot(ctx, true);
  const disconnectsBefore = sumClients(a, 'disconnects');
  const p = await pacedPublish(ctx, { rate: o.rate, seconds: fillSeconds + seconds, marks: fillSeconds > 0 ? [fillSeconds] : [], stop: () => Boolean(monitor.exceeded) });
  const b = await snapshot(ctx, true);
  const mem = monitor.stop();
  const measureFrom = p.snaps[0] ?? a;
  const windows = p.snaps.length ? [a, ...p.snaps, b] : [a, b];
  const sumOver = (key) => windows.slice(1).reduce((x, w) => x + sumClients(w, key), 0);
  const delivered = sumOver('delivered');
  const healthy = sumClients(b, 'live') - sumClients(b, 'paused');
  const res = {
    name,
    kind: 'slow',
    ratePerSecond: o.rate,
    seconds,
    fillSeconds,
    events: p.accepted,
    healthySubscribers: healthy,
    pausedSubscribers: sumClients(b, 'paused'),
    expectedDeliveries: p.accepted * healthy,
    deliveries: delivered,
    lost: sumClients(b, 'lost'),
    complete: p.complete,
    healthyDisconnects: sumClients(b, 'disconnects') - disconnectsBefore,
    bytesPerEventPerSubscriber: round(sumOver('bytes') / Math.max(1, p.accepted * healthy)),
    // Healthy clients' latency after the fill time (the whole phase when there is none).
    latencyMs: latencyOf(b),
    latencyByFifthMs: latencyByFifth(b),
    fillLatencyMs: p.snaps.length ? latencyOf(p.snaps[0]).all : undefined,
    cpu: cpuReport(ctx, measureFrom, b),
    publisherLatenessMs: p.publisherLatenessMs,
    memory: mem,
  };
  if (mem.exceeded) res.aborted = { reason: mem.exceeded, eventsSent: p.sent, eventsPlanned: p.planned };
  const l = res.latencyMs.all;
  log(
    `${name}: ${res.deliveries}/${res.expectedDeliveries} deliveries to ${healthy} healthy subscribers (${res.lost} lost), latency p50 ${l.p50} ms p99 ${l.p99} ms` +
      `${fillSeconds ? ` (after ${fillSeconds} s of fill; during it p99 ${res.fillLatencyMs.p99} ms)` : ''}; RSS ${round(mem.rssStartBytes / 1048576)} -> peak ${round(mem.rssPeakBytes / 1048576)} -> ${round(mem.rssEndBytes / 1048576)} MB; ` +
      `kernel queued ${round(mem.peakKernelQueuedBytes / 1048576)} MB; ${res.cpu.saturated}`,
  );
  return res;
}

/** The connection indices a fraction selects: every stride-th from `offset` (never a sampled one). */
function pauseSelection(f, sampleEvery) {
  const stride = Math.max(2, Math.round(1 / f));
  let offset = Math.min(7, stride - 1);
  while (offset > 0 && sampleEvery > 0 && offset % sampleEvery === 0) offset--;
  return { stride, offset };
}

async function slowPhases(ctx, result) {
  const o = ctx.opts;
  const live = ctx.connected.sse + ctx.connected.ws;
  result.slow = { ratePerSecond: o.rate, payloadBytes: o.payload, subscribers: live, fillBytes: o.slowFillBytes, rssLimitMb: o.rssLimitMb, fractions: [] };
  // Warm-up, not counted: the first seconds at a new event size grow the server's heap and JIT.
  await pacedPublish(ctx, { rate: o.rate, seconds: Math.min(5, o.duration) });
  for (const f of o.slowFractions) {
    const pct = round(100 * f, 1);
    const entry = { fraction: f, percent: pct };
    result.slow.fractions.push(entry);
    entry.without = await rateWindow(ctx, { name: `without-${pct}%`, seconds: o.duration });
    if (entry.without.aborted) {
      result.slow.aborted = entry.without.aborted;
      break;
    }
    const perEvent = entry.without.bytesPerEventPerSubscriber;
    const fill = o.slowFill === 'auto' ? Math.min(o.slowFillMax, Math.ceil(o.slowFillBytes / Math.max(1, perEvent * o.rate))) : o.slowFill;
    entry.fillSeconds = fill;
    entry.fillBytesPerPausedConnection = round(fill * perEvent * o.rate);
    const sel = pauseSelection(f, o.sampleEvery);
    const paused = await Promise.all(ctx.clients.map((c) => c.request({ cmd: 'pause', ...sel }, 'paused', 30_000)));
    entry.paused = paused.reduce((x, r) => x + r.count, 0);
    log(`${pct}% slow: ${entry.paused} connections stopped reading; ${fill} s of fill (≈ ${round(entry.fillBytesPerPausedConnection / 1048576, 1)} MB each), then ${o.duration} s measured`);
    entry.with = await rateWindow(ctx, { name: `with-${pct}%`, seconds: o.duration, fillSeconds: fill });
    // Read the paused connections again to learn what the server did with them.
    const drained = await Promise.all(ctx.clients.map((c) => c.request({ cmd: 'drain', maxMs: 15_000, quietMs: 3000 }, 'drained', 60_000)));
    const outcomes = {};
    for (const d of drained) for (const [k, v] of Object.entries(d.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + v;
    entry.slowClients = {
      paused: entry.paused,
      // When the server let go of them: seconds after the clients stopped reading at which the
      // count of established server-side sockets first fell, and when it stopped falling.
      serverClosedAfterSeconds: closeTimes(entry.with.memory.sockets),
      closedByServer: drained.reduce((x, d) => x + d.closedByServer, 0),
      stillOpen: drained.reduce((x, d) => x + d.stillOpen, 0),
      outcomes,
      // What a paused connection read once it read again: kernel buffers plus what the server kept.
      bytesReadAfterResumeMean: round(drained.reduce((x, d) => x + d.bytes, 0) / Math.max(1, entry.paused)),
      bytesReadAfterResumeMax: Math.max(0, ...drained.map((d) => d.maxBytes)),
      drainMs: Math.max(0, ...drained.map((d) => d.ms)),
    };
    const w = entry.with.latencyMs.all;
    const wo = entry.without.latencyMs.all;
    entry.p99Ratio = wo.p99 > 0 ? round(w.p99 / wo.p99, 3) : null;
    entry.p50Ratio = wo.p50 > 0 ? round(w.p50 / wo.p50, 3) : null;
    log(
      `${pct}% slow: healthy p99 ${w.p99} ms vs ${wo.p99} ms without (${entry.p99Ratio}×); slow clients closed by the server: ${entry.slowClients.closedByServer}/${entry.paused} ` +
        `${JSON.stringify(outcomes)}, still open ${entry.slowClients.stillOpen}; healthy disconnects ${entry.with.healthyDisconnects}`,
    );
    if (entry.with.aborted) {
      result.slow.aborted = entry.with.aborted;
      break;
    }
    // Fresh connections replace the paused ones, so the next fraction starts from N healthy again.
    await syncConnected(ctx);
    entry.replaced = 0;
    for (const [t, n] of Object.entries(ctx.plan)) entry.replaced += (await connectGroup(ctx, t, n - ctx.connected[t], { quiet: true })).ok;
  }
}

/** {first, last}: seconds into a phase at which established server sockets fell (null: never). */
function closeTimes(trace) {
  if (!trace?.length) return null;
  const start = trace[0].established;
  const min = Math.min(...trace.map((x) => x.established));
  if (min >= start) return null;
  return { first: trace.find((x) => x.established < start).s, last: trace.find((x) => x.established === min).s, closed: start - min };
}

/** ctx.connected from what the clients hold open now. */
async function syncConnected(ctx) {
  const now = await snapshot(ctx, false);
  for (const t of Object.keys(ctx.connected)) ctx.connected[t] = now.clients.reduce((x, c) => x + (c.liveByTransport[t] ?? 0), 0);
  return now;
}

// ------------------------------------------------------------------------------------------------
// Reconnect storms with JWTs (--mode storm)

/** Storm kinds: which connections drop (every second one, or all) and whether tokens are new. */
const STORMS = {
  'half-warm': { stride: 2, offset: 1, fresh: false, share: 0.5 },
  'half-cold': { stride: 2, offset: 1, fresh: true, share: 0.5 },
  'all-cold': { stride: 1, offset: 0, fresh: true, share: 1 },
  'all-warm': { stride: 1, offset: 0, fresh: false, share: 1 },
};

/** Key material for --jwt-alg: the gateway's variables and what the clients sign with. */
function jwtSetup(alg) {
  if (alg === 'HS256') {
    const secret = randomBytes(32).toString('hex');
    return { alg, env: { JWT_ALG: 'HS256', JWT_SECRET_KEY: secret }, client: { alg, key: secret }, keyInfo: 'random 256-bit secret' };
  }
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { alg, env: { JWT_ALG: 'RS256', JWT_SECRET_KEY: publicKey }, client: { alg, key: privateKey }, keyInfo: 'RSA 2048-bit key pair, public key (SPKI PEM) as JWT_SECRET_KEY' };
}

/** A token of the right shape and algorithm whose signature does not verify. */
function badToken({ alg, key }) {
  const enc = (x) => Buffer.from(JSON.stringify(x)).toString('base64url');
  const input = `${enc({ alg, typ: 'JWT' })}.${enc({ sub: 'bench-probe', jti: 'bench-probe', exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  const sig = alg === 'HS256' ? createHmac('sha256', key).update(input).digest() : rsaSign('sha256', Buffer.from(input), createPrivateKey(key));
  sig[0] ^= 0xff;
  return `${input}.${sig.toString('base64url')}`;
}

/** TcpExt counters of /proc/net/netstat (machine-wide): accept-queue overflows and SYN drops. */
function tcpExt() {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0].split(/\s+/).slice(1);
    const values = lines[1].split(/\s+/).slice(1).map(Number);
    const get = (k) => values[names.indexOf(k)] ?? NaN;
    return { listenOverflows: get('ListenOverflows'), listenDrops: get('ListenDrops'), synRetrans: get('TCPSynRetrans') };
  } catch {
    return { listenOverflows: NaN, listenDrops: NaN, synRetrans: NaN };
  }
}

/** TCP sockets in TIME_WAIT on the machine (/proc/net/sockstat). */
function timeWaitSockets() {
  try {
    return Number(/TCP: .*\btw (\d+)/.exec(readFileSync('/proc/net/sockstat', 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** GET /v3/stats of the gateway's internal API (undefined for other targets or on error). */
async function gatewayStats(ctx) {
  if (!ctx.server.apiPort || ctx.server.kind !== 'gateway') return undefined;
  try {
    const r = await fetch(`http://127.0.0.1:${ctx.server.apiPort}/v3/stats`, { signal: AbortSignal.timeout(5000) });
    return await r.json();
  } catch {
    return undefined;
  }
}

function concat(parts) {
  const out = new Float64Array(parts.reduce((x, p) => x + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function oneStorm(ctx, kind, gen) {
  const o = ctx.opts;
  const spec = STORMS[kind];
  if (spec.fresh) {
    const prep = await Promise.all(ctx.clients.map((c) => c.request({ cmd: 'prepare', stride: spec.stride, offset: spec.offset, gen }, 'prepared', 300_000)));
    log(`${kind}: ${prep.reduce((x, p) => x + p.count, 0)} new tokens signed in ${Math.max(...prep.map((p) => p.ms))} ms (not timed)`);
  }
  await sleep(Math.min(2000, o.settleMs * 2));
  // A storm lasts a second or two, so other work on the machine easily dominates it: wait (up to
  // 70 s) for half a second in which the machine is at most 15 % busy and holds at most 10 000
  // TIME_WAIT sockets (they expire after 60 s), and record both.
  const quietUntil = Date.now() + (o.profile === 'smoke' ? 0 : 70_000);
  let busyBefore;
  for (;;) {
    const m0 = machineCpu();
    await sleep(500);
    const m1 = machineCpu();
    busyBefore = round((100 * (m1.busy - m0.busy)) / (m1.total - m0.total), 1);
    if ((busyBefore <= 15 && timeWaitSockets() <= 10_000) || Date.now() >= quietUntil) break;
  }
  const statsA = await gatewayStats(ctx);
  const netA = tcpExt();
  const timeWaitBefore = timeWaitSockets();
  const a = await snapshot(ctx, true);
  const boundMs = o.stormBoundS * 1000;
  for (const c of ctx.clients) {
    c.send({ cmd: 'drop', stride: spec.stride, offset: spec.offset, fresh: spec.fresh, jitterMs: o.stormJitterMs, attemptTimeoutMs: 10_000, maxAttempts: 20, boundMs });
  }
  const dropped = await Promise.all(ctx.clients.map((c) => c.next((m) => m.evt === 'dropped', 30_000)));
  const rec = await Promise.all(ctx.clients.map((c) => c.next((m) => m.evt === 'recovered', boundMs + 30_000)));
  const b = await snapshot(ctx, true);
  const netB = tcpExt();
  const statsB = await gatewayStats(ctx);
  const dropAt = Math.min(...dropped.map((d) => d.at));
  const count = rec.reduce((x, r) => x + r.count, 0);
  const ok = rec.reduce((x, r) => x + r.ok, 0);
  const failuresByClass = {};
  for (const r of rec) for (const [k, v] of Object.entries(r.failuresByClass)) failuresByClass[k] = (failuresByClass[k] ?? 0) + v;
  // Subscribed times relative to the earliest drop of any client (they differ by IPC latency only).
  const after = concat(rec.map((r, i) => r.doneAfterUs.map((x) => x + dropped[i].at - dropAt)));
  const sorted = Float64Array.from(after).sort();
  const timeline = [];
  for (const us of sorted) {
    const bucket = Math.floor(us / 100_000);
    timeline[bucket] = (timeline[bucket] ?? 0) + 1;
  }
  for (let i = 0; i < timeline.length; i++) timeline[i] ??= 0;
  const pct = (q) => (sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] / 1000, 1) : null);
  const res = {
    name: kind,
    machineBusyBeforePercent: busyBefore,
    // TIME_WAIT sockets of the machine (/proc/net/sockstat): many of them make every connect()
    // slow in the kernel's local-port search, on the clients' side of the storm.
    timeWaitSocketsBefore: timeWaitBefore,
    dropShare: spec.share,
    cache: spec.fresh ? 'cold' : 'warm',
    dropped: count,
    reconnected: ok,
    neverReconnected: count - ok,
    attempts: rec.reduce((x, r) => x + r.attempts, 0),
    failedAttempts: rec.reduce((x, r) => x + r.failedAttempts, 0),
    failuresByClass,
    // Drop -> the last one subscribed again (null when some never made it within the bound).
    recoveryMs: ok === count ? pct(1) : null,
    subscribedAfterDropMs: { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), max: pct(1) },
    // Request sent -> subscribed, per successful attempt: the wait the server (and the kernel's
    // accept queue) added on top of the client's jitter.
    handshakeMs: percentiles(concat(rec.map((r) => r.handshakeUs))),
    subscribedPer100Ms: timeline,
    peakSubscribesPerSecond: timeline.length ? Math.max(...timeline) * 10 : 0,
    listenOverflows: netB.listenOverflows - netA.listenOverflows,
    listenDrops: netB.listenDrops - netA.listenDrops,
    synRetransmits: netB.synRetrans - netA.synRetrans,
    cpu: cpuReport(ctx, a, b),
    gatewayStatsDelta: statsA && statsB ? Object.fromEntries(Object.keys(statsB).filter((k) => typeof statsB[k] === 'number').map((k) => [k, statsB[k] - (statsA[k] ?? 0)])) : undefined,
  };
  res.serverCpuSeconds = res.cpu.server.cpuSeconds;
  // Each successful attempt verified one token (cold: always a new one; warm: possibly a cache hit
  // of the shard that verified it before); /v3/stats has no JWT counter, so this is the rate.
  res.verificationsPerSecondMean = res.recoveryMs ? round((ok * 1000) / res.recoveryMs) : null;
  await syncConnected(ctx);
  // One event to everybody: every reconnected connection really is subscribed.
  const burst = await oneBurst(ctx, 1);
  const c = await snapshot(ctx, true);
  res.afterwards = { live: sumClients(c, 'live'), delivered: sumClients(c, 'delivered'), complete: burst.complete, lost: sumClients(c, 'lost') };
  log(
    `${kind}: ${ok}/${count} reconnected, all subscribed ${res.recoveryMs ?? 'NOT'} ms after the drop (p50 ${res.subscribedAfterDropMs.p50} ms), ` +
      `handshake p50 ${res.handshakeMs.p50} / p99 ${res.handshakeMs.p99} / max ${res.handshakeMs.max} ms, ${res.failedAttempts} failed attempts ${JSON.stringify(failuresByClass)}, ` +
      `listen overflows ${res.listenOverflows}; gateway CPU ${res.cpu.server.cpuPercent}% over ${res.cpu.wallSeconds} s; one event reached ${res.afterwards.delivered}/${res.afterwards.live}`,
  );
  return res;
}

async function stormPhases(ctx, result) {
  const o = ctx.opts;
  const t = Object.keys(ctx.plan)[0];
  const probe = await ctx.clients[0].request({ cmd: 'probe', transport: t, token: badToken(ctx.jwt.client) }, 'probed', 30_000);
  const stats = await gatewayStats(ctx);
  result.storm = {
    alg: ctx.jwt.alg,
    key: ctx.jwt.keyInfo,
    subscribers: ctx.connected.sse + ctx.connected.ws,
    jitterMs: o.stormJitterMs,
    // A token with a broken signature must be refused, or nothing here measures verification.
    invalidTokenRefused: !probe.accepted,
    invalidTokenReason: probe.reason,
    statsKeys: stats ? Object.keys(stats) : [],
    storms: [],
  };
  log(`jwt ${ctx.jwt.alg}: a token with a wrong signature was ${probe.accepted ? 'ACCEPTED' : `refused (${probe.reason})`}`);
  let gen = 0;
  for (const kind of o.storms) {
    if (STORMS[kind].fresh) gen++;
    result.storm.storms.push(await oneStorm(ctx, kind, gen));
  }
}

// ------------------------------------------------------------------------------------------------
// One run against one server

async function runAgainst(kind, o, facts) {
  const plan = o.transport === 'mixed' ? { sse: Math.ceil(o.subscribers / 2), ws: Math.floor(o.subscribers / 2) } : { [o.transport]: o.subscribers };
  const nClients = Math.max(o.minClients, Math.ceil(o.subscribers / o.perClient));
  log(`${kind}: starting (${kind === 'gateway' ? `SHARDS=${o.shards}, ` : ''}${o.subscribers} subscribers ${JSON.stringify(plan)}, ${nClients} client processes)`);
  if (o.mode === 'storm' && kind !== 'gateway') {
    log(`${kind}: skipped: reconnect storms with JWTs apply to the gateway only`);
    return { server: kind, phases: [], skipped: { phase: 'all', reason: `${kind} checks no JWTs (the storm measures JWT verification on reconnect)` } };
  }
  const jwt = o.mode === 'storm' ? jwtSetup(o.jwtAlg) : undefined;
  const connectOnly = o.mode === 'slow' || o.mode === 'storm';
  // Those two modes force no GC (no idle phase), so the server runs without --inspect.
  const server = await startServer(kind, { ...o, env: { ...o.env, ...jwt?.env }, gc: o.gc && !connectOnly });
  running.add(server);
  const ctx = { opts: o, facts, server, clients: [], connected: { sse: 0, ws: 0 }, nextIndex: 0, expectSeq: 0, publisher: undefined, plan, jwt };
  const settings = { ...server.settings };
  if (jwt) settings.JWT_SECRET_KEY = `(${jwt.keyInfo}, generated for this run)`;
  const result = { server: kind, pids: server.pids, installed: server.installed, settings, phases: [] };
  const unsupported = Object.keys(plan).filter((t) => !server.transports.includes(t));
  if (unsupported.length) {
    result.skipped = { phase: 'all', reason: `${kind} does not serve ${unsupported.join(' and ')} (use --transport ${server.transports.filter((t) => t !== 'longpoll').join(' or ')})` };
    log(`${kind}: skipped: ${result.skipped.reason}`);
    result.serverExit = await server.stop();
    running.delete(server);
    return result;
  }
  try {
    await sleep(Math.min(1000, o.settleMs));
    for (let i = 0; i < nClients; i++) {
      const c = new Child(CLIENT_ENTRY, `client ${i}`);
      ctx.clients.push(c);
      running.add(c);
    }
    if (o.pin) {
      for (const pid of [process.pid, ...ctx.clients.map((c) => c.pid)]) {
        const r = spawnSync('taskset', ['-a', '-p', '-c', o.pin.load, String(pid)], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`taskset failed: ${r.stderr || r.error}`);
      }
    }
    const subscribe = Object.fromEntries(Object.keys(plan).map((t) => [t, server.subscribe[t]]));
    await Promise.all(
      ctx.clients.map((c) => c.request({ cmd: 'init', host: server.host, port: server.port, subscribe, sampleEvery: o.sampleEvery, jwt: jwt?.client, resetOnClose: connectOnly }, 'ready', 30_000)),
    );
    ctx.publisher = new Publisher(server.publish, o.publishConcurrency, o.payload);

    if (connectOnly) {
      // No idle measurement: open the connections and go.
      result.connect = [];
      for (const [t, n] of Object.entries(plan)) result.connect.push(await connectGroup(ctx, t, n));
      if (o.mode === 'slow') await slowPhases(ctx, result);
      else await stormPhases(ctx, result);
    } else {
      if (server.inspectPort) ctx.gc = await InspectorGc.connect(server.inspectPort, server.isolates);
      result.idle = await idlePhase(ctx, plan);
      result.idle.forcedGc = Boolean(ctx.gc);
      ctx.gc?.close();
      ctx.gc = undefined;
      if (o.mode === 'all' || o.mode === 'burst') {
        for (const size of o.bursts) result.phases.push(await burstPhase(ctx, size));
      }
      if (o.mode === 'all' || o.mode === 'rate') {
        // A baseline that writes every event to every socket on its own (no batching) cannot sustain
        // more deliveries per second than its single-event burst rate; past that its buffers grow
        // without bound (GBs at 10 000 subscribers). Its rate phase is skipped, saying why, when the
        // backlog it would build over the phase passes MAX_BASELINE_BACKLOG_BYTES; a smaller
        // overload runs and shows up as latency (a busy machine can halve a measured capacity, so a
        // hard cut would make small runs flaky).
        let single = result.phases.find((p) => p.name === 'burst-1');
        if (!single && kind !== 'gateway') {
          // Rate mode alone: measure the single-event capacity first (reported as capacityProbe).
          single = result.capacityProbe = await burstPhase(ctx, 1, { seconds: 2 });
        }
        const needed = o.rate * (ctx.connected.sse + ctx.connected.ws);
        const backlogBytes = single ? Math.max(0, needed - single.deliveriesPerSecond) * o.duration * (o.payload + 100) : 0;
        if (kind !== 'gateway' && backlogBytes > MAX_BASELINE_BACKLOG_BYTES) {
          result.skipped = {
            phase: `rate-${o.rate}`,
            reason: `needs ${needed} deliveries/s; ${kind}'s burst-1 capacity is ${single.deliveriesPerSecond}/s, so ${Math.round(backlogBytes / 1048576)} MB would queue up`,
          };
          log(`${kind}: rate-${o.rate} skipped (${result.skipped.reason})`);
        } else {
          await ratePhase(ctx, o.rate, Math.min(1, o.duration), { warmup: true });
          result.phases.push(await ratePhase(ctx, o.rate, o.duration, { warmup: false }));
        }
      }
    }
    const end = await snapshot(ctx, false);
    result.connectionsAtEnd = sumClients(end, 'live');
    result.disconnects = sumClients(end, 'disconnects');
    result.disconnectReasons = end.clients.reduce((acc, c) => {
      for (const [k, v] of Object.entries(c.disconnectReasons)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {});
    result.clientRssBytes = end.clients.map((c) => c.rss);
    result.publishStatuses = ctx.publisher.statuses;
    result.publishErrors = ctx.publisher.errors;
    result.serverAliveAtEnd = server.alive();
  } finally {
    ctx.publisher?.close();
    await Promise.all(ctx.clients.map((c) => c.close()));
    for (const c of ctx.clients) running.delete(c);
    result.serverExit = await server.stop();
    running.delete(server);
    const out = server.output().trim();
    if (out) result.serverOutputTail = out.slice(-4000);
  }
  return result;
}

// ------------------------------------------------------------------------------------------------
// Report

const mb = (b) => (Number.isFinite(b) ? `${round(b / 1048576, 1)} MB` : 'n/a');
const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');

const TARGET_TITLES = {
  gateway: 'Gateway',
  node: 'Baseline: plain Node (ws + node:http)',
  nchan: 'Baseline: nginx + Nchan',
  centrifuge: 'Baseline: Centrifuge (Go)',
};

function markdown(res) {
  const lines = [];
  const o = res.options;
  lines.push(`### Fan-out benchmark, ${res.startedAt}`);
  lines.push('');
  lines.push(`Command: \`${res.command}\``);
  lines.push('');
  lines.push(
    `Machine: ${res.machine.cores} × ${res.machine.cpuModel}, ulimit -n ${res.machine.openFilesLimit}, Node ${res.machine.node}, ${res.machine.kernel}. ` +
      `${o.subscribers} subscribers (${o.transport}), SHARDS=${o.shards}, payload ${o.payload} B, ${res.runs[0].clientProcesses} client processes.`,
  );
  for (const run of res.runs) {
    lines.push('');
    lines.push(`#### ${TARGET_TITLES[run.server]}`);
    lines.push('');
    if (run.skipped?.phase === 'all') {
      lines.push(`Not run: ${run.skipped.reason}.`);
      continue;
    }
    if (run.slow) {
      lines.push(...slowMarkdown(run));
      continue;
    }
    if (run.storm) {
      lines.push(...stormMarkdown(run));
      continue;
    }
    lines.push('| idle memory | connections | RSS per connection (median of chunks) | mean of chunks | of which JS heap | kernel slab per connection | connects/s |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const [t, m] of Object.entries(run.idle.perTransport)) {
      lines.push(
        `| ${t.toUpperCase()} | ${fmt(m.connections)} | ${fmt(m.bytesPerConnection)} B | ${fmt(m.meanBytesPerConnection)} B | ${m.jsHeapBytesPerConnection === null ? 'n/a' : `${fmt(m.jsHeapBytesPerConnection)} B`} | ` +
          `${fmt(m.kernelSlabBytesPerConnection)} B | ${fmt(m.connectPerSecond)} |`,
      );
    }
    const i = run.idle;
    lines.push(
      `| **all: idle vs none** | ${fmt(i.connections.sse + i.connections.ws)} | **${fmt(i.overallBytesPerConnection)} B** | | ` +
        `${i.overallJsHeapBytesPerConnection === null ? 'n/a' : `${fmt(i.overallJsHeapBytesPerConnection)} B`} | ${fmt(i.kernelSlabBytesPerConnection)} B | |`,
    );
    lines.push('');
    lines.push(
      `RSS: ${mb(run.idle.rssAtStartBytes)} with no connections, ${mb(run.idle.rssAllConnectedBytes)} with all connected and idle ` +
        (run.idle.forcedGc ? '(each reading right after a forced full GC in every thread).' : `(both after ${o.longSettleMs / 1000} s idle, no forced GC).`),
    );
    lines.push('');
    lines.push(
      '| phase | events | deliveries (lost) | deliveries/s | burst done p50 | latency p50 / p99 / p99.9 / max | events per client read | server CPU | server CPU-s per 1M deliveries | CPU use (% of one core) |',
    );
    lines.push('| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |');
    for (const p of run.phases) {
      const l = p.latencyMs.all;
      lines.push(
        `| ${p.name} | ${fmt(p.events)} | ${fmt(p.deliveries)} (${fmt(p.lost)}) | ${fmt(p.deliveriesPerSecond)} | ${p.burstCompleteMs ? `${p.burstCompleteMs.p50} ms` : '–'} | ` +
          `${l.p50} / ${l.p99} / ${l.p999} / ${l.max} ms | ${p.eventsPerClientRead} | ${p.cpu.server.cpuPercent}% | ${p.serverCpuSecondsPerMillionDeliveries} | ${p.cpu.saturated} |`,
      );
    }
    const rate = run.phases.find((p) => p.kind === 'rate');
    if (rate) {
      lines.push('');
      lines.push(
        `Latency at ${rate.ratePerSecond} events/s by transport (ms, p50 / p99 / max): SSE ${rate.latencyMs.sse.p50} / ${rate.latencyMs.sse.p99} / ${rate.latencyMs.sse.max} ` +
          `(${rate.latencyMs.sse.samples} samples), WS ${rate.latencyMs.ws.p50} / ${rate.latencyMs.ws.p99} / ${rate.latencyMs.ws.max} (${rate.latencyMs.ws.samples} samples); ` +
          `publisher lateness p99 ${rate.publisherLatenessMs.p99} ms.`,
      );
    }
    if (run.skipped) lines.push(`\n${run.skipped.phase} not run: ${run.skipped.reason}.`);
    if (run.disconnects) lines.push(`\nDisconnects during the run: ${run.disconnects} ${JSON.stringify(run.disconnectReasons)}.`);
  }
  for (const [baseline, r] of Object.entries(res.ratios ?? {})) {
    lines.push('');
    lines.push(`| ratio gateway ÷ ${baseline} | value |`);
    lines.push('| --- | ---: |');
    for (const [k, v] of Object.entries(r)) lines.push(`| ${k} | ${v} |`);
  }
  return lines.join('\n') + '\n';
}

function slowMarkdown(run) {
  const s = run.slow;
  const lines = [
    `${fmt(s.subscribers)} subscribers, ${s.ratePerSecond} events/s of ${fmt(s.payloadBytes)} B. Healthy latency with slow clients is read after the fill time (while the paused connections push back).`,
    '',
    '| slow | paused | fill | healthy p50 / p99 without (ms) | healthy p50 / p99 with (ms) | p99 with ÷ without | healthy delivered / expected (with) | slow clients closed by the server | still open | server RSS start / peak / end (with) | kernel queued (peak) |',
    '| ---: | ---: | ---: | --- | --- | ---: | ---: | --- | ---: | --- | ---: |',
  ];
  for (const f of s.fractions) {
    const wo = f.without?.latencyMs.all;
    const w = f.with?.latencyMs.all;
    const m = f.with?.memory;
    const sc = f.slowClients;
    lines.push(
      `| ${f.percent}% | ${fmt(f.paused)} | ${f.fillSeconds ?? '–'} s | ${wo ? `${wo.p50} / ${wo.p99}` : '–'} | ${w ? `${w.p50} / ${w.p99}` : '–'} | ${f.p99Ratio ?? '–'}× | ` +
        `${f.with ? `${fmt(f.with.deliveries)} / ${fmt(f.with.expectedDeliveries)}` : '–'} | ${sc ? `${fmt(sc.closedByServer)} ${JSON.stringify(sc.outcomes)}` : '–'} | ${sc ? fmt(sc.stillOpen) : '–'} | ` +
        `${m ? `${mb(m.rssStartBytes)} / ${mb(m.rssPeakBytes)} / ${mb(m.rssEndBytes)}` : '–'} | ${m ? mb(m.peakKernelQueuedBytes) : '–'} |`,
    );
  }
  if (s.aborted) lines.push('', `Aborted: ${s.aborted.reason}.`);
  return lines;
}

function stormMarkdown(run) {
  const s = run.storm;
  const lines = [
    `${fmt(s.subscribers)} subscribers with ${s.alg} tokens (${s.key}), reconnect jitter 0–${s.jitterMs} ms. A token with a wrong signature was ${s.invalidTokenRefused ? `refused (${s.invalidTokenReason})` : '**accepted**'}.`,
    '',
    '| storm | dropped | reconnected | all subscribed after | p50 / p99 after the drop | handshake p50 / p99 / max | failed attempts | listen-queue overflows | gateway CPU | event afterwards |',
    '| --- | ---: | ---: | ---: | --- | --- | --- | ---: | ---: | ---: |',
  ];
  for (const x of s.storms) {
    lines.push(
      `| ${x.name} | ${fmt(x.dropped)} | ${fmt(x.reconnected)} | ${x.recoveryMs === null ? '**not all**' : `${x.recoveryMs} ms`} | ${x.subscribedAfterDropMs.p50} / ${x.subscribedAfterDropMs.p99} ms | ` +
        `${x.handshakeMs.p50} / ${x.handshakeMs.p99} / ${x.handshakeMs.max} ms | ${x.failedAttempts} ${x.failedAttempts ? JSON.stringify(x.failuresByClass) : ''} | ${fmt(x.listenOverflows)} | ` +
        `${x.cpu.server.cpuPercent}% (${x.serverCpuSeconds} s) | ${fmt(x.afterwards.delivered)} / ${fmt(x.afterwards.live)} |`,
    );
  }
  return lines;
}

function ratios(gw, base) {
  const out = {};
  if (!gw.idle || !base.idle) return out;
  for (const p of gw.phases) {
    const q = base.phases.find((x) => x.name === p.name);
    if (q) out[`${p.name} deliveries/s`] = `${round(p.deliveriesPerSecond / q.deliveriesPerSecond, 2)}×`;
    if (q && p.kind === 'rate') out[`${p.name} p99 latency`] = `${round(p.latencyMs.all.p99 / q.latencyMs.all.p99, 2)}×`;
  }
  for (const t of Object.keys(gw.idle.perTransport)) {
    const q = base.idle.perTransport[t];
    if (q) out[`${t} bytes per idle connection`] = `${round(gw.idle.perTransport[t].bytesPerConnection / q.bytesPerConnection, 2)}×`;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------

/** Child processes to take down if this one is interrupted. */
const running = new Set();

stopOnSignals(running, log);

/** Slow and storm runs: what means the run did not work at all (no speed is judged). */
function modeFailure(r) {
  if (r.slow) {
    const windows = r.slow.fractions.flatMap((f) => [f.without, f.with]).filter(Boolean);
    return windows.length === 0 || windows.some((w) => !w.aborted && w.deliveries === 0);
  }
  if (r.storm) return r.storm.storms.length === 0 || r.storm.storms.some((x) => x.reconnected === 0 && x.dropped > 0) || !r.storm.invalidTokenRefused;
  return false;
}

async function main() {
  const o = parseArgs(process.argv);
  const facts = machineFacts();
  const startedAt = new Date().toISOString();
  const res = {
    benchmark: 'fanout',
    startedAt,
    command: `node ${relative(ROOT, fileURLToPath(import.meta.url))} ${process.argv.slice(2).join(' ')}`.trim(),
    options: o,
    machine: facts,
    runs: [],
  };
  res.publisherNice = raisePriority();
  // The benchmark shares the machine with whatever else runs: measure that first, and with
  // --wait-quiet S wait up to S seconds for a second in which the machine is (nearly) idle.
  res.machineBusyBeforeStartPercent = await machineBusyBeforeStart(o.waitQuiet);
  if (res.machineBusyBeforeStartPercent > 10) {
    log(`warning: the machine was ${res.machineBusyBeforeStartPercent}% busy before the benchmark started; other load skews every figure`);
  }
  for (const kind of o.targets) {
    const run = await runAgainst(kind, o, facts);
    run.clientProcesses = Math.max(o.minClients, Math.ceil(o.subscribers / o.perClient));
    res.runs.push(run);
  }
  const gw = res.runs.find((r) => r.server === 'gateway');
  if (gw) res.ratios = Object.fromEntries(res.runs.filter((r) => r !== gw).map((r) => [r.server, ratios(gw, r)]));
  res.finishedAt = new Date().toISOString();
  const out = resolve(ROOT, o.out ?? `bench/results/fanout-${startedAt.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(res, null, 2) + '\n');
  process.stdout.write(markdown(res));
  process.stdout.write(`\nResult: ${relative(process.cwd(), out)}\n`);
  const failed = res.runs.some((r) => r.skipped?.phase !== 'all' && (!r.serverAliveAtEnd || r.phases.some((p) => p.deliveries === 0) || modeFailure(r)));
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`[fanout] failed: ${e?.stack ?? e}\n`);
  process.exit(1);
});
