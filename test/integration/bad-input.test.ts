/**
 * Malformed and hostile input: every request of the battery gets a clear 4xx (never a 5xx), and
 * the gateway keeps serving: a stream opened before the battery still receives events after it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SseClient, WsClient } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { greeting } from '../helpers/http.js';
import { TEST_JWT_SECRET } from '../helpers/jwt.js';
import { freshRequest, rawExchange } from '../helpers/raw-http.js';

const BODY_LIMIT = 2048;
const TWO_WAY = 'This WebSocket endpoint cannot be used for two-way communication.';

describe('bad input', () => {
  let gw: RunningGateway;
  let watcher: SseClient;
  let token: string;
  /** Every answer of the battery, to check afterwards that none was a server error. */
  const answers: Array<{ what: string; status: number; body: string }> = [];

  before(async () => {
    gw = await startGateway(undefined, {
      JWT_SECRET_KEY: TEST_JWT_SECRET,
      MAX_REQUEST_BODY_BYTES: String(BODY_LIMIT),
      LONGPOLL_TIMEOUT_MS: '300',
    });
    watcher = await SseClient.connect(gw.url, { subscriptions: JSON.stringify([{ eventType: 'greeting' }]) });
    token = await watcher.token();
    const set = await watcher.next((e) => e.event === 'rig.subscriptions_set', 5000);
    assert.deepEqual(set.data.data, [{ eventType: 'greeting', oneOf: [] }]);
  });
  after(async () => {
    watcher?.close();
    await gw.stop();
  });

  async function req(
    what: string,
    path: string,
    opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; api?: boolean } = {},
  ): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
    const r = await freshRequest(`${opts.api ? gw.apiUrl : gw.url}${path}`, opts);
    answers.push({ what, status: r.status, body: r.body });
    return r;
  }

  async function raw(what: string, bytes: string | Buffer, timeoutMs = 5000): Promise<{ status: number; body: string }> {
    const r = await rawExchange(gw.publicPort, bytes, timeoutMs);
    answers.push({ what, status: r.status, body: r.body });
    return r;
  }

  const putPath = (t: string, kind = 'sse') => `/_rig/v1/connection/${kind}/${t}/subscriptions`;
  const JSON_CT = { 'content-type': 'application/json' };
  const CE_CT = { 'content-type': 'application/cloudevents+json' };

  test('malformed JSON: event submission 400, subscriptions PUT 400', async () => {
    for (const [ct, body] of [
      [CE_CT, '{"specversion":"0.2","type":"greeting",'],
      [CE_CT, 'not json at all'],
      [JSON_CT, '{"specversion":"0.2","type":"greeting","source":"x","id":"1"'],
      [CE_CT, ''],
    ] as const) {
      const r = await req('events malformed', '/_rig/v1/events', { method: 'POST', headers: ct, body });
      assert.equal(r.status, 400, `${body}: ${r.body}`);
      assert.ok(r.body.startsWith('The request body does not look like a CloudEvent'), r.body);
    }
    for (const body of ['{"subscriptions": [', '{subscriptions: []}', '', "{'subscriptions': []}"]) {
      const r = await req('put malformed', putPath(token), { method: 'PUT', headers: JSON_CT, body });
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
      assert.ok(r.body.startsWith('Expected JSON encoded body.\n\nTechnical info:\n'), r.body);
      assert.equal(r.headers['access-control-allow-origin'], '*');
    }
  });

  test('subscriptions PUT with a wrong content type, a non-list or a missing "subscriptions" answers 400', async () => {
    const noCt = await req('put no content-type', putPath(token), { method: 'PUT', body: '{"subscriptions":[]}' });
    assert.equal(noCt.status, 400, noCt.body);
    assert.ok(noCt.body.startsWith('Expected JSON encoded body.'), noCt.body);
    const textCt = await req('put text/plain', putPath(token), { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: '{"subscriptions":[]}' });
    assert.equal(textCt.status, 400);
    assert.ok(textCt.body.startsWith('Expected JSON encoded body.'), textCt.body);

    for (const body of ['{"subscriptions": 5}', '{"subscriptions": "greeting"}', '{"subscriptions": {"eventType": "greeting"}}', '{"subscriptions": [5]}', '{"subscriptions": [{"oneOf": []}]}']) {
      const r = await req('put bad subscriptions', putPath(token), { method: 'PUT', headers: JSON_CT, body });
      assert.equal(r.status, 400, `${body}: ${r.body}`);
      assert.ok(r.body.startsWith('cannot accept subscription request: could not parse given subscriptions:'), r.body);
    }
    for (const body of ['{}', '{"subs": []}', '[]', '"subscriptions"', 'null', '5']) {
      const r = await req('put without subscriptions', putPath(token), { method: 'PUT', headers: JSON_CT, body });
      assert.equal(r.status, 400, `${body}: ${r.body}`);
      assert.ok(r.body.startsWith('Expected field "subscriptions" is not present.'), r.body);
    }
    // None of these changed the watcher's subscriptions.
    await watcher.none((e) => e.event === 'rig.subscriptions_set', 100);
  });

  test('garbage connection tokens in the PUT path answer 400 "Invalid connection token."', async () => {
    const body = '{"subscriptions":[]}';
    const tokens = [
      randomBytes(48).toString('base64url'),
      encodeURIComponent(randomBytes(40).toString('latin1')),
      'A'.repeat(10_000),
      '..',
      '%2e%2e',
      '..%2F..%2F_rig%2Fhealth',
      '%zz%%41',
      'a%20b%00c',
      `${token.slice(0, 20)}%00${token.slice(20)}`,
      '=',
      '____',
    ];
    for (const t of tokens) {
      for (const kind of ['sse', 'ws', 'longpolling']) {
        const r = await raw(
          `put token ${t.slice(0, 30)}`,
          `PUT ${putPath(t, kind)} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
        );
        assert.equal(r.status, 400, `${kind} ${t.slice(0, 40)}: ${r.body}`);
        assert.equal(r.body, 'Invalid connection token.');
      }
    }
    // Raw non-ASCII bytes in the path.
    const bytes = Buffer.concat([
      Buffer.from('PUT /_rig/v1/connection/sse/'),
      randomBytes(32).map((b) => b | 0x80),
      Buffer.from(`/subscriptions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`),
    ]);
    const r = await raw('put token high bytes', bytes);
    assert.equal(r.status, 400, r.body);
    assert.equal(r.body, 'Invalid connection token.');
  });

  test('a subscriptions PUT whose Accept header excludes JSON answers 406', async () => {
    for (const accept of ['text/html', 'text/html, application/xml;q=0.9', 'image/png']) {
      const r = await req('put accept', putPath(token), { method: 'PUT', headers: { ...JSON_CT, accept }, body: '{"subscriptions":[]}' });
      assert.equal(r.status, 406, `${accept}: ${r.body}`);
      assert.match(r.body, /application\/json/);
    }
  });

  test('undecodable long-polling cookies answer 400 and clear both cookies; the next request starts a session', async () => {
    const lp = '/_rig/v1/connection/longpolling';
    for (const cookie of [
      'connection_token=garbage!!',
      `connection_token=${randomBytes(60).toString('base64url')}`,
      `connection_token=${'A'.repeat(5000)}`,
      'connection_token=%E0%A4%A',
    ]) {
      const r = await req('lp bad token cookie', lp, { headers: { cookie } });
      assert.equal(r.status, 400, `${cookie.slice(0, 40)}: ${r.body}`);
      assert.match(r.body, /connection_token/);
      const cleared = ((r.headers['set-cookie'] as string[] | undefined) ?? []).filter((c) => /max-age=0/i.test(c)).map((c) => c.split('=')[0]);
      assert.deepEqual(cleared.sort(), ['connection_token', 'last_event_id']);
    }
    // A browser drops the cleared cookies: the next GET (no cookies) creates a session.
    const created = await req('lp create', lp);
    assert.equal(created.status, 200);
    assert.equal(created.body, '"ok"');
    const setCookies = (created.headers['set-cookie'] as string[] | undefined) ?? [];
    const tokenCookie = setCookies.find((c) => c.startsWith('connection_token='))!.split(';')[0]!;

    for (const cursor of ['{{{', 'first_event', '%22unterminated', '5', '%E0%A4%A']) {
      const r = await req('lp bad cursor cookie', lp, { headers: { cookie: `${tokenCookie}; last_event_id=${cursor}` } });
      assert.equal(r.status, 400, `${cursor}: ${r.body}`);
      assert.match(r.body, /last_event_id/);
      const cleared = ((r.headers['set-cookie'] as string[] | undefined) ?? []).filter((c) => /max-age=0/i.test(c)).map((c) => c.split('=')[0]);
      assert.deepEqual(cleared.sort(), ['connection_token', 'last_event_id']);
    }
    // The session itself is fine: a poll with a valid cursor works.
    const poll = await req('lp poll', lp, { headers: { cookie: `${tokenCookie}; last_event_id="first_event"` } });
    assert.equal(poll.status, 200);
    assert.deepEqual(
      (JSON.parse(poll.body) as { events: Array<{ type: string }> }).events.map((e) => e.type),
      ['rig.connection.create', 'rig.subscriptions_set'],
    );
  });

  test(`bodies over MAX_REQUEST_BODY_BYTES (${BODY_LIMIT}) answer 413`, async () => {
    const big = JSON.stringify(greeting('x'.repeat(BODY_LIMIT)));
    const events = await req('events too large', '/_rig/v1/events', { method: 'POST', headers: CE_CT, body: big });
    assert.equal(events.status, 413, events.body);
    const put = await req('put too large', putPath(token), {
      method: 'PUT',
      headers: JSON_CT,
      body: JSON.stringify({ subscriptions: [{ eventType: 'greeting', oneOf: [{ name: 'y'.repeat(BODY_LIMIT) }] }] }),
    });
    assert.equal(put.status, 413, put.body);
    const api = await req('api messages too large', '/v3/messages', { method: 'POST', headers: CE_CT, body: big, api: true });
    assert.equal(api.status, 413, api.body);
    // Chunked (no content-length) is limited the same way.
    const chunk = Buffer.alloc(1500, 'a');
    const chunked = await raw(
      'events too large chunked',
      Buffer.concat([
        Buffer.from('POST /_rig/v1/events HTTP/1.1\r\nhost: x\r\ncontent-type: application/cloudevents+json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n'),
        Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'),
        Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'),
        Buffer.from('0\r\n\r\n'),
      ]),
    );
    assert.equal(chunked.status, 413, chunked.body);
    // Just under the limit is fine.
    const fits = await req('events at limit', '/_rig/v1/events', { method: 'POST', headers: CE_CT, body: JSON.stringify(greeting('z'.repeat(BODY_LIMIT - 200))) });
    assert.equal(fits.status, 202, fits.body);
    await watcher.next((e) => e.event === 'greeting', 5000);
  });

  test('a header value of 20 KB answers 431', async () => {
    const big = { 'x-filler': 'h'.repeat(20 * 1024) };
    const cases: Array<[string, string, { method?: string; headers?: Record<string, string>; body?: string }]> = [
      ['events', '/_rig/v1/events', { method: 'POST', headers: { ...CE_CT, ...big }, body: JSON.stringify(greeting('a')) }],
      ['put', putPath(token), { method: 'PUT', headers: { ...JSON_CT, ...big }, body: '{"subscriptions":[]}' }],
      ['sse', '/_rig/v1/connection/sse', { headers: big }],
      ['longpolling', '/_rig/v1/connection/longpolling', { headers: big }],
      ['health', '/_rig/health', { headers: big }],
      ['unknown path', '/no/such/path', { headers: big }],
    ];
    for (const [what, path, opts] of cases) {
      const r = await req(`${what} header too large`, path, opts);
      assert.equal(r.status, 431, `${what}: ${r.status} ${r.body}`);
    }
    await watcher.none((e) => e.event === 'rig.subscriptions_set', 50);
  });

  test('event submission without a content type answers 415', async () => {
    const r = await req('events no content-type', '/_rig/v1/events', { method: 'POST', body: JSON.stringify(greeting('a')) });
    assert.equal(r.status, 415, r.body);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    const batch = await req('events batch', '/_rig/v1/events', { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: '[]' });
    assert.equal(batch.status, 415, batch.body);
  });

  test('request bodies that are not valid UTF-8 answer 400', async () => {
    const invalid = Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xa0, 0xa1]);
    const structured = Buffer.concat([Buffer.from('{"specversion":"0.2","type":"greeting","source":"x","id":"u1","data":{"name":"'), invalid, Buffer.from('"}}')]);
    const ev = await req('events invalid utf-8', '/_rig/v1/events', { method: 'POST', headers: CE_CT, body: structured });
    assert.equal(ev.status, 400, ev.body);
    const binary = await req('events binary invalid utf-8', '/_rig/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'ce-specversion': '0.2', 'ce-type': 'greeting', 'ce-source': 'x', 'ce-id': 'u2' },
      body: invalid,
    });
    assert.equal(binary.status, 400, binary.body);
    const put = await req('put invalid utf-8', putPath(token), {
      method: 'PUT',
      headers: JSON_CT,
      body: Buffer.concat([Buffer.from('{"subscriptions":[{"eventType":"'), invalid, Buffer.from('"}]}')]),
    });
    assert.equal(put.status, 400, put.body);
    assert.ok(put.body.startsWith('Expected JSON encoded body.'), put.body);
    await watcher.none((e) => e.event === 'rig.subscriptions_set' || e.event === 'greeting', 100);
  });

  test('WebSocket clients may not talk: text and binary frames close with 1000, an oversized frame closes the socket', async () => {
    for (const frame of ['hello', Buffer.from([1, 2, 3, 4])]) {
      const ws = await WsClient.connect(gw.url);
      await ws.next((e) => e.event === 'rig.subscriptions_set', 5000);
      ws.ws.send(frame);
      await ws.closed(5000);
      assert.equal(ws.closeCode, 1000);
      assert.equal(ws.closeReason, TWO_WAY);
    }
    const ws = await WsClient.connect(gw.url);
    await ws.next((e) => e.event === 'rig.subscriptions_set', 5000);
    ws.ws.send(Buffer.alloc(17 * 1024, 7));
    await ws.closed(5000);
    assert.notEqual(ws.closeCode, undefined);
  });

  test('unknown paths answer 404 with RIG\'s bodies on both ports', async () => {
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/no/such/path'],
      ['GET', '/_rig/v1/unknown'],
      ['POST', '/_rig/v2/events'],
      ['PUT', '/_rig/v1/connection/foo/abc/subscriptions'],
      ['DELETE', '/_rig/v1/events/x'],
    ] as const) {
      const r = await req(`${method} ${path}`, path, { method });
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(r.body, '{"message":"Not Found"}');
    }
    for (const path of ['/', '/v3/nothing', '/_rig/health', '/v3/messages']) {
      const r = await req(`api GET ${path}`, path, { api: true });
      assert.equal(r.status, 404, `api ${path}`);
      assert.equal(r.body, '{"errors":{"detail":"Not found"}}');
    }
  });

  test('protocol-level garbage is refused without a server error', async () => {
    for (const bytes of [
      'hello there\r\n\r\n',
      'GET /_rig/health HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\nconnection: close\r\n\r\n',
      `PUT /_rig/v1/connection/sse/\x01\x02/subscriptions HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`,
      'POST /_rig/v1/events HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\nconnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
    ]) {
      const r = await raw('garbage', bytes, 1500);
      // uWS closes such connections (or leaves them to its idle timeout); an answer, if any, is a client error.
      assert.ok(r.status === 0 || (r.status >= 400 && r.status < 500), `${JSON.stringify(bytes.slice(0, 40))}: ${r.status}`);
    }
  });

  test('after the battery the gateway still serves: no 5xx, the early stream still receives events, health is OK', async () => {
    const serverErrors = answers.filter((a) => a.status >= 500);
    assert.deepEqual(serverErrors, []);
    assert.ok(answers.length > 60, `battery ran (${answers.length} requests)`);

    assert.equal(watcher.ended, false);
    const r = await req('events after battery', '/_rig/v1/events', { method: 'POST', headers: CE_CT, body: JSON.stringify(greeting('after-battery')) });
    assert.equal(r.status, 202);
    const e = await watcher.next((x) => x.event === 'greeting', 5000);
    assert.equal(e.data.data.name, 'after-battery');

    for (let i = 0; i < 4; i++) {
      const health = await req('health', '/_rig/health');
      assert.equal(health.status, 200);
      assert.equal(health.body, 'OK');
    }
    const apiHealth = await req('api health', '/health', { api: true });
    assert.equal(apiHealth.status, 200);
    assert.equal(gw.proc.exitCode, null);
  });
});
