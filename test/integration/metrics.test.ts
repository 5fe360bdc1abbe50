/**
 * GET /metrics on the internal API of the real gateway (2 shards): proxy requests counted in the
 * shards reach main's totals within about a second (RIG's proxy metrics scenario, spec 12.3, plus
 * unauthorized, unreachable and request_timeout), the totals outlive shard restarts, a flood of
 * distinct unknown paths stays capped, and PROMETHEUS_METRICS_ENABLED=false answers 404.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { http } from '../helpers/http.js';
import { freshRequest } from '../helpers/raw-http.js';
import { echo, startUpstream } from '../helpers/upstream.js';
import type { Upstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';
import { MAX_PROXY_LABEL_SETS } from '../../src/shared/metrics/proxy-request-table.js';

/** Each request is sent this often, each time on its own connection, so both shards count some. */
const REPEAT = 4;

function definitions(upPort: number, closedPort: number): unknown[] {
  const ep = (id: string, method: string, path_regex: string, extra: Record<string, unknown> = {}) => ({ id, method, path_regex, ...extra });
  return [
    {
      id: 'myapi',
      name: 'myapi',
      auth_type: 'jwt',
      version_data: {
        default: {
          endpoints: [
            ep('free', 'GET', '/myapi/free'),
            ep('books', 'POST', '/myapi/books'),
            ep('secret', 'GET', '/myapi/secret', { secured: true }),
            ep('slow', 'GET', '/myapi/slow'),
          ],
        },
      },
      proxy: { use_env: false, target_url: 'localhost', port: upPort },
    },
    {
      id: 'down',
      name: 'down',
      version_data: { default: { endpoints: [ep('down', 'GET', '/down/(.*)')] } },
      proxy: { use_env: false, target_url: '127.0.0.1', port: closedPort },
    },
  ];
}

/** The samples of a /metrics body: `name{labels}` -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

function proxySeries(method: string, path: string, target: string, responseFrom: string, status: string): string {
  return `rig_proxy_requests_total{method="${method}",path="${path}",target="${target}",response_from="${responseFrom}",status="${status}"}`;
}

async function scrape(gw: RunningGateway): Promise<Map<string, number>> {
  const r = await http(`${gw.apiUrl}/metrics`);
  assert.equal(r.status, 200, r.body);
  return samples(r.body);
}

/** Polls /metrics until every expected series has exactly its value (deltas arrive within ~1 s). */
async function expectSeries(gw: RunningGateway, expected: Record<string, number>, what: string): Promise<Map<string, number>> {
  let last = new Map<string, number>();
  try {
    return await waitFor(async () => {
      last = await scrape(gw);
      return Object.entries(expected).every(([k, v]) => last.get(k) === v) && last;
    }, 5000, what);
  } catch (e) {
    const seen = Object.keys(expected).map((k) => `${k} = ${last.get(k)}`).join('\n');
    throw new Error(`${(e as Error).message}; last scrape:\n${seen}`);
  }
}

