/**
 * Connection set-up errors and the connection-rate limit (RIG's connection_test, spec 2.3-2.5 and
 * 2.9), against the real gateway with two shards sharing the public port.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { createSigner } from 'fast-jwt';
import { createTokenCodec } from '../../src/shared/token/connection-token.js';
import { LongPollClient, SseClient, WsClient } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { TEST_JWT_SECRET, signJwt } from '../helpers/jwt.js';
import { freshRequest } from '../helpers/raw-http.js';

const BASE_ENV = { JWT_SECRET_KEY: TEST_JWT_SECRET };
const UNPARSABLE = "can't { be [ parsed.";
const JWT_PREFIX = 'could not parse subscriptions: could not decode JWT:';
const DECODE_PREFIX = 'Failed to decode subscription list: ';
const RATE_LIMITED = 'Reached maximum number of connections';
const tokens = createTokenCodec('test-cookie');

function shardOf(token: string): number {
  const p = tokens.decode(token);
  assert.ok(p, `token ${token} does not decode with the test NODE_COOKIE`);
  return p.shard;
}

function sseUrl(gw: RunningGateway, query: Record<string, string>): string {
  const qs = new URLSearchParams(query).toString();
  return `${gw.url}/_rig/v1/connection/sse${qs ? `?${qs}` : ''}`;
}

function lpUrl(gw: RunningGateway, query: Record<string, string>): string {
  const qs = new URLSearchParams(query).toString();
  return `${gw.url}/_rig/v1/connection/longpolling${qs ? `?${qs}` : ''}`;
}

/** A WebSocket whose set-up must fail: the upgrade succeeds and the gateway closes right away. */
async function wsRejected(gw: RunningGateway, query: Record<string, string>): Promise<{ code: number | undefined; reason: string; events: string[] }> {
  const ws = await WsClient.connect(gw.url, query);
  await ws.closed(5000);
  return { code: ws.closeCode, reason: ws.closeReason, events: ws.events.map((e) => e.event) };
}

function cookieValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  for (const c of headers['set-cookie'] ?? []) {
    const [pair] = c.split(';');
    const eq = pair!.indexOf('=');
    if (pair!.slice(0, eq).trim() === name) return pair!.slice(eq + 1).trim();
  }
  return undefined;
}

type Attempt = { ok: true; token: string; close: () => void } | { ok: false; status: number; body: string };

