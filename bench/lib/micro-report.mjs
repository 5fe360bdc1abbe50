/**
 * Turns bench/micro.mjs results (one per repetition) into the S9 summary: Markdown tables, the
 * chart data (bench/lib/svg-chart.mjs shape) and the goals. Used by micro.mjs for its own run and
 * by bench/scenarios/s9-micro.mjs for the suite. Figures over repetitions: the median of each
 * repetition's median, spread = lowest and highest sample of any repetition.
 */
import { round } from './common.mjs';

const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
/** ns with sensible precision: 87.3, 1 234, 45 678. */
const ns = (n) => (!Number.isFinite(n) ? 'n/a' : n < 100 ? String(round(n, 1)) : fmt(n));
const kb = (b) => (Number.isFinite(b) ? `${round(b / 1024, 1)} KB` : 'n/a');

function median(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/** Short labels for tables and the chart (the chart's label column is narrow). */
export const LABELS = {
  'parse-ce-0.2': 'CE 0.2 parse',
  'parse-ce-1.0': 'CE 1.0 parse',
  'parse-json-ref': 'JSON.parse (ref.)',
  'kafka-structured': 'Kafka structured',
  'kafka-binary': 'Kafka binary',
  extract: 'extract + keys',
  'interest-lookup-2': 'lookup, 2 shards',
  'interest-lookup-32': 'lookup, 32 shards',
  'route-batch-2': 'routeBatch, 2 shards',
  'route-batch-32': 'routeBatch, 32 shards',
  'path-kafka': 'Kafka → batch (all)',
  'record-encode': 'record encode',
  'record-frame': 'batch framing',
  'record-read': 'record read',
  'transport-port-b1': 'port, batch 1',
  'transport-clone-b1': 'clone, batch 1',
  'transport-port-b20': 'port, batch 20',
  'transport-clone-b20': 'clone, batch 20',
  'transport-port-b100': 'port, batch 100',
  'transport-clone-b100': 'clone, batch 100',
  'jwt-hs256-nocache': 'HS256, no cache',
  'jwt-hs256-cache': 'HS256, cache',
  'jwt-rs256-nocache': 'RS256, no cache',
  'jwt-rs256-cache': 'RS256, cache',
  'storm-inline': 'inline, 1 thread',
  'storm-inline-2t': 'inline, 2 threads',
  'storm-piscina-1': 'piscina, 1 worker',
  'storm-piscina-2': 'piscina, 2 workers',
  'storm-piscina-2-c16': 'piscina, 2 workers, 16 tasks per worker',
  'storm-piscina-2-batch': 'piscina, 2 workers, ≤ 64 tokens per task',
};

/** Every case across repetitions: id -> { case (first repetition's), reps: [...] }. */
function byCase(runs) {
  const out = new Map();
  for (const run of runs) for (const c of run.cases ?? []) {
    if (!out.has(c.id)) out.set(c.id, { first: c, reps: [] });
    out.get(c.id).reps.push(c);
  }
  return out;
}

function figure(reps, pick) {
  const per = reps.map(pick);
  return median(per);
}

function spreadOps(reps) {
  const all = reps.flatMap((r) => r.samples);
  return { min: Math.min(...all), max: Math.max(...all) };
}

/** The pool's own cost per task (no-op tasks) of a piscina storm case, or '–'. */
function noop(e) {
  const n = e.reps.map((r) => r.extra.noopTasks).filter(Boolean);
  if (n.length === 0) return '–';
  return `${round(median(n.map((x) => x.cpuUsPerTask)), 1)}, ${round(median(n.map((x) => x.sequentialRoundTripUs)), 0)}`;
}

export function microReport(runs) {
  const cases = byCase(runs);
  const get = (id) => cases.get(id);
  const ops = (id) => figure(get(id)?.reps ?? [], (r) => r.opsPerSecond.median);
  const nsOp = (id) => figure(get(id)?.reps ?? [], (r) => r.nsPerOp.median);
  const lines = [];
  const first = runs[0] ?? {};
  const loads = runs.flatMap((r) => r.cases.map((c) => c.load.otherPct));
  lines.push(`Profile ${first.profile}: each case in a fresh process, ${first.settings?.warmupMs} ms warm-up, ${first.settings?.samples} × ${first.settings?.sampleMs} ms samples; ${runs.length} repetition(s). ` +
    `Load from other work while the cases ran: median ${round(median(loads), 1)} %, max ${round(Math.max(...loads), 1)} % of one core (load average at start ${first.loadAvg?.start?.join(' / ')}).`, '');

  // Per-event work on the main thread.
  lines.push('Heap growth: heap in use after a forced full GC at the end of the measurement minus the same at its start (a few hundred KB either way is noise, a leak would grow with the run); GCs: collections during the measurement.', '');
  lines.push('| case | ops/s (spread) | ns per op | heap growth | GCs | what one op is |', '| --- | ---: | ---: | ---: | ---: | --- |');
  for (const [id, { first: c, reps }] of cases) {
    if (c.group === 'transport' || c.group === 'storm') continue;
    const sp = spreadOps(reps);
    lines.push(`| ${LABELS[id] ?? id} | ${fmt(ops(id))} (${fmt(sp.min)}–${fmt(sp.max)}) | ${ns(nsOp(id))} | ${kb(median(reps.map((r) => r.heap.growthBytes)))} | ${median(reps.map((r) => r.gc.count))} | ${c.unit}: ${c.title} |`);
  }
  lines.push('');

  // Transport.
  const tRows = [];
  for (const b of [1, 20, 100]) {
    for (const mode of ['port', 'clone']) {
      const id = `transport-${mode}-b${b}`;
      const e = get(id);
      if (!e) continue;
      const sp = spreadOps(e.reps);
      const rtt = (k) => median(e.reps.map((r) => r.extra.rttUs?.[k]));
      const cpu = (k) => median(e.reps.map((r) => r.extra.cpuPct?.[k]));
      const other = mode === 'port' ? ops(`transport-clone-b${b}`) : NaN;
      tRows.push(`| ${b} | ${mode === 'port' ? 'project framing (postEvents, transferred)' : 'postMessage(object), baseline'} | ${fmt(ops(id))} (${fmt(sp.min)}–${fmt(sp.max)}) | ${ns(nsOp(id))} | ${round(rtt('p50'), 0)} / ${round(rtt('p99'), 0)} | ${round(cpu('main'))} / ${round(cpu('others'))} | ${Number.isFinite(other) ? `${round(ops(id) / other, 2)}×` : '–'} |`);
    }
  }
  if (tRows.length) {
    lines.push('**Cross-thread transport**, main → 1 worker, ≈ 190-byte events (records/s counted by the worker after reading every record):', '');
    lines.push('| batch | transport | records/s (spread) | ns per record | round trip p50 / p99 (µs) | CPU % main / rest of process | port ÷ clone |', '| ---: | --- | ---: | ---: | ---: | ---: | ---: |', ...tRows, '');
  }

  // Storm.
  const sRows = [];
  for (const v of ['inline', 'inline-2t', 'piscina-1', 'piscina-2', 'piscina-2-c16', 'piscina-2-batch']) {
    const e = get(`storm-${v}`);
    if (!e) continue;
    const reps = e.reps.flatMap((r) => r.extra.reps);
    const m = (f) => median(reps.map(f));
    sRows.push(`| ${LABELS[`storm-${v}`]} | ${fmt(m((x) => x.burst.verifiesPerSecond))} | ${round(m((x) => x.burst.latencyMs.p50), 1)} / ${round(m((x) => x.burst.latencyMs.p99), 1)} | ${round(m((x) => x.burst.loopDelayMs.max), 1)} | ${round(m((x) => x.burst.cpuUsPerVerify), 1)} | ${round(m((x) => x.jitter.latencyMs.p50), 2)} / ${round(m((x) => x.jitter.latencyMs.p99), 2)} / ${round(m((x) => x.jitter.latencyMs.max), 2)} | ${round(m((x) => x.jitter.loopDelayMs.max), 1)} | ${noop(e)} |`);
  }
  if (sRows.length) {
    const st = first.settings?.storm ?? {};
    lines.push(`**RS256 reconnect storm** (cache off; burst: ${fmt(st.burst)} arrivals at once; jitter: ${fmt(st.jitter)} arrivals over ${st.windowMs} ms; medians over ${st.reps} × ${runs.length} storms):`, '');
    lines.push('| verification | burst verifies/s | burst latency p50 / p99 (ms) | burst loop delay max (ms) | CPU µs per verify (all threads) | jitter latency p50 / p99 / max (ms) | jitter loop delay max (ms) | pool cost per no-op task: CPU µs, round trip µs |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |', ...sRows, '');
  }

  if (runs.some((r) => r.failures?.length)) lines.push('Failed cases: ' + runs.flatMap((r) => r.failures.map((f) => `${f.id} (${f.error})`)).join('; '), '');

  // Chart: cost per event of the main thread's steps, in ns (transport at batch 100, per record).
  const chartIds = ['parse-ce-0.2', 'parse-json-ref', 'kafka-structured', 'kafka-binary', 'extract', 'interest-lookup-2', 'interest-lookup-32', 'route-batch-2', 'route-batch-32', 'record-encode', 'record-frame', 'record-read', 'transport-port-b100', 'transport-clone-b100', 'path-kafka'];
  const chart = { title: 'S9: main-thread cost per event', unit: 'ns per event or record, median (lower is better)', categories: [], series: { gateway: {} } };
  for (const id of chartIds) {
    if (!get(id)) continue;
    chart.categories.push(LABELS[id]);
    chart.series.gateway[LABELS[id]] = round(nsOp(id), 1);
  }

  const goals = [];
  const path = ops('path-kafka');
  if (Number.isFinite(path)) {
    goals.push({ goal: "S9: main's own per-event work for Kafka (decode → extract → route → shard batch) allows at least 100 000 events/s (the Kafka consume aim)", reached: path >= 100_000, value: `${fmt(path)} events/s (${ns(nsOp('path-kafka'))} ns per event)` });
  }
  const port = ops('transport-port-b100');
  const clone = ops('transport-clone-b100');
  if (Number.isFinite(port) && Number.isFinite(clone)) {
    goals.push({ goal: 'S9: the project framing moves more records/s main → worker than postMessage(object), batches of 100', reached: port > clone, value: `${fmt(port)} vs ${fmt(clone)} records/s (${round(port / clone, 2)}×)` });
  }
  const storm = (v) => figure(get(`storm-${v}`)?.reps ?? [], (r) => median(r.extra.reps.map((x) => x.burst.verifiesPerSecond)));
  const inline = storm('inline');
  const inline2 = storm('inline-2t');
  const pools = ['piscina-1', 'piscina-2', 'piscina-2-c16', 'piscina-2-batch'].map((v) => [v, storm(v)]).filter(([, x]) => Number.isFinite(x));
  if (Number.isFinite(inline) && pools.length) {
    const [bestName, best] = pools.reduce((a, b) => (b[1] > a[1] ? b : a));
    // The gateway today verifies inline in every shard: one thread, or both cores with SHARDS=2.
    const today = Math.max(inline, Number.isFinite(inline2) ? inline2 : 0);
    goals.push({
      goal: 'S9: a piscina pool verifies RS256 faster in a reconnect storm than inline verification in the shards (1 thread, and 2 threads as SHARDS=2 runs on 2 cores)',
      reached: best > today,
      value: `best pool (${LABELS[`storm-${bestName}`]}) ${fmt(best)}/s vs inline ${fmt(inline)}/s on 1 thread (${round(best / inline, 2)}×), ${fmt(inline2)}/s on 2 threads (${round(best / inline2, 2)}×)`,
    });
    const cpu = (v) => figure(get(`storm-${v}`)?.reps ?? [], (r) => median(r.extra.reps.map((x) => x.burst.cpuUsPerVerify)));
    const task = figure(get('storm-piscina-1')?.reps ?? [], (r) => r.extra.noopTasks?.cpuUsPerTask);
    const per = pools.filter(([v]) => !v.endsWith('-batch')).map(([v, x]) => `${LABELS[`storm-${v}`]} ${fmt(x)}/s (${round(x / inline, 2)}×)`);
    lines.push(`Piscina, from these figures: handing each token to the pool gives ${per.join(', ')} of inline's ${fmt(inline)}/s on one thread; ` +
      `the pool costs ${round(task, 1)} µs of CPU per task by itself (no-op tasks), against ${round(cpu('inline'), 1)} µs for one RS256 verify inline, so every offloaded verify costs ` +
      `${round(cpu('piscina-1') / cpu('inline'), 1)}× the CPU. Batching a turn's tokens into one task (${fmt(storm('piscina-2-batch'))}/s) amortises that, but two shards verifying inline, ` +
      `as SHARDS=2 does on this machine, reach ${fmt(inline2)}/s with no pool at all.`, '');
  }
  return { markdown: lines.join('\n'), chart, goals };
}
