#!/usr/bin/env node
/**
 * Long-polling benchmark (scenario S7). Starts a server (a target of bench/targets/ that serves
 * `longpoll`: the gateway, nginx + Nchan) as its own process(es), K load client processes
 * (bench/clients/longpoll-client.mjs: one keep-alive socket and one poll loop per poller, at most
 * --per-client pollers per process, source addresses 127.0.0.1–127.0.0.8) and publishes from this
 * process over keep-alive HTTP to the target's publish endpoint (bench/lib/publisher.mjs: the body
 * of bench/fanout.mjs, stamped with its publish time). Each target in --targets runs in turn with
 * the same load.
 *
 *   open    P pollers start polling (gateway: GET creates the session, then the poll loop;
 *           Nchan: the poll loop). Server RSS before and after gives the memory per poller.
 *   prime   one event every 200 ms until every poller has received one: a poller then holds a
 *           position (cookie or cursor) and gets every later event. Nchan gives no other signal
 *           that a waiting GET is registered.
 *   rate-R  for each rate R in --rates: R events/s for --duration seconds (after an unreported
 *           warm-up of --warmup seconds at the same rate), each sent at its planned time and
 *           stamped with that time (a late publisher counts as latency: no coordinated omission).
 *           The phase ends when every poller has every event, or --drain seconds after the last
 *           publish. Every poller must see every event of the phase exactly once (counted by
 *           event id); publish -> receipt latency of every delivery.
 *
 * Reported per phase: deliveries/s (deliveries ÷ first planned publish -> last receipt), poll
 * requests/s, events per poll response, latency p50/p90/p99/p99.9/max (and p50/p99 per fifth of
 * the phase: a rising latency means the rate was not sustained), how long polls waited for their
 * answer (and each poller's longest wait: stragglers), lost and duplicated events, HTTP statuses
 * and socket errors, CPU of the server (summed over its pids, per thread), of each client and of
 * the publisher, machine load (and the busiest processes outside the benchmark), and server RSS.
 * Writes a JSON result and prints a Markdown summary.
 *
 * Usage: node bench/longpoll.mjs [--smoke|--quick|--full] [--pollers 5000] [--rates 10,100]
 *        [--duration 10] [--warmup 1] [--drain 15] [--targets gateway,nchan] [--shards 2]
 *        [--workers 2] [--per-client 9000] [--clients 2] [--concurrency 200] [--payload 100]
 *        [--publish-concurrency 32] [--env NAME=VALUE ...] [--strict] [--wait-quiet S] [--out FILE]
 * --strict (implied by --smoke): lost or duplicated events, error answers or pollers that could not
 * start make the run fail (exit 1); otherwise they are reported and only a dead server, a phase
 * without deliveries or a failed start fail it.
 */
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, freePort, int, machineBusyBeforeStart, nowUs, oneOf, options, percentiles, raisePriority, round, sleep, split, stopOnSignals } from './lib/common.mjs';
import { Histogram } from './lib/histogram.mjs';
import { CLK_TCK, machineCpu, machineFacts, processCpu, rssBytes, threadCpu } from './lib/procfs.mjs';
import { Publisher } from './lib/publisher.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const CLIENT_ENTRY = join(BENCH_DIR, 'clients/longpoll-client.mjs');
const TARGETS = ['gateway', 'nchan'];

// ------------------------------------------------------------------------------------------------
// Options

const PROFILES = {
  default: { pollers: 5000, duration: 10, warmup: 1, drain: 15, strict: false },
  quick: { pollers: 5000, duration: 10, warmup: 1, drain: 15, strict: false },
  full: { pollers: 10_000, duration: 20, warmup: 2, drain: 15, strict: false },
  smoke: { pollers: 100, duration: 2, warmup: 0.5, drain: 10, strict: true },
};

