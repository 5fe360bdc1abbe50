#!/usr/bin/env node
/**
 * The benchmark suite's one entry point: `npm run bench -- <scenario|all|list> [options]`.
 *
 * Each scenario runs the servers under test (bench/targets/: the gateway and its baselines) and
 * the load generators as separate processes through the scenario's orchestrator (fanout.mjs,
 * kafka-fanout.mjs), once per repetition, then writes into bench/results/suite-<time>/:
 *   <scenario>.json   every orchestrator result plus the summary (medians over repetitions)
 *   <scenario>.svg    a chart of the scenario's main figure
 *   summary.md        the tables, ratios to every baseline, and the goals reached or missed
 * `--docs` also copies the charts to docs/benchmarks/ (the figures docs/benchmarks.md shows).
 *
 * Profiles: --smoke (seconds per scenario; what `npm test` runs, nothing about speed is checked),
 * --quick (a few minutes: WebSocket only, 10 000 subscribers, one repetition), --full (SSE and
 * WebSocket, 100 B and 1 KB payloads, 15 000 subscribers, three repetitions).
 *
 * What each scenario measures and the latest figures: docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { round } from './lib/common.mjs';
import { machineFacts } from './lib/procfs.mjs';
import { barChart } from './lib/svg-chart.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const FANOUT = join(BENCH, 'fanout.mjs');
const KAFKA = join(BENCH, 'kafka-fanout.mjs');

const FANOUT_TARGETS = { ws: ['gateway', 'node', 'nchan', 'centrifuge'], sse: ['gateway', 'node', 'nchan'] };

const PROFILES = {
  smoke: { flag: '--smoke', subscribers: 200, idleSubscribers: 200, transports: ['ws'], payloads: [100], repeat: 1, rates: [100] },
  quick: { flag: '--quick', subscribers: 10_000, idleSubscribers: 10_000, transports: ['ws'], payloads: [100], repeat: 1, rates: [10, 1000], duration: 5 },
  full: { flag: '--quick', subscribers: 15_000, idleSubscribers: 15_000, transports: ['ws', 'sse'], payloads: [100, 1000], repeat: 3, rates: [10, 100, 1000], duration: 10 },
};

/**
 * A scenario: `runs(p)` lists orchestrator invocations ({key, script, args}); `summarize(results, p)`
 * turns their results (one array per key, one entry per repetition) into {markdown, chart, goals}.
 */
const SCENARIOS = {
  s1: {
    title: 'S1 idle capacity: memory per idle connection and connect rate',
    runs: (p) =>
      p.transports.map((t) => ({
        key: `s1-${t}`,
        script: FANOUT,
        args: [p.flag, '--mode', 'idle', '--transport', t, '--subscribers', String(p.idleSubscribers), '--targets', targetsFor(p, t)],
      })),
    summarize: summarizeIdle,
  },
  s2: {
    title: 'S2 fan-out throughput: closed-loop bursts of 1, 20 and 100 events',
    runs: (p) =>
      p.transports.flatMap((t) =>
        p.payloads.map((payload) => ({
          key: `s2-${t}-${payload}B`,
          script: FANOUT,
          args: [p.flag, '--mode', 'burst', '--transport', t, '--payload', String(payload), '--subscribers', String(p.subscribers), '--targets', targetsFor(p, t), ...duration(p)],
        })),
      ),
    summarize: summarizeBursts,
  },
  s3: {
    title: 'S3 fan-out latency at fixed event rates',
    runs: (p) =>
      p.transports.flatMap((t) =>
        p.rates.map((rate) => ({
          key: `s3-${t}-${rate}`,
          script: FANOUT,
          args: [p.flag, '--mode', 'rate', '--rate', String(rate), '--transport', t, '--subscribers', String(p.subscribers), '--targets', targetsFor(p, t), ...duration(p)],
        })),
      ),
    summarize: summarizeRates,
  },
  kafka: {
    title: 'Kafka → client: consume ceiling, 1 000 events/s latency, flood with subscribers',
    runs: (p) => [{ key: 'kafka', script: KAFKA, args: [p.flag === '--smoke' ? '--smoke' : '--quick'] }],
    summarize: summarizeKafka,
  },
};
/** Scenarios of perf-notes 5.2 that the suite does not run yet, listed by `list`. */
const NOT_YET = {
  s4: 'several subscriptions per client with skewed event keys',
  s5: 'slow consumers (test/integration covers correctness; no benchmark yet)',
  s6: 'reconnect storm with JWTs',
  s7: 'long polling against Nchan long-poll',
  s8: 'HTTP proxy (needs the proxy; bench/targets/nginx-proxy.mjs is ready)',
  s9: 'main-thread micro-benchmarks',
};

