/**
 * The session blacklist (RIG spec 3.4, 7.4, 12.1 blacklist_test) through the real gateway on
 * three shards: the REST API with RIG's answers, kills of live SSE, WebSocket and long-polling
 * connections of the session (and of no other), refusal of the session's tokens on connect, PUT
 * and secured proxy routes until the entry expires, JWT_SESSION_FIELD naming the session, and
 * MAX_CONNECTIONS_PER_SESSION counted across shards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LongPollClient, SseClient, WsClient } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { greeting, http, postEvent, putSubscriptions } from '../helpers/http.js';
import { TEST_JWT_SECRET, signJwt } from '../helpers/jwt.js';
import { startUpstream } from '../helpers/upstream.js';
import type { Upstream } from '../helpers/upstream.js';
import { sleep, waitFor } from '../helpers/wait.js';

const subs = JSON.stringify([{ eventType: 'greeting' }]);

async function blacklist(gw: RunningGateway, sessionId: unknown, validityInSeconds: unknown = 60, version = 'v3') {
  return http(`${gw.apiUrl}/${version}/session-blacklist`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sessionId, validityInSeconds }),
  });
}

describe('session blacklist', () => {
  let gw: RunningGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(undefined);
    gw = await startGateway(undefined, {
      SHARDS: '3',
      JWT_SECRET_KEY: TEST_JWT_SECRET,
      LONGPOLL_TIMEOUT_MS: '1000',
      MAX_CONNECTIONS_PER_SESSION: '3',
      PROXY_CONFIG_FILE: JSON.stringify([
        {
          id: 'secured',
          name: 'secured',
          auth_type: 'jwt',
          auth: { use_header: true, header_name: 'Authorization' },
          proxy: { use_env: false, target_url: '127.0.0.1', port: upstream.port },
          version_data: { default: { endpoints: [{ id: 'e', method: 'GET', path_regex: '/secured', secured: true }] } },
        },
      ]),
    });
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  it('POST answers 201 {} with location and CORS; GET answers 200 while listed, 404 otherwise (v3 and v2)', async () => {
    for (const version of ['v3', 'v2']) {
      const id = `rest-${version}/ä x`;
      const r = await blacklist(gw, id, 60, version);
      assert.equal(r.status, 201, r.body);
      assert.equal(r.body, '{}');
      assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
      const location = r.headers.get('location')!;
      assert.equal(location, `/${version}/session-blacklist/${encodeURIComponent(id)}`);
      const g = await http(`${gw.apiUrl}${location}`);
      assert.equal(g.status, 200);
      assert.equal(g.body, '{}');
      const missing = await http(`${gw.apiUrl}/${version}/session-blacklist/not-listed`);
      assert.equal(missing.status, 404);
      assert.equal(missing.body, 'Not found.');
    }
  });

  it('refuses invalid requests with RIG\'s texts', async () => {
    const cases: Array<[unknown, string]> = [
      [{ validityInSeconds: 60 }, 'Missing value for "sessionId"'],
      [{ sessionId: '', validityInSeconds: 60 }, 'Expected non-empty string, got ""'],
      [{ sessionId: 42, validityInSeconds: 60 }, 'Expected non-empty string, got 42'],
      [{ sessionId: 's' }, 'Missing value for "validityInSeconds"'],
      [{ sessionId: 's', validityInSeconds: 'soon' }, 'Expected a number, got "soon"'],
      [{ sessionId: 's', validityInSeconds: 0 }, 'Expected a positive number, got 0'],
      [{ sessionId: 's', validityInSeconds: -5 }, 'Expected a positive number, got -5'],
      [{ sessionId: 's', validityInSeconds: '-5' }, 'Expected a positive number, got -5'],
      [{ sessionId: 's', validityInSeconds: true }, 'Expected a positive number, got true'],
      [{ sessionId: 's', validityInSeconds: 1e300 }, 'validityInSeconds is larger than 3153600000 (100 years)'],
      [[], 'Expected a JSON object body.'],
    ];
    for (const [body, text] of cases) {
      const r = await http(`${gw.apiUrl}/v3/session-blacklist`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body, text);
    }
    const junk = await http(`${gw.apiUrl}/v3/session-blacklist`, { method: 'POST', body: '{"sessionId": ' });
    assert.equal(junk.status, 400);
    assert.equal((await http(`${gw.apiUrl}/v3/session-blacklist/s`)).status, 404, 'nothing invalid was stored');
    // A numeric string is a number (RIG).
    assert.equal((await blacklist(gw, 'numeric-string', '30')).status, 201);
  });

  it('kills live SSE, WS and long-polling connections of the session; another session keeps receiving', async () => {
    const x = signJwt({ jti: 'session-x' });
    const y = signJwt({ jti: 'session-y' });
    const sseX = await SseClient.connect(gw.url, { jwt: x, subscriptions: subs });
    const wsX = await WsClient.connect(gw.url, { jwt: x, subscriptions: subs });
    const sseY = await SseClient.connect(gw.url, { jwt: y, subscriptions: subs });
    const lpX = new LongPollClient(gw.url);
    assert.equal((await lpX.get({ jwt: x, subscriptions: subs })).status, 200);
    await lpX.poll((e) => e.event === 'rig.subscriptions_set');
    await sseX.next((e) => e.event === 'rig.subscriptions_set');
    await wsX.next((e) => e.event === 'rig.subscriptions_set');
    await sseY.next((e) => e.event === 'rig.subscriptions_set');

    // A long poll waiting while the kill happens is answered with rig.session_killed.
    const waiting = lpX.get();
    await sleep(100);
    assert.equal((await blacklist(gw, 'session-x')).status, 201);

    const killed = await sseX.next((e) => e.event === 'rig.session_killed');
    assert.equal(killed.data.type, 'rig.session_killed');
    assert.equal(killed.data.source, 'rig');
    await waitFor(() => sseX.ended, 5000, 'the killed SSE stream to end');
    await wsX.closed();
    assert.equal(wsX.closeCode, 1000);
    assert.equal(wsX.closeReason, 'Session killed.');
    const answer = await waiting;
    assert.equal(answer.status, 200);
    const events = (JSON.parse(answer.body) as { events: Array<{ type: string }> }).events;
    assert.deepEqual(events.map((e) => e.type), ['rig.session_killed']);
    assert.equal(lpX.cookies.size, 0, 'the killed long-poll session cleared its cookies');

    // Session Y is untouched: no kill, and it still receives.
    assert.equal(sseY.ended, false);
    assert.equal((await postEvent(gw.url, greeting('after-kill'))).status, 202);
    const e = await sseY.next((ev) => ev.event === 'greeting');
    assert.equal(e.data.data.name, 'after-kill');
    assert.ok(!sseY.events.some((ev) => ev.event === 'rig.session_killed'));
    sseY.close();
  });

  it('a long-poll session killed between polls learns it from its next poll', async () => {
    const z = signJwt({ jti: 'session-z' });
    const lp = new LongPollClient(gw.url);
    assert.equal((await lp.get({ jwt: z })).status, 200);
    await lp.poll((e) => e.event === 'rig.subscriptions_set');
    assert.equal((await blacklist(gw, 'session-z')).status, 201);
    await sleep(200);
    const r = await lp.get();
    assert.equal(r.status, 200);
    assert.deepEqual((JSON.parse(r.body) as { events: Array<{ type: string }> }).events.map((ev) => ev.type), ['rig.session_killed']);
    assert.equal(lp.cookies.size, 0);
    // Without cookies and with the blacklisted token, no new session is created.
    const again = await lp.get({ jwt: z });
    assert.equal(again.status, 400);
  });

  it('refuses the session\'s tokens on connect, PUT and secured proxy routes until the entry expires', async () => {
    const w = signJwt({ jti: 'session-w' });
    const listener = await SseClient.connect(gw.url, { subscriptions: subs });
    const token = await listener.token();
    assert.equal((await http(`${gw.url}/secured`, { headers: { authorization: `Bearer ${w}` } })).status, 200);
    assert.equal((await blacklist(gw, 'session-w', 2)).status, 201);

    const sse = await SseClient.connect(gw.url, { jwt: w }, { expectStatus: 400 });
    assert.match(sse.body, /could not decode JWT: Ignoring blacklisted JWT with ID "session-w"\./);
    const ws = await WsClient.connect(gw.url, { jwt: w });
    await ws.closed();
    assert.equal(ws.closeCode, 1000);
    const lp = await new LongPollClient(gw.url).get({ jwt: w });
    assert.equal(lp.status, 400);
    const put = await putSubscriptions(gw.url, token, [], { headers: { authorization: `Bearer ${w}` } });
    assert.equal(put.status, 400);
    assert.match(put.body, /invalid authorization header: could not decode JWT: Ignoring blacklisted JWT/);
    assert.equal((await http(`${gw.url}/secured`, { headers: { authorization: `Bearer ${w}` } })).status, 401);

    // After expiry the session works again.
    await sleep(2300);
    assert.equal((await http(`${gw.apiUrl}/v3/session-blacklist/session-w`)).status, 404);
    const back = await SseClient.connect(gw.url, { jwt: w });
    back.close();
    assert.equal((await http(`${gw.url}/secured`, { headers: { authorization: `Bearer ${w}` } })).status, 200);
    listener.close();
  });

  it('a connection joins the sessions of its PUT\'s Bearer tokens and is killed with them', async () => {
    const sse = await SseClient.connect(gw.url, { subscriptions: subs });
    const token = await sse.token();
    const put = await putSubscriptions(gw.url, token, [{ eventType: 'greeting' }], { headers: { authorization: `Bearer ${signJwt({ jti: 'session-put' })}` } });
    assert.equal(put.status, 204, put.body);
    await sse.next((e) => e.event === 'rig.subscriptions_set' && e.data.data.length === 1);
    assert.equal((await blacklist(gw, 'session-put')).status, 201);
    await sse.next((e) => e.event === 'rig.session_killed');
  });

  it('MAX_CONNECTIONS_PER_SESSION counts a session\'s connections on every shard', async () => {
    const v = signJwt({ jti: 'session-v' });
    const open: Array<SseClient | WsClient> = [];
    for (let i = 0; i < 3; i++) open.push(i % 2 ? await WsClient.connect(gw.url, { jwt: v }) : await SseClient.connect(gw.url, { jwt: v }));
    await open[1]!.next((e) => e.event === 'rig.subscriptions_set');
    const fourth = await SseClient.connect(gw.url, { jwt: v }, { expectStatus: 429 });
    assert.equal(fourth.body, 'Reached maximum number of connections for this session');
    const lp = await new LongPollClient(gw.url).get({ jwt: v });
    assert.equal(lp.status, 429);
    // Other sessions and anonymous connections are not limited by it.
    const other = await SseClient.connect(gw.url, { jwt: signJwt({ jti: 'session-u' }) });
    other.close();
    // A connection that ends gives its place back.
    open.shift()!.close();
    const again = await waitFor(async () => {
      const c = await SseClient.connect(gw.url, { jwt: v }).catch(() => undefined);
      if (c) return c;
      await sleep(100);
      return undefined;
    }, 5000, 'a place in the session after one connection ended');
    again.close();
    for (const c of open) c.close();
  });
});

describe('session blacklist with JWT_SESSION_FIELD', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway(undefined, { JWT_SECRET_KEY: TEST_JWT_SECRET, JWT_SESSION_FIELD: '/user/sid', ENABLE_FAULT_INJECTION: 'true' });
  });
  after(async () => {
    await gw?.stop();
  });

  it('kills and refuses by that claim, not by jti', async () => {
    const token = signJwt({ jti: 'jti-1', user: { sid: 'user-session' } });
    const sse = await SseClient.connect(gw.url, { jwt: token });
    await sse.next((e) => e.event === 'rig.subscriptions_set');
    assert.equal((await blacklist(gw, 'jti-1')).status, 201);
    await sse.none((e) => e.event === 'rig.session_killed', 300);
    (await SseClient.connect(gw.url, { jwt: token })).close();
    assert.equal((await blacklist(gw, 'user-session')).status, 201);
    await sse.next((e) => e.event === 'rig.session_killed');
    const refused = await SseClient.connect(gw.url, { jwt: signJwt({ jti: 'jti-2', user: { sid: 'user-session' } }) }, { expectStatus: 400 });
    assert.match(refused.body, /Ignoring blacklisted JWT with ID "user-session"/);
  });

  it('a shard started after the blacklisting refuses the session too', async () => {
    assert.equal((await blacklist(gw, 'before-restart')).status, 201);
    assert.equal((await http(`${gw.apiUrl}/_fault/shards/0/crash`, { method: 'POST' })).status, 202);
    await waitFor(async () => (await http(`${gw.apiUrl}/ready`)).status === 200 && gw.output().includes('restarting in'), 10000, 'the shard to restart');
    await waitFor(async () => (await http(`${gw.apiUrl}/ready`)).status === 200, 10000, 'the restarted shard to be ready');
    const token = signJwt({ user: { sid: 'before-restart' } });
    // Connections spread over both shards: every one is refused.
    for (let i = 0; i < 8; i++) await SseClient.connect(gw.url, { jwt: token }, { expectStatus: 400 });
  });
});
