/**
 * Server-Sent Events: RIG's connection/subscription scenarios (spec 12.1) and the SSE wire format
 * (spec 2.3, 4.6): headers, `event:` names, frame layout.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SseClient } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { greeting, http, postEvent, putSubscriptions } from '../helpers/http.js';
import { SCENARIO_ENV, TEST_CORS, assertConnectionCreate, assertRigEvent, subscriptionScenarios } from '../helpers/rig-scenarios.js';

/** Reads the raw stream until `blocks` SSE blocks (terminated by a blank line) have arrived. */
function readRawSse(url: string, blocks: number): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/_rig/v1/connection/sse', url), (res) => {
      let text = '';
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`stream incomplete: ${JSON.stringify(text)}`));
      }, 5000);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.split('\n\n').length - 1 >= blocks) {
          clearTimeout(timer);
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('SSE connections and subscriptions (RIG event_subscription_test)', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway(undefined, SCENARIO_ENV);
  });
  after(() => gw?.stop());

  subscriptionScenarios('sse', () => gw);

  it('sse: answers 200 with the event-stream headers and CORS', async () => {
    const c = await SseClient.connect(gw.url);
    try {
      assert.equal(c.status, 200);
      assert.equal(c.headers['content-type'], 'text/event-stream; charset=utf-8');
      assert.equal(c.headers['cache-control'], 'no-cache');
      assert.equal(c.headers['access-control-allow-origin'], TEST_CORS);
    } finally {
      c.close();
    }
  });

  it('sse: frames are "event: <type>" + one "data:" line, no id or retry fields', async () => {
    const raw = await readRawSse(gw.url, 2);
    assert.equal(raw.status, 200);
    const m = /^event: rig\.connection\.create\ndata: (\{[^\n]*\})\n\nevent: rig\.subscriptions_set\ndata: (\{[^\n]*\})\n\n$/.exec(raw.text);
    assert.ok(m, `unexpected stream start: ${JSON.stringify(raw.text)}`);
    const create = JSON.parse(m[1]!);
    assertConnectionCreate(create);
    // RIG's JSON is compact with alphabetically ordered keys.
    assert.equal(m[1], JSON.stringify(create));
    const set = JSON.parse(m[2]!);
    assertRigEvent(set, 'rig.subscriptions_set');
    assert.equal(m[2], `{"data":[],"id":"${set.id}","source":"rig","specversion":"0.2","time":"${set.time}","type":"rig.subscriptions_set"}`);
  });

  it('sse: the event name is the CloudEvent type (eventType for 0.1 events)', async () => {
    const c = await SseClient.connect(gw.url, { subscriptions: JSON.stringify([{ eventType: 'greeting' }, { eventType: 'com.example.v01' }]) });
    try {
      const create = await c.next();
      assert.equal(create.event, 'rig.connection.create');
      assert.equal(create.data.type, 'rig.connection.create');
      const set = await c.next();
      assert.equal(set.event, 'rig.subscriptions_set');
      assert.deepEqual(set.data.data, [
        { eventType: 'greeting', oneOf: [] },
        { eventType: 'com.example.v01', oneOf: [] },
      ]);
      const ev = greeting('alice');
      assert.equal((await postEvent(gw.url, ev)).status, 202);
      const got = await c.next();
      assert.equal(got.event, 'greeting');
      assert.equal(got.data.id, ev.id);
      const v01 = { cloudEventsVersion: '0.1', eventType: 'com.example.v01', eventID: 'v01-1', source: 'test', data: {} };
      assert.equal((await postEvent(gw.url, v01, 'application/json')).status, 202);
      const got01 = await c.next();
      assert.equal(got01.event, 'com.example.v01');
      assert.equal(got01.data.eventID, 'v01-1');
    } finally {
      c.close();
    }
  });

  it('sse: the path prefix of the subscriptions PUT does not matter, only the token', async () => {
    const c = await SseClient.connect(gw.url);
    try {
      const token = await c.token();
      await c.next((e) => e.event === 'rig.subscriptions_set');
      for (const [kind, name] of [['ws', 'one'], ['longpolling', 'two']] as const) {
        const r = await putSubscriptions(gw.url, token, [{ eventType: 'greeting', oneOf: [{ name }] }], { kind });
        assert.equal(r.status, 204, r.body);
        const set = await c.next((e) => e.event === 'rig.subscriptions_set');
        assert.deepEqual(set.data.data, [{ eventType: 'greeting', oneOf: [{ name }] }]);
      }
    } finally {
      c.close();
    }
  });

  it('sse: OPTIONS on the subscriptions path answers 204 with the PUT preflight headers', async () => {
    const c = await SseClient.connect(gw.url);
    try {
      const token = await c.token();
      const r = await http(`${gw.url}/_rig/v1/connection/sse/${token}/subscriptions`, { method: 'OPTIONS' });
      assert.equal(r.status, 204);
      assert.equal(r.body, '');
      assert.equal(r.headers.get('access-control-allow-origin'), TEST_CORS);
      assert.equal(r.headers.get('access-control-allow-methods'), 'PUT');
      assert.equal(r.headers.get('access-control-allow-headers'), 'content-type,authorization');
    } finally {
      c.close();
    }
  });
});
