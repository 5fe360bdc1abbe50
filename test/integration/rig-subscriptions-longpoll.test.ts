/**
 * Long polling: RIG's longpolling_subscription_test scenarios (spec 12.1) and the protocol of spec
 * 2.5: the create answer, the cookies, the exact poll body, the preflight answers. The gateway runs
 * with LONGPOLL_TIMEOUT_MS=1000, so an empty poll takes about a second.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LongPollClient } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { http, putSubscriptions } from '../helpers/http.js';
import { SCENARIO_ENV, TEST_CORS, assertConnectionCreate, assertRigEvent, subscriptionScenarios } from '../helpers/rig-scenarios.js';

/** Splits a Set-Cookie header into its name, value and lower-cased attributes. */
function parseSetCookie(sc: string): { name: string; value: string; attrs: string[] } {
  const [pair, ...attrs] = sc.split(';').map((s) => s.trim());
  const eq = pair!.indexOf('=');
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attrs: attrs.map((a) => a.toLowerCase()) };
}

function cookiesOf(headers: Headers): Map<string, { value: string; attrs: string[] }> {
  const out = new Map<string, { value: string; attrs: string[] }>();
  for (const sc of headers.getSetCookie()) {
    const c = parseSetCookie(sc);
    out.set(c.name, { value: c.value, attrs: c.attrs });
  }
  return out;
}

function assertLongPollHeaders(h: Headers): void {
  assert.equal(h.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(h.get('cache-control'), 'no-cache');
  assert.equal(h.get('access-control-allow-origin'), TEST_CORS);
  assert.equal(h.get('access-control-allow-credentials'), 'true');
}

function assertSessionCookies(h: Headers, token: string | undefined, lastEventId: string): void {
  const cookies = cookiesOf(h);
  assert.deepEqual([...cookies.keys()].sort(), ['connection_token', 'last_event_id']);
  for (const [name, c] of cookies) {
    assert.deepEqual(c.attrs.sort(), ['httponly', 'path=/'], `attributes of cookie ${name}`);
  }
  if (token !== undefined) assert.equal(cookies.get('connection_token')!.value, token);
  assert.equal(cookies.get('last_event_id')!.value, lastEventId);
}

describe('Long-polling connections and subscriptions (RIG longpolling_subscription_test)', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway(undefined, SCENARIO_ENV);
  });
  after(() => gw?.stop());

  subscriptionScenarios('longpolling', () => gw);

  it('longpolling: create answers "ok" with the session cookies', async () => {
    const lp = new LongPollClient(gw.url);
    const r = await lp.get();
    assert.equal(r.status, 200);
    assert.equal(r.body, '"ok"');
    assertLongPollHeaders(r.headers);
    assertSessionCookies(r.headers, undefined, '"first_event"');
    assert.match(lp.cookies.get('connection_token')!, /^[A-Za-z0-9_-]+={0,2}$/);
  });

  it('longpolling: a poll answers exactly {"last_event_id":...,"events":[...]} and refreshes the cookies', async () => {
    const lp = new LongPollClient(gw.url);
    await lp.get();
    const token = lp.cookies.get('connection_token')!;

    const first = await lp.get();
    assert.equal(first.status, 200);
    assertLongPollHeaders(first.headers);
    const body = JSON.parse(first.body) as { last_event_id: string; events: Array<Record<string, any>> };
    assert.deepEqual(Object.keys(body), ['last_event_id', 'events']);
    // Compact JSON holding the events' JSON text as is: re-serialising changes nothing.
    assert.equal(first.body, JSON.stringify(body));
    assert.equal(typeof body.last_event_id, 'string');
    assert.notEqual(body.last_event_id, 'first_event');
    assert.deepEqual(
      body.events.map((e) => e.type),
      ['rig.connection.create', 'rig.subscriptions_set'],
    );
    assertConnectionCreate(body.events[0]!);
    assert.equal(body.events[0]!.data.connection_token, token);
    assertRigEvent(body.events[1]!, 'rig.subscriptions_set');
    assert.deepEqual(body.events[1]!.data, []);
    assertSessionCookies(first.headers, token, JSON.stringify(body.last_event_id));

    // Nothing new: the poll waits (LONGPOLL_TIMEOUT_MS) and answers an empty list, same cursor.
    const started = Date.now();
    const empty = await lp.get();
    const waited = Date.now() - started;
    assert.ok(waited >= 800 && waited < 5000, `empty poll took ${waited} ms`);
    assert.equal(empty.status, 200);
    assert.equal(empty.body, `{"last_event_id":${JSON.stringify(body.last_event_id)},"events":[]}`);
    assertSessionCookies(empty.headers, token, JSON.stringify(body.last_event_id));

    // After a PUT the next read holds exactly the new rig.subscriptions_set.
    const put = await putSubscriptions(gw.url, token, [{ eventType: 'greeting' }], { kind: 'longpolling' });
    assert.equal(put.status, 204, put.body);
    const next = await lp.get();
    const nextBody = JSON.parse(next.body) as { last_event_id: string; events: Array<Record<string, any>> };
    assert.equal(nextBody.events.length, 1);
    assertRigEvent(nextBody.events[0]!, 'rig.subscriptions_set');
    assert.deepEqual(nextBody.events[0]!.data, [{ eventType: 'greeting', oneOf: [] }]);
    assert.notEqual(nextBody.last_event_id, body.last_event_id);
    assertSessionCookies(next.headers, token, JSON.stringify(nextBody.last_event_id));
  });

  it('longpolling: OPTIONS answers 204 with the preflight headers of spec 2.5', async () => {
    const r = await http(`${gw.url}/_rig/v1/connection/longpolling`, { method: 'OPTIONS' });
    assert.equal(r.status, 204);
    assert.equal(r.body, '');
    assert.equal(r.headers.get('access-control-allow-origin'), TEST_CORS);
    assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(r.headers.get('access-control-allow-methods'), 'GET');
    assert.equal(r.headers.get('access-control-allow-headers'), '*');
  });

  it('longpolling: OPTIONS on the subscriptions path answers 204 with the PUT preflight headers', async () => {
    const lp = new LongPollClient(gw.url);
    await lp.get();
    const token = lp.cookies.get('connection_token')!;
    const r = await http(`${gw.url}/_rig/v1/connection/longpolling/${token}/subscriptions`, { method: 'OPTIONS' });
    assert.equal(r.status, 204);
    assert.equal(r.body, '');
    assert.equal(r.headers.get('access-control-allow-origin'), TEST_CORS);
    assert.equal(r.headers.get('access-control-allow-methods'), 'PUT');
    assert.equal(r.headers.get('access-control-allow-headers'), 'content-type,authorization');
  });
});