describe('GET /metrics', () => {
  let up: Upstream;
  let gw: RunningGateway;

  before(async () => {
    up = await startUpstream(undefined, (req, res, record) => {
      // Slower than PROXY_RECV_TIMEOUT: the gateway answers 504.
      if (req.url === '/myapi/slow') setTimeout(() => echo(req, res, record), 1500);
      else echo(req, res, record);
    });
    gw = await startGateway(undefined, {
      SHARDS: '2',
      PROXY_CONFIG_FILE: JSON.stringify(definitions(up.port, await freePort())),
      PROXY_RECV_TIMEOUT: '400',
      ENABLE_FAULT_INJECTION: 'true',
    });
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  test('Prometheus text format 0.0.4 with every documented metric family', async () => {
    const r = await http(`${gw.apiUrl}/metrics`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const families: Array<[string, string]> = [
      ['rig_proxy_requests_total', 'counter'],
      ['rig_consumed_events_total', 'counter'],
      ['rig_consumed_events_failed_total', 'counter'],
      ['rig_consumed_events_forwarded_total', 'counter'],
      ['rig_produced_events_total', 'counter'],
      ['rig_produced_events_failed_total', 'counter'],
      ['rig_connections', 'gauge'],
      ['process_cpu_seconds_total', 'counter'],
      ['process_resident_memory_bytes', 'gauge'],
      ['process_start_time_seconds', 'gauge'],
      ['nodejs_heap_size_used_bytes', 'gauge'],
      ['nodejs_eventloop_lag_seconds', 'gauge'],
    ];
    for (const [name, type] of families) {
      assert.match(r.body, new RegExp(`^# HELP ${name} \\S.*\\n# TYPE ${name} ${type}$`, 'm'), name);
    }
    const s = samples(r.body);
    assert.ok(s.get('process_resident_memory_bytes')! > 1e6);
    assert.ok(Math.abs(s.get('process_start_time_seconds')! - Date.now() / 1000) < 300);
    assert.ok(s.get('nodejs_heap_size_used_bytes')! > 0);
    assert.ok(s.get('nodejs_eventloop_lag_seconds')! >= 0);
    assert.equal(s.get('rig_consumed_events_forwarded_total'), 0);
  });

  test('proxied requests are counted by method, path, target, response_from and outcome', async () => {
    const requests: Record<string, () => ReturnType<typeof freshRequest>> = {
      unknown: () => freshRequest(`${gw.url}/endpoint/undefined`),
      free: () => freshRequest(`${gw.url}/myapi/free?x=1`),
      books: () => freshRequest(`${gw.url}/myapi/books`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' }),
      secret: () => freshRequest(`${gw.url}/myapi/secret`),
      down: () => freshRequest(`${gw.url}/down/x`),
      slow: () => freshRequest(`${gw.url}/myapi/slow`),
    };
    const statuses: Record<string, Set<number>> = {};
    await Promise.all(
      Object.entries(requests).flatMap(([name, send]) =>
        Array.from({ length: REPEAT }, async () => (statuses[name] ??= new Set()).add((await send()).status)),
      ),
    );
    assert.deepEqual(
      Object.fromEntries(Object.entries(statuses).map(([k, v]) => [k, [...v]])),
      { unknown: [404], free: [200], books: [200], secret: [401], down: [502], slow: [504] },
    );

    const expected = {
      [proxySeries('GET', '/endpoint/undefined', 'N/A', 'N/A', 'not_found')]: REPEAT,
      [proxySeries('GET', '/myapi/free', 'http', 'http', 'ok')]: REPEAT,
      [proxySeries('POST', '/myapi/books', 'http', 'http', 'ok')]: REPEAT,
      [proxySeries('GET', '/myapi/secret', 'http', 'http', 'unauthorized')]: REPEAT,
      [proxySeries('GET', '/down/x', 'http', 'http', 'unreachable')]: REPEAT,
      [proxySeries('GET', '/myapi/slow', 'http', 'http', 'request_timeout')]: REPEAT,
    };
    const s = await expectSeries(gw, expected, 'the proxy counters');
    const proxyLines = [...s.keys()].filter((k) => k.startsWith('rig_proxy_requests_total{'));
    assert.equal(proxyLines.length, Object.keys(expected).length, proxyLines.join('\n'));

    // The totals live in main: restarting both shards loses nothing already reported.
    for (const shard of [0, 1]) {
      const r = await http(`${gw.apiUrl}/_fault/shards/${shard}/crash`, { method: 'POST' });
      assert.equal(r.status, 202, r.body);
      await waitFor(() => gw.output().includes(`shard ${shard} exited`), 5000, `shard ${shard} exited`);
      await waitFor(async () => (await http(`${gw.apiUrl}/ready`)).status === 200, 10_000, `shard ${shard} back`);
    }
    await freshRequest(`${gw.url}/endpoint/undefined`);
    await expectSeries(gw, { ...expected, [proxySeries('GET', '/endpoint/undefined', 'N/A', 'N/A', 'not_found')]: REPEAT + 1 }, 'totals after shard restarts');
  });

  test('a flood of distinct unknown paths stays capped and is still counted', async () => {
    const before = await scrape(gw);
    const notFoundBefore = [...before].filter(([k]) => k.startsWith('rig_proxy_requests_total{method="GET"') && k.endsWith('status="not_found"}')).reduce((n, [, v]) => n + v, 0);
    const FLOOD = MAX_PROXY_LABEL_SETS + 500;
    let next = 0;
    const worker = async () => {
      while (next < FLOOD) {
        const i = next++;
        const r = await fetch(`${gw.url}/scan/${i}/${'x'.repeat(i % 7)}`);
        await r.arrayBuffer();
        assert.equal(r.status, 404);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));

    const s = await waitFor(async () => {
      const now = await scrape(gw);
      const notFound = [...now].filter(([k]) => k.startsWith('rig_proxy_requests_total{method="GET"') && k.endsWith('status="not_found"}')).reduce((n, [, v]) => n + v, 0);
      return notFound === notFoundBefore + FLOOD && now;
    }, 5000, 'every flooded request counted');
    const proxyLines = [...s.keys()].filter((k) => k.startsWith('rig_proxy_requests_total{'));
    assert.ok(proxyLines.length <= MAX_PROXY_LABEL_SETS + 1, `${proxyLines.length} label sets`);
    assert.ok(s.get(proxySeries('GET', '(other)', 'N/A', 'N/A', 'not_found'))! >= FLOOD - MAX_PROXY_LABEL_SETS);
    // Label sets counted before the cap was reached keep counting.
    await freshRequest(`${gw.url}/myapi/free`);
    await expectSeries(gw, { [proxySeries('GET', '/myapi/free', 'http', 'http', 'ok')]: REPEAT + 1 }, 'a known label set after the flood');
  });
});

test('PROMETHEUS_METRICS_ENABLED=false: /metrics answers 404 like any unknown route; the proxy still works', async (t) => {
  const gw = await startGateway(t, { SHARDS: '2', PROMETHEUS_METRICS_ENABLED: 'false' });
  const r = await http(`${gw.apiUrl}/metrics`);
  assert.equal(r.status, 404);
  assert.equal(r.body, '{"errors":{"detail":"Not found"}}');
  assert.equal((await freshRequest(`${gw.url}/endpoint/undefined`)).status, 404);
  assert.equal((await http(`${gw.apiUrl}/health`)).status, 200);
});