function targetsFor(p, transport) {
  return (p.targets ?? FANOUT_TARGETS[transport]).filter((t) => FANOUT_TARGETS[transport].includes(t)).join(',');
}

function duration(p) {
  return p.duration ? ['--duration', String(p.duration)] : [];
}

// ------------------------------------------------------------------------------------------------
// Summaries

const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');

/** Median of the finite numbers, with the spread "min–max" when there are several. */
function medianOf(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return { median: NaN, text: 'n/a' };
  const m = v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  return { median: m, text: v.length > 1 ? `${fmt(m)} (${fmt(v[0])}–${fmt(v.at(-1))})` : fmt(m) };
}

/** run[target] of every repetition of one invocation. */
function byTarget(reps) {
  const out = {};
  for (const rep of reps) for (const run of rep.runs) (out[run.server] ??= []).push(run);
  return out;
}

function ratioText(gw, other, higherIsBetter) {
  if (!Number.isFinite(gw) || !Number.isFinite(other) || other === 0) return 'n/a';
  const r = gw / other;
  return `${round(r, 2)}×${higherIsBetter ? '' : ' (lower is better)'}`;
}

function summarizeIdle(results, p) {
  const lines = [];
  const goals = [];
  const chart = { title: 'S1: RSS per idle connection', unit: 'bytes per connection (lower is better)', categories: [], series: {} };
  for (const [key, reps] of Object.entries(results)) {
    const transport = key.split('-')[1];
    const targets = byTarget(reps);
    lines.push(`**${transport.toUpperCase()}**, ${fmt(p.idleSubscribers)} connections:`, '');
    lines.push('| server | bytes per idle connection (RSS) | kernel slab per connection | connects/s | ratio gateway ÷ server |');
    lines.push('| --- | ---: | ---: | ---: | ---: |');
    const gw = medianOf((targets.gateway ?? []).map((r) => r.idle?.overallBytesPerConnection)).median;
    chart.categories.push(transport.toUpperCase());
    for (const [name, runs] of Object.entries(targets)) {
      if (runs[0].skipped?.phase === 'all') continue;
      const b = medianOf(runs.map((r) => r.idle?.overallBytesPerConnection));
      const slab = medianOf(runs.map((r) => r.idle?.kernelSlabBytesPerConnection));
      const rate = medianOf(runs.map((r) => r.idle?.perTransport?.[transport]?.connectPerSecond));
      lines.push(`| ${name} | ${b.text} B | ${slab.text} B | ${rate.text} | ${name === 'gateway' ? '–' : ratioText(gw, b.median, false)} |`);
      (chart.series[name] ??= {})[transport.toUpperCase()] = b.median;
    }
    lines.push('');
    if (Number.isFinite(gw)) goals.push({ goal: `S1 ${transport}: at most 2 KB per idle connection`, reached: gw <= 2048, value: `${fmt(gw)} B` });
  }
  return { markdown: lines.join('\n'), chart, goals };
}

