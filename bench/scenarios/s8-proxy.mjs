/**
 * S8 HTTP proxy: requests/s and latency of GET /items/<n> (~1 KB JSON) from one upstream stub,
 * reached directly, through nginx proxy_pass and through the gateway's proxy, with the same load,
 * once with 64 and once with 256 client connections (the gateway's per-connection costs and its
 * upstream pool show at the larger count).
 * Registered by bench/run.mjs (every module in this folder is a scenario).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { byTarget, fmt, medianOf, ratioText, round } from '../lib/scenario-common.mjs';

const PROXY = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'proxy.mjs');
const WAYS = ['direct', 'nginx-proxy', 'gateway'];
export const CONNECTIONS = [64, 256];

export const id = 's8';

export const scenario = {
  title: 'S8 HTTP proxy: gateway against nginx proxy_pass and direct, 64 and 256 connections',
  runs: (p) => CONNECTIONS.map((c) => ({ key: `s8-proxy-${c}`, script: PROXY, args: [p.flag, '--connections', String(c)] })),
  summarize: summarizeProxy,
};

const ms = (x) => (Number.isFinite(x) ? `${round(x, 2)} ms` : 'n/a');

/** Medians over the repetitions of one connection count, per way. */
function statsOf(reps) {
  const targets = byTarget(reps);
  const med = (runs, f) => medianOf((runs ?? []).map(f));
  const stat = {};
  for (const w of WAYS) {
    const runs = targets[w];
    stat[w] = {
      rps: med(runs, (r) => r.requestsPerSecond),
      p50: med(runs, (r) => r.latencyMs.p50).median,
      p975: med(runs, (r) => r.latencyMs.p97_5).median,
      p99: med(runs, (r) => r.latencyMs.p99).median,
      bad: med(runs, (r) => r.errors + r.timeouts + r.non2xx).median,
      cpu: med(runs, (r) => r.serverCpuSeconds).median,
      cpuPerReq: med(runs, (r) => r.serverCpuMicrosPerRequest).median,
      runs,
    };
  }
  return stat;
}

function summarizeProxy(results) {
  const lines = [];
  const goals = [];
  const chart = { title: 'S8: HTTP proxy requests per second', unit: 'requests/s (higher is better)', categories: [], series: {} };
  const measured = CONNECTIONS.filter((c) => (results[`s8-proxy-${c}`] ?? []).length > 0);
  if (measured.length === 0) return { markdown: 'Not measured.', chart, goals };
  const opts = results[`s8-proxy-${measured[0]}`][0].options;
  lines.push(`${opts.tool}, ${measured.join(' and ')} connections, pipelining ${opts.pipelining}, ${opts.duration} s measured after a ${opts.warmup} s warm-up per way and connection count; one upstream stub (node:http, kept-alive); gateway SHARDS=2, nginx 2 workers.`, '');
  lines.push('| connections | way | requests/s | p50 | p97.5 | p99 | errors + non-2xx | server CPU-s | server CPU µs per request | gateway ÷ way (req/s) | gateway ÷ way (p99) |');
  lines.push('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |');
  for (const c of measured) {
    const stat = statsOf(results[`s8-proxy-${c}`]);
    const cat = `${c} connections`;
    chart.categories.push(cat);
    const gw = stat.gateway;
    for (const w of WAYS) {
      const s = stat[w];
      if (!s.runs) {
        lines.push(`| ${c} | ${w} | not measured | | | | | | | | |`);
        continue;
      }
      (chart.series[w] ??= {})[cat] = s.rps.median;
      const rr = w === 'gateway' ? '–' : ratioText(gw.rps.median, s.rps.median, true);
      const rl = w === 'gateway' ? '–' : ratioText(gw.p99, s.p99, false);
      lines.push(`| ${c} | ${w} | ${s.rps.text} | ${ms(s.p50)} | ${ms(s.p975)} | ${ms(s.p99)} | ${fmt(s.bad)} | ${Number.isFinite(s.cpu) ? round(s.cpu, 2) : 'n/a'} | ${Number.isFinite(s.cpuPerReq) ? round(s.cpuPerReq, 1) : 'n/a'} | ${rr} | ${rl} |`);
    }
    const ng = stat['nginx-proxy'];
    if (gw.runs && ng.runs) {
      const tput = gw.rps.median / ng.rps.median;
      const lat = gw.p99 / ng.p99;
      goals.push({
        goal: `S8 (${c} connections): proxy throughput at least 0.8× nginx proxy_pass with p99 no worse than 1.5× nginx's`,
        reached: tput >= 0.8 && lat <= 1.5 && gw.bad === 0,
        value: `${round(tput, 2)}× requests/s (${fmt(gw.rps.median)} vs ${fmt(ng.rps.median)}), p99 ${round(lat, 2)}× (${ms(gw.p99)} vs ${ms(ng.p99)})${gw.bad ? `, ${fmt(gw.bad)} failed requests` : ''}`,
      });
    }
  }
  lines.push('', 'Server CPU: user + system time of the way\'s own processes over the measured run (direct: the upstream; nginx-proxy: master and workers; gateway: its process with all shards), upstream not included for the proxies.');
  return { markdown: lines.join('\n'), chart, goals };
}
