/**
 * Keeps the soak (bench/soak.mjs) from rotting and checks its verdict on a short run: 30 slots of
 * SSE, WebSocket and long polling (a third with JWTs) cycling connect -> PUT -> event ->
 * disconnect for 25 s after a 10 s warm-up. Every cycle must succeed, the counted connections
 * must return to 0, and the gateway's RSS must come back to within the tolerance of the baseline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, runNode } from '../helpers/bench.js';

test('soak smoke: connections churn for 25 s, memory returns to the baseline and connections to 0', async () => {
  const r = await runNode([join(ROOT, 'bench', 'soak.mjs'), '--population', '30', '--warmup', '10', '--duration', '25', '--tolerance-mb', '60'], 120_000);
  const line = r.output.split('\n').find((l) => l.startsWith('SOAK '));
  assert.ok(line, `summary printed:\n${r.output.slice(-3000)}`);
  const summary = JSON.parse(line.slice(5));
  assert.equal(summary.failures, 0, `cycles failed: ${summary.lastError}`);
  assert.ok(summary.mainCycles > 100, `cycles ran: ${summary.mainCycles}`);
  for (const kind of ['sse', 'ws', 'longpolling']) assert.ok(summary.byKind[kind] > 0, `${kind} cycles ran`);
  assert.equal(summary.end.connections, 0, 'connections counted back to 0');
  assert.ok(summary.rssGrowthMb <= 60, `RSS grew ${summary.rssGrowthMb} MB`);
  assert.equal(summary.ok, true);
  assert.equal(r.code, 0);
});
