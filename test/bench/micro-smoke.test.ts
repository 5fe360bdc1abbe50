/**
 * Keeps the S9 micro-benchmarks (bench/micro.mjs through `npm run bench -- s9`) from rotting: a
 * smoke run checks that every case ran in its own process and measured a positive rate, and that
 * the chart and the summary were written. Nothing here checks speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/bench/: the repository root is three levels up.
import { runBenchScript } from '../helpers/bench.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RUN = join(ROOT, 'bench', 'run.mjs');
const MICRO = join(ROOT, 'bench', 'micro.mjs');
const BOUND_MS = 30_000;

interface MicroCase { id: string; samples: number[]; opsPerSecond: { median: number } }
interface MicroResult { cases: MicroCase[]; failures: Array<{ id: string; error: string }> }
interface ScenarioFile { results: Record<string, MicroResult[]>; summary: { markdown: string } }

test('S9 micro-benchmarks: smoke run of every case', { timeout: BOUND_MS + 15_000 }, async () => {
  const list = spawnSync(process.execPath, [MICRO, '--list'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  const ids = list.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]!);
  assert.ok(ids.length >= 20, `cases listed: ${ids.join(', ')}`);

  const dir = mkdtempSync(join(tmpdir(), 'bench-micro-smoke-'));
  try {
    const { code, output } = await runBenchScript(RUN, ['s9', '--smoke', '--out-dir', dir], BOUND_MS);
    assert.equal(code, 0, `npm run bench -- s9 --smoke failed:\n${output.slice(-6000)}`);
    const file = JSON.parse(readFileSync(join(dir, 's9.json'), 'utf8')) as ScenarioFile;
    const [result] = file.results['s9-micro'] ?? [];
    assert.ok(result, 'the micro.mjs result is in s9.json');
    assert.deepEqual(result.failures, []);
    assert.deepEqual(result.cases.map((c) => c.id), ids, 'every case ran, in order');
    for (const c of result.cases) {
      assert.ok(c.samples.length > 0 && c.samples.every((x) => x > 0), `${c.id}: positive ops/s in every sample (${c.samples.join(', ')})`);
      assert.ok(c.opsPerSecond.median > 0, `${c.id}: positive median ops/s`);
    }
    assert.match(readFileSync(join(dir, 's9.svg'), 'utf8'), /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(existsSync(join(dir, 'summary.md')), 'summary written');
    assert.match(file.summary.markdown, /Cross-thread transport/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
