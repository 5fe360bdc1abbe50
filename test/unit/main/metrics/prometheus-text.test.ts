/** The Prometheus text renderer (exposition format 0.0.4) and the /metrics registry. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeLabelValue, PROMETHEUS_CONTENT_TYPE, renderPrometheusText } from '../../../../src/main/metrics/prometheus-text.js';
import { MetricsRegistry } from '../../../../src/main/metrics/registry.js';
import { eventMetrics } from '../../../../src/main/metrics/event-metrics.js';

test('HELP and TYPE lines come before the samples of each family, families in the order given', () => {
  const text = renderPrometheusText([
    { name: 'b_total', help: 'Second.', type: 'counter', samples: [{ value: 3 }] },
    { name: 'a', help: 'First.', type: 'gauge', samples: [] },
  ]);
  assert.equal(text, '# HELP b_total Second.\n# TYPE b_total counter\nb_total 3\n# HELP a First.\n# TYPE a gauge\n');
  assert.equal(renderPrometheusText([]), '');
  assert.equal(PROMETHEUS_CONTENT_TYPE, 'text/plain; version=0.0.4; charset=utf-8');
});

test('samples are sorted by their labels, label names keep the order given', () => {
  const text = renderPrometheusText([
    {
      name: 'x_total', help: 'h', type: 'counter', samples: [
        { labels: [['k', 'b'], ['a', '1']], value: 2 },
        { labels: [['k', 'a'], ['a', '2']], value: 1 },
      ],
    },
  ]);
  assert.deepEqual(text.split('\n').slice(2, 4), ['x_total{k="a",a="2"} 1', 'x_total{k="b",a="1"} 2']);
});

test('label values escape backslash, double quote and line feed; HELP escapes backslash and line feed', () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.equal(escapeLabelValue('plain /path?x=1'), 'plain /path?x=1');
  const text = renderPrometheusText([
    { name: 'm', help: 'two\nlines \\ "quoted"', type: 'gauge', samples: [{ labels: [['p', '/a"b\\c\nd']], value: 1 }] },
  ]);
  assert.equal(text, '# HELP m two\\nlines \\\\ "quoted"\n# TYPE m gauge\nm{p="/a\\"b\\\\c\\nd"} 1\n');
  // Every line is one sample or comment: no raw line feed leaks from a value.
  assert.equal(text.split('\n').length, 4);
});

test('special values are written as Prometheus spells them', () => {
  const text = renderPrometheusText([
    { name: 'v', help: 'h', type: 'gauge', samples: [{ labels: [['i', '1']], value: NaN }, { labels: [['i', '2']], value: Infinity }, { labels: [['i', '3']], value: -Infinity }, { labels: [['i', '4']], value: 0.25 }] },
  ]);
  assert.deepEqual(text.trim().split('\n').slice(2), ['v{i="1"} NaN', 'v{i="2"} +Inf', 'v{i="3"} -Inf', 'v{i="4"} 0.25']);
});

test('the registry adds up shard reports and caps label sets in main too', () => {
  const reg = new MetricsRegistry(3);
  reg.addProxyRequests([['GET', '/a', 'http', 'http', 'ok', 2], ['GET', '/b', 'N/A', 'N/A', 'not_found', 1]]);
  reg.addProxyRequests([['GET', '/a', 'http', 'http', 'ok', 5], ['GET', '/c', 'N/A', 'N/A', 'not_found', 1]]);
  reg.addProxyRequests([['GET', '/d', 'N/A', 'N/A', 'not_found', 4], ['BREW', '/e', 'N/A', 'N/A', 'not_found', 1]]);
  const lines = reg.render().split('\n').filter((l) => l.startsWith('rig_proxy_requests_total{'));
  assert.deepEqual(lines, [
    'rig_proxy_requests_total{method="(other)",path="(other)",target="N/A",response_from="N/A",status="not_found"} 1',
    'rig_proxy_requests_total{method="GET",path="(other)",target="N/A",response_from="N/A",status="not_found"} 4',
    'rig_proxy_requests_total{method="GET",path="/a",target="http",response_from="http",status="ok"} 7',
    'rig_proxy_requests_total{method="GET",path="/b",target="N/A",response_from="N/A",status="not_found"} 1',
    'rig_proxy_requests_total{method="GET",path="/c",target="N/A",response_from="N/A",status="not_found"} 1',
  ]);
});

test('event metrics: consumed counts handled and failed records per configured topic; forwarded = routed to a shard', () => {
  const families = eventMetrics({
    router: { stats: { events: 10, unrouted: 4 } },
    kafka: { topics: ['rig', 'other'], stats: { byTopic: new Map([['rig', { consumed: 5, failed: 2 }]]) } },
    records: new Map([['rig', { produced: 7, failed: 1 }]]),
    connections: () => 12,
  });
  const reg = new MetricsRegistry();
  reg.register(() => families);
  const text = reg.render();
  for (const line of [
    'rig_consumed_events_total{source="kafka",topic="rig"} 7',
    'rig_consumed_events_total{source="kafka",topic="other"} 0',
    'rig_consumed_events_failed_total{source="kafka",topic="rig"} 2',
    'rig_consumed_events_forwarded_total 6',
    'rig_produced_events_total{target="kafka",topic="rig"} 7',
    'rig_produced_events_failed_total{target="kafka",topic="rig"} 1',
    'rig_connections 12',
  ]) assert.ok(text.split('\n').includes(line), `${line}\n---\n${text}`);
  // Without Kafka the families are declared but have no samples.
  const bare = renderPrometheusText(eventMetrics({ router: { stats: { events: 0, unrouted: 0 } }, connections: () => 0 }));
  assert.ok(bare.includes('# TYPE rig_consumed_events_total counter\n# HELP'), bare);
});
