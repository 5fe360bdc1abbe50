/**
 * S3 fan-out latency: publish -> receipt at fixed event rates; baselines skip rates beyond their
 * single-event capacity.
 * Registered by bench/run.mjs (every module in this folder is a scenario).
 */
import { FANOUT, byTarget, duration, fmt, medianOf, ratioText, targetsFor } from '../lib/scenario-common.mjs';

export const id = 's3';

export const scenario = {
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
};

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
