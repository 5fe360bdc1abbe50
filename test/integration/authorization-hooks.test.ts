/**
 * SUBSCRIPTION_CHECK and SUBMISSION_CHECK (docs/security.md) against the real gateway and a real
 * decision service (a node:http server started here): RIG's external_check_test scenarios on SSE,
 * WebSocket and long polling, tokens only the service can judge (RIG PR #378), both modes of
 * SUBMISSION_CHECK, and a service that is slow, down, or already has as many calls as allowed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { LongPollClient, SseClient, WsClient } from '../helpers/clients.js';
import { freePort, startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { greeting, http, putSubscriptions } from '../helpers/http.js';
import { signJwt } from '../helpers/jwt.js';
import { SCENARIO_ENV, connectSubscriber } from '../helpers/rig-scenarios.js';
import type { Kind } from '../helpers/rig-scenarios.js';
import { startUpstream } from '../helpers/upstream.js';
import type { RecordedRequest, Upstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';

const KINDS: Kind[] = ['sse', 'ws', 'longpolling'];
const GREETING_SUBS = [{ eventType: 'greeting' }];
const CONNECT_DENIED = 'Subscription denied (not authorized).';
const BUSY = 'The authorization service is busy; retry later.';

/** A connect that must be refused: SSE and long polling by status, WebSocket by its close frame. */
async function refusedConnect(gw: RunningGateway, kind: Kind, query: Record<string, string>): Promise<{ status: number; body: string }> {
  if (kind === 'sse') {
    const c = await SseClient.connect(gw.url, query, { expectStatus: -1 }).catch((e: Error) => e);
    assert.ok(!(c instanceof SseClient), 'SSE connect was accepted');
    const m = /SSE connect answered (\d+): ([\s\S]*)$/.exec((c as Error).message);
    assert.ok(m, (c as Error).message);
    return { status: Number(m[1]), body: m[2]! };
  }
  if (kind === 'ws') {
    const ws = await WsClient.connect(gw.url, query);
    await ws.closed(10_000);
    assert.equal(ws.events.length, 0, 'a refused WebSocket gets no events');
    return { status: ws.closeCode ?? -1, body: ws.closeReason };
  }
  const r = await new LongPollClient(gw.url).get(query);
  return { status: r.status, body: r.body };
}

const deniedStatus = (kind: Kind) => (kind === 'ws' ? 1008 : 403);

function bodyOf(r: RecordedRequest): unknown {
  return JSON.parse(r.body.toString('utf8'));
}

