/**
 * Keeps the benchmark suite (`npm run bench`) from rotting: a smoke run of scenarios s1, s2 and s3
 * against every fan-out target (the gateway, the plain Node baseline, nginx + Nchan, Centrifuge),
 * which also installs the baselines from Debian packages on a fresh machine, as a user's first
 * run would. Nothing here checks speed; it checks that every target ran every phase, that events
 * reached the clients, and that the charts and the summary were written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBenchScript } from '../helpers/bench.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RUN = join(ROOT, 'bench', 'run.mjs');
// Installing golang-go, the Centrifuge library, nginx and Nchan on a fresh machine takes a few minutes.
const BOUND_MS = 12 * 60_000;
const TARGETS = ['gateway', 'node', 'nchan', 'centrifuge'];

interface Phase { name: string; deliveries: number; expectedDeliveries: number; lost: number }
interface Run { server: string; skipped?: { phase: string; reason: string }; idle?: { overallBytesPerConnection: number }; phases: Phase[] }
interface ScenarioFile { results: Record<string, Array<{ runs: Run[] }>>; summary: { markdown: string } }

test('benchmark suite: smoke run of s1, s2 and s3 against every target', { timeout: BOUND_MS + 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-suite-smoke-'));
  try {
    const { code, output } = await runBenchScript(RUN, ['s1,s2,s3', '--smoke', '--out-dir', dir], BOUND_MS);
    assert.equal(code, 0, `npm run bench -- s1,s2,s3 --smoke failed:\n${output.slice(-6000)}`);
    const expectPhases: Record<string, string[]> = { s1: [], s2: ['burst-1', 'burst-20', 'burst-100'], s3: ['rate-100'] };
    for (const [scenario, phases] of Object.entries(expectPhases)) {
      const file = JSON.parse(readFileSync(join(dir, `${scenario}.json`), 'utf8')) as ScenarioFile;
      const runs = Object.values(file.results).flat().flatMap((r) => r.runs);
      assert.deepEqual(runs.map((r) => r.server).sort(), [...TARGETS].sort(), `${scenario}: every target ran`);
      for (const r of runs) {
        assert.equal(r.skipped, undefined, `${scenario} ${r.server} skipped: ${JSON.stringify(r.skipped)}`);
        assert.ok((r.idle?.overallBytesPerConnection ?? 0) > 0, `${scenario} ${r.server}: idle memory measured`);
        assert.deepEqual(r.phases.map((p) => p.name), phases, `${scenario} ${r.server}: phases`);
        for (const p of r.phases) {
          assert.ok(p.deliveries > 0, `${scenario} ${r.server} ${p.name}: no deliveries`);
          assert.equal(p.lost, 0, `${scenario} ${r.server} ${p.name}: lost deliveries`);
        }
      }
      const svg = readFileSync(join(dir, `${scenario}.svg`), 'utf8');
      assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      for (const t of TARGETS) assert.ok(svg.includes(`>${t}<`), `${scenario}.svg has a series for ${t}`);
    }
    const summary = readFileSync(join(dir, 'summary.md'), 'utf8');
    assert.match(summary, /### Goals/);
    assert.ok(existsSync(join(dir, 's2-ws-100B-1.json')), 'the orchestrator result of each run is kept');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
