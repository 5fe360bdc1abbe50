/**
 * RIG's event metrics and our connection gauge, read from counters the gateway keeps anyway
 * (router, Kafka source, record producer, shards' `stats` reports): nothing is counted
 * twice, a scrape only reads. Label values are the configured topics, so their number is bounded.
 */
import type { MetricFamily, Sample } from './prometheus-text.js';

export interface EventMetricsSources {
  router: { readonly stats: { readonly events: number; readonly unrouted: number } };
  /** The Kafka source and its configured topics; undefined without Kafka. */
  kafka?: { readonly topics: readonly string[]; readonly stats: { readonly byTopic: ReadonlyMap<string, { consumed: number; failed: number }> } } | undefined;
  /**
   * Everything main's record producer wrote, per topic (HTTP submissions forwarded to the source
   * topic, kafka-target requests, the request log, replies for other nodes); undefined without Kafka.
   */
  records?: ReadonlyMap<string, { readonly produced: number; readonly failed: number }> | undefined;
  /** Connections the shards reported last (every 5 s). */
  connections: () => number;
}

export function eventMetrics(src: EventMetricsSources): MetricFamily[] {
  const consumed: Sample[] = [];
  const consumedFailed: Sample[] = [];
  for (const topic of src.kafka?.topics ?? []) {
    const t = src.kafka!.stats.byTopic.get(topic);
    const labels = [['source', 'kafka'], ['topic', topic]] as const;
    consumed.push({ labels, value: (t?.consumed ?? 0) + (t?.failed ?? 0) });
    consumedFailed.push({ labels, value: t?.failed ?? 0 });
  }
  const produced: Sample[] = [];
  const produceFailed: Sample[] = [];
  for (const [topic, c] of src.records ?? []) {
    const labels = [['target', 'kafka'], ['topic', topic]] as const;
    produced.push({ labels, value: c.produced });
    produceFailed.push({ labels, value: c.failed });
  }
  return [
    { name: 'rig_consumed_events_total', type: 'counter', help: 'Events consumed from a source (handled and failed).', samples: consumed },
    { name: 'rig_consumed_events_failed_total', type: 'counter', help: 'Consumed records that could not be handled (not a CloudEvent, or routing failed).', samples: consumedFailed },
    {
      name: 'rig_consumed_events_forwarded_total',
      type: 'counter',
      help: 'Events handed to at least one shard holding a matching subscription.',
      samples: [{ value: src.router.stats.events - src.router.stats.unrouted }],
    },
    { name: 'rig_produced_events_total', type: 'counter', help: 'Events produced to a target.', samples: produced },
    { name: 'rig_produced_events_failed_total', type: 'counter', help: 'Events that could not be produced (lost).', samples: produceFailed },
    { name: 'rig_connections', type: 'gauge', help: 'Open SSE, WebSocket and long-polling connections, as the shards last reported (every 5 s).', samples: [{ value: src.connections() }] },
  ];
}
