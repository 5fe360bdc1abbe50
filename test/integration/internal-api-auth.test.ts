/**
 * API_AUTH_TOKEN on the real gateway: every internal API route but GET /health and GET /ready
 * answers 401 with `www-authenticate: Bearer` without `authorization: Bearer <token>` or with
 * another token, and works as before with it. Without the variable the internal API stays open
 * (the other integration tests use it that way).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SseClient } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { greeting, http } from '../helpers/http.js';
import type { HttpAnswer } from '../helpers/http.js';
import { createTokenCodec } from '../../src/shared/token/connection-token.js';

const TOKEN = 'internal-api-token-4f1c9a7e';
const NODE_ID = 'auth-test-node';

const API = {
  id: 'books', name: 'books',
  version_data: { default: { endpoints: [{ id: 'list', method: 'GET', path_regex: '/books' }] } },
  proxy: { target_url: 'localhost', port: 7070 },
};

/** The protected requests: the route modules' and internal-api.ts's own, a v2 alias and an unknown path. */
function requests(apiUrl: string): Array<[string, string, RequestInit]> {
  const event = greeting('through-the-internal-api');
  // A correlation token of this node for a request that no longer waits: a valid reply gets 202.
  const correlation = createTokenCodec('test-cookie').encode({ kind: 'correlation', nodeId: NODE_ID, shard: 0, incarnation: 1, id: 1 });
  return [
    ['GET /v3/apis', `${apiUrl}/v3/apis`, {}],
    ['POST /v3/apis', `${apiUrl}/v3/apis`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(API) }],
    ['GET /v2/apis/books', `${apiUrl}/v2/apis/books`, {}],
    ['POST /v3/messages', `${apiUrl}/v3/messages`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event) }],
    ['POST /v3/responses', `${apiUrl}/v3/responses`, {
      method: 'POST', headers: { 'rig-correlation': correlation, 'rig-response-code': '200', 'content-type': 'text/plain' }, body: 'done',
    }],
    ['POST /v3/session-blacklist', `${apiUrl}/v3/session-blacklist`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: 'protected', validityInSeconds: 60 }),
    }],
    ['GET /v3/session-blacklist/protected', `${apiUrl}/v3/session-blacklist/protected`, {}],
    ['GET /v3/stats', `${apiUrl}/v3/stats`, {}],
    ['GET /metrics', `${apiUrl}/metrics`, {}],
    ['GET /nope', `${apiUrl}/nope`, {}],
  ];
}

function withAuthorization(init: RequestInit, value: string): RequestInit {
  return { ...init, headers: { ...(init.headers as Record<string, string> | undefined), authorization: value } };
}

function assertUnauthorized(r: HttpAnswer, what: string, invalidToken: boolean): void {
  assert.equal(r.status, 401, `${what}: ${r.body}`);
  const challenge = r.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /^Bearer realm="internal API"/, what);
  assert.equal(challenge.includes('error="invalid_token"'), invalidToken, `${what}: ${challenge}`);
  assert.match(JSON.parse(r.body).errors.detail, /^Unauthorized: /, what);
}

describe('internal API token (API_AUTH_TOKEN)', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway(undefined, { API_AUTH_TOKEN: TOKEN, NODE_ID });
  });
  after(() => gw?.stop());

  test('without authorization: 401 with www-authenticate: Bearer on every protected route', async () => {
    for (const [what, url, init] of requests(gw.apiUrl)) assertUnauthorized(await http(url, init), what, false);
    // Nothing was done: the definition was not created.
    assert.equal((await http(`${gw.apiUrl}/v3/apis`, withAuthorization({}, `Bearer ${TOKEN}`))).body, '[]');
  });

  test('a wrong token, a token of another length, another scheme: 401', async () => {
    const wrong = ['Bearer internal-api-token-4f1c9a7f', 'Bearer x', `Bearer ${TOKEN}x`, `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`, `Bearer ${TOKEN} extra`];
    for (const value of wrong) {
      for (const [what, url, init] of requests(gw.apiUrl)) {
        assertUnauthorized(await http(url, withAuthorization(init, value)), `${what} with ${value}`, value.startsWith('Bearer'));
      }
    }
  });

  test('with the token every route answers as without API_AUTH_TOKEN', async () => {
    const sse = await SseClient.connect(gw.url, { subscriptions: JSON.stringify([{ eventType: 'greeting' }]) });
    try {
      await sse.next((e) => e.event === 'rig.subscriptions_set');
      const expected: Record<string, number> = {
        'GET /v3/apis': 200, 'POST /v3/apis': 201, 'GET /v2/apis/books': 200, 'POST /v3/messages': 202,
        'POST /v3/responses': 202, 'POST /v3/session-blacklist': 201, 'GET /v3/session-blacklist/protected': 200, 'GET /v3/stats': 200, 'GET /metrics': 200, 'GET /nope': 404,
      };
      for (const [what, url, init] of requests(gw.apiUrl)) {
        // The scheme is case-insensitive (RFC 9110).
        const r = await http(url, withAuthorization(init, what.startsWith('GET') ? `Bearer ${TOKEN}` : `bearer ${TOKEN}`));
        assert.equal(r.status, expected[what], `${what}: ${r.body}`);
      }
      const delivered = await sse.next((e) => e.event === 'greeting');
      assert.equal(delivered.data.data.name, 'through-the-internal-api', 'the submission reached the router');
    } finally {
      sse.close();
    }
  });

  test('GET /health and GET /ready stay open for probes', async () => {
    const health = await http(`${gw.apiUrl}/health`);
    assert.deepEqual([health.status, health.body], [200, 'OK']);
    const ready = await http(`${gw.apiUrl}/ready`);
    assert.equal(ready.status, 200, ready.body);
    // Another method on those paths is no probe: it needs the token like every other request.
    assertUnauthorized(await http(`${gw.apiUrl}/health`, { method: 'POST' }), 'POST /health', false);
  });
});
