#!/usr/bin/env node
/**
 * Main-thread micro-benchmarks (scenario S9): what the gateway's main thread spends per event,
 * measured on the compiled modules in dist/ (npm run build first):
 *
 *   parse      structured CloudEvents 0.2 / 1.0 through the HTTP binding, Kafka records
 *              (main/kafka/decode.ts) in structured and binary mode, and JSON.parse as reference;
 *   route      field extraction (GREETING_EXTRACTORS) + interest keys, interest-table lookup and
 *              Router.routeBatch with 2 and 32 shards, and main's whole path for a Kafka event;
 *   record     encodeEventRecord, EventBatcher + postEvents framing, readFrame + readEventRecords;
 *   transport  main → 1 worker over a MessagePort with the project's framing, batches of 1/20/100:
 *              records/s and round-trip time, against postMessage(object) in the same run;
 *   jwt        HS256 / RS256 verification through shared/jwt/verifier.ts, cache off and on;
 *   storm      RS256 verification in a reconnect storm: inline on one thread (the gateway), inline
 *              on two threads (SHARDS=2), or offloaded to a piscina pool of 1 or 2 workers.
 *
 * Every case runs in a fresh child process (`node --expose-gc micro.mjs --child ID`), so the JIT
 * and GC state of one case never leaks into another. A case warms up, then measures for a fixed
 * time in several samples (median and spread of ops/s and ns/op), and reports the heap growth
 * across the measurement (after a forced full GC on both ends), the GCs it ran and its memory.
 * This process records the machine's CPU while each case runs, so load from other work shows
 * ("other": machine busy time not spent by the case's process).
 *
 * Usage: node bench/micro.mjs [--smoke|--quick] [--cases ID,GROUP,...] [--out FILE]
 *        [--wait-quiet S] [--list]
 * Writes the JSON result (default bench/results/micro-<time>.json), prints a Markdown summary to
 * stdout and progress to stderr. Exits 1 if a case failed (the others are still reported).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { options, round } from './lib/common.mjs';
import { machineCpu, machineFacts } from './lib/procfs.mjs';
import { CASES, GROUPS } from './lib/micro-cases.mjs';
import { microReport } from './lib/micro-report.mjs';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..');

/**
 * warmupMs: unmeasured time first; samples × sampleMs: the measurement; rttMs: round-trip phase
 * of the transport cases; tokens: distinct JWTs the jwt cases cycle through; storm: arrivals of
 * the reconnect storm (burst: all at once; jitter: spread over windowMs), repetitions, tokens.
 */
export const PROFILES = {
  smoke: { warmupMs: 30, sampleMs: 60, samples: 2, rttMs: 60, tokens: 20, storm: { tokens: 10, burst: 200, jitter: 200, windowMs: 100, reps: 1 } },
  quick: { warmupMs: 300, sampleMs: 250, samples: 5, rttMs: 600, tokens: 200, storm: { tokens: 100, burst: 5000, jitter: 5000, windowMs: 1000, reps: 3 } },
};

function parseArgs(argv) {
  const o = { profile: 'quick', cases: undefined, out: undefined, child: undefined, waitQuiet: 0, list: false };
  for (const { name: a, value: val } of options(argv)) {
    if (a === '--smoke' || a === '--quick') o.profile = a.slice(2);
    else if (a === '--profile') o.profile = val();
    else if (a === '--cases') o.cases = val().split(',');
    else if (a === '--out') o.out = val();
    else if (a === '--child') o.child = val();
    else if (a === '--wait-quiet') o.waitQuiet = Number(val());
    else if (a === '--list') o.list = true;
    else throw new Error(`unknown option ${a}`);
  }
  if (!PROFILES[o.profile]) throw new Error(`unknown profile ${o.profile}`);
  return o;
}

// ------------------------------------------------------------------------------------------------
// Child: one case.

const hr = () => process.hrtime.bigint();

/** Calls run() in chunks of ≈ 1 ms for a fixed time; returns ops/s per sample. */
async function measureSync(inst, s, mark) {
  const { run, opsPerCall = 1, yields = false } = inst;
  let calls = 1;
  const warmEnd = hr() + BigInt(s.warmupMs * 1e6);
  for (;;) {
    const t = hr();
    for (let i = 0; i < calls; i++) run();
    const dt = Number(hr() - t);
    if (yields) await immediate();
    if (hr() >= warmEnd) {
      calls = Math.max(1, Math.round((calls * 1e6) / Math.max(dt, 1)));
      break;
    }
    if (dt < 1e6) calls *= 2;
  }
  mark();
  const samples = [];
  const sampleNs = BigInt(s.sampleMs * 1e6);
  for (let k = 0; k < s.samples; k++) {
    let ops = 0;
    const t0 = hr();
    let t = t0;
    do {
      for (let i = 0; i < calls; i++) run();
      ops += calls * opsPerCall;
      if (yields) await immediate();
      t = hr();
    } while (t - t0 < sampleNs);
    samples.push((ops * 1e9) / Number(t - t0));
  }
  return { samples, extra: { opsPerChunk: calls * opsPerCall } };
}

function fullGc() {
  globalThis.gc?.();
  globalThis.gc?.();
}

