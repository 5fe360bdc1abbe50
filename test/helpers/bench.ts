/**
 * Runs a benchmark script (bench/run.mjs, bench/fanout.mjs, ...) as a child process for the bench
 * smoke tests, bounded in time: SIGTERM at the bound (the orchestrators then stop their servers and
 * clients themselves), SIGKILL 30 s later.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/helpers/: the repository root is three levels up.
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BENCH_RUN = join(ROOT, 'bench', 'run.mjs');

export function runBenchScript(script: string, args: string[], timeoutMs: number): Promise<{ code: number | string; output: string }> {
  return runNode([script, ...args], timeoutMs);
}

/** `node <args>` from the repository root, bounded like runBenchScript (SIGKILL `killGraceMs` after SIGTERM). */
export function runNode(args: string[], timeoutMs: number, killGraceMs = 30_000): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (d) => (output += d));
    proc.stderr.on('data', (d) => (output += d));
    const term = setTimeout(() => proc.kill('SIGTERM'), timeoutMs);
    const kill = setTimeout(() => proc.kill('SIGKILL'), timeoutMs + killGraceMs);
    proc.once('exit', (code, signal) => {
      clearTimeout(term);
      clearTimeout(kill);
      resolve({ code: code ?? signal ?? -1, output });
    });
  });
}
