/**
 * Keeps the fan-out benchmark (bench/fanout.mjs) from rotting: a smoke run of every phase against
 * the gateway and against the plain Node.js baseline, a few seconds each. Nothing here checks
 * speed; it checks that the benchmark runs to the end and that events reached the clients in
 * every phase.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/bench/: the repository root is three levels up.
import { runBenchScript } from '../helpers/bench.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FANOUT = join(ROOT, 'bench', 'fanout.mjs');
const BOUND_MS = 60_000;

interface Phase {
  name: string;
  deliveries: number;
  expectedDeliveries: number;
}

interface Run {
  server: string;
  idle: { perTransport: Record<string, { connections: number; bytesPerConnection: number | null }> };
  phases: Phase[];
}

test('fan-out benchmark: smoke run delivers events in every phase', { timeout: BOUND_MS + 15_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-smoke-'));
  try {
    const out = join(dir, 'result.json');
    const { code, output } = await runBenchScript(FANOUT, ['--smoke', '--baseline', '--out', out], BOUND_MS);
    assert.equal(code, 0, `bench/fanout.mjs --smoke failed:\n${output}`);
    const result = JSON.parse(readFileSync(out, 'utf8')) as { runs: Run[] };
    assert.deepEqual(
      result.runs.map((r) => r.server),
      ['gateway', 'node'],
    );
    for (const run of result.runs) {
      assert.deepEqual(
        run.phases.map((p) => p.name),
        ['burst-1', 'burst-20', 'burst-100', 'rate-100'],
        `${run.server}: phases`,
      );
      for (const p of run.phases) assert.ok(p.deliveries > 0, `${run.server} ${p.name}: no deliveries`);
      for (const t of ['sse', 'ws']) {
        const idle = run.idle.perTransport[t];
        assert.ok(idle && idle.connections > 0, `${run.server}: no idle ${t} connections measured`);
        assert.equal(typeof idle.bytesPerConnection, 'number', `${run.server}: ${t} bytes per connection`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