/** One SSE connection attempt on its own TCP connection; on success the stream is kept open. */
function attemptSse(gw: RunningGateway, query: Record<string, string> = {}): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const req = request(sseUrl(gw, query), { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      res.setEncoding('utf8');
      let buf = '';
      let settled = false;
      res.on('data', (chunk: string) => {
        buf += chunk;
        if (res.statusCode === 200 && !settled) {
          const m = /"connection_token":"([^"]+)"/.exec(buf);
          if (m) {
            settled = true;
            resolve({ ok: true, token: m[1]!, close: () => req.destroy() });
          }
        }
      });
      res.on('end', () => {
        if (!settled) resolve({ ok: false, status: res.statusCode ?? 0, body: buf });
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('SSE attempt timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function attemptWs(gw: RunningGateway): Promise<Attempt> {
  const ws = await WsClient.connect(gw.url);
  // next() gives up as soon as the socket is closed: a refused WebSocket ends up in the catch.
  const first = await ws
    .next((e) => e.event === 'rig.connection.create', 5000)
    .then((e) => e.data.data.connection_token as string)
    .catch(() => ws.closed(5000).then(() => undefined));
  if (typeof first === 'string') return { ok: true, token: first, close: () => ws.close() };
  return { ok: false, status: ws.closeCode ?? -1, body: ws.closeReason };
}

async function attemptLp(gw: RunningGateway, query: Record<string, string> = {}): Promise<Attempt> {
  const r = await freshRequest(lpUrl(gw, query));
  if (r.status === 200) {
    assert.equal(r.body, '"ok"');
    const token = cookieValue(r.headers, 'connection_token');
    assert.ok(token, 'long-poll creation sets the connection_token cookie');
    return { ok: true, token, close: () => {} };
  }
  return { ok: false, status: r.status, body: r.body };
}

describe('connection set-up errors', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway(undefined, BASE_ENV);
  });
  after(() => gw.stop());

  test('neither jwt nor subscriptions is required (SSE, WebSocket, long polling)', async () => {
    const sse = await SseClient.connect(gw.url);
    try {
      assert.equal(sse.status, 200);
      assert.match(String(sse.headers['content-type']), /^text\/event-stream/);
      const create = await sse.next(undefined, 5000);
      assert.equal(create.event, 'rig.connection.create');
      const set = await sse.next(undefined, 5000);
      assert.equal(set.event, 'rig.subscriptions_set');
      assert.deepEqual(set.data.data, []);
    } finally {
      sse.close();
    }

    const ws = await WsClient.connect(gw.url);
    try {
      const create = await ws.next(undefined, 5000);
      assert.equal(create.event, 'rig.connection.create');
      const set = await ws.next(undefined, 5000);
      assert.equal(set.event, 'rig.subscriptions_set');
      assert.deepEqual(set.data.data, []);
      assert.equal(ws.closeCode, undefined);
    } finally {
      ws.close();
    }

    const lp = new LongPollClient(gw.url);
    const created = await lp.get();
    assert.equal(created.status, 200);
    assert.equal(created.body, '"ok"');
    assert.ok(lp.cookies.get('connection_token'));
    assert.equal(lp.cookies.get('last_event_id'), '"first_event"');
    const poll = await lp.get();
    assert.equal(poll.status, 200);
    assert.deepEqual(
      lp.events.map((e) => e.event),
      ['rig.connection.create', 'rig.subscriptions_set'],
    );
    assert.deepEqual(lp.events[1]!.data.data, []);
  });

  test('jwt=foobar is rejected: SSE 400, WebSocket closed 1000 "Bad request.", long polling 400', async () => {
    const sse = await freshRequest(sseUrl(gw, { jwt: 'foobar' }));
    assert.equal(sse.status, 400);
    assert.ok(sse.body.startsWith(JWT_PREFIX), sse.body);
    assert.notEqual(sse.headers['content-type'], 'text/event-stream; charset=utf-8');

    const ws = await wsRejected(gw, { jwt: 'foobar' });
    assert.equal(ws.code, 1000);
    assert.equal(ws.reason, 'Bad request.');
    assert.deepEqual(ws.events, [], 'a rejected WebSocket receives no event');

    const lp = await freshRequest(lpUrl(gw, { jwt: 'foobar' }));
    assert.equal(lp.status, 400);
    assert.ok(lp.body.startsWith(JWT_PREFIX), lp.body);
    assert.equal(cookieValue(lp.headers, 'connection_token'), undefined, 'no session is created');
  });

  test('an unparsable subscriptions parameter is rejected with the decoder message', async () => {
    const sse = await freshRequest(sseUrl(gw, { subscriptions: UNPARSABLE }));
    assert.equal(sse.status, 400);
    assert.ok(sse.body.startsWith(DECODE_PREFIX), sse.body);
    assert.ok(sse.body.length > DECODE_PREFIX.length, 'the decoder message follows the prefix');

    const ws = await wsRejected(gw, { subscriptions: UNPARSABLE });
    assert.equal(ws.code, 1000);
    assert.ok(ws.reason.startsWith(DECODE_PREFIX), ws.reason);
    assert.deepEqual(ws.events, []);

    const lp = await freshRequest(lpUrl(gw, { subscriptions: UNPARSABLE }));
    assert.equal(lp.status, 400);
    assert.ok(lp.body.startsWith(DECODE_PREFIX), lp.body);
    assert.equal(cookieValue(lp.headers, 'connection_token'), undefined);
  });

  test('the subscriptions decode error wins over an invalid jwt (RIG checks it first)', async () => {
    const sse = await freshRequest(sseUrl(gw, { subscriptions: UNPARSABLE, jwt: 'foobar' }));
    assert.equal(sse.status, 400);
    assert.ok(sse.body.startsWith(DECODE_PREFIX), sse.body);
  });

  test('an expired JWT and a JWT signed with another secret are rejected; a valid one is accepted', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const expired = createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256' })({ sub: 'alice', exp: nowS - 120, iat: nowS - 3600 });
    const wrongSecret = signJwt({ sub: 'alice' }, { secret: 'not-the-secret' });
    const valid = signJwt({ sub: 'alice' });

    for (const [name, jwt, reason] of [
      ['expired', expired, /token expired/],
      ['wrong secret', wrongSecret, /Invalid signature/],
    ] as const) {
      const sse = await freshRequest(sseUrl(gw, { jwt }));
      assert.equal(sse.status, 400, `${name}: SSE`);
      assert.ok(sse.body.startsWith(JWT_PREFIX), `${name}: ${sse.body}`);
      assert.match(sse.body, reason);

      const ws = await wsRejected(gw, { jwt });
      assert.equal(ws.code, 1000, `${name}: WS`);
      assert.equal(ws.reason, 'Bad request.');

      const lp = await freshRequest(lpUrl(gw, { jwt }));
      assert.equal(lp.status, 400, `${name}: LP`);
      assert.ok(lp.body.startsWith(JWT_PREFIX), `${name}: ${lp.body}`);
      assert.match(lp.body, reason);
    }

    const sse = await SseClient.connect(gw.url, { jwt: valid });
    try {
      assert.equal((await sse.next(undefined, 5000)).event, 'rig.connection.create');
    } finally {
      sse.close();
    }
    const ws = await WsClient.connect(gw.url, { jwt: valid });
    try {
      assert.equal((await ws.next(undefined, 5000)).event, 'rig.connection.create');
    } finally {
      ws.close();
    }
    const lp = await freshRequest(lpUrl(gw, { jwt: valid }));
    assert.equal(lp.status, 200);
    assert.equal(lp.body, '"ok"');
  });
});

