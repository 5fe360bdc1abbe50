#!/usr/bin/env node
/**
 * S8 HTTP proxy benchmark: one upstream stub (node:http in its own process, answering
 * GET /items/<n> with a fixed ~1 KB JSON body over kept-alive connections) reached three ways, one
 * after another with the same load:
 *   direct       the load generator talks to the upstream itself
 *   nginx-proxy  nginx proxy_pass (bench/targets/nginx-proxy.mjs)
 *   gateway      the gateway's reverse proxy (SHARDS=2, one API `GET /items/(.+)` -> upstream)
 *
 * Load: autocannon (programmatic API, in a child process of its own), 64 connections, pipelining
 * 1, a 2 s warm-up and then the measured run (smoke 2 s, quick 10 s); wrk when autocannon is not
 * available. Server CPU is the user + system time of the target's processes over the measured run
 * (from /proc).
 *
 *   node bench/proxy.mjs [--smoke|--quick] [--out FILE] [--duration S] [--connections N]
 *
 * The same file runs the child roles: `--role upstream --port P` and `--role load --url U ...`.
 */
import { execFile, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, options, round, sleep } from './lib/common.mjs';
import { machineFacts, processCpu } from './lib/procfs.mjs';

const SELF = fileURLToPath(import.meta.url);
const PATHS = Array.from({ length: 16 }, (_, i) => `/items/${i + 1}`);
const WARMUP_S = 2;

function parseArgs(argv) {
  const o = { profile: 'quick', out: undefined, role: undefined, port: 0, url: undefined, duration: undefined, connections: 64 };
  for (const { name: a, value: val } of options(argv)) {
    if (a === '--smoke' || a === '--quick') o.profile = a.slice(2);
    else if (a === '--out') o.out = val();
    else if (a === '--role') o.role = val();
    else if (a === '--port') o.port = Number(val());
    else if (a === '--url') o.url = val();
    else if (a === '--duration') o.duration = Number(val());
    else if (a === '--connections') o.connections = Number(val());
    else throw new Error(`unknown option ${a}`);
  }
  o.duration ??= o.profile === 'smoke' ? 2 : 10;
  return o;
}

// ------------------------------------------------------------------------------------------------
// Child role: the upstream stub.

function runUpstream(port) {
  const item = (n) => {
    // A fixed-size (~1 KB) JSON document; only the id differs.
    const base = { id: n, name: `item ${n}`, description: 'x'.repeat(900), tags: ['bench', 'proxy', 's8'], price: 12.5, stock: 42 };
    return Buffer.from(JSON.stringify(base));
  };
  const cache = new Map();
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const m = req.method === 'GET' ? /^\/items\/([^/?]+)/.exec(req.url) : null;
    if (!m) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
      return;
    }
    let body = cache.get(m[1]);
    if (!body) cache.set(m[1], (body = item(m[1])));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.listen(port, '127.0.0.1', () => process.send?.({ evt: 'ready', port: server.address().port }));
  process.on('disconnect', () => process.exit(0));
}

// ------------------------------------------------------------------------------------------------
// Child role: one autocannon run, result sent to the parent.

async function runLoad(o) {
  const { default: autocannon } = await import('autocannon');
  const r = await autocannon({
    url: o.url,
    connections: o.connections,
    pipelining: 1,
    duration: o.duration,
    requests: PATHS.map((path) => ({ method: 'GET', path })),
  });
  process.send({
    evt: 'result',
    result: {
      tool: `autocannon ${autocannon.version ?? ''}`.trim(),
      durationSeconds: r.duration,
      requests: r.requests.total,
      requestsPerSecond: r.requests.total / r.duration,
      latencyMs: { p50: r.latency.p50, p97_5: r.latency.p97_5, p99: r.latency.p99, max: r.latency.max, mean: r.latency.average },
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      ok2xx: r['2xx'],
      bytesPerSecond: r.throughput.average,
    },
  }, () => process.disconnect());
}

// ------------------------------------------------------------------------------------------------
// Orchestrator.

function forkRole(args) {
  return fork(SELF, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function waitMessage(child, evt, timeoutMs) {
  return new Promise((resolveMsg, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout waiting for ${evt}`)), timeoutMs);
    child.on('message', (m) => {
      if (m?.evt === evt) {
        clearTimeout(timer);
        resolveMsg(m);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}) before ${evt}`));
    });
  });
}

async function autocannonAvailable() {
  try {
    await import('autocannon');
    return true;
  } catch {
    return false;
  }
}

async function loadAutocannon(url, duration, connections) {
  const child = forkRole(['--role', 'load', '--url', url, '--duration', String(duration), '--connections', String(connections)]);
  const m = await waitMessage(child, 'result', (duration + 60) * 1000);
  return m.result;
}

