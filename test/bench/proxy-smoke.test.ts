/**
 * Keeps the proxy benchmark (S8, bench/proxy.mjs) from rotting: a smoke run that loads an upstream
 * stub directly, through nginx proxy_pass and through the gateway's proxy with autocannon, with 64
 * and with 256 connections. It checks that every way answered requests with 2xx and no errors at
 * both counts; it checks no speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_RUN, runBenchScript } from '../helpers/bench.js';

// nginx is installed by the target on first use (apt-get on a fresh machine).
const BOUND_MS = 10 * 60_000;

interface Way { server: string; requests: number; ok2xx: number; errors: number; non2xx: number }

test('S8 proxy benchmark: smoke run through direct, nginx and the gateway', { timeout: BOUND_MS + 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-proxy-smoke-'));
  try {
    const { code, output } = await runBenchScript(BENCH_RUN, ['s8', '--smoke', '--out-dir', dir], BOUND_MS);
    assert.equal(code, 0, `npm run bench -- s8 --smoke failed:\n${output.slice(-6000)}`);
    for (const connections of [64, 256]) {
      const result = JSON.parse(readFileSync(join(dir, `s8-proxy-${connections}-1.json`), 'utf8')) as { options: { connections: number }; runs: Way[] };
      assert.equal(result.options.connections, connections);
      assert.deepEqual(result.runs.map((w) => w.server), ['direct', 'nginx-proxy', 'gateway']);
      for (const w of result.runs) {
        const at = `${w.server}, ${connections} connections`;
        assert.ok(w.requests > 0 && w.ok2xx === w.requests, `${at}: ${w.ok2xx} of ${w.requests} answered 2xx`);
        assert.equal(w.errors, 0, `${at}: errors`);
        assert.equal(w.non2xx, 0, `${at}: non-2xx answers`);
      }
    }
    assert.ok(existsSync(join(dir, 's8.svg')));
    const summary = readFileSync(join(dir, 'summary.md'), 'utf8');
    assert.match(summary, /S8 \(64 connections\)/);
    assert.match(summary, /S8 \(256 connections\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
