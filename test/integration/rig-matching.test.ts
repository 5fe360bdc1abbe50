/**
 * Subscription matching end to end (spec 5.4): events are posted to /_rig/v1/events and each
 * client's exact receipts are compared with what RIG's filter would deliver. A client is checked
 * by waiting for every event it must get, then allowing a short grace period for ones it must not.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SseClient, WsClient } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { http } from '../helpers/http.js';
import { sleep, waitFor } from '../helpers/wait.js';

const field = (index: number, pointer: string) => ({ stable_field_index: index, event: { json_pointer: pointer } });

const EXTRACTORS = JSON.stringify({
  greeting: { name: field(1, '/data/name'), age: field(2, '/data/age') },
  // A pointer reaching into an array (RIG's filter crashed on it, spec 13 item 26).
  order: { item: field(1, '/data/items/0'), name: field(2, '/data/name') },
});

type Client = SseClient | WsClient;

const GRACE_MS = 400;

describe('subscription matching through the gateway (spec 5.4)', () => {
  let gw: RunningGateway;
  const open: Client[] = [];
  let seq = 0;

  before(async () => {
    gw = await startGateway(undefined, { EXTRACTORS, JWT_SECRET_KEY: 'mysecret' });
  });
  after(async () => {
    for (const c of open.splice(0)) c.close();
    await gw?.stop();
  });

  /** Connects with `subscriptions` and waits until they are in effect. */
  async function subscribe(transport: 'sse' | 'ws', subscriptions: unknown[] | string): Promise<Client> {
    const query = { subscriptions: typeof subscriptions === 'string' ? subscriptions : JSON.stringify(subscriptions) };
    const c = transport === 'sse' ? await SseClient.connect(gw.url, query) : await WsClient.connect(gw.url, query);
    open.push(c);
    await c.next((e) => e.event === 'rig.subscriptions_set');
    return c;
  }

  /** Posts a structured event given as JSON text (so numbers such as 1.0 keep their spelling); returns its id. */
  async function post(type: string, dataJson: string, extra = ''): Promise<string> {
    const id = `m-${++seq}`;
    const body = `{"specversion":"0.2","type":${JSON.stringify(type)},"source":"matching-test","id":"${id}"${extra},"data":${dataJson}}`;
    const r = await http(`${gw.url}/_rig/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body });
    assert.equal(r.status, 202, r.body);
    return id;
  }

  function received(c: Client, type: string): string[] {
    return c.events.filter((e) => e.data.type === type).map((e) => e.data.id as string);
  }

  /** Waits until every client got its expected ids, then checks nothing else of `type` arrived. */
  async function expectReceipts(type: string, expectations: Array<[Client, string[]]>): Promise<void> {
    for (const [c, ids] of expectations) {
      await waitFor(() => ids.every((id) => received(c, type).includes(id)), 5000, `events ${ids.join(', ')}; got ${received(c, type).join(', ')}`);
    }
    await sleep(GRACE_MS);
    for (const [c, ids] of expectations) assert.deepEqual(received(c, type).sort(), [...ids].sort());
  }

  it('truth table: A = oneOf [{name:joe}] (SSE), B = oneOf [{name:joe, age:30}] (WS)', async () => {
    const a = await subscribe('sse', [{ eventType: 'greeting', oneOf: [{ name: 'joe' }] }]);
    const b = await subscribe('ws', [{ eventType: 'greeting', oneOf: [{ name: 'joe', age: 30 }] }]);
    const joe20 = await post('greeting', '{"name":"joe","age":20}');
    const joe30 = await post('greeting', '{"name":"joe","age":30}');
    const joeNoAge = await post('greeting', '{"name":"joe"}');
    await post('greeting', '{"name":"bob","age":30}');
    await expectReceipts('greeting', [
      [a, [joe20, joe30, joeNoAge]],
      [b, [joe30]],
    ]);
  });

  it('the event type must match exactly: case-sensitive, no prefixes or wildcards', async () => {
    const c = await subscribe('ws', [{ eventType: 'greeting' }]);
    const exact = await post('greeting', '{}');
    await post('Greeting', '{}');
    await post('greeting.sub', '{}');
    await post('greetin', '{}');
    await post('greeting ', '{}');
    await sleep(GRACE_MS);
    assert.deepEqual(
      c.events.filter((e) => !String(e.data.type).startsWith('rig.')).map((e) => `${e.data.type}/${e.data.id}`),
      [`greeting/${exact}`],
    );
  });

  it('OR across the oneOf objects, AND across the fields of one object', async () => {
    const c = await subscribe('sse', [{ eventType: 'greeting', oneOf: [{ name: 'ann', age: 1 }, { name: 'bob' }] }]);
    const ann1 = await post('greeting', '{"name":"ann","age":1}');
    await post('greeting', '{"name":"ann","age":2}');
    await post('greeting', '{"name":"ann"}');
    const bob = await post('greeting', '{"name":"bob","age":99}');
    const bobNoAge = await post('greeting', '{"name":"bob"}');
    await post('greeting', '{"name":"carl","age":1}');
    await expectReceipts('greeting', [[c, [ann1, bob, bobNoAge]]]);
  });

  it('a null constraint value is a wildcard; a missing, null or object event value matches only wildcards', async () => {
    const nullName = await subscribe('ws', [{ eventType: 'greeting', oneOf: [{ name: null, age: 30 }] }]);
    const allNull = await subscribe('sse', [{ eventType: 'greeting', oneOf: [{ name: null }] }]);
    const joe = await subscribe('sse', [{ eventType: 'greeting', oneOf: [{ name: 'joe' }] }]);
    const joe30 = await post('greeting', '{"name":"joe","age":30}');
    const bob30 = await post('greeting', '{"name":"bob","age":30}');
    const anon30 = await post('greeting', '{"age":30}');
    const nulled30 = await post('greeting', '{"name":null,"age":30}');
    const joe20 = await post('greeting', '{"name":"joe","age":20}');
    const objectName = await post('greeting', '{"name":{"first":"joe"},"age":30}');
    const arrayName = await post('greeting', '{"name":["joe"]}');
    const noData = await post('greeting', 'null');
    await expectReceipts('greeting', [
      [nullName, [joe30, bob30, anon30, nulled30, objectName]],
      [allNull, [joe30, bob30, anon30, nulled30, joe20, objectName, arrayName, noData]],
      [joe, [joe30, joe20]],
    ]);
  });

  it('constraint keys that are not configured fields are ignored', async () => {
    const c = await subscribe('sse', [{ eventType: 'greeting', oneOf: [{ name: 'joe', color: 'red' }] }]);
    // A type without any extractor configuration: constraints cannot restrict it at all.
    const u = await subscribe('ws', [{ eventType: 'unconfigured', oneOf: [{ name: 'alice' }] }]);
    const joePlain = await post('greeting', '{"name":"joe"}');
    const joeBlue = await post('greeting', '{"name":"joe","color":"blue"}');
    await post('greeting', '{"name":"bob","color":"red"}');
    const uBob = await post('unconfigured', '{"name":"bob"}');
    const uAlice = await post('unconfigured', '{"name":"alice"}');
    const uNothing = await post('unconfigured', '{}');
    await expectReceipts('greeting', [[c, [joePlain, joeBlue]]]);
    await expectReceipts('unconfigured', [[u, [uBob, uAlice, uNothing]]]);
  });

  it('an event is delivered at most once to a client with several matching subscriptions', async () => {
    const subs = [
      { eventType: 'greeting', oneOf: [{ name: 'joe' }, { age: 30 }, { name: 'joe', age: 30 }] },
      { eventType: 'greeting', oneOf: [{ name: 'joe' }] },
      { eventType: 'greeting' },
      { eventType: 'greeting', oneOf: [{ age: 30 }] },
    ];
    const sse = await subscribe('sse', subs);
    const ws = await subscribe('ws', subs);
    const joe30 = await post('greeting', '{"name":"joe","age":30}');
    const bob = await post('greeting', '{"name":"bob"}');
    await expectReceipts('greeting', [
      [sse, [joe30, bob]],
      [ws, [joe30, bob]],
    ]);
  });

  it('values compare like RIG: 1 equals 1.0, "1" differs from 1, booleans are exact', async () => {
    const one = await subscribe('sse', [{ eventType: 'greeting', oneOf: [{ age: 1 }] }]);
    // Written as 1.0 in the subscription's JSON text.
    const oneDotZero = await subscribe('ws', '[{"eventType":"greeting","oneOf":[{"age":1.0}]}]');
    const str = await subscribe('sse', [{ eventType: 'greeting', oneOf: [{ age: '1' }] }]);
    const bool = await subscribe('ws', [{ eventType: 'greeting', oneOf: [{ age: true }] }]);
    const int1 = await post('greeting', '{"age":1}');
    const float1 = await post('greeting', '{"age":1.0}');
    const exp1 = await post('greeting', '{"age":1e0}');
    const str1 = await post('greeting', '{"age":"1"}');
    const boolTrue = await post('greeting', '{"age":true}');
    await post('greeting', '{"age":"true"}');
    await post('greeting', '{"age":2}');
    await expectReceipts('greeting', [
      [one, [int1, float1, exp1]],
      [oneDotZero, [int1, float1, exp1]],
      [str, [str1]],
      [bool, [boolTrue]],
    ]);
  });

  it('a pointer into an array counts as not found and does not break the other subscriptions', async () => {
    const byItem = await subscribe('sse', [{ eventType: 'order', oneOf: [{ item: 'apple' }] }]);
    const byName = await subscribe('ws', [{ eventType: 'order', oneOf: [{ name: 'joe' }] }]);
    const all = await subscribe('sse', [{ eventType: 'order' }]);
    const arrayJoe = await post('order', '{"items":["apple","pear"],"name":"joe"}');
    const arrayBob = await post('order', '{"items":["apple"],"name":"bob"}');
    // An object with the key "0" is no array: the pointer resolves there.
    const objectJoe = await post('order', '{"items":{"0":"apple"},"name":"joe"}');
    await expectReceipts('order', [
      [byItem, [objectJoe]],
      [byName, [arrayJoe, objectJoe]],
      [all, [arrayJoe, arrayBob, objectJoe]],
    ]);
    // The filter still works for later events.
    const later = await post('order', '{"items":["apple"],"name":"joe"}');
    await expectReceipts('order', [
      [byItem, [objectJoe]],
      [byName, [arrayJoe, objectJoe, later]],
      [all, [arrayJoe, arrayBob, objectJoe, later]],
    ]);
  });

  it('an event with a top-level contenttype beside object data still matches on /data/name (RIG #391)', async () => {
    const c = await subscribe('sse', [{ eventType: 'greeting', oneOf: [{ name: 'joe' }] }]);
    const withContentType = await post('greeting', '{"name":"joe"}', ',"contenttype":"application/json"');
    const otherContentType = await post('greeting', '{"name":"joe"}', ',"contenttype":"application/vnd.example+json"');
    await post('greeting', '{"name":"bob"}', ',"contenttype":"application/json"');
    await expectReceipts('greeting', [[c, [withContentType, otherContentType]]]);
  });
});
