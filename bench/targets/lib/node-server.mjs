/**
 * Shared by the Node.js targets (gateway.mjs, node.mjs): runs a Node program as a child process on
 * free loopback ports and waits for the line naming its internal API port, optionally with
 * `--inspect` (so the idle phase can force a full GC in every isolate before reading RSS) and
 * pinned to CPUs with taskset.
 */
import { spawn } from 'node:child_process';

/**
 * Starts `node <nodeArgs> <entry>` with `env`; resolves once stderr/stdout says
 * "internal API <host>:<port>". `pin`: a taskset CPU list, e.g. "1".
 */
export async function startNodeServer({ name, entry, cwd, env, nodeArgs = [], inspectPort, pin }) {
  const inspect = inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : [];
  const args = [...inspect, ...nodeArgs, entry];
  const [cmd, argv] = pin ? ['taskset', ['-c', pin, process.execPath, ...args]] : [process.execPath, args];
  const proc = spawn(cmd, argv, { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out = (out + d).slice(-20000)));
  proc.stderr.on('data', (d) => (out = (out + d).slice(-20000)));
  const exited = new Promise((r) => proc.once('exit', (code, sig) => r(code ?? sig)));
  const apiPort = await new Promise((resolveApi, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 20 s:\n${out}`)), 20_000);
    const check = () => {
      const m = /internal API [^\s:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveApi(Number(m[1]));
      }
    };
    proc.stderr.on('data', check);
    proc.stdout.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${out}`));
    });
  });
  return {
    pid: proc.pid,
    apiPort,
    output: () => out,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
