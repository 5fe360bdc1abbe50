/**
 * Event submission (spec 2.7, 4.1, 4.2; RIG's event_submission_test and
 * longpolling_submission_test): structured and binary mode, CloudEvents 0.1/0.2/1.0, events
 * forwarded byte-for-byte, the 202 answer, the internal API's /v3/messages, and the error answers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LongPollClient, SseClient, WsClient } from '../helpers/clients.js';
import type { ReceivedEvent } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { http } from '../helpers/http.js';
import type { HttpAnswer } from '../helpers/http.js';
import { SCENARIO_ENV, TEST_CORS } from '../helpers/rig-scenarios.js';

type Client = SseClient | WsClient;
type Transport = 'sse' | 'ws';

const ALICE_ONLY = [{ eventType: 'greeting', oneOf: [{ name: 'alice' }] }];

let seq = 0;
const nextId = (prefix: string) => `${prefix}-${process.pid}-${++seq}`;

describe('event submission (RIG event_submission_test)', () => {
  let gw: RunningGateway;
  const open: Client[] = [];

  before(async () => {
    gw = await startGateway(undefined, SCENARIO_ENV);
  });
  after(async () => {
    for (const c of open.splice(0)) c.close();
    await gw?.stop();
  });

  async function subscribe(transport: Transport, subscriptions: unknown[]): Promise<Client> {
    const query = { subscriptions: JSON.stringify(subscriptions) };
    const c = transport === 'sse' ? await SseClient.connect(gw.url, query) : await WsClient.connect(gw.url, query);
    open.push(c);
    await c.next((e) => e.event === 'rig.subscriptions_set');
    return c;
  }

  function submit(body: string | Buffer, headers: Record<string, string>, url = `${gw.url}/_rig/v1/events`): Promise<HttpAnswer> {
    return http(url, { method: 'POST', headers, body });
  }

  /** Checks a successful submission answer: 202 with the event JSON (an object, not a string). */
  function assertAccepted(r: HttpAnswer, cors = true): Record<string, unknown> {
    assert.equal(r.status, 202, r.body);
    assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
    if (cors) assert.equal(r.headers.get('access-control-allow-origin'), TEST_CORS);
    const parsed: unknown = JSON.parse(r.body);
    assert.equal(typeof parsed, 'object');
    assert.ok(parsed !== null && !Array.isArray(parsed));
    return parsed as Record<string, unknown>;
  }

  const byId = (id: string) => (e: ReceivedEvent) => e.data.id === id || e.data.eventID === id;

  for (const transport of ['sse', 'ws'] as const) {
    it(`${transport}: extra top-level attributes survive for 0.1 and 0.2 events`, async () => {
      const c = await subscribe(transport, ALICE_ONLY);
      const v01 = {
        cloudEventsVersion: '0.1',
        eventType: 'greeting',
        eventID: nextId('v01'),
        source: 'test',
        'additional top-level property': true,
        data: { name: 'alice' },
      };
      const v02 = {
        specversion: '0.2',
        type: 'greeting',
        id: nextId('v02'),
        source: 'test',
        'additional top-level property': true,
        data: { name: 'alice' },
      };
      for (const ev of [v01, v02]) {
        const body = JSON.stringify(ev);
        const r = await submit(body, { 'content-type': 'application/json' });
        assertAccepted(r);
        assert.equal(r.body, body);
        const got = await c.next(byId((ev as { eventID?: string; id?: string }).eventID ?? (ev as { id: string }).id));
        assert.equal(got.data['additional top-level property'], true);
        assert.equal(got.raw, body);
        if (transport === 'sse') assert.equal(got.event, 'greeting');
      }
    });

    it(`${transport}: binary mode with application/json is delivered structured, data decoded, extensions kept`, async () => {
      const c = await subscribe(transport, ALICE_ONLY);
      const id = nextId('bin');
      const r = await submit('{"name":"alice"}', {
        'content-type': 'application/json',
        'ce-specversion': '0.2',
        'ce-type': 'greeting',
        'ce-source': 'test/binary',
        'ce-id': id,
        'ce-time': '2020-01-01T00:00:00Z',
        'ce-myext': '{"a":1}',
        'ce-num': '42',
        'ce-plainext': 'hello world',
      });
      const answered = assertAccepted(r);
      const expected = {
        specversion: '0.2',
        type: 'greeting',
        source: 'test/binary',
        id,
        time: '2020-01-01T00:00:00Z',
        myext: { a: 1 },
        num: 42,
        plainext: 'hello world',
        data: { name: 'alice' },
      };
      assert.deepEqual(answered, expected);
      const got = await c.next(byId(id));
      assert.deepEqual(got.data, expected);
      // Clients receive exactly the JSON the submitter got back.
      assert.equal(got.raw, r.body);
    });

    it(`${transport}: binary mode with text/plain keeps contenttype and the raw text as data`, async () => {
      const c = await subscribe(transport, [{ eventType: 'greeting' }]);
      const id = nextId('txt');
      const r = await submit(Buffer.from('»Alice«', 'utf8'), {
        'content-type': 'text/plain',
        'ce-specversion': '0.2',
        'ce-type': 'greeting',
        'ce-source': 'test',
        'ce-id': id,
      });
      const expected = { specversion: '0.2', type: 'greeting', source: 'test', id, contenttype: 'text/plain', data: '»Alice«' };
      assert.deepEqual(assertAccepted(r), expected);
      const got = await c.next(byId(id));
      assert.deepEqual(got.data, expected);
      assert.ok(got.raw.includes('"contenttype":"text/plain"'), got.raw);
      assert.ok(got.raw.includes('"data":"»Alice«"'), got.raw);
    });

    it(`${transport}: structured mode (application/cloudevents+json) is delivered with constraint matching`, async () => {
      const c = await subscribe(transport, ALICE_ONLY);
      const bob = JSON.stringify({ specversion: '0.2', type: 'greeting', source: 'test', id: nextId('bob'), data: { name: 'bob' } });
      const alice = JSON.stringify({ specversion: '0.2', type: 'greeting', source: 'test', id: nextId('alice'), data: { name: 'alice' } });
      // ce-* headers are ignored in structured mode.
      assertAccepted(await submit(bob, { 'content-type': 'application/cloudevents+json; charset=utf-8', 'ce-specversion': '0.1' }));
      assertAccepted(await submit(alice, { 'content-type': 'application/cloudevents+json' }));
      const got = await c.next((e) => e.data.type === 'greeting');
      assert.equal(got.raw, alice);
      await c.none((e) => e.data.type === 'greeting', 300);
    });

    it(`${transport}: application/json without ce-specversion falls back to structured mode`, async () => {
      const c = await subscribe(transport, ALICE_ONLY);
      const body = JSON.stringify({ specversion: '0.2', type: 'greeting', source: 'test', id: nextId('json'), data: { name: 'alice' } });
      const r = await submit(body, { 'content-type': 'application/json' });
      assertAccepted(r);
      assert.equal(r.body, body);
      assert.equal((await c.next((e) => e.data.type === 'greeting')).raw, body);
    });

    it(`${transport}: CloudEvents 1.0 in structured and binary mode (datacontenttype)`, async () => {
      const c = await subscribe(transport, [...ALICE_ONLY, { eventType: 'greeting.text' }]);
      const structured = JSON.stringify({
        specversion: '1.0',
        type: 'greeting',
        source: 'test',
        id: nextId('ce1'),
        datacontenttype: 'application/json',
        data: { name: 'alice' },
      });
      assertAccepted(await submit(structured, { 'content-type': 'application/cloudevents+json' }));
      assert.equal((await c.next((e) => e.data.type === 'greeting')).raw, structured);

      const binId = nextId('ce1bin');
      const binJson = await submit('{"name":"alice"}', {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-type': 'greeting',
        'ce-source': 'test',
        'ce-id': binId,
        'ce-subject': 'sub-1',
      });
      const expectedJson = { specversion: '1.0', type: 'greeting', source: 'test', id: binId, subject: 'sub-1', data: { name: 'alice' } };
      assert.deepEqual(assertAccepted(binJson), expectedJson);
      assert.deepEqual((await c.next(byId(binId))).data, expectedJson);

      const textId = nextId('ce1txt');
      const binText = await submit(Buffer.from('»Alice«', 'utf8'), {
        'content-type': 'text/plain; charset=utf-8',
        'ce-specversion': '1.0',
        'ce-type': 'greeting.text',
        'ce-source': 'test',
        'ce-id': textId,
      });
      const expectedText = {
        specversion: '1.0',
        type: 'greeting.text',
        source: 'test',
        id: textId,
        datacontenttype: 'text/plain; charset=utf-8',
        data: '»Alice«',
      };
      assert.deepEqual(assertAccepted(binText), expectedText);
      assert.deepEqual((await c.next(byId(textId))).data, expectedText);

      // A 1.0 event of a non-matching name is not delivered.
      const bob = JSON.stringify({ specversion: '1.0', type: 'greeting', source: 'test', id: nextId('ce1bob'), data: { name: 'bob' } });
      assertAccepted(await submit(bob, { 'content-type': 'application/cloudevents+json' }));
      await c.none((e) => e.data.type === 'greeting', 300);
    });

    it(`${transport}: events reach the client byte-for-byte as submitted`, async () => {
      const c = await subscribe(transport, ALICE_ONLY);
      // SSE cannot carry a CR inside data lines, so the stream variant uses LF only.
      const nl = transport === 'ws' ? '\r\n' : '\n';
      const id = nextId('bytes');
      const body =
        ` {  "specversion" :"0.2" ,${nl}\t"type":"greeting",   "source":"tëst/😀",${nl}  "id":"${id}" ,` +
        `"data" : { "name":"alice", "text":"»Alice« ü \\u00e9 \\" \u2028 end" ,"n": 1.0e0, "list":[ 1 ,2 ] } ,` +
        `"extra attr" : null ,"zz":{}}${nl}`;
      const r = await submit(Buffer.from(body, 'utf8'), { 'content-type': 'application/cloudevents+json' });
      assertAccepted(r);
      assert.equal(r.body, body);
      const got = await c.next(byId(id));
      assert.equal(got.raw, body);
    });

    it(`${transport}: a 1.0 binary event with a non-UTF-8 body arrives with data_base64`, async () => {
      const c = await subscribe(transport, [{ eventType: 'greeting.bytes' }]);
      const id = nextId('b64');
      const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41, 0xc3]);
      const r = await submit(bytes, {
        'content-type': 'application/octet-stream',
        'ce-specversion': '1.0',
        'ce-type': 'greeting.bytes',
        'ce-source': 'test',
        'ce-id': id,
      });
      const expected = {
        specversion: '1.0',
        type: 'greeting.bytes',
        source: 'test',
        id,
        datacontenttype: 'application/octet-stream',
        data_base64: bytes.toString('base64'),
      };
      assert.deepEqual(assertAccepted(r), expected);
      const got = await c.next(byId(id));
      assert.deepEqual(got.data, expected);
      assert.deepEqual(Buffer.from(got.data.data_base64, 'base64'), bytes);
    });

    it(`${transport}: POST /v3/messages on the internal API delivers and answers 202`, async () => {
      const c = await subscribe(transport, ALICE_ONLY);
      const body = JSON.stringify({ specversion: '0.2', type: 'greeting', source: 'api', id: nextId('v3'), data: { name: 'alice' } });
      const r = await submit(body, { 'content-type': 'application/cloudevents+json' }, `${gw.apiUrl}/v3/messages`);
      assertAccepted(r, false);
      assert.equal(r.body, body);
      assert.equal((await c.next((e) => e.data.type === 'greeting')).raw, body);
    });
  }

  it('longpolling: extra top-level attributes survive for 0.1 and 0.2 events, byte-for-byte', async () => {
    const lp = new LongPollClient(gw.url);
    assert.equal((await lp.get({ subscriptions: JSON.stringify(ALICE_ONLY) })).body, '"ok"');
    const handshake = JSON.parse((await lp.get()).body) as { events: Array<{ type: string }> };
    assert.deepEqual(
      handshake.events.map((e) => e.type),
      ['rig.connection.create', 'rig.subscriptions_set'],
    );
    const v01 = JSON.stringify({
      cloudEventsVersion: '0.1',
      eventType: 'greeting',
      eventID: nextId('lp01'),
      source: 'test',
      'additional top-level property': true,
      data: { name: 'alice' },
    });
    const v02 = `{"specversion":"0.2", "type":"greeting","id":"${nextId('lp02')}","source":"test",\n"additional top-level property":true,"data":{"name":"alice"}}`;
    assertAccepted(await submit(v01, { 'content-type': 'application/json' }));
    assertAccepted(await submit(v02, { 'content-type': 'application/json' }));
    // Each read's events array holds the submitted texts unchanged, comma-separated.
    const chunks: string[] = [];
    let received = 0;
    const deadline = Date.now() + 8000;
    while (received < 2 && Date.now() < deadline) {
      const r = await lp.get();
      assert.equal(r.status, 200);
      const parsed = JSON.parse(r.body) as { last_event_id: string; events: Array<Record<string, unknown>> };
      const prefix = `{"last_event_id":${JSON.stringify(parsed.last_event_id)},"events":[`;
      assert.ok(r.body.startsWith(prefix) && r.body.endsWith(']}'), r.body);
      for (const e of parsed.events) assert.equal(e['additional top-level property'], true);
      if (parsed.events.length > 0) chunks.push(r.body.slice(prefix.length, -2));
      received += parsed.events.length;
    }
    assert.equal(received, 2);
    // Two submissions through possibly different shards: either order is fine.
    assert.ok([`${v01},${v02}`, `${v02},${v01}`].includes(chunks.join(',')), chunks.join(','));
  });

  it('error answers: 400 for non-CloudEvents, 415 for batch and non-JSON formats, 400 for a bad binary specversion', async () => {
    const watcher = await subscribe('sse', [{ eventType: 'greeting' }]);
    const cases: Array<{ body: string; headers: Record<string, string>; status: number; text: string }> = [
      {
        body: '{"foo":"bar"}',
        headers: { 'content-type': 'application/cloudevents+json' },
        status: 400,
        text: 'The request body does not look like a CloudEvent: missing "specversion"',
      },
      {
        body: '{"foo":"bar"}',
        headers: { 'content-type': 'application/json' },
        status: 400,
        text: 'The request body does not look like a CloudEvent: missing "specversion"',
      },
      {
        body: '{"specversion":"0.2","type":"greeting","data":{}}',
        headers: { 'content-type': 'application/cloudevents+json' },
        status: 400,
        text: 'The request body does not look like a CloudEvent: missing or invalid "id"',
      },
      {
        body: 'this is { not json',
        headers: { 'content-type': 'application/json' },
        status: 400,
        text: 'The request body does not look like a CloudEvent: not valid JSON',
      },
      {
        body: '[{"specversion":"0.2","type":"greeting","id":"batch-1"}]',
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        status: 415,
        text: 'The batched CloudEvents HTTP transport binding mode is currently not supported.',
      },
      {
        body: '[]',
        headers: { 'content-type': 'application/cloudevents-batch' },
        status: 415,
        text: 'The batched CloudEvents HTTP transport binding mode is currently not supported.',
      },
      {
        body: '<event/>',
        headers: { 'content-type': 'application/cloudevents+xml' },
        status: 415,
        text: 'The given content-type {"application", "cloudevents+xml"} is currently not supported for structured mode.',
      },
      {
        body: 'hello',
        headers: { 'content-type': 'text/plain', 'ce-specversion': '0.1', 'ce-type': 'greeting', 'ce-id': 'x', 'ce-source': 's' },
        status: 400,
        text: 'Your request looks like it\'s using the CloudEvents binary content mode, but the ce-specversion header is ["0.1"] instead of ["0.2","0.3","1.0"].',
      },
      {
        body: '{"name":"alice"}',
        headers: { 'content-type': 'application/json', 'ce-specversion': '0.1', 'ce-type': 'greeting', 'ce-id': 'x' },
        status: 400,
        text: 'Your request looks like it\'s using the CloudEvents binary content mode, but the ce-specversion header is ["0.1"] instead of ["0.2","0.3","1.0"].',
      },
      {
        body: 'hello',
        headers: { 'content-type': 'text/plain' },
        status: 400,
        text: 'Your request looks like it\'s using the CloudEvents binary content mode, but the ce-specversion header is [] instead of ["0.2","0.3","1.0"].',
      },
    ];
    for (const c of cases) {
      const r = await submit(c.body, c.headers);
      const what = `${JSON.stringify(c.headers)} ${c.body}`;
      assert.equal(r.status, c.status, `${what} -> ${r.status} ${r.body}`);
      assert.equal(r.body, c.text, what);
      assert.equal(r.headers.get('access-control-allow-origin'), TEST_CORS, what);
    }
    await watcher.none((e) => e.data.type === 'greeting', 300);
  });

  it('OPTIONS /_rig/v1/events answers 204 with the POST preflight headers', async () => {
    const r = await http(`${gw.url}/_rig/v1/events`, { method: 'OPTIONS' });
    assert.equal(r.status, 204);
    assert.equal(r.body, '');
    assert.equal(r.headers.get('access-control-allow-origin'), TEST_CORS);
    assert.equal(r.headers.get('access-control-allow-methods'), 'POST');
    assert.equal(r.headers.get('access-control-allow-headers'), 'content-type');
  });
});
