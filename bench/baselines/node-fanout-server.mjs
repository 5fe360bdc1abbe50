/**
 * Baseline for the fan-out benchmark: the obvious Node.js implementation of the same wire
 * contract, with no uWebSockets.js, no threads and no batching. One process; node:http serves
 * SSE, the `ws` package serves WebSockets on the same port, and a second node:http server takes
 * `POST /v3/messages`. Every event is written to every client at once (`res.write` / `ws.send`
 * per event per client). Subscriptions are routed the obvious way, without extractors: a Map from
 * `<type>` (a subscription without constraints) or `<type>|<field>=<value>` (a constraint with one
 * field) to the clients holding it; an event goes to the clients under its type and under each of
 * its `data`'s top-level string fields, once per client. (Constraints with several fields are
 * not supported; no benchmark uses them.)
 *
 * Env: PORT (public), API_PORT (0 = any free port). Prints "internal API 127.0.0.1:<port>" on
 * stderr when ready, like the gateway.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { WebSocketServer } from 'ws';

const PORT = Number(process.env.PORT ?? 4000);
const API_PORT = Number(process.env.API_PORT ?? 0);

/** Route key -> Set of clients ({sse: res} or {ws}). */
const routes = new Map();

function subscribe(client, subs) {
  client.keys = [];
  for (const s of subs) {
    if (typeof s.eventType !== 'string') continue;
    const rows = s.oneOf.length ? s.oneOf.map((c) => Object.entries(c)) : [[]];
    for (const row of rows) client.keys.push(row.length === 0 ? s.eventType : `${s.eventType}|${row[0][0]}=${row[0][1]}`);
  }
  for (const k of client.keys) {
    let set = routes.get(k);
    if (!set) routes.set(k, (set = new Set()));
    set.add(client);
  }
}

function unsubscribe(client) {
  for (const k of client.keys) {
    const set = routes.get(k);
    set?.delete(client);
    if (set?.size === 0) routes.delete(k);
  }
}

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
    const subs = subscriptionsFrom(req.url);
    res.write(`event: rig.subscriptions_set\ndata: ${rigEvent('rig.subscriptions_set', subs)}\n\n`);
    const client = { sse: res };
    subscribe(client, subs);
    res.on('close', () => unsubscribe(client));
    return;
  }
  res.writeHead(404).end();
});
server.requestTimeout = 0;
server.headersTimeout = 60_000;

const wss = new WebSocketServer({ server, path: '/_rig/v1/connection/ws', perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  ws.send(rigEvent('rig.connection.create', { connection_token: randomUUID() }));
  const subs = subscriptionsFrom(req.url);
  ws.send(rigEvent('rig.subscriptions_set', subs));
  const client = { ws };
  subscribe(client, subs);
  let gone = false;
  const leave = () => {
    if (!gone) unsubscribe(client);
    gone = true;
  };
  ws.on('close', leave);
  ws.on('error', leave);
});

function fanOut(event, json) {
  const type = event.type;
  const frame = `event: ${type}\ndata: ${json}\n\n`;
  const send = (c) => (c.sse ? c.sse.write(frame) : c.ws.send(json));
  const all = routes.get(type);
  const keyed = [];
  if (event.data && typeof event.data === 'object') {
    for (const [k, v] of Object.entries(event.data)) {
      if (typeof v !== 'string') continue;
      const set = routes.get(`${type}|${k}=${v}`);
      if (set) keyed.push(set);
    }
  }
  if (keyed.length === 0) {
    if (all) for (const c of all) send(c);
    return;
  }
  // Several matching keys: each client once.
  const seen = new Set(all);
  if (all) for (const c of all) send(c);
  for (const set of keyed) {
    for (const c of set) {
      if (seen.has(c)) continue;
      seen.add(c);
      send(c);
    }
  }
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
    fanOut(event, json);
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
  for (const set of routes.values()) for (const c of set) (c.sse ? c.sse.destroy() : c.ws.terminate());
  server.close();
  api.close();
  setImmediate(() => process.exit(0));
});