describe('a decision service as SUBSCRIPTION_CHECK and SUBMISSION_CHECK', () => {
  let gw: RunningGateway;
  let service: Upstream;
  /** What the service answers next. */
  let status = 200;
  const subscriptionCalls = () => service.requests.filter((r) => r.url === '/subscriptions');
  const submissionCalls = () => service.requests.filter((r) => r.url === '/submissions');

  before(async () => {
    service = await startUpstream(undefined, (req, res) => req.on('end', () => res.writeHead(status).end()));
    gw = await startGateway(undefined, {
      ...SCENARIO_ENV,
      SUBSCRIPTION_CHECK: `http://127.0.0.1:${service.port}/subscriptions`,
      SUBMISSION_CHECK: `http://127.0.0.1:${service.port}/submissions`,
      AUTHORIZATION_CHECK_TIMEOUT_MS: '2000',
    });
  });
  after(async () => {
    await gw.stop();
    await service.close();
  });

  for (const kind of KINDS) {
    test(`${kind}: service says 200 - connect with subscriptions accepted, PUT 204; the service sees the JWT and the subscriptions`, async () => {
      status = 200;
      const jwt = signJwt({ username: 'alice' });
      const before = subscriptionCalls().length;
      const s = await connectSubscriber(gw, kind, { jwt, subscriptions: JSON.stringify(GREETING_SUBS) });
      try {
        const connectCall = subscriptionCalls()[before]!;
        assert.ok(connectCall, 'the connect was checked');
        assert.equal(connectCall.method, 'POST');
        assert.equal(connectCall.headers['content-type'], 'application/json; charset=utf-8');
        assert.equal(connectCall.headers.authorization, `Bearer ${jwt}`);
        assert.deepEqual(bodyOf(connectCall), { subscriptions: GREETING_SUBS });
        // The JWT verified, so its subscription is inferred as usual.
        assert.deepEqual(s.handshake[1]!.data, [{ eventType: 'greeting', oneOf: [{ name: 'alice' }] }, { eventType: 'greeting', oneOf: [] }]);

        const put = await putSubscriptions(gw.url, s.token, GREETING_SUBS, { kind, headers: { authorization: `Bearer ${jwt}` } });
        assert.equal(put.status, 204, put.body);
        const putCall = subscriptionCalls().at(-1)!;
        assert.equal(putCall.headers.authorization, `Bearer ${jwt}`);
        assert.equal(putCall.headers['content-type'], 'application/json');
        assert.deepEqual(bodyOf(putCall), { subscriptions: GREETING_SUBS });
        await s.nextSubscriptionsSet();
      } finally {
        s.close();
      }
    });

    test(`${kind}: service says 400 - connect with subscriptions refused, without them accepted (not asked), PUT 403`, async () => {
      status = 400;
      const refused = await refusedConnect(gw, kind, { subscriptions: JSON.stringify(GREETING_SUBS) });
      assert.deepEqual(refused, { status: deniedStatus(kind), body: CONNECT_DENIED });

      const before = subscriptionCalls().length;
      const s = await connectSubscriber(gw, kind, { jwt: signJwt({ username: 'bob' }) });
      try {
        assert.equal(subscriptionCalls().length, before, 'a connect without subscriptions is not checked');
        const put = await putSubscriptions(gw.url, s.token, GREETING_SUBS, { kind });
        assert.equal(put.status, 403);
        assert.equal(put.body, 'Subscription denied.');
        assert.equal(put.headers.get('access-control-allow-origin'), SCENARIO_ENV['CORS']);
        assert.equal(subscriptionCalls().length, before + 1);
        assert.equal(subscriptionCalls().at(-1)!.headers.authorization, undefined, 'no credentials, no authorization header');
      } finally {
        s.close();
      }
    });
  }

  test('401 and 403 from the service deny too', async () => {
    for (const s of [401, 403]) {
      status = s;
      assert.deepEqual(await refusedConnect(gw, 'sse', { subscriptions: JSON.stringify(GREETING_SUBS) }), { status: 403, body: CONNECT_DENIED });
    }
  });

  test('a JWT signed with a key the gateway does not know is passed to the service, which accepts it (PR #378)', async () => {
    status = 200;
    const foreign = signJwt({ username: 'mallory', jti: 'foreign-session' }, { secret: 'a-key-only-the-service-has' });
    for (const kind of KINDS) {
      const s = await connectSubscriber(gw, kind, { jwt: foreign, subscriptions: JSON.stringify(GREETING_SUBS) });
      try {
        assert.equal(subscriptionCalls().at(-1)!.headers.authorization, `Bearer ${foreign}`);
        // Its claims are not trusted: nothing is inferred from them.
        assert.deepEqual(s.handshake[1]!.data, [{ eventType: 'greeting', oneOf: [] }], kind);
        const put = await putSubscriptions(gw.url, s.token, [], { kind, headers: { authorization: `Bearer ${foreign}` } });
        assert.equal(put.status, 204, `${kind}: ${put.body}`);
        assert.deepEqual(await s.nextSubscriptionsSet(), []);
      } finally {
        s.close();
      }
    }
    status = 403;
    assert.deepEqual(await refusedConnect(gw, 'longpolling', { jwt: foreign, subscriptions: '[]' }), { status: 403, body: CONNECT_DENIED });
  });

  test('a blacklisted session is refused even when its token cannot be verified', async (t) => {
    status = 200;
    const foreign = signJwt({ username: 'mallory', jti: 'blocked-session' }, { secret: 'a-key-only-the-service-has' });
    const r = await http(`${gw.apiUrl}/v3/session-blacklist`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId: 'blocked-session', validityInSeconds: 60 }),
    });
    if (r.status === 404) {
      // Without the internal blacklist API the rule is covered by test/unit/shards/authorization/lenient-token.test.ts.
      t.skip('POST /v3/session-blacklist is not served by this build');
      return;
    }
    assert.ok(r.status >= 200 && r.status < 300, `blacklist answered ${r.status}`);
    await waitFor(async () => (await refusedConnect(gw, 'sse', { jwt: foreign, subscriptions: '[]' })).status === 400, 5000, 'refusal');
  });

  test('submissions: the service sees the CloudEvent and decides', async () => {
    status = 200;
    const jwt = signJwt({ username: 'alice' });
    const event = greeting('alice');
    const ok = await http(`${gw.url}/_rig/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${jwt}` },
      body: JSON.stringify(event),
    });
    assert.equal(ok.status, 202, ok.body);
    const call = submissionCalls().at(-1)!;
    assert.equal(call.headers['content-type'], 'application/cloudevents+json');
    assert.equal(call.headers.authorization, `Bearer ${jwt}`);
    assert.deepEqual(bodyOf(call), event);

    // A binary-mode event is sent to the service assembled, as a structured CloudEvent.
    const binary = await http(`${gw.url}/_rig/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'ce-specversion': '0.2', 'ce-type': 'greeting', 'ce-source': 'test', 'ce-id': 'bin-1' },
      body: JSON.stringify({ name: 'bin' }),
    });
    assert.equal(binary.status, 202, binary.body);
    const binCall = submissionCalls().at(-1)!;
    assert.equal(binCall.headers['content-type'], 'application/cloudevents+json; charset=utf-8');
    assert.deepEqual(bodyOf(binCall), { specversion: '0.2', type: 'greeting', source: 'test', id: 'bin-1', data: { name: 'bin' } });

    status = 403;
    const denied = await http(`${gw.url}/_rig/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(greeting('eve')) });
    assert.equal(denied.status, 403);
    assert.equal(denied.body, 'Submission denied.');
    assert.equal(denied.headers.get('access-control-allow-origin'), SCENARIO_ENV['CORS']);

    // The internal API is never checked.
    const before = submissionCalls().length;
    const internal = await http(`${gw.apiUrl}/v3/messages`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(greeting('eve')) });
    assert.equal(internal.status, 202);
    assert.equal(submissionCalls().length, before);
  });

  test('denied submissions are not delivered', async () => {
    status = 200;
    const s = await connectSubscriber(gw, 'sse', { subscriptions: JSON.stringify(GREETING_SUBS) });
    try {
      status = 403;
      const denied = await http(`${gw.url}/_rig/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(greeting('eve')) });
      assert.equal(denied.status, 403);
      await s.expectNothing();
      status = 200;
      const ok = await http(`${gw.url}/_rig/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(greeting('ann')) });
      assert.equal(ok.status, 202);
      assert.equal((await s.receive('greeting')).data.name, 'ann');
    } finally {
      s.close();
    }
  });
});

