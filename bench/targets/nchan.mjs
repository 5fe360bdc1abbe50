/**
 * Benchmark target: nginx with the Nchan module (Debian packages nginx + libnginx-mod-nchan), the
 * C pub/sub server the gateway's fan-out is compared with. Config: nchan.conf.template beside
 * this file (every tuning choice is explained there).
 *
 * One channel; subscribers over EventSource, WebSocket or long-poll on the public port; a POST to
 * the API port publishes its body to every subscriber, byte for byte. Each message is written to
 * each subscriber on its own (one writev per message per subscriber: Nchan does not batch
 * several messages into one write), which is what the comparison is about.
 *
 * Wire format, in short (details at each field of start()'s result):
 *   - SSE: response head, `: hi\n\n`, then `id: <msgid>\ndata: <body>\n\n` per message, unchunked.
 *   - WebSocket: one unmasked text frame per message, payload = body; no pings from the server.
 *   - Long-poll: GET; the next GET sends the previous response's Last-Modified / Etag back as
 *     If-Modified-Since / If-None-Match and gets everything published since (multipart/mixed
 *     when there is more than one message).
 *   - Publish: POST the body; 201 when the channel had subscribers, 202 when it had none.
 *   - An SSE subscriber is live once its response head arrived, a WebSocket one once the 101
 *     arrived: a message published after that reaches it. A long-poll request has no such signal
 *     (nothing is sent until a message comes): allow a moment before the first publish.
 *     Subscribers get no history: the first message is the next one published (long-poll
 *     cursors excepted).
 *
 * Nchan leaves Nagle's algorithm on for subscriber connections (nginx's `tcp_nodelay` applies to
 * keep-alive and proxied connections only, and Nchan has no setting for it): a small write made
 * while the previous one is still unacknowledged waits for the ACK, so under load several
 * messages can leave in one segment, and latency can include the receiver's delayed ACK.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectionLimits, ensurePackages, render, startNginx, versions } from './lib/nginx.mjs';

export const name = 'nchan';
export const kind = 'fanout';
export const transports = ['sse', 'ws', 'longpoll'];

const PACKAGES = ['nginx', 'libnginx-mod-nchan'];
const MODULE = '/usr/lib/nginx/modules/ngx_nchan_module.so';
const TEMPLATE = join(dirname(fileURLToPath(import.meta.url)), 'nchan.conf.template');
const CHANNEL = 'bench';

/** Settings of the rendered config (see nchan.conf.template for why). */
export const settings = {
  channel: CHANNEL,
  // Messages kept per channel: ≥ 100 bursts of 100 events, or 100 s at 100 events/s.
  bufferLength: 10_000,
  messageTimeout: '60s',
  shmSize: '128m',
};

/** Installs nginx and the Nchan module from Debian if missing (idempotent). */
export async function install({ log } = {}) {
  ensurePackages(PACKAGES, { files: ['/usr/sbin/nginx', MODULE], log });
  const v = versions(PACKAGES);
  log?.(`nchan: nginx ${v.binary} (${v.nginx}), libnginx-mod-nchan ${v['libnginx-mod-nchan']}`);
  return v;
}

/**
 * Starts nginx + Nchan on 127.0.0.1:`port` (subscribers) and 127.0.0.1:`apiPort` (publisher)
 * with `workers` worker processes. Resolves once both ports accept connections.
 */
export async function start({ port, apiPort, workers = 2, log } = {}) {
  if (!port || !apiPort) throw new Error('nchan: start() needs port and apiPort');
  const { nofile, connections } = connectionLimits();
  const template = readFileSync(TEMPLATE, 'utf8');
  const server = await startNginx({
    name,
    workers,
    ports: [port, apiPort],
    log,
    confText: (prefix) =>
      render(template, {
        PREFIX: prefix,
        MODULE,
        WORKERS: workers,
        NOFILE: nofile,
        CONNECTIONS: connections,
        PORT: port,
        API_PORT: apiPort,
        CHANNEL: settings.channel,
        BUFFER_LENGTH: settings.bufferLength,
        MESSAGE_TIMEOUT: settings.messageTimeout,
        SHM_SIZE: settings.shmSize,
      }),
  });
  return {
    host: '127.0.0.1',
    port,
    // nginx master + workers; the workers do all the work, the master only supervises.
    pids: server.pids,
    subscribe: {
      // GET with `Accept: text/event-stream`. Nchan sends the response head (no chunked
      // encoding: the stream is the raw body) and a `: hi\n\n` comment once the subscriber is
      // registered; events follow as `id: <msgid>\ndata: <body>\n\n` (a body without newlines
      // is one data line). No pings or other comments are written.
      sse: { path: '/sub/sse', ready: 'headers' },
      // Upgrade request; then one unmasked text frame per message, payload = the body. Nchan
      // sends no pings (nchan_websocket_ping_interval is off).
      ws: { path: '/sub/ws', ready: 'upgrade' },
      // Long-poll: a GET waits for messages (no server-side poll timeout) and answers 200 with
      // them, keeping the connection alive. The first poll sends no cursor and gets the next
      // message published. Every later poll must send the previous
      // response's `Last-Modified` as `If-Modified-Since` and its `Etag` as `If-None-Match`;
      // it then gets every buffered message after that one at once (several messages: a
      // multipart/mixed body, each part's body the message unchanged; one message: the body as
      // is). A poll without the cursor starts over at the newest message and misses the ones
      // published in between. A client more than settings.bufferLength messages (or
      // settings.messageTimeout) behind has lost the ones that fell out of the buffer (Nchan logs
      // "Missed message for longpoll subscriber" and answers with later messages).
      longpoll: {
        path: '/sub/lp',
        cursor: { 'if-modified-since': 'last-modified', 'if-none-match': 'etag' }, // request header <- response header
        multipart: true,
      },
    },
    // Nchan answers a publish with 201 when the channel had subscribers and 202 when it had
    // none; both mean the message was stored and delivered to whoever was subscribed.
    publish: { url: `http://127.0.0.1:${apiPort}/pub`, method: 'POST', contentType: 'application/json', okStatuses: [201, 202] },
    settings: { ...settings, workers, workerRlimitNofile: nofile, workerConnections: connections },
    errorLog: server.errorLog,
    alive: server.alive,
    stop: server.stop,
  };
}