function summarizeBursts(results) {
  const lines = [];
  const goals = [];
  const chart = { title: 'S2: fan-out deliveries per second', unit: 'deliveries/s (higher is better)', categories: [], series: {} };
  for (const [key, reps] of Object.entries(results)) {
    const [, transport, payload] = key.split('-');
    const targets = byTarget(reps);
    const subs = reps[0].options.subscribers;
    lines.push(`**${transport.toUpperCase()}, ${payload} payload**, ${fmt(subs)} subscribers:`, '');
    lines.push('| server | burst-1 | burst-20 | burst-100 | server CPU-s per 1M deliveries (burst-100) | ratio gateway ÷ server (burst-1 / 20 / 100) |');
    lines.push('| --- | ---: | ---: | ---: | ---: | --- |');
    const phase = (runs, name, f = (x) => x.deliveriesPerSecond) => medianOf(runs.map((r) => { const ph = r.phases?.find((x) => x.name === name); return ph ? f(ph) : NaN; }));
    const gwRuns = targets.gateway ?? [];
    for (const [name, runs] of Object.entries(targets)) {
      if (runs[0].skipped?.phase === 'all') continue;
      const cells = ['burst-1', 'burst-20', 'burst-100'].map((b) => phase(runs, b));
      const cpu = phase(runs, 'burst-100', (x) => x.serverCpuSecondsPerMillionDeliveries);
      const ratios = ['burst-1', 'burst-20', 'burst-100'].map((b, i) => ratioText(phase(gwRuns, b).median, cells[i].median, true));
      lines.push(`| ${name} | ${cells.map((c) => c.text).join(' | ')} | ${Number.isFinite(cpu.median) ? round(cpu.median, 3) : 'n/a'} | ${name === 'gateway' ? '–' : ratios.join(' / ')} |`);
      for (const [i, b] of ['burst-1', 'burst-20', 'burst-100'].entries()) (chart.series[name] ??= {})[`${transport.toUpperCase()} ${payload} ${b}`] = cells[i].median;
      if (name !== 'gateway' && (name === 'nchan' || name === 'centrifuge')) {
        const best = (rs) => Math.max(...['burst-1', 'burst-20', 'burst-100'].map((b) => phase(rs, b).median).filter(Number.isFinite));
        const g = best(gwRuns);
        const o = best(runs);
        goals.push({ goal: `S2 ${transport} ${payload}: at least 10× ${name} (best burst each)`, reached: g >= 10 * o, value: `${ratioText(g, o, true)} (${fmt(g)} vs ${fmt(o)}/s)` });
      }
    }
    for (const b of ['burst-1', 'burst-20', 'burst-100']) chart.categories.push(`${transport.toUpperCase()} ${payload} ${b}`);
    const gwBest = Math.max(...['burst-1', 'burst-20', 'burst-100'].map((b) => phase(gwRuns, b).median).filter(Number.isFinite));
    if (Number.isFinite(gwBest)) goals.push({ goal: `S2 ${transport} ${payload}: at least 1 500 000 deliveries/s with 15 000 subscribers`, reached: gwBest >= 1.5e6 && subs >= 15_000, value: `${fmt(gwBest)}/s with ${fmt(subs)} subscribers` });
    lines.push('');
  }
  return { markdown: lines.join('\n'), chart, goals };
}

function summarizeRates(results) {
  const lines = [];
  const goals = [];
  const chart = { title: 'S3: publish → receipt p99 latency', unit: 'ms (lower is better)', categories: [], series: {} };
  lines.push('| transport | rate | subscribers | server | delivered / expected | p50 / p99 / p99.9 / max (ms) | ratio of p99 gateway ÷ server |');
  lines.push('| --- | ---: | ---: | --- | ---: | --- | ---: |');
  for (const [key, reps] of Object.entries(results)) {
    const [, transport, rate] = key.split('-');
    const targets = byTarget(reps);
    const subs = reps[0].options.subscribers;
    const p99 = (runs) => medianOf(runs.map((r) => r.phases?.find((x) => x.kind === 'rate')?.latencyMs.all.p99)).median;
    const gw = p99(targets.gateway ?? []);
    const category = `${transport.toUpperCase()} ${rate}/s`;
    chart.categories.push(category);
    for (const [name, runs] of Object.entries(targets)) {
      const ph = runs.map((r) => r.phases?.find((x) => x.kind === 'rate')).filter(Boolean);
      if (ph.length === 0) {
        lines.push(`| ${transport} | ${rate}/s | ${fmt(subs)} | ${name} | not run: ${runs[0].skipped?.reason ?? 'no result'} | | |`);
        continue;
      }
      const l = (k) => medianOf(ph.map((x) => x.latencyMs.all[k])).median;
      const del = medianOf(ph.map((x) => x.deliveries)).median;
      const exp = medianOf(ph.map((x) => x.expectedDeliveries)).median;
      lines.push(`| ${transport} | ${rate}/s | ${fmt(subs)} | ${name} | ${fmt(del)} / ${fmt(exp)} | ${l('p50')} / ${l('p99')} / ${l('p999')} / ${l('max')} | ${name === 'gateway' ? '–' : ratioText(gw, l('p99'), false)} |`);
      (chart.series[name] ??= {})[category] = l('p99');
    }
    if (Number(rate) === 1000 && Number.isFinite(gw)) goals.push({ goal: `S3 ${transport}: p99 under 20 ms at 1 000 events/s to 10 000 subscribers`, reached: gw < 20 && subs >= 10_000, value: `p99 ${gw} ms with ${fmt(subs)} subscribers` });
  }
  return { markdown: lines.join('\n'), chart, goals };
}

