/**
 * Benchmark target: bench/baselines/node-fanout-server.mjs, the plain Node.js server a team would
 * write by hand (node:http SSE + the `ws` package, one process, one write per event per client).
 * It serves the gateway's wire contract (same paths, `rig.subscriptions_set`, POST /v3/messages).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNodeServer } from './lib/node-server.mjs';

const BENCH = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = join(BENCH, 'baselines/node-fanout-server.mjs');
const SUBSCRIPTIONS = encodeURIComponent(JSON.stringify([{ eventType: 'bench' }]));

export const name = 'node';
export const kind = 'fanout';
export const transports = ['sse', 'ws'];
export const inspectable = true;

export async function install() {
  return { ws: (await import('ws/package.json', { with: { type: 'json' } })).default.version };
}

export async function start({ port, inspectPort, pin, log } = {}) {
  const server = await startNodeServer({ name, entry: ENTRY, cwd: BENCH, inspectPort, pin, env: { PORT: String(port), API_PORT: '0' } });
  log?.(`node: pid ${server.pid}, public 127.0.0.1:${port}, internal API 127.0.0.1:${server.apiPort}`);
  return {
    host: '127.0.0.1',
    port,
    pids: [server.pid],
    threads: 0,
    isolates: 0,
    apiPort: server.apiPort,
    subscribe: {
      sse: { path: `/_rig/v1/connection/sse?subscriptions=${SUBSCRIPTIONS}`, ready: 'rig.subscriptions_set' },
      ws: { path: `/_rig/v1/connection/ws?subscriptions=${SUBSCRIPTIONS}`, ready: 'rig.subscriptions_set' },
    },
    publish: { url: `http://127.0.0.1:${server.apiPort}/v3/messages`, method: 'POST', contentType: 'application/cloudevents+json', okStatuses: [202] },
    settings: {},
    output: server.output,
    alive: server.alive,
    stop: server.stop,
  };
}
