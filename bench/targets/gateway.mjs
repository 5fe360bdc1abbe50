/**
 * Benchmark target: the gateway itself, started as users start it (`node dist/src/main/index.js`,
 * main thread plus SHARDS worker threads) on free loopback ports. Run `npm run build` first.
 *
 * Subscribers use the public endpoints with `subscriptions=[{"eventType":"bench"}]`; a
 * subscription is live once `rig.subscriptions_set` arrived. Events are published with
 * `POST /v3/messages` on the internal API.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNodeServer } from './lib/node-server.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRY = join(ROOT, 'dist/src/main/index.js');
const SUBSCRIPTIONS = encodeURIComponent(JSON.stringify([{ eventType: 'bench' }]));

export const name = 'gateway';
export const kind = 'fanout';
export const transports = ['sse', 'ws', 'longpoll'];
/** Node isolates whose heap a forced GC must reach (main + shards) come from `shards`. */
export const inspectable = true;

export async function install() {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} missing: run npm run build first`);
  return { entry: 'dist/src/main/index.js' };
}

/** `shards`: SHARDS; `env`: extra variables; `inspectPort`, `nodeArgs`, `pin`: see lib/node-server.mjs. */
export async function start({ port, shards = 2, env = {}, inspectPort, nodeArgs = [], pin, log } = {}) {
  await install();
  const server = await startNodeServer({
    name,
    entry: ENTRY,
    cwd: ROOT,
    inspectPort,
    nodeArgs,
    pin,
    env: {
      INBOUND_HOST: '127.0.0.1',
      API_HTTP_HOST: '127.0.0.1',
      INBOUND_PORT: String(port),
      API_HTTP_PORT: '0',
      SHARDS: String(shards),
      LOG_LEVEL: 'warn',
      NODE_COOKIE: 'bench',
      // The default (5000 per minute) would refuse most of a 10 000-connection ramp.
      MAX_CONNECTIONS_PER_MINUTE: '100000000',
      ...env,
    },
  });
  log?.(`gateway: pid ${server.pid}, SHARDS=${shards}, public 127.0.0.1:${port}, internal API 127.0.0.1:${server.apiPort}`);
  return {
    host: '127.0.0.1',
    port,
    pids: [server.pid],
    threads: shards, // worker threads besides main that carry the load
    isolates: shards,
    apiPort: server.apiPort,
    subscribe: {
      sse: { path: `/_rig/v1/connection/sse?subscriptions=${SUBSCRIPTIONS}`, ready: 'rig.subscriptions_set' },
      ws: { path: `/_rig/v1/connection/ws?subscriptions=${SUBSCRIPTIONS}`, ready: 'rig.subscriptions_set' },
      longpoll: { path: `/_rig/v1/connection/longpolling?subscriptions=${SUBSCRIPTIONS}`, cookies: true },
    },
    publish: { url: `http://127.0.0.1:${server.apiPort}/v3/messages`, method: 'POST', contentType: 'application/cloudevents+json', okStatuses: [202] },
    settings: { shards, ...env },
    output: server.output,
    alive: server.alive,
    stop: server.stop,
  };
}
