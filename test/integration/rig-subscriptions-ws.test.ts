/**
 * WebSocket: RIG's connection/subscription scenarios (spec 12.1) and the frame format (spec 2.4):
 * one text frame per CloudEvent, rig.connection.create first.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WsClient } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { greeting, http, postEvent } from '../helpers/http.js';
import { SCENARIO_ENV, TEST_CORS, assertConnectionCreate, assertRigEvent, subscriptionScenarios } from '../helpers/rig-scenarios.js';

describe('WebSocket connections and subscriptions (RIG event_subscription_test)', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway(undefined, SCENARIO_ENV);
  });
  after(() => gw?.stop());

  subscriptionScenarios('ws', () => gw);

  it('ws: every event is one text frame holding the CloudEvent JSON', async () => {
    const c = await WsClient.connect(gw.url, { subscriptions: JSON.stringify([{ eventType: 'greeting', oneOf: [{ name: 'alice' }] }]) });
    try {
      const create = await c.next();
      assert.notEqual(create.raw, '<binary>');
      assertConnectionCreate(create.data);
      assert.equal(create.raw, JSON.stringify(create.data));
      const set = await c.next();
      assert.notEqual(set.raw, '<binary>');
      assertRigEvent(set.data, 'rig.subscriptions_set');
      assert.equal(
        set.raw,
        `{"data":[{"eventType":"greeting","oneOf":[{"name":"alice"}]}],"id":"${set.data.id}","source":"rig","specversion":"0.2","time":"${set.data.time}","type":"rig.subscriptions_set"}`,
      );
      const ev = greeting('alice');
      assert.equal((await postEvent(gw.url, ev)).status, 202);
      const got = await c.next();
      assert.notEqual(got.raw, '<binary>');
      assert.equal(got.raw, JSON.stringify(ev));
      assert.equal(c.closeCode, undefined);
    } finally {
      c.close();
    }
  });

  it('ws: OPTIONS on the subscriptions path answers 204 with the PUT preflight headers', async () => {
    const c = await WsClient.connect(gw.url);
    try {
      const token = await c.token();
      const r = await http(`${gw.url}/_rig/v1/connection/ws/${token}/subscriptions`, { method: 'OPTIONS' });
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
