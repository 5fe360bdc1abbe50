/**
 * What GET /metrics shows (docs/metrics.md). Main owns the totals of `rig_proxy_requests_total`:
 * shards send what they counted since their last report (`metrics` messages, at most once a
 * second), so the totals outlive a shard restart (all but the restarted shard's last second). The
 * other metrics are read from counters that already exist (router, Kafka source, record producer,
 * shards' stats, the process) when a scrape asks for them, through registered collectors.
 */
import type { ProxyRequestCount } from '../../shared/channel/messages.js';
import { MAX_PROXY_LABEL_SETS, ProxyRequestTable } from '../../shared/metrics/proxy-request-table.js';
import { renderPrometheusText, type MetricFamily } from './prometheus-text.js';

/** Reads current values at scrape time. */
export type Collector = () => MetricFamily[];

export class MetricsRegistry {
  private readonly proxyRequests: ProxyRequestTable;
  private readonly collectors: Collector[] = [];

  constructor(maxProxyLabelSets = MAX_PROXY_LABEL_SETS) {
    this.proxyRequests = new ProxyRequestTable(maxProxyLabelSets);
  }

  /** A shard's counts since its previous report. */
  addProxyRequests(counts: readonly ProxyRequestCount[]): void {
    for (const [method, path, target, responseFrom, status, n] of counts) {
      this.proxyRequests.add(method, path, target, responseFrom, status, n);
    }
  }

  /** Collectors are rendered after the proxy counter, in the order registered. */
  register(collect: Collector): void {
    this.collectors.push(collect);
  }

  collect(): MetricFamily[] {
    const families: MetricFamily[] = [this.proxyFamily()];
    for (const collect of this.collectors) families.push(...collect());
    return families;
  }

  render(): string {
    return renderPrometheusText(this.collect());
  }

  private proxyFamily(): MetricFamily {
    const samples = [];
    for (const r of this.proxyRequests.rows()) {
      samples.push({
        labels: [['method', r.method], ['path', r.path], ['target', r.target], ['response_from', r.responseFrom], ['status', r.status]] as const,
        value: r.count,
      });
    }
    return {
      name: 'rig_proxy_requests_total',
      type: 'counter',
      help: 'Requests handled by the proxy, by outcome (status ok: the upstream response started).',
      samples,
    };
  }
}
