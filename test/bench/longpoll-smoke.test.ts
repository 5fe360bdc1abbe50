/**
 * Keeps scenario S7 of the benchmark suite (long polling, bench/longpoll.mjs through
 * `npm run bench -- s7 --smoke`) from rotting: 100 pollers against the gateway and against
 * nginx + Nchan at 10 and 100 events/s, a few seconds each. Nothing here checks speed; it checks
 * that the run finishes, writes its chart and summary, and that every poller of both targets got
 * every event exactly once without error answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runNode } from '../helpers/bench.js';

// Compiled to dist/test/bench/: the repository root is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RUN = join(ROOT, 'bench', 'run.mjs');
const NCHAN = join(ROOT, 'bench', 'targets', 'nchan.mjs');
// nginx and the Nchan module come from Debian packages on first use (apt on a fresh machine).
const INSTALL_BOUND_MS = 10 * 60_000;
const BOUND_MS = 60_000;

interface Phase {
  name: string;
  pollers: number;
  expectedDeliveries: number;
  deliveries: number;
  lost: number;
  duplicates: number;
  errors: number;
  statuses: Record<string, number>;
  errorSamples: string[];
}
interface Run { server: string; error?: string; skipped?: { reason: string }; phases: Phase[] }
interface ScenarioFile { results: Record<string, Array<{ runs: Run[] }>>; summary: { markdown: string } }

test('S7 long-polling benchmark: smoke run, every poller of both targets gets every event once', { timeout: INSTALL_BOUND_MS + BOUND_MS + 60_000 }, async () => {
  // Installing first, on its own bound, keeps the benchmark's bound about the benchmark.
  const install = await runNode(
    ['--input-type=module', '-e', `const m = await import(${JSON.stringify(pathToFileURL(NCHAN).href)}); await m.install({ log: (s) => console.error(s) });`],
    INSTALL_BOUND_MS,
    20_000,
  );
  assert.equal(install.code, 0, `installing nginx + Nchan failed:\n${install.output.slice(-4000)}`);

  const dir = mkdtempSync(join(tmpdir(), 'longpoll-smoke-'));
  try {
    const { code, output } = await runNode([RUN, 's7', '--smoke', '--out-dir', dir], BOUND_MS, 20_000);
    assert.equal(code, 0, `npm run bench -- s7 --smoke failed:\n${output.slice(-6000)}`);
    for (const f of ['s7.svg', 's7.json', 'summary.md']) assert.ok(existsSync(join(dir, f)), `${f} not written`);
    const file = JSON.parse(readFileSync(join(dir, 's7.json'), 'utf8')) as ScenarioFile;
    const reps = file.results['s7-longpoll'];
    assert.ok(reps && reps.length === 1, 'one orchestrator result');
    const runs = reps[0]!.runs;
    assert.deepEqual(
      runs.map((r) => r.server),
      ['gateway', 'nchan'],
    );
    for (const run of runs) {
      assert.equal(run.error, undefined, `${run.server}: ${run.error}`);
      assert.equal(run.skipped, undefined, `${run.server} skipped: ${run.skipped?.reason}`);
      assert.deepEqual(
        run.phases.map((p) => p.name),
        ['rate-10', 'rate-100'],
        `${run.server}: phases`,
      );
      for (const p of run.phases) {
        const what = `${run.server} ${p.name}`;
        assert.equal(p.pollers, 100, `${what}: pollers`);
        assert.ok(p.expectedDeliveries > 0, `${what}: nothing expected`);
        assert.equal(p.deliveries, p.expectedDeliveries, `${what}: delivered ${p.deliveries} of ${p.expectedDeliveries}`);
        assert.equal(p.lost, 0, `${what}: lost events`);
        assert.equal(p.duplicates, 0, `${what}: duplicated events`);
        assert.equal(p.errors, 0, `${what}: errors ${JSON.stringify(p.statuses)} ${p.errorSamples.join(' | ')}`);
      }
    }
    assert.match(file.summary.markdown, /gateway/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
