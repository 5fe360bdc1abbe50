/**
 * Kafka request/reply (bench/kafka-rpc.mjs): round trips of a `target: "kafka"`,
 * `response_from: "kafka"` endpoint at fixed rates, against the same round trip built by hand
 * with kafkajs (no gateway). Registered by bench/run.mjs (every module in this folder is a scenario).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, medianOf, round } from '../lib/scenario-common.mjs';

const RPC = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'kafka-rpc.mjs');
const WAYS = ['gateway', 'baseline'];
/** The aim: p99 under this many ms at GOAL_RATE requests/s, every request answered 200. */
const GOAL_P99_MS = 15;
const GOAL_RATE = 1000;

export const id = 'rpc';

export const scenario = {
  title: 'Kafka request/reply: HTTP → Kafka → responder → Kafka → HTTP, against the same round trip without the gateway',
  runs: (p) => [{ key: 'rpc', script: RPC, args: [`--${p.profile ?? 'quick'}`] }],
  summarize: summarizeRpc,
};

const ms = (x) => (Number.isFinite(x) ? String(round(x, 2)) : 'n/a');

function summarizeRpc(results) {
  const reps = results.rpc ?? [];
  const chart = { title: `Kafka request/reply: round-trip p99`, unit: 'ms (lower is better)', categories: [], series: { gateway: {}, baseline: {} } };
  const goals = [];
  if (reps.length === 0) return { markdown: 'Not measured.', chart, goals };
  const o = reps[0].options;
  const lines = [
    `${o.seconds} s per rate and way after a ${o.warmup} s warm-up, open loop (latency from each request's planned send time); gateway SHARDS=${o.shards} with ${o.connections} keep-alive client connections; baseline: kafkajs producer + reply consumer in the load process; one responder process answers both (one produce request per fetched batch); topics of ${o.partitions} partitions, acks ${o.acks}; load average at the start ${reps.map((r) => r.loadAverageAtStart.map((x) => round(x, 1)).join('/')).join(', ')}.`,
    '',
    '| requests/s | way | answered 200 / planned | 504 + errors | p50 | p99 | p99.9 | max | request / reply leg p50, p99 | gateway ÷ baseline (p99) | gateway CPU-s per 1 000 requests | saturated |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | --- |',
  ];
  for (const rate of o.rates) {
    const cat = `${fmt(rate)}/s`;
    chart.categories.push(cat);
    const stat = {};
    for (const way of WAYS) {
      const ph = reps.map((r) => r.phases.find((x) => x.rate === rate && x.way === way)).filter(Boolean);
      if (ph.length === 0) continue;
      const med = (f) => medianOf(ph.map(f)).median;
      stat[way] = {
        ok: med((x) => x.ok),
        planned: med((x) => x.planned),
        bad: med((x) => x.planned - x.ok),
        p50: med((x) => x.latencyMs.p50),
        p99: med((x) => x.latencyMs.p99),
        p999: med((x) => x.latencyMs.p999),
        max: med((x) => x.latencyMs.max),
        gwCpu: med((x) => x.cpuSecondsPer1000.gateway ?? NaN),
        legs: ['p50', 'p99'].map((k) => `${ms(med((x) => x.requestLegMs?.[k]))} / ${ms(med((x) => x.replyLegMs?.[k]))}`).join(', '),
        saturated: ph.map((x) => x.cpu.saturated).join('; '),
      };
      chart.series[way][cat] = stat[way].p99;
    }
    for (const way of WAYS) {
      const s = stat[way];
      if (!s) {
        lines.push(`| ${fmt(rate)} | ${way} | not measured | | | | | | | | | |`);
        continue;
      }
      const ratio = way === 'gateway' && stat.baseline ? `${round(s.p99 / stat.baseline.p99, 2)}×` : '–';
      lines.push(`| ${fmt(rate)} | ${way} | ${fmt(s.ok)} / ${fmt(s.planned)} | ${fmt(s.bad)} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.p999)} | ${ms(s.max)} | ${s.legs} | ${ratio} | ${way === 'gateway' ? ms(s.gwCpu) : '–'} | ${s.saturated} |`);
    }
    const gw = stat.gateway;
    if (rate === GOAL_RATE && gw) {
      goals.push({
        goal: `Kafka request/reply p99 < ${GOAL_P99_MS} ms at ${fmt(GOAL_RATE)} requests/s`,
        reached: gw.p99 < GOAL_P99_MS && gw.bad === 0,
        value: `p99 ${ms(gw.p99)} ms (baseline ${ms(stat.baseline?.p99)} ms), ${fmt(gw.ok)} / ${fmt(gw.planned)} answered 200`,
      });
    }
  }
  lines.push('', 'Latency: from the planned send time until the whole answer arrived; the request leg runs from the actual send until the responder had the request, the reply leg from there until the answer was complete. CPU-s per 1 000 requests: user + system time of the gateway process (all threads) over the measured run per 1 000 requests answered 200. Saturated: a process or gateway thread at ≥ 85 % of one core, or the machine at ≥ 90 % of all cores.');
  return { markdown: lines.join('\n'), chart, goals };
}
