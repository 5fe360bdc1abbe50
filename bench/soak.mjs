#!/usr/bin/env node
/**
 * Soak: does the gateway give back what a churning population of connections took? Starts the
 * gateway (bench/targets/gateway.mjs) as its own process and keeps --population connection slots
 * busy from this process, a third each SSE, WebSocket and long polling, every --jwt-every-th with
 * a JWT (so the session registry is exercised). Each slot loops until --duration:
 *
 *   connect -> PUT its subscription -> an event of its own type is published (internal API) ->
 *   the slot receives it -> disconnect (long polling: stops polling; the session ends after
 *   LONGPOLL_SESSION_IDLE_MS, set to 1 s here)
 *
 * Memory is sampled at two quiet points with the same state (no client connected, counted
 * connections back to 0): the baseline after --warmup seconds of the same loop, and the end after
 * the main run. VmRSS of the gateway process (/proc/<pid>/status) and the main thread's heap
 * (/metrics nodejs_heap_size_used_bytes) are reported; the run passes when the end RSS is within
 * --tolerance-mb of the baseline and rig_connections is 0.
 *
 *   node bench/soak.mjs [--population 60] [--duration 180] [--warmup 20] [--tolerance-mb 40] [--shards 2]
 *
 * Bounded: the main loop stops at --duration, every wait has a deadline, and SIGINT/SIGTERM stop
 * the gateway. Prints one JSON summary line (prefixed "SOAK ") and exits 1 when the check fails.
 */
import { request } from 'node:http';
import { createHmac } from 'node:crypto';
import WebSocket from 'ws';
import { freePort, int, options, sleep } from './lib/common.mjs';
import { rssBytes } from './lib/procfs.mjs';
import * as gateway from './targets/gateway.mjs';

const args = { population: 60, duration: 180, warmup: 20, toleranceMb: 40, shards: 2, jwtEvery: 3 };
const NAMES = { '--population': 'population', '--duration': 'duration', '--warmup': 'warmup', '--tolerance-mb': 'toleranceMb', '--shards': 'shards', '--jwt-every': 'jwtEvery' };
for (const opt of options(process.argv, 2)) {
  const key = NAMES[opt.name];
  if (key === undefined) throw new Error(`unknown option ${opt.name} (known: ${Object.keys(NAMES).join(', ')})`);
  args[key] = int(opt.value(), opt.name);
}
if (args.population < 3 || args.jwtEvery < 1) throw new Error('--population needs at least 3 slots (one per transport), --jwt-every at least 1');

const SECRET = 'soak-secret';
const log = (m) => process.stderr.write(`[soak] ${m}\n`);

/** An HS256 JWT (the gateway's default JWT_ALG) with a session id, valid for an hour. */
function jwt(slot, round) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ jti: `soak-${slot}-${round}`, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

function httpCall(port, path, { method = 'GET', headers = {}, body, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Waits until `pred` holds for an event the stream pushed into `events`, or fails at the deadline. */
async function waitFor(events, pred, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = events.find(pred);
    if (e) return e;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** An SSE or WebSocket connection: its events (parsed CloudEvents) and a close(). */
function openStream(kind, port, query) {
  const events = [];
  const path = `/_rig/v1/connection/${kind}?${query}`;
  if (kind === 'ws') {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    ws.on('message', (d) => events.push(JSON.parse(String(d))));
    ws.on('error', () => {});
    return { events, close: () => ws.terminate() };
  }
  const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (c) => {
      buf += c;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
        if (data !== '') events.push(JSON.parse(data));
      }
    });
    res.on('error', () => {});
  });
  req.on('error', () => {});
  req.end();
  return { events, close: () => req.destroy() };
}

const stats = { cycles: 0, failures: 0, byKind: { sse: 0, ws: 0, longpolling: 0 }, lastError: '' };

async function publish(apiPort, type, id) {
  const r = await httpCall(apiPort, '/v3/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({ specversion: '1.0', id, source: 'soak', type, data: { id } }),
  });
  if (r.status !== 202) throw new Error(`publish answered ${r.status}`);
}

async function putSubscription(port, kind, token, type, bearer) {
  const headers = { 'content-type': 'application/json' };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const r = await httpCall(port, `/_rig/v1/connection/${kind}/${encodeURIComponent(token)}/subscriptions`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ subscriptions: [{ eventType: type }] }),
  });
  if (r.status !== 204) throw new Error(`PUT answered ${r.status} ${r.body.slice(0, 100)}`);
}