async function runChild(id, profile) {
  const c = CASES.find((x) => x.id === id);
  if (!c) throw new Error(`unknown case ${id}`);
  const s = PROFILES[profile];
  if (!globalThis.gc) throw new Error('run cases with --expose-gc (micro.mjs does)');
  const inst = await c.setup(s);
  let m0;
  let gcCount = 0;
  let gcMs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcCount++;
      gcMs += e.duration;
    }
  });
  // Called once warm-up is over: the measured part starts here.
  const mark = () => {
    fullGc();
    m0 = process.memoryUsage();
    obs.observe({ entryTypes: ['gc'] });
  };
  const r = inst.measure ? await inst.measure(s, mark) : await measureSync(inst, s, mark);
  if (!m0) mark();
  await sleep(20); // GC entries are delivered asynchronously
  obs.disconnect();
  fullGc();
  const m1 = process.memoryUsage();
  const info = inst.info?.() ?? {};
  await inst.close?.();
  const cpu = process.cpuUsage();
  return {
    id: c.id,
    group: c.group,
    title: c.title,
    unit: c.unit,
    samples: r.samples,
    extra: { ...r.extra, ...info },
    heap: { growthBytes: m1.heapUsed - m0.heapUsed, heapUsedBytes: m1.heapUsed, rssGrowthBytes: m1.rss - m0.rss, rssBytes: m1.rss },
    gc: { count: gcCount, ms: round(gcMs, 2) },
    processCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

// ------------------------------------------------------------------------------------------------
// Orchestrator.

function stats(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN };
  const median = v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  return { median, min: v[0], max: v.at(-1) };
}

function spawnCase(id, profile) {
  return new Promise((resolveCase, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', SELF, '--child', id, '--profile', profile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.once('error', reject);
    proc.once('exit', (code, sig) => {
      if (code !== 0) return reject(new Error(`case ${id} exited with ${code ?? sig}`));
      try {
        resolveCase(JSON.parse(out.trim().split('\n').at(-1)));
      } catch (e) {
        reject(new Error(`case ${id}: no result (${e.message})`));
      }
    });
  });
}

async function waitQuiet(seconds, log) {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const a = machineCpu();
    await sleep(1000);
    const b = machineCpu();
    const busy = (b.busy - a.busy) / (b.total - a.total);
    if (busy <= 0.1) return round(busy * 100, 1);
    log(`waiting for a quiet machine: ${round(busy * 100)} % busy`);
  }
  return null;
}

function selectCases(names) {
  if (!names) return CASES;
  const out = CASES.filter((c) => names.includes(c.id) || names.includes(c.group));
  const unknown = names.filter((n) => !CASES.some((c) => c.id === n) && !GROUPS.includes(n));
  if (unknown.length) throw new Error(`unknown case or group: ${unknown.join(', ')} (--list)`);
  return out;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.child) {
    const r = await runChild(o.child, o.profile);
    process.stdout.write(JSON.stringify(r) + '\n', () => process.exit(0));
    return;
  }
  if (o.list) {
    for (const c of CASES) process.stdout.write(`${c.id.padEnd(22)} ${c.group.padEnd(10)} ${c.title}\n`);
    return;
  }
  const log = (m) => process.stderr.write(`[micro] ${m}\n`);
  const cases = selectCases(o.cases);
  const startedAt = new Date().toISOString();
  const quietBusyPct = o.waitQuiet > 0 ? await waitQuiet(o.waitQuiet, log) : undefined;
  const loadAvgStart = os.loadavg();
  const results = [];
  const failures = [];
  for (const c of cases) {
    const m0 = machineCpu();
    const w0 = process.hrtime.bigint();
    try {
      const r = await spawnCase(c.id, o.profile);
      const wall = Number(process.hrtime.bigint() - w0) / 1e9;
      const m1 = machineCpu();
      const busy = m1.busy - m0.busy;
      const ops = stats(r.samples);
      const ns = stats(r.samples.map((x) => 1e9 / x));
      results.push({
        ...r,
        opsPerSecond: ops,
        nsPerOp: ns,
        // % of one core over the case's lifetime (process start to exit); the machine has cores × 100 %.
        load: { wallSeconds: round(wall, 2), casePct: round((100 * r.processCpuSeconds) / wall, 1), otherPct: round((100 * Math.max(0, busy - r.processCpuSeconds)) / wall, 1), machineBusyPct: round((100 * busy) / wall, 1) },
      });
      log(`${c.id}: ${Math.round(ops.median).toLocaleString('en-US')} ${c.unit}s/s, ${round(ns.median, 1)} ns/${c.unit} (other load ${round((100 * Math.max(0, busy - r.processCpuSeconds)) / wall)} % of a core)`);
    } catch (e) {
      failures.push({ id: c.id, error: e.message });
      log(`${c.id} failed: ${e.message}`);
    }
  }
  const res = {
    tool: 'micro',
    profile: o.profile,
    settings: PROFILES[o.profile],
    command: `node bench/micro.mjs ${process.argv.slice(2).join(' ')}`,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineFacts(),
    loadAvg: { start: loadAvgStart.map((x) => round(x, 2)), end: os.loadavg().map((x) => round(x, 2)) },
    quietBusyPct,
    cases: results,
    failures,
  };
  const out = resolve(ROOT, o.out ?? `bench/results/micro-${startedAt.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(res, null, 2) + '\n');
  process.stdout.write(microReport([res]).markdown + `\n\nResult: ${relative(process.cwd(), out)}\n`);
  if (failures.length) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`[micro] failed: ${e?.stack ?? e}\n`);
  process.exit(1);
});
