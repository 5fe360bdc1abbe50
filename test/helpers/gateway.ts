/**
 * Starts the real gateway the way a user does (`node dist/src/main/index.js`, all threads) on free
 * loopback ports, and stops it with SIGTERM when the test ends. The public port must be chosen up
 * front because every shard binds the same port.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { TestContext } from 'node:test';

const ENTRY = new URL('../../src/main/index.js', import.meta.url).pathname;

export interface RunningGateway {
  readonly url: string;
  readonly apiUrl: string;
  readonly publicPort: number;
  readonly apiPort: number;
  /** With HTTPS_CERTFILE/HTTPS_KEYFILE in env: the public and internal API HTTPS origins. */
  readonly httpsUrl: string | undefined;
  readonly apiHttpsUrl: string | undefined;
  readonly proc: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  output(): string;
  /** SIGTERM and wait; resolves with the exit code (or signal name). */
  stop(): Promise<number | string>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startGateway(t: TestContext | undefined, env: Record<string, string> = {}): Promise<RunningGateway> {
  const publicPort = await freePort();
  // Every shard binds the public HTTPS port too, so it is chosen up front like the HTTP one.
  const https = env.HTTPS_CERTFILE !== undefined && env.HTTPS_KEYFILE !== undefined;
  const httpsPorts = https ? { INBOUND_HTTPS_PORT: String(await freePort()), API_HTTPS_PORT: '0' } : {};
  const proc = spawn(process.execPath, [ENTRY], {
    env: {
      PATH: process.env.PATH ?? '',
      INBOUND_HOST: '127.0.0.1',
      API_HTTP_HOST: '127.0.0.1',
      INBOUND_PORT: String(publicPort),
      API_HTTP_PORT: '0',
      SHARDS: '2',
      LOG_LEVEL: 'warn',
      NODE_COOKIE: 'test-cookie',
      ...httpsPorts,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  // "public <host>:<port>[ (https <port>)], internal API <host>:<port>[ (https <port>)]"
  const [apiPort, publicHttpsPort, apiHttpsPort] = await new Promise<[number, number?, number?]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start in time:\n${out}`)), 15_000);
    const check = () => {
      const m = /public \S+?(?: \(https (\d+)\))?, internal API [^:]+:(\d+)(?: \(https (\d+)\))?, \d+ shard/.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stderr!.off('data', check);
        resolve([Number(m[2]), m[1] === undefined ? undefined : Number(m[1]), m[3] === undefined ? undefined : Number(m[3])]);
      }
    };
    proc.stderr!.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before it was ready:\n${out}`));
    });
  });
  let stopped: Promise<number | string> | undefined;
  const gw: RunningGateway = {
    url: `http://127.0.0.1:${publicPort}`,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    publicPort,
    apiPort,
    httpsUrl: publicHttpsPort === undefined ? undefined : `https://127.0.0.1:${publicHttpsPort}`,
    apiHttpsUrl: apiHttpsPort === undefined ? undefined : `https://127.0.0.1:${apiHttpsPort}`,
    proc,
    output: () => out,
    stop() {
      stopped ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      })();
      return stopped;
    },
  };
  t?.after(() => gw.stop());
  return gw;
}

/** Runs the gateway entry with the given env and returns its exit code and output (config errors). */
export async function runGatewayExpectingExit(env: Record<string, string>, timeoutMs = 10_000): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, [ENTRY], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output: out };
}