/** One connect -> PUT -> receive -> disconnect cycle of a slot. */
async function cycle(target, slot, round) {
  const kind = ['sse', 'ws', 'longpolling'][slot % 3];
  const withJwt = slot % args.jwtEvery === 0;
  const token = withJwt ? jwt(slot, round) : undefined;
  const query = token ? `jwt=${token}` : '';
  const type = `soak.slot${slot}`;
  const id = `${slot}-${round}`;
  if (kind === 'longpolling') {
    let cookies = '';
    const poll = async () => {
      const r = await httpCall(target.port, `/_rig/v1/connection/longpolling?${query}`, { headers: cookies ? { cookie: cookies } : {} });
      const set = [r.headers['set-cookie'] ?? []].flat().map((c) => c.split(';')[0]);
      if (set.length > 0) cookies = set.join('; ');
      if (r.status !== 200) throw new Error(`poll answered ${r.status}`);
      return r.body === '"ok"' ? [] : JSON.parse(r.body).events;
    };
    await poll();
    const connToken = decodeURIComponent(/connection_token=([^;]+)/.exec(cookies)?.[1] ?? '');
    await putSubscription(target.port, 'longpolling', connToken, type, token);
    await publish(target.apiPort, type, id);
    const deadline = Date.now() + 10_000;
    while (!(await poll()).some((e) => e.id === id)) if (Date.now() > deadline) throw new Error('long-poll event not received');
  } else {
    const stream = openStream(kind, target.port, query);
    try {
      const created = await waitFor(stream.events, (e) => e.type === 'rig.connection.create', 10_000, `${kind} connection`);
      await putSubscription(target.port, kind, created.data.connection_token, type, token);
      await publish(target.apiPort, type, id);
      await waitFor(stream.events, (e) => e.id === id, 10_000, `${kind} event`);
    } finally {
      stream.close();
    }
  }
  stats.cycles++;
  stats.byKind[kind]++;
}

async function runPopulation(target, seconds) {
  const until = Date.now() + seconds * 1000;
  let round = 0;
  await Promise.all(
    Array.from({ length: args.population }, async (_, slot) => {
      while (Date.now() < until) {
        try {
          await cycle(target, slot, round++);
        } catch (e) {
          stats.failures++;
          stats.lastError = String(e.message ?? e);
          await sleep(100);
        }
      }
    }),
  );
}

async function metric(apiPort, name) {
  const r = await httpCall(apiPort, '/metrics');
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(r.body);
  return m ? Number(m[1]) : NaN;
}

/** Waits (bounded) until the shards report no connection (they report every 5 s), then samples memory. */
async function quietSample(target, label) {
  const deadline = Date.now() + 30_000;
  let connections = await metric(target.apiPort, 'rig_connections');
  while (connections !== 0 && Date.now() < deadline) {
    await sleep(1000);
    connections = await metric(target.apiPort, 'rig_connections');
  }
  // Let timers of closed connections fire and the heap settle before sampling.
  await sleep(3000);
  const sample = {
    connections,
    rssMb: Math.round((rssBytes(target.pids[0]) / 2 ** 20) * 10) / 10,
    mainHeapMb: Math.round(((await metric(target.apiPort, 'nodejs_heap_size_used_bytes')) / 2 ** 20) * 10) / 10,
  };
  log(`${label}: ${JSON.stringify(sample)}`);
  return sample;
}

const target = await gateway.start({
  port: await freePort(),
  shards: args.shards,
  env: { JWT_SECRET_KEY: SECRET, LONGPOLL_SESSION_IDLE_MS: '1000', LONGPOLL_TIMEOUT_MS: '1000' },
  log,
});
let stopping = false;
const stop = async (code) => {
  if (stopping) return;
  stopping = true;
  await target.stop();
  process.exit(code);
};
process.once('SIGINT', () => void stop(130));
process.once('SIGTERM', () => void stop(143));

try {
  const started = Date.now();
  log(`warm-up: ${args.population} slots for ${args.warmup} s`);
  await runPopulation(target, args.warmup);
  const baseline = await quietSample(target, 'baseline');
  const warmupCycles = stats.cycles;
  log(`main run: ${args.duration} s`);
  await runPopulation(target, args.duration);
  const end = await quietSample(target, 'end');
  const rssGrowthMb = Math.round((end.rssMb - baseline.rssMb) * 10) / 10;
  const ok = end.connections === 0 && rssGrowthMb <= args.toleranceMb && stats.cycles > warmupCycles && target.alive();
  const summary = {
    ok,
    date: new Date().toISOString(),
    population: args.population,
    shards: args.shards,
    warmupS: args.warmup,
    durationS: args.duration,
    elapsedS: Math.round((Date.now() - started) / 1000),
    cycles: stats.cycles,
    mainCycles: stats.cycles - warmupCycles,
    byKind: stats.byKind,
    failures: stats.failures,
    lastError: stats.lastError,
    baseline,
    end,
    rssGrowthMb,
    toleranceMb: args.toleranceMb,
  };
  process.stdout.write(`SOAK ${JSON.stringify(summary)}\n`);
  await stop(ok ? 0 : 1);
} catch (e) {
  log(`failed: ${e.stack ?? e}`);
  await stop(1);
}