function parseArgs(argv) {
  const o = {
    profile: 'default',
    rates: [10, 100],
    targets: [...TARGETS],
    shards: 2,
    workers: 2,
    perClient: 9000,
    minClients: 2,
    concurrency: 200,
    payload: 100,
    publishConcurrency: 32,
    env: {},
    waitQuiet: 0,
    out: undefined,
  };
  const explicit = {};
  for (const { name: a, value: val } of options(argv, 2)) {
    switch (a) {
      case '--smoke':
      case '--quick':
      case '--full':
        o.profile = a.slice(2);
        break;
      case '--pollers': explicit.pollers = int(val(), a); break;
      case '--duration': explicit.duration = num(val(), a); break;
      case '--warmup': explicit.warmup = num(val(), a); break;
      case '--drain': explicit.drain = num(val(), a); break;
      case '--strict': explicit.strict = true; break;
      case '--no-strict': explicit.strict = false; break;
      case '--rates': o.rates = val().split(',').map((s) => num(s, a)).filter((r) => r > 0); break;
      case '--targets': o.targets = val().split(',').map((t) => oneOf(t.trim(), TARGETS, a)); break;
      case '--shards': o.shards = int(val(), a); break;
      case '--workers': o.workers = int(val(), a); break;
      case '--per-client': o.perClient = Math.max(1, int(val(), a)); break;
      case '--clients': o.minClients = Math.max(1, int(val(), a)); break;
      case '--concurrency': o.concurrency = Math.max(1, int(val(), a)); break;
      case '--payload': o.payload = int(val(), a); break;
      case '--publish-concurrency': o.publishConcurrency = Math.max(1, int(val(), a)); break;
      case '--env': {
        const kv = val();
        const eq = kv.indexOf('=');
        if (eq < 1) throw new Error(`--env wants NAME=VALUE, got ${kv}`);
        o.env[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
      case '--wait-quiet': o.waitQuiet = num(val(), a); break;
      case '--out': o.out = val(); break;
      case '-h':
      case '--help':
        process.stdout.write(usage());
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  Object.assign(o, PROFILES[o.profile], explicit);
  if (o.rates.length === 0) throw new Error('--rates: at least one rate');
  if (o.payload < 40) throw new Error('--payload must be at least 40 bytes (timestamp and padding)');
  return o;
}

function usage() {
  return `node bench/longpoll.mjs [--smoke|--quick|--full] [--pollers N] [--rates 10,100] [--duration S] [--warmup S] [--drain S]
  [--targets gateway,nchan] [--shards N] [--workers N] [--per-client N] [--clients N] [--concurrency N] [--payload BYTES]
  [--publish-concurrency N] [--env NAME=VALUE] [--strict|--no-strict] [--wait-quiet S] [--out FILE]
Needs a built gateway (npm run build); installs nginx + Nchan from Debian packages on first use (root).\n`;
}

function num(s, name) {
  const n = Number(s);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: not a non-negative number: ${s}`);
  return n;
}

function log(msg) {
  process.stderr.write(`[longpoll] ${msg}\n`);
}

// ------------------------------------------------------------------------------------------------
// Server under test

async function startServer(name, o) {
  const target = await import(`./targets/${name}.mjs`);
  const installed = await target.install({ log });
  const server = await target.start({ port: await freePort(), apiPort: await freePort(), shards: o.shards, workers: o.workers, env: o.env, log });
  return { ...server, kind: name, transports: target.transports, installed, output: server.output ?? (() => '') };
}

const serverCpu = (server) => server.pids.reduce((x, pid) => x + processCpu(pid), 0);
const serverRss = (server) => server.pids.reduce((x, pid) => x + rssBytes(pid), 0);
function serverThreads(server) {
  const all = new Map();
  for (const pid of server.pids) for (const [tid, s] of threadCpu(pid)) all.set(tid, s);
  return all;
}

// ------------------------------------------------------------------------------------------------
// Snapshots and CPU

/** CPU seconds and name of every process on the machine (to name the "other" load). */
function processTable() {
  const out = new Map();
  for (const d of readdirSync('/proc')) {
    if (d.charCodeAt(0) < 48 || d.charCodeAt(0) > 57) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'latin1');
      const close = st.lastIndexOf(')');
      const f = st.slice(close + 2).split(' ');
      // Identity: pid + start time (field 22); kernel workers change their names as they work.
      out.set(Number(d), { comm: st.slice(st.indexOf('(') + 1, close), since: f[19], cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function clientStats(ctx) {
  return Promise.all(ctx.clients.map((c) => c.request({ cmd: 'stats' }, 'stats', 60_000)));
}

async function snapshot(ctx) {
  const clients = await clientStats(ctx);
  return { t: nowUs(), serverCpu: serverCpu(ctx.server), serverThreads: serverThreads(ctx.server), machine: machineCpu(), self: process.cpuUsage(), clients, procs: processTable() };
}

function cpuReport(ctx, a, b) {
  const wall = (b.t - a.t) / 1e6;
  const pct = (s) => round((100 * s) / wall, 1);
  const server = b.serverCpu - a.serverCpu;
  const pids = ctx.server.pids;
  const threads = [];
  for (const [tid, s] of b.serverThreads) {
    const d = s - (a.serverThreads.get(tid) ?? 0);
    if (d <= 0) continue;
    let role;
    if (ctx.server.kind === 'gateway') role = tid === pids[0] ? 'main' : 'thread';
    else role = tid === pids[0] ? 'master' : pids.includes(tid) ? 'worker' : 'thread';
    threads.push({ tid, role, cpuSeconds: round(d, 2), cpuPercent: pct(d) });
  }
  threads.sort((x, y) => y.cpuSeconds - x.cpuSeconds);
  // With SHARDS=n the n busiest non-main threads of the gateway are its shard event loops.
  let shards = ctx.server.kind === 'gateway' ? ctx.opts.shards : 0;
  for (const t of threads) if (t.role === 'thread' && shards-- > 0) t.role = 'shard';
  const clients = b.clients.map((cb, i) => {
    const ca = a.clients[i];
    const user = (cb.cpuUs.user - ca.cpuUs.user) / 1e6;
    const system = (cb.cpuUs.system - ca.cpuUs.system) / 1e6;
    return { pid: ctx.clients[i].pid, cpuSeconds: round(user + system, 2), cpuPercent: pct(user + system), userPercent: pct(user), systemPercent: pct(system) };
  });
  // The busiest processes outside the benchmark (other work on the machine, kernel threads).
  const ours = new Set([process.pid, ...pids, ...ctx.clients.map((cl) => cl.pid)]);
  const others = [];
  let allProcesses = 0;
  for (const [pid, pb] of b.procs) {
    const pa = a.procs.get(pid);
    // A pid that is new (or reused) since the first snapshot started during the phase.
    const d = pb.cpu - (pa && pa.since === pb.since ? pa.cpu : 0);
    allProcesses += d;
    if (!ours.has(pid) && d / wall >= 0.02) others.push({ pid, comm: pb.comm, cpuPercent: pct(d) });
  }
  others.sort((x, y) => y.cpuPercent - x.cpuPercent);
  const publisher = (b.self.user + b.self.system - a.self.user - a.self.system) / 1e6;
  const dm = (k) => b.machine[k] - a.machine[k];
  const own = server + clients.reduce((x, c) => x + c.cpuSeconds, 0) + publisher;
  const r = {
    wallSeconds: round(wall, 3),
    server: { cpuSeconds: round(server, 2), cpuPercent: pct(server), threads: threads.slice(0, 6) },
    clients,
    clientsTotalPercent: round(clients.reduce((x, c) => x + c.cpuPercent, 0), 1),
    publisher: { cpuSeconds: round(publisher, 2), cpuPercent: pct(publisher) },
    machineBusyPercent: round((100 * dm('busy')) / dm('total'), 1),
    // Busy time of the machine that no benchmark process was charged with, in % of one core:
    // other work on the box and kernel threads.
    otherProcessesPercent: round((100 * (dm('busy') - dm('steal') - own)) / wall, 1),
    softirqPercentOfOneCore: round((100 * dm('softirq')) / wall, 1),
    // Processes outside the benchmark that used at least 2 % of a core (one that started and
    // ended within the phase is missed), and busy time no live process was charged with
    // (interrupts, softirq, processes that exited meanwhile).
    otherTop: others.slice(0, 5),
    unattributedPercent: round((100 * (dm('busy') - dm('steal') - allProcesses)) / wall, 1),
  };
  const hot = [];
  for (const t of r.server.threads) if (t.cpuPercent >= 85) hot.push(`server ${t.role} ${t.cpuPercent}%`);
  for (const [i, cl] of r.clients.entries()) if (cl.cpuPercent >= 85) hot.push(`client ${i} ${cl.cpuPercent}%`);
  if (r.publisher.cpuPercent >= 85) hot.push(`publisher ${r.publisher.cpuPercent}%`);
  const machine = r.machineBusyPercent >= 90 ? `all ${ctx.facts.cores} cores busy (${r.machineBusyPercent}%)` : `machine ${r.machineBusyPercent}% busy`;
  const top = r.otherTop.slice(0, 2).map((x) => `${x.comm} ${x.cpuPercent}%`);
  top.push(`not charged to a process ${r.unattributedPercent}%`);
  const shares = `server ${r.server.cpuPercent}%, clients ${r.clientsTotalPercent}%, publisher ${r.publisher.cpuPercent}%, other ${r.otherProcessesPercent}% (${top.join(', ')}) (% of one core)`;
  r.saturated = hot.length === 0 && r.machineBusyPercent < 90 ? `nothing saturated (${machine}; ${shares})` : `${hot.length ? hot.join(', ') + '; ' : ''}${machine}; ${shares}`;
  return r;
}

const sum = (list, key) => list.reduce((x, s) => x + (s[key] ?? 0), 0);

function mergeStatuses(list) {
  const out = {};
  for (const s of list) for (const [k, v] of Object.entries(s.statuses)) out[k] = (out[k] ?? 0) + v;
  return out;
}

// ------------------------------------------------------------------------------------------------
// Phases

async function openPollers(ctx, count) {
  const parts = split(count, ctx.clients.length);
  const perClient = Math.max(1, Math.ceil(ctx.opts.concurrency / ctx.clients.length));
  let first = 0;
  const t0 = Date.now();
  const res = await Promise.all(
    ctx.clients.map((c, i) => {
      const firstIndex = first;
      first += parts[i];
      return c.request({ cmd: 'open', count: parts[i], firstIndex, concurrency: perClient }, 'opened', 300_000);
    }),
  );
  const ms = Date.now() - t0;
  const ok = sum(res, 'ok');
  const failed = sum(res, 'failed');
  const samples = res.flatMap((r) => r.failureSamples).slice(0, 5);
  log(`${ok}/${count} pollers polling after ${ms} ms${failed ? `, ${failed} failed: ${samples.join(' | ')}` : ''}`);
  return { requested: count, opened: ok, failed, failureSamples: samples, ms, perSecond: round((1000 * ok) / Math.max(1, ms)) };
}

/** Publishes an event every 200 ms until every live poller has received one (bounded). */
async function prime(ctx) {
  const t0 = Date.now();
  const until = t0 + 30_000 + ctx.opts.pollers * 2;
  let events = 0;
  let last = { primed: 0, live: 0 };
  for (;;) {
    events++;
    await ctx.publisher.publish(nowUs());
    await sleep(200);
    const r = await Promise.all(ctx.clients.map((c) => c.request({ cmd: 'primed' }, 'primed', 30_000)));
    last = { primed: sum(r, 'primed'), live: sum(r, 'live') };
    if (last.primed >= last.live || Date.now() > until) break;
  }
  // Let every poller get the last priming events and be waiting again before measuring.
  await sleep(ctx.opts.profile === 'smoke' ? 200 : 1000);
  const ms = Date.now() - t0;
  log(`primed ${last.primed}/${last.live} pollers with ${events} events in ${ms} ms`);
  return { events, ms, ...last };
}

async function ratePhase(ctx, rate, seconds, { warmup }) {
  const name = warmup ? `rate-${rate}-warmup` : `rate-${rate}`;
  const n = Math.max(1, Math.round(rate * seconds));
  const seq = ++ctx.seq;
  const firstId = ctx.publisher.nextId;
  await Promise.all(ctx.clients.map((c) => c.request({ cmd: 'phase', seq, firstId, count: n }, 'phased', 30_000)));
  const a = await snapshot(ctx);
  const live = sum(a.clients, 'live');
  const timeoutMs = Math.round((seconds + ctx.opts.drain) * 1000 + 2000);
  const reached = ctx.clients.map((c) => c.next((m) => m.evt === 'reached' && m.seq === seq, timeoutMs));
  let rssPeak = serverRss(ctx.server);
  const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, serverRss(ctx.server))), 250);
  const intervalUs = 1e6 / rate;
  const start = nowUs() + 2000;
  const sends = [];
  const lateness = new Float64Array(n);
  await new Promise((done) => {
    let i = 0;
    const tick = () => {
      const now = nowUs();
      while (i < n && start + i * intervalUs <= now) {
        const planned = start + i * intervalUs;
        lateness[i] = now - planned;
        sends.push(ctx.publisher.publish(planned));
        i++;
      }
      if (i >= n) return done();
      setTimeout(tick, Math.max(0, (start + i * intervalUs - nowUs()) / 1000));
    };
    tick();
  });
  const accepted = (await Promise.all(sends)).filter(Boolean).length;
  const settled = await Promise.allSettled(reached);
  const complete = settled.every((r) => r.status === 'fulfilled');
  const lastReceipt = complete ? Math.max(...settled.map((r) => r.value.at)) : nowUs();
  clearInterval(rssTimer);
  const b = await snapshot(ctx);
  if (warmup) {
    log(`${name}: ${sum(b.clients, 'delivered')} deliveries, ${sum(b.clients, 'lost')} lost (warm-up, not reported)`);
    return undefined;
  }
  const s = b.clients;
  const window = (lastReceipt - start) / 1e6;
  const delivered = sum(s, 'delivered');
  const responses = sum(s, 'responses');
  const statuses = mergeStatuses(s);
  const non2xx = Object.entries(statuses).reduce((x, [k, v]) => x + (Number(k) >= 200 && Number(k) < 300 ? 0 : v), 0);
  const fifths = [0, 1, 2, 3, 4].map((f) => {
    const h = new Histogram();
    for (const cl of s) h.merge(cl.hist[f].counts, cl.hist[f].max);
    return h;
  });
  const all = new Histogram();
  for (const h of fifths) all.merge(h.counts, h.max);
  const pollWait = new Histogram();
  const longestWait = new Histogram();
  for (const cl of s) {
    pollWait.merge(cl.pollWait.counts, cl.pollWait.max);
    longestWait.merge(cl.longestWait.counts, cl.longestWait.max);
  }
  const res = {
    name,
    kind: 'rate',
    ratePerSecond: rate,
    seconds,
    events: accepted,
    eventsNotAccepted: n - accepted,
    pollers: live,
    expectedDeliveries: n * live,
    deliveries: delivered,
    lost: sum(s, 'lost'),
    duplicates: sum(s, 'duplicates'),
    incompletePollers: sum(s, 'incompletePollers'),
    complete,
    windowSeconds: round(window, 3),
    deliveriesPerSecond: round(delivered / window),
    offeredDeliveriesPerSecond: round((accepted * live) / seconds),
    pollResponses: responses,
    pollRequestsPerSecond: round(responses / window),
    eventsPerPollResponse: round(delivered / Math.max(1, responses), 2),
    eventsPerNonEmptyResponse: round(delivered / Math.max(1, sum(s, 'eventResponses')), 2),
    emptyResponses: sum(s, 'emptyResponses'),
    statuses,
    non2xx,
    socketErrors: sum(s, 'socketErrors'),
    reconnects: sum(s, 'reconnects'),
    sessionRestarts: sum(s, 'sessionRestarts'),
    unparsedEvents: sum(s, 'unparsed'),
    eventsOutsidePhase: sum(s, 'outside'),
    errorSamples: s.flatMap((x) => x.errorSamples).slice(0, 5),
    bytesReceived: sum(s, 'bytesIn'),
    latencyMs: all.percentiles(),
    latencyByFifthMs: fifths.map((h) => {
      const p = h.percentiles();
      return { p50: p.p50, p99: p.p99 };
    }),
    // Poll request written -> answer complete, over all 200 answers of the phase.
    pollWaitMs: pollWait.percentiles(),
    // Each poller's longest wait for one answer, over pollers: how uneven the service was.
    pollerLongestWaitMs: longestWait.percentiles(),
    pollersWaitingOver1s: longestWait.countAtLeast(1e6),
    publisherLatenessMs: percentiles(lateness),
    cpu: cpuReport(ctx, a, b),
    serverRssBytes: serverRss(ctx.server),
    serverRssPeakBytes: rssPeak,
    clientRssBytes: s.map((x) => x.rss),
  };
  res.errors = res.non2xx + res.socketErrors + res.unparsedEvents + res.eventsNotAccepted;
  res.exactlyOnce = res.lost === 0 && res.duplicates === 0 && res.deliveries === res.expectedDeliveries;
  res.serverCpuSecondsPerMillionDeliveries = round((res.cpu.server.cpuSeconds * 1e6) / Math.max(1, delivered), 3);
  const l = res.latencyMs;
  log(
    `${name}: ${res.deliveries}/${res.expectedDeliveries} deliveries (${res.lost} lost, ${res.duplicates} duplicated), ${res.deliveriesPerSecond}/s, ` +
      `${res.pollRequestsPerSecond} polls/s, ${res.eventsPerPollResponse} events per response, latency p50 ${l.p50} p99 ${l.p99} p99.9 ${l.p999} max ${l.max} ms, ` +
      `${res.errors} errors, ${res.pollersWaitingOver1s} pollers waited > 1 s for an answer; ${res.cpu.saturated}`,
  );
  return res;
}

// ------------------------------------------------------------------------------------------------
// One run against one server

async function runAgainst(kind, o, facts) {
  const nClients = Math.max(o.minClients, Math.ceil(o.pollers / o.perClient));
  log(`${kind}: starting (${kind === 'gateway' ? `SHARDS=${o.shards}` : `${o.workers} workers`}, ${o.pollers} pollers, ${nClients} client processes)`);
  const server = await startServer(kind, o);
  running.add(server);
  const result = { server: kind, pids: server.pids, installed: server.installed, settings: server.settings, clientProcesses: nClients, phases: [] };
  const spec = server.subscribe?.longpoll;
  if (!server.transports.includes('longpoll') || !spec) {
    result.skipped = { phase: 'all', reason: `${kind} does not serve long polling` };
    result.serverExit = await server.stop();
    running.delete(server);
    return result;
  }
  result.longpoll = spec;
  const ctx = { opts: o, facts, server, clients: [], seq: 0, publisher: undefined };
  try {
    await sleep(o.profile === 'smoke' ? 200 : 1000);
    for (let i = 0; i < nClients; i++) {
      const c = new Child(CLIENT_ENTRY, `client ${i}`);
      ctx.clients.push(c);
      running.add(c);
    }
    await Promise.all(ctx.clients.map((c) => c.request({ cmd: 'init', host: server.host, port: server.port, longpoll: spec }, 'ready', 30_000)));
    ctx.publisher = new Publisher(server.publish, o.publishConcurrency, o.payload);
    const rssBefore = serverRss(server);
    result.open = await openPollers(ctx, o.pollers);
    if (result.open.opened === 0) throw new Error(`${kind}: no poller could start: ${result.open.failureSamples.join(' | ')}`);
    result.priming = await prime(ctx);
    const rssPolling = serverRss(server);
    result.idle = {
      rssBeforeBytes: rssBefore,
      rssPollingBytes: rssPolling,
      // No forced GC (the gateway runs without --inspect here): an approximation.
      bytesPerPoller: round((rssPolling - rssBefore) / Math.max(1, result.open.opened)),
    };
    for (const rate of o.rates) {
      if (o.warmup > 0) await ratePhase(ctx, rate, o.warmup, { warmup: true });
      result.phases.push(await ratePhase(ctx, rate, o.duration, { warmup: false }));
    }
    const end = await clientStats(ctx);
    result.pollersLiveAtEnd = sum(end, 'live');
    result.clientRssBytes = end.map((x) => x.rss);
    result.publishStatuses = ctx.publisher.statuses;
    result.publishErrors = ctx.publisher.errors;
    result.publishErrorSamples = ctx.publisher.errorSamples;
    result.serverAliveAtEnd = server.alive();
  } catch (e) {
    result.error = String(e?.message ?? e);
    result.serverAliveAtEnd = server.alive();
    log(`${kind}: failed: ${result.error}`);
  } finally {
    ctx.publisher?.close();
    await Promise.all(ctx.clients.map((c) => c.close()));
    for (const c of ctx.clients) running.delete(c);
    if (server.errorLog) {
      try {
        const t = readFileSync(server.errorLog, 'utf8').trim();
        if (t) result.errorLogTail = t.slice(-4000);
      } catch {
        // no error log
      }
    }
    result.serverExit = await server.stop();
    running.delete(server);
    const out = server.output().trim();
    if (out) result.serverOutputTail = out.slice(-4000);
  }
  return result;
}

// ------------------------------------------------------------------------------------------------
// Report

const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const mb = (b) => (Number.isFinite(b) ? `${round(b / 1048576, 1)} MB` : 'n/a');

function ratios(gw, other) {
  const out = {};
  for (const p of gw.phases) {
    const q = other.phases.find((x) => x.name === p.name);
    if (!q) continue;
    const r = (x, y) => (Number.isFinite(x) && Number.isFinite(y) && y !== 0 ? `${round(x / y, 2)}×` : 'n/a');
    out[`${p.name} deliveries/s`] = r(p.deliveriesPerSecond, q.deliveriesPerSecond);
    out[`${p.name} poll requests/s`] = r(p.pollRequestsPerSecond, q.pollRequestsPerSecond);
    out[`${p.name} p99 latency (lower is better)`] = r(p.latencyMs.p99, q.latencyMs.p99);
    out[`${p.name} server CPU-s per 1M deliveries (lower is better)`] = r(p.serverCpuSecondsPerMillionDeliveries, q.serverCpuSecondsPerMillionDeliveries);
    out[`${p.name} server RSS (lower is better)`] = r(p.serverRssBytes, q.serverRssBytes);
  }
  return out;
}

function markdown(res) {
  const o = res.options;
  const lines = [`### Long-polling benchmark, ${res.startedAt}`, '', `Command: \`${res.command}\``, ''];
  lines.push(
    `Machine: ${res.machine.cores} × ${res.machine.cpuModel}, Node ${res.machine.node}, ${res.machine.kernel}; ${res.machineBusyBeforeStartPercent}% busy before the start. ` +
      `${fmt(o.pollers)} pollers, rates ${o.rates.join(' and ')} events/s for ${o.duration} s each, payload ${o.payload} B.`,
    '',
  );
  lines.push('| server | phase | delivered / expected | lost | dup | deliveries/s | poll requests/s | events per response | latency p50 / p99 / p99.9 / max (ms) | errors | server CPU | CPU-s per 1M deliveries | server RSS | CPU use |');
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |');
  for (const run of res.runs) {
    if (run.skipped) {
      lines.push(`| ${run.server} | not run: ${run.skipped.reason} | | | | | | | | | | | | |`);
      continue;
    }
    if (run.error && run.phases.length === 0) lines.push(`| ${run.server} | failed: ${run.error} | | | | | | | | | | | | |`);
    for (const p of run.phases) {
      const l = p.latencyMs;
      lines.push(
        `| ${run.server} | ${p.name} | ${fmt(p.deliveries)} / ${fmt(p.expectedDeliveries)} | ${fmt(p.lost)} | ${fmt(p.duplicates)} | ${fmt(p.deliveriesPerSecond)} | ${fmt(p.pollRequestsPerSecond)} | ${p.eventsPerPollResponse} | ` +
          `${l.p50} / ${l.p99} / ${l.p999} / ${l.max} | ${fmt(p.errors)} | ${p.cpu.server.cpuPercent}% | ${p.serverCpuSecondsPerMillionDeliveries} | ${mb(p.serverRssBytes)} | ${p.cpu.saturated} |`,
      );
    }
  }
  for (const run of res.runs) {
    if (run.skipped || !run.open) continue;
    lines.push(
      '',
      `${run.server}: ${fmt(run.open.opened)}/${fmt(run.open.requested)} pollers started in ${fmt(run.open.ms)} ms; primed with ${run.priming?.events} events; ` +
        `RSS ${mb(run.idle?.rssBeforeBytes)} before, ${mb(run.idle?.rssPollingBytes)} polling (${fmt(run.idle?.bytesPerPoller)} B per poller, no forced GC).` +
        run.phases.map((p) => ` ${p.name}: latency p50/p99 per fifth ${p.latencyByFifthMs.map((f) => `${f.p50}/${f.p99}`).join(', ')} ms; statuses ${JSON.stringify(p.statuses)}${p.errorSamples.length ? `; errors: ${p.errorSamples.join(' | ')}` : ''}.`).join(''),
    );
  }
  for (const [other, r] of Object.entries(res.ratios ?? {})) {
    lines.push('', `| ratio gateway ÷ ${other} | value |`, '| --- | ---: |');
    for (const [k, v] of Object.entries(r)) lines.push(`| ${k} | ${v} |`);
  }
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------------------------------------------

/** Child processes to take down if this one is interrupted. */
const running = new Set();

stopOnSignals(running, log);

function failures(res) {
  const out = [];
  for (const run of res.runs) {
    if (run.skipped) continue;
    if (run.error) out.push(`${run.server}: ${run.error}`);
    if (!run.serverAliveAtEnd) out.push(`${run.server}: server not alive at the end`);
    if (run.phases.length !== res.options.rates.length) out.push(`${run.server}: ${run.phases.length} of ${res.options.rates.length} phases ran`);
    for (const p of run.phases) {
      if (p.deliveries === 0) out.push(`${run.server} ${p.name}: no deliveries`);
      if (res.options.strict) {
        if (!p.exactlyOnce) out.push(`${run.server} ${p.name}: ${p.deliveries}/${p.expectedDeliveries} delivered, ${p.lost} lost, ${p.duplicates} duplicated`);
        if (p.errors) out.push(`${run.server} ${p.name}: ${p.errors} errors (${JSON.stringify(p.statuses)}; ${p.errorSamples.join(' | ')})`);
      }
    }
    if (res.options.strict && run.open && run.open.failed) out.push(`${run.server}: ${run.open.failed} pollers did not start`);
  }
  return out;
}

async function main() {
  const o = parseArgs(process.argv);
  const facts = machineFacts();
  const startedAt = new Date().toISOString();
  const res = {
    benchmark: 'longpoll',
    startedAt,
    command: `node ${relative(ROOT, fileURLToPath(import.meta.url))} ${process.argv.slice(2).join(' ')}`.trim(),
    options: o,
    machine: facts,
    runs: [],
  };
  res.publisherNice = raisePriority();
  res.machineBusyBeforeStartPercent = await machineBusyBeforeStart(o.waitQuiet, o.profile === 'smoke' ? 300 : 1000);
  if (res.machineBusyBeforeStartPercent > 10) log(`warning: the machine was ${res.machineBusyBeforeStartPercent}% busy before the start; other load skews every figure`);
  for (const kind of o.targets) res.runs.push(await runAgainst(kind, o, facts));
  const gw = res.runs.find((r) => r.server === 'gateway' && !r.skipped);
  if (gw) res.ratios = Object.fromEntries(res.runs.filter((r) => r !== gw && !r.skipped).map((r) => [r.server, ratios(gw, r)]));
  res.failures = failures(res);
  res.finishedAt = new Date().toISOString();
  const out = resolve(ROOT, o.out ?? `bench/results/longpoll-${startedAt.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(res, null, 2) + '\n');
  process.stdout.write(markdown(res));
  process.stdout.write(`\nResult: ${relative(process.cwd(), out)}\n`);
  if (res.failures.length) {
    for (const f of res.failures) log(`FAILED: ${f}`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  process.stderr.write(`[longpoll] failed: ${e?.stack ?? e}\n`);
  process.exit(1);
});