function summarizeKafka(results) {
  const rep = results.kafka[0];
  const lines = [];
  const chart = { title: 'Kafka → client: produce → receipt p99 at 1 000 events/s', unit: 'ms (lower is better)', categories: [], series: { gateway: {} } };
  const goals = [];
  for (const ph of rep.phases ?? []) {
    if (ph.ratePerSecond !== undefined) {
      const l = ph.latencyMs ?? {};
      lines.push(`- ${ph.name}: ${fmt(ph.deliveries)} / ${fmt(ph.expectedDeliveries)} deliveries, produce → receipt p50 ${l.p50} / p99 ${l.p99} / max ${l.max} ms`);
      const cat = `${fmt(ph.subscribers)} subscribers`;
      chart.categories.push(cat);
      chart.series.gateway[cat] = l.p99;
      if (ph.subscribers <= 1000) goals.push({ goal: `Kafka: p99 produce → receipt under 10 ms at ${fmt(ph.ratePerSecond)} events/s (${cat})`, reached: l.p99 < 10, value: `p99 ${l.p99} ms` });
    } else {
      lines.push(`- ${ph.name}: ${fmt(ph.consumedPerSecondSteady)} events consumed/s (steady)${ph.deliveriesPerSecond ? `, ${fmt(ph.deliveriesPerSecond)} deliveries/s` : ''}`);
      if (ph.name === 'backlog-0' && rep.opts?.profile !== 'smoke') {
        goals.push({ goal: 'Kafka: consume at least 100 000 events/s per node', reached: ph.consumedPerSecondSteady >= 100_000, value: `${fmt(ph.consumedPerSecondSteady)}/s` });
      }
    }
  }
  return { markdown: lines.join('\n'), chart, goals };
}

function renderChart(c, subtitle) {
  const names = Object.keys(c.series);
  return barChart({ title: c.title, subtitle, unit: c.unit, categories: c.categories, series: names.map((n) => ({ name: n, values: c.categories.map((cat) => c.series[n][cat] ?? NaN) })) });
}

// ------------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const o = { scenario: undefined, profile: 'quick', repeat: undefined, targets: undefined, docs: false, outDir: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--smoke' || a === '--quick' || a === '--full') o.profile = a.slice(2);
    else if (a === '--repeat') o.repeat = Number(val());
    else if (a === '--targets') o.targets = val().split(',');
    else if (a === '--docs') o.docs = true;
    else if (a === '--out-dir') o.outDir = val();
    else if (a === '--help' || a === '-h') o.scenario = 'help';
    else if (!a.startsWith('-') && !o.scenario) o.scenario = a;
    else throw new Error(`unknown option ${a} (npm run bench -- --help)`);
  }
  return o;
}

const USAGE = `npm run bench -- <scenario|all|list> [--smoke|--quick|--full] [--repeat N] [--targets gateway,node,nchan,centrifuge] [--docs] [--out-dir DIR]
scenarios: ${Object.keys(SCENARIOS).join(', ')} ("all" runs s1, s2, s3 and kafka)
Needs a built gateway (npm run build). Nchan and Centrifuge are installed from Debian packages on first use (root).
`;