function loadWrk(url, duration, connections) {
  return new Promise((resolveRun, reject) => {
    execFile('wrk', ['-t', '2', '-c', String(connections), '-d', `${duration}s`, '--latency', `${url}${PATHS[0]}`], { timeout: (duration + 60) * 1000 }, (err, stdout) => {
      if (err) return reject(err);
      const unitMs = (v, u) => Number(v) * ({ us: 1e-3, ms: 1, s: 1e3, m: 6e4 }[u] ?? NaN);
      const pct = (p) => {
        const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)`, 'm').exec(stdout);
        return m ? unitMs(m[1], m[2]) : NaN;
      };
      const total = Number(/(\d+) requests in/.exec(stdout)?.[1]);
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
      resolveRun({
        tool: 'wrk',
        durationSeconds: duration,
        requests: total,
        requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]),
        latencyMs: { p50: pct(50), p97_5: NaN, p99: pct(99), max: NaN, mean: NaN },
        errors: sock ? Number(sock[1]) + Number(sock[2]) + Number(sock[3]) : 0,
        timeouts: sock ? Number(sock[4]) : 0,
        non2xx,
        ok2xx: total - non2xx,
        bytesPerSecond: NaN,
      });
    });
  });
}

async function measure(way, url, pids, upstreamPid, o, useAutocannon, log) {
  const load = (d) => (useAutocannon ? loadAutocannon(url, d, o.connections) : loadWrk(url, d, o.connections));
  log(`${way}: warm-up ${WARMUP_S} s against ${url}`);
  await load(WARMUP_S);
  const cpu = () => pids.reduce((s, p) => s + processCpu(p), 0);
  const cpu0 = cpu();
  const up0 = processCpu(upstreamPid);
  log(`${way}: measuring ${o.duration} s`);
  const r = await load(o.duration);
  const serverCpuSeconds = cpu() - cpu0;
  const upstreamCpuSeconds = processCpu(upstreamPid) - up0;
  const run = {
    server: way,
    url,
    pids,
    ...r,
    serverCpuSeconds: round(serverCpuSeconds, 2),
    serverCpuCores: round(serverCpuSeconds / r.durationSeconds, 2),
    serverCpuMicrosPerRequest: round((serverCpuSeconds * 1e6) / r.requests, 1),
    upstreamCpuSeconds: round(upstreamCpuSeconds, 2),
  };
  log(`${way}: ${Math.round(run.requestsPerSecond)} req/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, errors ${run.errors}, non-2xx ${run.non2xx}, server CPU ${run.serverCpuSeconds} s`);
  return run;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.role === 'upstream') return runUpstream(o.port);
  if (o.role === 'load') return runLoad(o);

  const log = (m) => process.stderr.write(`[proxy] ${m}\n`);
  const useAutocannon = await autocannonAvailable();
  if (!useAutocannon) log('autocannon not installed: using wrk');
  const cleanups = [];
  const runs = [];
  const skipped = [];
  try {
    const upPort = await freePort();
    const upstream = forkRole(['--role', 'upstream', '--port', String(upPort)]);
    cleanups.push(() => upstream.kill('SIGTERM'));
    await waitMessage(upstream, 'ready', 10_000);
    const upUrl = `http://127.0.0.1:${upPort}`;
    log(`upstream: pid ${upstream.pid} on ${upUrl}`);

    runs.push(await measure('direct', upUrl, [upstream.pid], upstream.pid, o, useAutocannon, log));

    const nginx = await import('./targets/nginx-proxy.mjs');
    try {
      await nginx.install({ log });
      const port = await freePort();
      const t = await nginx.start({ port, upstream: upUrl, workers: 2, log });
      try {
        runs.push({ ...(await measure('nginx-proxy', `http://127.0.0.1:${port}`, t.pids, upstream.pid, o, useAutocannon, log)), settings: t.settings });
      } finally {
        await t.stop();
      }
    } catch (e) {
      log(`nginx-proxy skipped: ${e.message}`);
      skipped.push({ server: 'nginx-proxy', reason: e.message });
    }

    const gateway = await import('./targets/gateway.mjs');
    const definitions = [
      {
        id: 'items',
        name: 'items',
        version_data: { default: { endpoints: [{ id: 'item', method: 'GET', path_regex: '/items/(.+)' }] } },
        proxy: { target_url: '127.0.0.1', port: upPort },
      },
    ];
    const port = await freePort();
    const t = await gateway.start({ port, shards: 2, env: { PROXY_CONFIG_FILE: JSON.stringify(definitions) }, log });
    try {
      runs.push({ ...(await measure('gateway', `http://127.0.0.1:${port}`, t.pids, upstream.pid, o, useAutocannon, log)), settings: { shards: 2 } });
    } finally {
      await t.stop();
    }
  } finally {
    for (const c of cleanups.reverse()) c();
  }

  const result = {
    benchmark: 'proxy',
    options: { profile: o.profile, duration: o.duration, warmup: WARMUP_S, connections: o.connections, pipelining: 1, tool: useAutocannon ? 'autocannon' : 'wrk', paths: `${PATHS[0]} … ${PATHS.at(-1)}` },
    machine: machineFacts(),
    runs,
    skipped,
  };
  const text = JSON.stringify(result, null, 2) + '\n';
  if (o.out) writeFileSync(resolve(o.out), text);
  else process.stdout.write(text);
}

main().catch((e) => {
  process.stderr.write(`[proxy] failed: ${e?.stack ?? e}\n`);
  process.exit(1);
});
