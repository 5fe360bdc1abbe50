/**
 * Baseline for the fan-out benchmark: the obvious Node.js implementation of the same wire
 * contract, with no uWebSockets.js, no threads and no batching. One process; node:http serves
 * SSE, the `ws` package serves WebSockets on the same port, and a second node:http server takes
 * `POST /v3/messages`. Every event is written to every client at once (`res.write` / `ws.send`
 * per event per client). Subscriptions are not evaluated: every client receives every event,
 * which is what the benchmark subscribes to anyway.
 *
 * Env: PORT (public), API_PORT (0 = any free port). Prints "internal API 127.0.0.1:<port>" on
 * stderr when ready, like the gateway.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { WebSocketServer } from 'ws';

const PORT = Number(process.env.PORT ?? 4000);
const API_PORT = Number(process.env.API_PORT ?? 0);

const sse = new Set();
const sockets = new Set();

function rigEvent(type, data) {
  return JSON.stringify({ data, id: randomUUID(), source: 'rig', specversion: '0.2', time: new Date().toISOString(), type });
}

function subscriptionsFrom(url) {
  try {
    const raw = new URL(url, 'http://x').searchParams.get('subscriptions');
    const list = raw ? JSON.parse(raw) : [];
    return Array.isArray(list) ? list.map((s) => ({ eventType: s.eventType, oneOf: s.oneOf ?? [] })) : [];
  } catch {
    return [];
  }
}

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/_rig/v1/connection/sse')) {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.write(`event: rig.connection.create\ndata: ${rigEvent('rig.connection.create', { connection_token: randomUUID() })}\n\n`);
    res.write(`event: rig.subscriptions_set\ndata: ${rigEvent('rig.subscriptions_set', subscriptionsFrom(req.url))}\n\n`);
    sse.add(res);
    res.on('close', () => sse.delete(res));
    return;
  }
  res.writeHead(404).end();
});
server.requestTimeout = 0;
server.headersTimeout = 60_000;

const wss = new WebSocketServer({ server, path: '/_rig/v1/connection/ws', perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  ws.send(rigEvent('rig.connection.create', { connection_token: randomUUID() }));
  ws.send(rigEvent('rig.subscriptions_set', subscriptionsFrom(req.url)));
  sockets.add(ws);
  ws.on('close', () => sockets.delete(ws));
  ws.on('error', () => sockets.delete(ws));
});

function fanOut(type, json) {
  const frame = `event: ${type}\ndata: ${json}\n\n`;
  for (const res of sse) res.write(frame);
  for (const ws of sockets) ws.send(json);
}

const api = http.createServer((req, res) => {
  if (req.method !== 'POST' || (req.url !== '/v3/messages' && req.url !== '/v2/messages')) {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const json = Buffer.concat(chunks).toString('utf8');
    let event;
    try {
      event = JSON.parse(json);
    } catch {
      res.writeHead(400).end('not JSON');
      return;
    }
    if (typeof event?.type !== 'string') {
      res.writeHead(400).end('no type');
      return;
    }
    fanOut(event.type, json);
    res.writeHead(202, { 'content-type': 'application/json; charset=utf-8' }).end(json);
  });
});
api.keepAliveTimeout = 60_000;

server.listen(PORT, '127.0.0.1', () => {
  api.listen(API_PORT, '127.0.0.1', () => {
    process.stderr.write(`baseline listening: public 127.0.0.1:${server.address().port}, internal API 127.0.0.1:${api.address().port}\n`);
  });
});

process.on('SIGTERM', () => {
  for (const res of sse) res.destroy();
  for (const ws of sockets) ws.terminate();
  server.close();
  api.close();
  setImmediate(() => process.exit(0));
});