describe('SUBMISSION_CHECK=jwt_validation', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway(undefined, { ...SCENARIO_ENV, SUBMISSION_CHECK: 'jwt_validation', SUBSCRIPTION_CHECK: 'Jwt_Validation' });
  });
  after(() => gw.stop());

  const submit = (headers: Record<string, string>) =>
    http(`${gw.url}/_rig/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json', ...headers }, body: JSON.stringify(greeting('x')) });

  test('a valid token is accepted (RIG 3.0 denied every submission); none or only invalid ones get 403', async () => {
    const valid = signJwt({ username: 'alice' });
    assert.equal((await submit({ authorization: `Bearer ${valid}` })).status, 202);
    assert.equal((await submit({ authorization: `Bearer not-a-jwt, Bearer ${valid}` })).status, 202, 'one valid token is enough');
    const cases: Array<Record<string, string>> = [{}, { authorization: 'Bearer not-a-jwt' }, { authorization: `Bearer ${signJwt({}, { secret: 'other' })}` }, { authorization: `Bearer ${signJwt({}, { expiresInS: -10 })}` }];
    for (const headers of cases) {
      const r = await submit(headers);
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.equal(r.body, 'Submission denied.');
    }
  });

  test('subscriptions: a connect with subscriptions needs a valid jwt; an invalid one stays a 400', async () => {
    assert.deepEqual(await refusedConnect(gw, 'sse', { subscriptions: '[]' }), { status: 403, body: CONNECT_DENIED });
    assert.equal((await refusedConnect(gw, 'longpolling', { subscriptions: '[]', jwt: 'garbage' })).status, 400);
    const s = await connectSubscriber(gw, 'ws', { subscriptions: '[]', jwt: signJwt({ username: 'alice' }) });
    try {
      assert.equal((await putSubscriptions(gw.url, s.token, [], { kind: 'ws' })).status, 403);
      assert.equal((await putSubscriptions(gw.url, s.token, [], { kind: 'ws', headers: { authorization: `Bearer ${signJwt({ username: 'alice' })}` } })).status, 204);
    } finally {
      s.close();
    }
  });
});

describe('a decision service that is slow, busy or down', () => {
  const TIMEOUT_MS = 1500;
  let gw: RunningGateway;
  let service: Upstream;
  const held: ServerResponse[] = [];

  before(async () => {
    // Holds every request; the test answers or lets the gateway time out.
    service = await startUpstream(undefined, (_req, res) => held.push(res));
    gw = await startGateway(undefined, {
      ...SCENARIO_ENV,
      SHARDS: '1', // the in-flight bound is per shard: one shard makes it exact
      SUBSCRIPTION_CHECK: `http://127.0.0.1:${service.port}/subscriptions`,
      AUTHORIZATION_CHECK_TIMEOUT_MS: String(TIMEOUT_MS),
      AUTHORIZATION_CHECK_MAX_IN_FLIGHT: '2',
    });
  });
  after(async () => {
    await gw.stop();
    await service.close();
  });

  test('no answer within the timeout denies; other clients are served meanwhile', async () => {
    const started = Date.now();
    const slow = refusedConnect(gw, 'sse', { subscriptions: JSON.stringify(GREETING_SUBS) });
    await waitFor(() => held.length >= 1, 5000, 'the service got the call');
    // While the check waits, a connect that needs no check and an event submission go through.
    const other = await connectSubscriber(gw, 'sse');
    other.close();
    assert.equal((await http(`${gw.url}/_rig/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(greeting('x')) })).status, 202);
    assert.deepEqual(await slow, { status: 403, body: CONNECT_DENIED });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= TIMEOUT_MS - 100, `denied after ${elapsed} ms, before the timeout`);
    assert.ok(elapsed < TIMEOUT_MS + 5000, `denied only after ${elapsed} ms`);
    for (const res of held.splice(0)) res.destroy();
  });

  test('beyond AUTHORIZATION_CHECK_MAX_IN_FLIGHT the gateway answers 503 at once instead of calling', async () => {
    const first = refusedConnect(gw, 'sse', { subscriptions: JSON.stringify(GREETING_SUBS) });
    const second = refusedConnect(gw, 'longpolling', { subscriptions: JSON.stringify(GREETING_SUBS) });
    await waitFor(() => held.length >= 2, 5000, 'two calls held at the service');
    const calls = service.requests.length;

    const sse = await SseClient.connect(gw.url, { subscriptions: '[]' }, { expectStatus: 503 });
    assert.equal(sse.body, BUSY);
    assert.equal(sse.headers['retry-after'], '1');
    const lp = await new LongPollClient(gw.url).get({ subscriptions: '[]' });
    assert.equal(lp.status, 503);
    assert.equal(lp.headers.get('retry-after'), '1');
    assert.deepEqual(await refusedConnect(gw, 'ws', { subscriptions: '[]' }), { status: 1013, body: BUSY });
    const s = await connectSubscriber(gw, 'sse');
    try {
      const put = await putSubscriptions(gw.url, s.token, []);
      assert.equal(put.status, 503);
      assert.equal(put.headers.get('retry-after'), '1');
    } finally {
      s.close();
    }
    assert.equal(service.requests.length, calls, 'the service was not called beyond the bound');

    // Answering frees the places: the held ones are allowed, and the next call reaches the service.
    for (const res of held.splice(0)) res.writeHead(204).end();
    // Both held connects are allowed (the SSE stream stays open until the gateway stops).
    assert.deepEqual((await first).status, 200, 'the held SSE connect was allowed');
    assert.deepEqual(await second, { status: 200, body: '"ok"' }, 'the held long-poll create was allowed');
    const next = refusedConnect(gw, 'sse', { subscriptions: '[]' });
    await waitFor(() => held.length >= 1, 5000, 'the next call reached the service');
    held.shift()!.writeHead(403).end();
    assert.deepEqual(await next, { status: 403, body: CONNECT_DENIED });
  });
});

describe('a decision service that is down', () => {
  let gw: RunningGateway;
  before(async () => {
    const port = await freePort(); // nothing listens there
    gw = await startGateway(undefined, {
      ...SCENARIO_ENV,
      SUBSCRIPTION_CHECK: `http://127.0.0.1:${port}/check`,
      SUBMISSION_CHECK: `http://127.0.0.1:${port}/check`,
    });
  });
  after(() => gw.stop());

  test('connection refused denies: 403 everywhere, never a 5xx', async () => {
    for (const kind of KINDS) {
      assert.deepEqual(await refusedConnect(gw, kind, { subscriptions: '[]' }), { status: deniedStatus(kind), body: CONNECT_DENIED }, kind);
    }
    const s = await connectSubscriber(gw, 'longpolling');
    const put = await putSubscriptions(gw.url, s.token, [], { kind: 'longpolling' });
    assert.deepEqual([put.status, put.body], [403, 'Subscription denied.']);
    const sub = await http(`${gw.url}/_rig/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(greeting('x')) });
    assert.deepEqual([sub.status, sub.body], [403, 'Submission denied.']);
    assert.match(gw.output(), /SUBSCRIPTION_CHECK: the decision service could not be reached/);
  });
});
