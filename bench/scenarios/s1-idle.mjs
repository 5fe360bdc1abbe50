/**
 * S1 idle capacity: memory per idle connection (RSS growth from none to all connected, after a
 * forced GC in Node servers) and connect rate, per target.
 * Registered by bench/run.mjs (every module in this folder is a scenario).
 */
import { FANOUT, byTarget, fmt, medianOf, ratioText, targetsFor } from '../lib/scenario-common.mjs';

export const id = 's1';

export const scenario = {
  title: 'S1 idle capacity: memory per idle connection and connect rate',
  runs: (p) =>
    p.transports.map((t) => ({
      key: `s1-${t}`,
      script: FANOUT,
      args: [p.flag, '--mode', 'idle', '--transport', t, '--subscribers', String(p.idleSubscribers), '--targets', targetsFor(p, t)],
    })),
  summarize: summarizeIdle,
};

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
