/**
 * Kafka -> client (bench/kafka-fanout.mjs): consume ceiling, produce -> receipt latency at 1 000
 * events/s, flood with subscribers.
 * Registered by bench/run.mjs (every module in this folder is a scenario).
 */
import { KAFKA, fmt } from '../lib/scenario-common.mjs';

export const id = 'kafka';

export const scenario = {
  title: 'Kafka → client: consume ceiling, 1 000 events/s latency, flood with subscribers',
  runs: (p) => [{ key: 'kafka', script: KAFKA, args: [p.flag === '--smoke' ? '--smoke' : '--quick'] }],
  summarize: summarizeKafka,
};

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
