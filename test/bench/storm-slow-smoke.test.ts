/**
 * Keeps benchmark scenarios s5 (slow consumers) and s6 (reconnect storm with JWTs) from rotting: a
 * smoke run of both through the suite (`npm run bench -- s5,s6 --smoke`). s5 runs against every
 * WebSocket target (gateway, plain Node, Nchan, Centrifuge; a fresh machine installs the last two
 * from Debian packages first), s6 against the gateway with HS256 and RS256 tokens. Nothing here
 * checks speed: it checks that every phase ran, that events and reconnects happened, that a token
 * with a wrong signature was refused, and that the charts and the summary were written.
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
const RUN = join(ROOT, 'bench', 'run.mjs');
// About 80 s when the baselines are installed; installing them on a fresh machine takes minutes.
const BOUND_MS = 12 * 60_000;

interface Window { deliveries: number; expectedDeliveries: number; lost: number; memory: { rssPeakBytes: number } }
interface Fraction { fraction: number; paused: number; without: Window; with: Window; slowClients: { paused: number; closedByServer: number; stillOpen: number } }
interface Storm { name: string; dropped: number; reconnected: number; afterwards: { live: number; delivered: number } }
interface Run {
  server: string;
  skipped?: { phase: string; reason: string };
  slow?: { fractions: Fraction[]; aborted?: { reason: string } };
  storm?: { alg: string; invalidTokenRefused: boolean; storms: Storm[] };
}
interface ScenarioFile { results: Record<string, Array<{ runs: Run[] }>>; summary: { markdown: string } }

const runsOf = (file: ScenarioFile) => Object.values(file.results).flat().flatMap((r) => r.runs);

test('benchmark suite: smoke run of s5 (slow consumers) and s6 (reconnect storm with JWTs)', { timeout: BOUND_MS + 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-storm-slow-smoke-'));
  try {
    const { code, output } = await runBenchScript(RUN, ['s5,s6', '--smoke', '--out-dir', dir], BOUND_MS);
    assert.equal(code, 0, `npm run bench -- s5,s6 --smoke failed:\n${output.slice(-6000)}`);

    const s5 = JSON.parse(readFileSync(join(dir, 's5.json'), 'utf8')) as ScenarioFile;
    const slowRuns = runsOf(s5);
    assert.deepEqual(slowRuns.map((r) => r.server).sort(), ['centrifuge', 'gateway', 'nchan', 'node'], 's5: every WebSocket target ran');
    for (const r of slowRuns) {
      assert.equal(r.skipped, undefined, `s5 ${r.server} skipped: ${JSON.stringify(r.skipped)}`);
      assert.equal(r.slow?.aborted, undefined, `s5 ${r.server} aborted: ${JSON.stringify(r.slow?.aborted)}`);
      assert.deepEqual(r.slow?.fractions.map((f) => f.fraction), [0.01, 0.1], `s5 ${r.server}: both fractions`);
      for (const f of r.slow!.fractions) {
        const what: string = `s5 ${r.server} ${f.fraction}`;
        assert.ok(f.paused > 0, `${what}: some connections paused`);
        for (const w of [f.without, f.with]) {
          assert.ok(w.deliveries > 0, `${what}: deliveries`);
          assert.equal(w.lost, 0, `${what}: healthy clients lost events`);
          assert.ok(w.memory.rssPeakBytes > 0, `${what}: server RSS sampled`);
        }
        assert.equal(f.slowClients.closedByServer + f.slowClients.stillOpen, f.slowClients.paused, `${what}: every paused connection accounted for`);
      }
    }

    const s6 = JSON.parse(readFileSync(join(dir, 's6.json'), 'utf8')) as ScenarioFile;
    const stormRuns = runsOf(s6);
    assert.deepEqual(stormRuns.map((r) => r.storm?.alg).sort(), ['HS256', 'RS256'], 's6: both algorithms ran');
    for (const r of stormRuns) {
      assert.equal(r.server, 'gateway');
      assert.equal(r.storm?.invalidTokenRefused, true, `s6 ${r.storm?.alg}: a token with a wrong signature was refused`);
      assert.deepEqual(r.storm?.storms.map((s) => s.name), ['half-warm', 'half-cold', 'all-cold'], `s6 ${r.storm?.alg}: storms`);
      for (const s of r.storm!.storms) {
        const what: string = `s6 ${r.storm!.alg} ${s.name}`;
        assert.ok(s.dropped > 0, `${what}: connections dropped`);
        assert.equal(s.reconnected, s.dropped, `${what}: every dropped connection reconnected`);
        assert.equal(s.afterwards.delivered, s.afterwards.live, `${what}: the event after the storm reached every connection`);
      }
    }

    for (const name of ['s5', 's6']) assert.match(readFileSync(join(dir, `${name}.svg`), 'utf8'), /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const summary = readFileSync(join(dir, 'summary.md'), 'utf8');
    assert.match(summary, /### S5 slow consumers/);
    assert.match(summary, /### S6 reconnect storm/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