function runScript(script, args, log) {
  return new Promise((resolveRun, reject) => {
    log(`$ node ${relative(ROOT, script)} ${args.join(' ')}`);
    const proc = spawn(process.execPath, [script, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    proc.once('exit', (code, sig) => (code === 0 ? resolveRun() : reject(new Error(`${relative(ROOT, script)} exited with ${code ?? sig}`))));
  });
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!o.scenario || o.scenario === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (o.scenario === 'list') {
    for (const [k, s] of Object.entries(SCENARIOS)) process.stdout.write(`${k}  ${s.title}\n`);
    for (const [k, why] of Object.entries(NOT_YET)) process.stdout.write(`${k}  not in the suite yet: ${why}\n`);
    return;
  }
  const names = o.scenario === 'all' ? ['s1', 's2', 's3', 'kafka'] : o.scenario.split(',');
  for (const n of names) if (!SCENARIOS[n]) throw new Error(`unknown scenario ${n}; ${NOT_YET[n] ? `not in the suite yet (${NOT_YET[n]})` : 'npm run bench -- list'}`);
  const p = { ...PROFILES[o.profile] };
  if (o.repeat) p.repeat = o.repeat;
  if (o.targets) p.targets = o.targets;
  const startedAt = new Date().toISOString();
  const dir = resolve(ROOT, o.outDir ?? `bench/results/suite-${startedAt.replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  const log = (m) => process.stderr.write(`[bench] ${m}\n`);
  const facts = machineFacts();
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`;
  const md = [`## Benchmark suite, ${startedAt}`, '', `Command: \`${command}\` (profile ${o.profile}, ${p.repeat} repetition(s); medians, spread in parentheses)`, '',
    `Machine: ${facts.cores} × ${facts.cpuModel}, ulimit -n ${facts.openFilesLimit}, Node ${facts.node}, ${facts.kernel}.`, ''];
  const allGoals = [];
  for (const name of names) {
    const sc = SCENARIOS[name];
    log(`${name}: ${sc.title}`);
    const results = {};
    for (const inv of sc.runs(p)) {
      results[inv.key] = [];
      for (let r = 0; r < p.repeat; r++) {
        const out = join(dir, `${inv.key}-${r + 1}.json`);
        await runScript(inv.script, [...inv.args, '--out', out], log);
        results[inv.key].push(JSON.parse(readFileSync(out, 'utf8')));
      }
    }
    const summary = sc.summarize(results, p);
    const svg = renderChart(summary.chart, `${o.profile} profile, ${startedAt.slice(0, 10)}, ${facts.cores} cores`);
    writeFileSync(join(dir, `${name}.svg`), svg);
    writeFileSync(join(dir, `${name}.json`), JSON.stringify({ scenario: name, title: sc.title, command, profile: o.profile, repeat: p.repeat, machine: facts, summary, results }, null, 2) + '\n');
    if (o.docs) {
      mkdirSync(join(ROOT, 'docs/benchmarks'), { recursive: true });
      copyFileSync(join(dir, `${name}.svg`), join(ROOT, 'docs/benchmarks', `${name}.svg`));
    }
    md.push(`### ${sc.title}`, '', summary.markdown, '', `![${name}](benchmarks/${name}.svg)`, '');
    allGoals.push(...summary.goals);
  }
  if (allGoals.length) {
    md.push('### Goals', '', '| goal | result | |', '| --- | --- | --- |');
    for (const g of allGoals) md.push(`| ${g.goal} | ${g.value} | ${g.reached ? '**reached**' : '**missed**'} |`);
    md.push('');
  }
  writeFileSync(join(dir, 'summary.md'), md.join('\n'));
  process.stdout.write(md.join('\n') + `\nResults: ${relative(process.cwd(), dir)}/\n`);
}

main().catch((e) => {
  process.stderr.write(`[bench] failed: ${e?.stack ?? e}\n`);
  process.exit(1);
});