describe('connection-rate limit (MAX_CONNECTIONS_PER_MINUTE=5)', () => {
  let gw: RunningGateway;
  let lpToken: string | undefined;
  const open: Array<() => void> = [];
  before(async () => {
    gw = await startGateway(undefined, { ...BASE_ENV, MAX_CONNECTIONS_PER_MINUTE: '5' });
  });
  after(async () => {
    for (const close of open) close();
    await gw.stop();
  });

  test('long-polling creations are counted before validation; the 6th connection of any transport is refused', async () => {
    // SSE validates first: an invalid JWT is answered 400 and does not use up the budget.
    const badSse = await attemptSse(gw, { jwt: 'foobar' });
    assert.deepEqual(badSse.ok, false);
    assert.equal(!badSse.ok && badSse.status, 400);

    // Long polling counts first: this rejected creation uses one of the five.
    const badLp = await attemptLp(gw, { jwt: 'foobar' });
    assert.equal(!badLp.ok && badLp.status, 400);

    // A mix over fresh TCP connections (so both shards take some): 4 more fit.
    let accepted = 1;
    for (const [kind, attempt] of [['sse', attemptSse], ['ws', attemptWs], ['longpolling', attemptLp], ['sse', attemptSse]] as const) {
      const a = await attempt(gw);
      accepted++;
      assert.ok(a.ok, `connection ${accepted} of 5 (${kind}) must be accepted: ${JSON.stringify(a)}`);
      open.push(a.close);
      if (kind === 'longpolling') lpToken = a.token;
    }

    // The budget is spent on the node as a whole, whichever shard a new connection lands on.
    for (let i = 0; i < 3; i++) {
      const sse = await attemptSse(gw);
      assert.ok(!sse.ok, 'SSE beyond the limit is refused');
      assert.equal(sse.status, 429);
      assert.equal(sse.body, RATE_LIMITED);

      const lp = await attemptLp(gw);
      assert.ok(!lp.ok, 'long polling beyond the limit is refused');
      assert.equal(lp.status, 429);
      assert.equal(lp.body, RATE_LIMITED);

      const ws = await attemptWs(gw);
      assert.ok(!ws.ok, 'WebSocket beyond the limit is refused');
      assert.equal(ws.status, 1000);
      assert.equal(ws.body, 'Bad request.');
    }

    // Validation still comes first for SSE, the limit first for long polling.
    const sse = await attemptSse(gw, { jwt: 'foobar' });
    assert.equal(!sse.ok && sse.status, 400);
    const lp = await attemptLp(gw, { jwt: 'foobar' });
    assert.equal(!lp.ok && lp.status, 429);
    assert.equal(!lp.ok && lp.body, RATE_LIMITED);
  });

  test('polls of an existing long-polling session are not connection attempts', async () => {
    // The budget is spent (previous test), yet the session created within it still polls.
    assert.ok(lpToken, 'the previous test created a long-polling session');
    for (let i = 0; i < 3; i++) {
      const poll = await freshRequest(lpUrl(gw, {}), { headers: { cookie: `connection_token=${lpToken}; last_event_id="first_event"` } });
      assert.equal(poll.status, 200, poll.body);
      const body = JSON.parse(poll.body) as { events: Array<{ type: string }> };
      assert.deepEqual(
        body.events.map((e) => e.type),
        ['rig.connection.create', 'rig.subscriptions_set'],
      );
    }
    const created = await attemptLp(gw);
    assert.equal(!created.ok && created.status, 429);
  });
});

