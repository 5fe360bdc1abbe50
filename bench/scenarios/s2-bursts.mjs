/**
 * S2 fan-out throughput: closed-loop bursts of 1, 20 and 100 events to every subscriber, per
 * target, transport and payload.
 * Registered by bench/run.mjs (every module in this folder is a scenario).
 */
import { FANOUT, byTarget, duration, fmt, medianOf, ratioText, round, targetsFor } from '../lib/scenario-common.mjs';

export const id = 's2';

export const scenario = {
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
};

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
