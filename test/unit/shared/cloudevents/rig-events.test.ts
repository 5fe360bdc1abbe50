import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectionClosedEvent,
  connectionCreateEvent,
  rfc3339Micros,
  rigEvent,
  sessionKilledEvent,
  subscriptionsSetEvent,
} from '../../../../src/shared/cloudevents/rig-events.js';
import { parseStructuredEvent } from '../../../../src/shared/cloudevents/structured.js';

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function check(json: string, type: string, data: unknown): void {
  const obj = JSON.parse(json) as Record<string, unknown>;
  const keys = data === undefined ? ['id', 'source', 'specversion', 'time', 'type'] : ['data', 'id', 'source', 'specversion', 'time', 'type'];
  assert.deepEqual(Object.keys(obj), keys);
  assert.match(obj['id'] as string, UUID);
  assert.equal(obj['source'], 'rig');
  assert.equal(obj['specversion'], '0.2');
  assert.match(obj['time'] as string, TIME);
  assert.equal(obj['type'], type);
  if (data !== undefined) assert.deepEqual(obj['data'], data);
  // RIG's own events must pass our own ingress rule.
  assert.equal(parseStructuredEvent(json).type, type);
}

describe('rig events', () => {
  it('rig.connection.create', () => {
    const json = connectionCreateEvent('tok/en');
    check(json, 'rig.connection.create', { connection_token: 'tok/en' });
    assert.match(json, /^\{"data":\{"connection_token":"tok\/en"\},"id":"/);
  });

  it('rig.subscriptions_set with eventType before oneOf', () => {
    const subs = [
      { oneOf: [{ name: 'alice' }], eventType: 'greeting', extra: 'dropped' },
      { eventType: 'other', oneOf: [] },
    ];
    const json = subscriptionsSetEvent(subs);
    check(json, 'rig.subscriptions_set', [{ eventType: 'greeting', oneOf: [{ name: 'alice' }] }, { eventType: 'other', oneOf: [] }]);
    assert.match(json, /^\{"data":\[\{"eventType":"greeting","oneOf":\[\{"name":"alice"\}\]\},\{"eventType":"other","oneOf":\[\]\}\],"id"/);
    check(subscriptionsSetEvent([]), 'rig.subscriptions_set', []);
  });

  it('rig.session_killed has no data', () => {
    check(sessionKilledEvent(), 'rig.session_killed', undefined);
  });

  it('rig.connection.closed carries reason then message', () => {
    const json = connectionClosedEvent('slow', 'consumer too slow');
    check(json, 'rig.connection.closed', { reason: 'slow', message: 'consumer too slow' });
    assert.match(json, /^\{"data":\{"reason":"slow","message":"consumer too slow"\},/);
  });

  it('generic events escape the type and use fresh ids', () => {
    const a = JSON.parse(rigEvent('a"b', null)) as Record<string, unknown>;
    const b = JSON.parse(rigEvent('a"b')) as Record<string, unknown>;
    assert.equal(a['type'], 'a"b');
    assert.equal(a['data'], null);
    assert.equal('data' in b, false);
    assert.notEqual(a['id'], b['id']);
  });

  it('time is close to the wall clock', () => {
    const before = Date.now();
    const t = rfc3339Micros();
    const after = Date.now();
    assert.match(t, TIME);
    const ms = Date.parse(t.slice(0, 23) + 'Z');
    assert.ok(ms >= before - 2 && ms <= after + 2, `${t} not within [${before}, ${after}]`);
  });
});