describe('connection-rate limit across shards (MAX_CONNECTIONS_PER_MINUTE=40)', () => {
  let gw: RunningGateway;
  const open: Array<() => void> = [];
  before(async () => {
    gw = await startGateway(undefined, { ...BASE_ENV, MAX_CONNECTIONS_PER_MINUTE: '40' });
  });
  after(async () => {
    for (const close of open) close();
    await gw.stop();
  });

  test('60 simultaneous attempts over SSE, WebSocket and long polling: exactly 40 accepted, on both shards', async () => {
    const attempts: Array<Promise<Attempt & { kind: string }>> = [];
    for (let i = 0; i < 20; i++) {
      attempts.push(attemptSse(gw).then((a) => ({ ...a, kind: 'sse' })));
      attempts.push(attemptWs(gw).then((a) => ({ ...a, kind: 'ws' })));
      attempts.push(attemptLp(gw).then((a) => ({ ...a, kind: 'longpolling' })));
    }
    const results = await Promise.all(attempts);
    for (const r of results) if (r.ok) open.push(r.close);

    const accepted = results.filter((r): r is Extract<Attempt, { ok: true }> & { kind: string } => r.ok);
    const refused = results.filter((r): r is Extract<Attempt, { ok: false }> & { kind: string } => !r.ok);
    assert.equal(accepted.length, 40, `accepted ${accepted.length}: ${JSON.stringify(refused)}`);
    assert.equal(refused.length, 20);
    for (const r of refused) {
      if (r.kind === 'ws') assert.deepEqual([r.status, r.body], [1000, 'Bad request.']);
      else assert.deepEqual([r.status, r.body], [429, RATE_LIMITED], r.kind);
    }
    const shards = new Set(accepted.filter((r) => r.kind !== 'longpolling').map((r) => shardOf(r.token)));
    assert.deepEqual([...shards].sort(), [0, 1], 'accepted streams are held by both shards');

    // The 41st is refused whichever shard it reaches.
    for (let i = 0; i < 4; i++) {
      const sse = await attemptSse(gw);
      assert.equal(!sse.ok && sse.status, 429);
    }
  });
});
