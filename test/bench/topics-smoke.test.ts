/**
 * Keeps the S4 topic-spread benchmark (`npm run bench -- s4`, bench/topics.mjs) from rotting: a
 * smoke run against the gateway, the plain Node baseline and Centrifuge (installed from Debian
 * packages on first use). Nothing here checks speed; it checks that every target ran both phases,
 * that every connection held its 2–5 topics, that events reached their subscribers with none lost
 * and none delivered to a connection that did not subscribe to its topic, and that the summary,
 * chart and memory figures were written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_RUN, runBenchScript } from '../helpers/bench.js';

// Installing golang-go and the Centrifuge library on a fresh machine takes a few minutes.
const BOUND_MS = 8 * 60_000;
const TARGETS = ['gateway', 'node', 'centrifuge'];

interface Phase {
  name: string;
  kind: string;
  events: number;
  deliveries: number;
  expectedDeliveries: number;
  lost: number;
  unexpected: number;
  latencyMs: { p99: number };
}
interface Run {
  server: string;
  connect: { connections: number; subscriptions: number; failed: number };
  memory: { bytesPerConnection: number; bytesPerSubscription: number };
  phases: Phase[];
}
interface Result {
  layout: { connections: number; subscriptions: number; topicsPerConnection: number };
  runs: Run[];
}

test('S4 topic spread: smoke run routes every event to its subscribers on every target', { timeout: BOUND_MS + 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-s4-smoke-'));
  try {
    const { code, output } = await runBenchScript(BENCH_RUN, ['s4', '--smoke', '--out-dir', dir], BOUND_MS);
    assert.equal(code, 0, `npm run bench -- s4 --smoke failed:\n${output.slice(-6000)}`);
    const file = JSON.parse(readFileSync(join(dir, 's4.json'), 'utf8')) as { results: Record<string, Result[]>; summary: { markdown: string } };
    const result = file.results['s4-topics']?.[0];
    assert.ok(result, 's4.json holds the orchestrator result');
    const { layout } = result;
    assert.ok(layout.topicsPerConnection >= 2 && layout.topicsPerConnection <= 5, `topics per connection: ${layout.topicsPerConnection}`);
    assert.deepEqual(result.runs.map((r) => r.server), TARGETS, 'every target ran');
    for (const r of result.runs) {
      assert.equal(r.connect.connections, layout.connections, `${r.server}: every connection subscribed`);
      assert.equal(r.connect.subscriptions, layout.subscriptions, `${r.server}: subscriptions`);
      assert.equal(typeof r.memory.bytesPerSubscription, 'number', `${r.server}: memory per subscription`);
      assert.deepEqual(r.phases.map((p) => p.kind), ['burst', 'rate'], `${r.server}: phases`);
      for (const p of r.phases) {
        assert.ok(p.deliveries > 0, `${r.server} ${p.name}: no deliveries`);
        // Every connection has 2-5 topics and groups have at most 10 members: an event has 1-10 subscribers.
        assert.ok(p.expectedDeliveries >= p.events && p.expectedDeliveries <= 10 * p.events, `${r.server} ${p.name}: expected deliveries ${p.expectedDeliveries} for ${p.events} events`);
        assert.equal(p.deliveries, p.expectedDeliveries, `${r.server} ${p.name}: deliveries`);
        assert.equal(p.lost, 0, `${r.server} ${p.name}: lost deliveries`);
        assert.equal(p.unexpected, 0, `${r.server} ${p.name}: deliveries to connections not subscribed to the topic`);
        assert.ok(Number.isFinite(p.latencyMs.p99), `${r.server} ${p.name}: latency measured`);
      }
    }
    assert.match(file.summary.markdown, /gateway ÷ server/);
    const svg = readFileSync(join(dir, 's4.svg'), 'utf8');
    for (const t of TARGETS) assert.ok(svg.includes(`>${t}<`), `s4.svg has a series for ${t}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
