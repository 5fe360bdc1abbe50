/**
 * S7 long polling: P pollers (smoke 100, quick 5 000, full 10 000) each in its own keep-alive poll
 * loop while events are published at fixed rates (10/s and 100/s) to all of them; every poller
 * must receive every event exactly once. Gateway (session cookies) against nginx + Nchan
 * (Last-Modified / Etag cursors, multipart answers). Orchestrator: bench/longpoll.mjs.
 * Registered by bench/run.mjs (every module in this folder is a scenario).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, medianOf, ratioText, round } from '../lib/scenario-common.mjs';

export const id = 's7';

const LONGPOLL = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'longpoll.mjs');
const LONGPOLL_TARGETS = ['gateway', 'nchan'];
const RATES = [10, 100];

/**
 * run.mjs's profiles carry no name; smoke is the one with --smoke, full the one with 15 000
 * subscribers. Pollers, duration and warm-up per profile are bench/longpoll.mjs's own profiles.
 */
function profileOf(p) {
  if (p.flag === '--smoke') return 'smoke';
  return p.subscribers >= 15_000 ? 'full' : 'quick';
}

export const scenario = {
  title: 'S7 long polling: pollers at fixed event rates, gateway vs Nchan long-poll',
  runs: (p) => {
    const targets = (p.targets ?? LONGPOLL_TARGETS).filter((t) => LONGPOLL_TARGETS.includes(t));
    if (targets.length === 0) return [];
    return [{ key: 's7-longpoll', script: LONGPOLL, args: [`--${profileOf(p)}`, '--rates', RATES.join(','), '--targets', targets.join(',')] }];
  },
  summarize: summarizeLongPoll,
};

/** Milliseconds with fewer digits the larger they are. */
const ms = (x) => (!Number.isFinite(x) ? 'n/a' : x >= 100 ? fmt(x) : String(round(x, x >= 10 ? 1 : 2)));

function summarizeLongPoll(results) {
  const lines = [];
  const goals = [];
  const chart = { title: 'S7: long-poll publish → receipt p99 latency', unit: 'ms (lower is better)', categories: [], series: {} };
  const reps = results['s7-longpoll'] ?? [];
  if (reps.length === 0) return { markdown: 'Not measured.', chart, goals };
  const o = reps[0].options;
  const runs = {};
  for (const rep of reps) for (const run of rep.runs) (runs[run.server] ??= []).push(run);
  lines.push(
    `${fmt(o.pollers)} pollers (one keep-alive connection each, ${reps[0].runs[0]?.clientProcesses ?? '?'} client processes), ${o.duration} s per rate after ${o.warmup} s of warm-up, ` +
      `${o.payload} B payload; gateway SHARDS=${o.shards}, Nchan ${o.workers} workers. Latency over every delivery.`,
    '',
  );
  lines.push(
    '| rate | server | delivered / expected (lost, duplicated) | deliveries/s | poll requests/s | events per response | p50 / p99 / p99.9 / max (ms) | pollers that waited > 1 s for an answer | errors / non-2xx | server CPU | CPU-s per 1M deliveries | server RSS | ratio gateway ÷ server: deliveries/s, p99, CPU per delivery |',
  );
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |');
  const phaseNames = [...new Set(reps.flatMap((r) => r.runs.flatMap((run) => (run.phases ?? []).map((ph) => ph.name))))];
  const limits = [];
  for (const name of phaseNames) {
    const rate = Number(name.split('-')[1]);
    const category = `${rate}/s`;
    chart.categories.push(category);
    const phasesOf = (server) => (runs[server] ?? []).map((r) => r.phases?.find((x) => x.name === name)).filter(Boolean);
    const m = (server, f) => medianOf(phasesOf(server).map(f));
    const gw = {
      dps: m('gateway', (x) => x.deliveriesPerSecond).median,
      p99: m('gateway', (x) => x.latencyMs.p99).median,
      cpu: m('gateway', (x) => x.serverCpuSecondsPerMillionDeliveries).median,
    };
    for (const server of Object.keys(runs)) {
      const ph = phasesOf(server);
      if (ph.length === 0) {
        const why = runs[server][0].skipped?.reason ?? runs[server][0].error ?? 'no result';
        lines.push(`| ${category} | ${server} | not run: ${why} | | | | | | | | | | |`);
        continue;
      }
      const total = (f) => ph.reduce((x, q) => x + f(q), 0);
      const l = (k) => m(server, (x) => x.latencyMs[k]).median;
      const dps = m(server, (x) => x.deliveriesPerSecond);
      const rps = m(server, (x) => x.pollRequestsPerSecond);
      const epr = m(server, (x) => x.eventsPerPollResponse).median;
      const cpuPct = m(server, (x) => x.cpu.server.cpuPercent).median;
      const cpu = m(server, (x) => x.serverCpuSecondsPerMillionDeliveries).median;
      const rss = m(server, (x) => x.serverRssBytes).median;
      const ratios = server === 'gateway' ? '–' : `${ratioText(gw.dps, dps.median, true)}, ${ratioText(gw.p99, l('p99'), false)}, ${ratioText(gw.cpu, cpu, false)}`;
      lines.push(
        `| ${category} | ${server} | ${fmt(total((q) => q.deliveries))} / ${fmt(total((q) => q.expectedDeliveries))} (${fmt(total((q) => q.lost))}, ${fmt(total((q) => q.duplicates))}) | ` +
          `${dps.text} | ${rps.text} | ${round(epr, 2)} | ${ms(l('p50'))} / ${ms(l('p99'))} / ${ms(l('p999'))} / ${ms(l('max'))} | ${m(server, (x) => x.pollersWaitingOver1s).text} | ` +
          `${fmt(total((q) => q.errors))} / ${fmt(total((q) => q.non2xx))} | ` +
          `${round(cpuPct, 1)}% | ${round(cpu, 2)} | ${Number.isFinite(rss) ? `${round(rss / 1048576, 1)} MB` : 'n/a'} | ${ratios} |`,
      );
      (chart.series[server] ??= {})[category] = l('p99');
      limits.push(`${server} ${category}: ${ph[0].cpu.saturated}`);
      if (server === 'gateway') {
        const lost = total((q) => q.lost);
        const dup = total((q) => q.duplicates);
        goals.push({ goal: `S7 ${category}: every gateway poller gets every event exactly once`, reached: lost === 0 && dup === 0 && total((q) => q.deliveries) === total((q) => q.expectedDeliveries), value: `${fmt(lost)} lost, ${fmt(dup)} duplicated of ${fmt(total((q) => q.expectedDeliveries))}` });
      }
    }
  }
  lines.push('', 'CPU (first repetition, % of one core):', '', ...limits.map((x) => `- ${x}`));
  return { markdown: lines.join('\n'), chart, goals };
}
