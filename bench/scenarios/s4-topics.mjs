/**
 * S4 topic spread: every connection subscribed to its personal topic and 1–4 groups of 10, events
 * on Zipf-distributed topics, bursts and a fixed rate (bench/topics.mjs).
 * Registered by bench/run.mjs (every module in this folder is a scenario).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { byTarget, duration, fmt, medianOf, ratioText, round } from '../lib/scenario-common.mjs';

const TOPICS = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'topics.mjs');
const S4_TARGETS = ['gateway', 'node', 'centrifuge'];

export const id = 's4';

export const scenario = {
  title: 'S4 topic spread: 2–5 topics per connection, Zipf-distributed events',
  runs: (p) => [
    {
      key: 's4-topics',
      script: TOPICS,
      args: [
        p.flag,
        '--connections',
        String(p.subscribers),
        '--targets',
        (p.targets ?? S4_TARGETS).filter((t) => S4_TARGETS.includes(t)).join(','),
        ...duration(p),
      ],
    },
  ],
  summarize: summarizeTopics,
};

function summarizeTopics(results) {
  const reps = results['s4-topics'] ?? [];
  const goals = [];
  const chart = { title: 'S4: deliveries per second, Zipf-distributed topics', unit: 'deliveries/s (higher is better)', categories: [], series: {} };
  if (reps.length === 0) return { markdown: 'Not measured.', chart, goals };
  const { layout, options: o } = reps[0];
  const targets = byTarget(reps);
  const med = (runs, f) => medianOf(runs.map(f));
  const phase = (r, kind) => r.phases.find((p) => p.kind === kind);
  const burstCat = `burst of ${o.burst} events`;
  const rateCat = `${o.rate} events/s`;
  chart.categories.push(burstCat, rateCat);
  const lines = [
    `${fmt(layout.connections)} WebSocket connections, ${layout.topicsPerConnection} topics each on average (${fmt(layout.subscriptions)} subscriptions on ${fmt(layout.topics)} topics), ` +
      `topics drawn from a Zipf distribution (s = ${o.zipf}, seed ${o.seed}); ${o.payload} B payload.`,
    '',
    `| server | bursts: deliveries/s | bursts: events/s | ${o.rate} events/s: p50 / p99 (ms) | lost / unexpected | server CPU-s per 1M deliveries (bursts) | RSS per connection / per subscription | gateway ÷ server: deliveries/s, p99, bytes per subscription |`,
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | --- |',
  ];
  const gw = targets.gateway ?? [];
  const stat = (runs) => ({
    dps: med(runs, (r) => phase(r, 'burst')?.deliveriesPerSecond),
    eps: med(runs, (r) => phase(r, 'burst')?.eventsPerSecond),
    rateDps: med(runs, (r) => phase(r, 'rate')?.deliveriesPerSecond),
    p50: med(runs, (r) => phase(r, 'rate')?.latencyMs.p50).median,
    p99: med(runs, (r) => phase(r, 'rate')?.latencyMs.p99).median,
    lost: med(runs, (r) => r.phases.reduce((x, p) => x + p.lost, 0)).median,
    unexpected: med(runs, (r) => r.phases.reduce((x, p) => x + p.unexpected, 0)).median,
    cpu: med(runs, (r) => phase(r, 'burst')?.serverCpuSecondsPerMillionDeliveries).median,
    perConn: med(runs, (r) => r.memory?.bytesPerConnection).median,
    perSub: med(runs, (r) => r.memory?.bytesPerSubscription).median,
  });
  const g = stat(gw);
  for (const [name, runs] of Object.entries(targets)) {
    const s = stat(runs);
    const ratios = name === 'gateway' ? '–' : `${ratioText(g.dps.median, s.dps.median, true)}, ${ratioText(g.p99, s.p99, false)}, ${ratioText(g.perSub, s.perSub, false)}`;
    lines.push(
      `| ${name} | ${s.dps.text} | ${s.eps.text} | ${s.p50} / ${s.p99} | ${fmt(s.lost)} / ${fmt(s.unexpected)} | ${Number.isFinite(s.cpu) ? round(s.cpu, 3) : 'n/a'} | ${fmt(s.perConn)} B / ${fmt(s.perSub)} B | ${ratios} |`,
    );
    (chart.series[name] ??= {})[burstCat] = s.dps.median;
    chart.series[name][rateCat] = s.rateDps.median;
  }
  if (Number.isFinite(g.lost)) goals.push({ goal: 'S4: no lost or misrouted deliveries', reached: g.lost === 0 && g.unexpected === 0, value: `${fmt(g.lost)} lost, ${fmt(g.unexpected)} unexpected` });
  if (Number.isFinite(g.p99)) goals.push({ goal: `S4: p99 under 20 ms at ${o.rate} events/s with 10 000 connections`, reached: g.p99 < 20 && layout.connections >= 10_000, value: `p99 ${g.p99} ms with ${fmt(layout.connections)} connections` });
  return { markdown: lines.join('\n'), chart, goals };
}
