/**
 * Keeps the Kafka request/reply benchmark (bench/kafka-rpc.mjs, suite scenario `rpc`) from
 * rotting: a smoke run, 200 round trips at 100 requests/s through the gateway and 200 through the
 * hand-built kafkajs baseline, then the suite's summary of that result. It checks that every
 * request was answered 200 and the figures are sane; it checks no speed.
 *
 * The broker: the test run's (KAFKA_TEST_BROKERS, from scripts/run-tests.mjs); without one the
 * benchmark starts its own under CI=true, where Java is always there, and is skipped otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_RUN, ROOT, runBenchScript } from '../helpers/bench.js';

const brokers = process.env.KAFKA_TEST_BROKERS || undefined;
const ci = !!process.env.CI && process.env.CI !== 'false';
const skip = !brokers && !ci ? 'no test Kafka broker (KAFKA_TEST_BROKERS unset) and not under CI' : false;
// Its own broker takes up to 3 minutes to start on a cold machine.
const BOUND_MS = brokers ? 3 * 60_000 : 6 * 60_000;

interface Phase {
  way: string;
  rate: number;
  planned: number;
  ok: number;
  answered: number;
  errors: number;
  unanswered: number;
  timeouts504: number;
  latencyMs: { samples: number; p50: number; p99: number; max: number };
  cpuSecondsPer1000: { gateway: number | null };
}

test('Kafka request/reply benchmark: smoke run through the gateway and the baseline', { skip, timeout: BOUND_MS + 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-rpc-smoke-'));
  try {
    const out = join(dir, 'rpc-1.json');
    const { code, output } = await runBenchScript(join(ROOT, 'bench', 'kafka-rpc.mjs'), ['--smoke', ...(brokers ? ['--brokers', brokers] : []), '--out', out], BOUND_MS);
    assert.equal(code, 0, `bench/kafka-rpc.mjs --smoke failed:\n${output.slice(-6000)}`);
    const result = JSON.parse(readFileSync(out, 'utf8')) as { phases: Phase[]; gatewayAliveAtEnd: boolean };
    assert.deepEqual(result.phases.map((p) => `${p.way}@${p.rate}`), ['gateway@100', 'baseline@100']);
    for (const p of result.phases) {
      assert.equal(p.planned, 200, p.way);
      assert.equal(p.ok, p.planned, `${p.way}: ${p.ok} of ${p.planned} answered 200 (${p.timeouts504} × 504, ${p.errors} errors, ${p.unanswered} unanswered)`);
      assert.equal(p.latencyMs.samples, p.planned, `${p.way}: one latency sample per answer`);
      assert.ok(p.latencyMs.p50 > 0 && p.latencyMs.p50 <= p.latencyMs.p99 && p.latencyMs.p99 <= p.latencyMs.max, `${p.way}: percentiles ${JSON.stringify(p.latencyMs)}`);
      assert.ok(p.latencyMs.max < 5000, `${p.way}: every answer within the gateway's reply timeout`);
    }
    const gw = result.phases[0].cpuSecondsPer1000.gateway;
    assert.ok(gw !== null && gw > 0, `gateway CPU-s per 1 000 requests: ${gw}`);
    assert.equal(result.gatewayAliveAtEnd, true);

    // The suite's summary of that result (what `npm run bench -- rpc` prints).
    const summary = await runBenchScript(BENCH_RUN, ['rpc', '--smoke', '--from', dir], 60_000);
    assert.equal(summary.code, 0, summary.output.slice(-3000));
    assert.match(readFileSync(join(dir, 'summary.md'), 'utf8'), /\| 100 \| gateway \| 200 \/ 200 \| 0 \|/);
    assert.ok(existsSync(join(dir, 'rpc.svg')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
