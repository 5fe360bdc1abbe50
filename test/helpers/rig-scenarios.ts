/**
 * RIG's connection/subscription scenarios (test/event_subscription_test.exs and
 * test/longpolling_subscription_test.exs, spec 12.1), written once against a small adapter so
 * that SSE, WebSocket and long polling run exactly the same steps. The long-polling adapter reads
 * the way RIG's tests do: the first read returns [rig.connection.create, rig.subscriptions_set],
 * after a PUT the next read starts with the new rig.subscriptions_set, and "nothing received" is
 * an empty `events` list once the poll has waited (start the gateway with a short
 * LONGPOLL_TIMEOUT_MS).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { LongPollClient, SseClient, WsClient } from './clients.js';
import type { RunningGateway } from './gateway.js';
import { postEvent, putSubscriptions, greeting } from './http.js';
import { signJwt } from './jwt.js';

export type Kind = 'sse' | 'ws' | 'longpolling';

/** The extractor configuration of RIG's subscription tests: greeting.name from /data/name or the JWT's /username. */
export const GREETING_EXTRACTORS = JSON.stringify({
  greeting: { name: { stable_field_index: 1, event: { json_pointer: '/data/name' }, jwt: { json_pointer: '/username' } } },
});

/** A CORS value other than the default, so tests see the configured value is used. */
export const TEST_CORS = 'https://app.example.test';

/** Gateway environment of the subscription scenarios. */
export const SCENARIO_ENV: Record<string, string> = {
  EXTRACTORS: GREETING_EXTRACTORS,
  JWT_SECRET_KEY: 'mysecret',
  CORS: TEST_CORS,
  LONGPOLL_TIMEOUT_MS: '1000',
};

export type CloudEventJson = Record<string, any>;

/** One connected client of any transport, seen through the operations the scenarios need. */
export interface Subscriber {
  readonly kind: Kind;
  /** The connection token from rig.connection.create. */
  readonly token: string;
  /** The events the connection started with, in order (parsed CloudEvents). */
  readonly handshake: CloudEventJson[];
  /** Waits for the next rig.subscriptions_set and returns its `data`. */
  nextSubscriptionsSet(): Promise<unknown>;
  /** The next received event of `type` (events of other types are skipped). */
  receive(type: string): Promise<CloudEventJson>;
  /** Asserts that nothing at all is delivered for a while. */
  expectNothing(): Promise<void>;
  close(): void;
}

const WAIT_MS = 5000;
const QUIET_MS = 500;

export async function connectSubscriber(gw: RunningGateway, kind: Kind, query: Record<string, string> = {}): Promise<Subscriber> {
  if (kind === 'longpolling') return connectLongPoll(gw, query);
  const c = kind === 'sse' ? await SseClient.connect(gw.url, query) : await WsClient.connect(gw.url, query);
  const first = await c.next(undefined, WAIT_MS);
  const second = await c.next(undefined, WAIT_MS);
  return {
    kind,
    token: first.data?.data?.connection_token,
    handshake: [first.data, second.data],
    async nextSubscriptionsSet() {
      const e = await c.next((x) => x.event === 'rig.subscriptions_set', WAIT_MS);
      return e.data.data;
    },
    async receive(type) {
      return (await c.next((x) => x.data.type === type, WAIT_MS)).data;
    },
    expectNothing: () => c.none(() => true, QUIET_MS),
    close: () => c.close(),
  };
}

async function connectLongPoll(gw: RunningGateway, query: Record<string, string>): Promise<Subscriber> {
  const lp = new LongPollClient(gw.url);
  const created = await lp.get(query);
  assert.equal(created.status, 200, `long-poll create answered ${created.status}: ${created.body}`);
  assert.equal(created.body, '"ok"');
  const read = async (): Promise<CloudEventJson[]> => {
    const r = await lp.get();
    assert.equal(r.status, 200, `poll answered ${r.status}: ${r.body}`);
    return (JSON.parse(r.body) as { events: CloudEventJson[] }).events;
  };
  const handshake = await read();
  return {
    kind: 'longpolling',
    token: handshake[0]?.data?.connection_token,
    handshake,
    async nextSubscriptionsSet() {
      const events = await read();
      assert.ok(events.length > 0, 'the read after a PUT returned no events');
      assert.equal(events[0]!.type, 'rig.subscriptions_set', `first event of the read is ${events[0]!.type}`);
      return events[0]!.data;
    },
    async receive(type) {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const hit = (await read()).find((e) => e.type === type);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no ${type} event within ${WAIT_MS} ms`);
      }
    },
    async expectNothing() {
      assert.deepEqual(await read(), []);
    },
    close: () => {},
  };
}

const sub = (name: string) => ({ eventType: 'greeting', oneOf: [{ name }] });

/**
 * Registers RIG's ten connection/subscription scenarios for one transport. The gateway must run
 * with EXTRACTORS = GREETING_EXTRACTORS and JWT_SECRET_KEY = mysecret.
 */
export function subscriptionScenarios(kind: Kind, gateway: () => RunningGateway): void {
  const open: Subscriber[] = [];
  const connect = async (query: Record<string, string> = {}) => {
    const s = await connectSubscriber(gateway(), kind, query);
    open.push(s);
    return s;
  };
  const put = (s: Subscriber, subscriptions: unknown, headers: Record<string, string> = {}) =>
    putSubscriptions(gateway().url, s.token, subscriptions, { kind, headers });
  const aliceJwt = () => signJwt({ username: 'alice' });
  const closeAll = () => {
    for (const s of open.splice(0)) s.close();
  };

  it(`${kind}: 1. without parameters the connection starts with rig.connection.create, then an empty rig.subscriptions_set`, async () => {
    try {
      const s = await connect();
      assert.deepEqual(
        s.handshake.map((e) => e.type),
        ['rig.connection.create', 'rig.subscriptions_set'],
      );
      assert.equal(typeof s.token, 'string');
      assert.ok(s.token.length > 0);
      assert.deepEqual(s.handshake[1]!.data, []);
      assertConnectionCreate(s.handshake[0]!);
      assertRigEvent(s.handshake[1]!, 'rig.subscriptions_set');
      assert.deepEqual(Object.keys(s.handshake[1]!), ['data', 'id', 'source', 'specversion', 'time', 'type']);
    } finally {
      closeAll();
    }
  });

  it(`${kind}: 2. the subscriptions parameter is echoed exactly by rig.subscriptions_set`, async () => {
    try {
      const s = await connect({ subscriptions: JSON.stringify([sub('alice')]) });
      assert.deepEqual(s.handshake[1]!.data, [{ eventType: 'greeting', oneOf: [{ name: 'alice' }] }]);
    } finally {
      closeAll();
    }
  });

  it(`${kind}: 3. a JWT infers the subscription from the extractor's jwt pointer`, async () => {
    try {
      const s = await connect({ jwt: aliceJwt() });
      assert.deepEqual(s.handshake[1]!.data, [{ eventType: 'greeting', oneOf: [{ name: 'alice' }] }]);
    } finally {
      closeAll();
    }
  });

  it(`${kind}: 4. JWT-inferred and explicit subscriptions are both set, the inferred one first`, async () => {
    try {
      const s = await connect({ jwt: aliceJwt(), subscriptions: JSON.stringify([sub('bob')]) });
      assert.deepEqual(s.handshake[1]!.data, [
        { eventType: 'greeting', oneOf: [{ name: 'alice' }] },
        { eventType: 'greeting', oneOf: [{ name: 'bob' }] },
      ]);
    } finally {
      closeAll();
    }
  });

  it(`${kind}: 5. a PUT without Authorization drops the JWT-inferred subscription`, async () => {
    try {
      const s = await connect({ jwt: aliceJwt() });
      assert.deepEqual(s.handshake[1]!.data, [sub('alice')]);
      const r = await put(s, [sub('bob')]);
      assert.equal(r.status, 204, r.body);
      assert.equal(r.body, '');
      assert.deepEqual(await s.nextSubscriptionsSet(), [{ eventType: 'greeting', oneOf: [{ name: 'bob' }] }]);
    } finally {
      closeAll();
    }
  });

  it(`${kind}: 6. PUT [] with a Bearer JWT sets only the inferred subscription`, async () => {
    try {
      const s = await connect();
      const r = await put(s, [], { authorization: `Bearer ${aliceJwt()}` });
      assert.equal(r.status, 204, r.body);
      assert.deepEqual(await s.nextSubscriptionsSet(), [{ eventType: 'greeting', oneOf: [{ name: 'alice' }] }]);
    } finally {
      closeAll();
    }
  });

  it(`${kind}: 7. PUT replaces everything: inferred (alice) ++ body (charlie), bob is gone`, async () => {
    try {
      const s = await connect({ subscriptions: JSON.stringify([sub('bob')]) });
      assert.deepEqual(s.handshake[1]!.data, [sub('bob')]);
      const r = await put(s, [sub('charlie')], { authorization: `Bearer ${aliceJwt()}` });
      assert.equal(r.status, 204, r.body);
      assert.deepEqual(await s.nextSubscriptionsSet(), [
        { eventType: 'greeting', oneOf: [{ name: 'alice' }] },
        { eventType: 'greeting', oneOf: [{ name: 'charlie' }] },
      ]);
    } finally {
      closeAll();
    }
  });

  it(`${kind}: 8. an invalid subscription is refused with 400 and changes nothing`, async () => {
    try {
      const s = await connect();
      const r = await put(s, [{ this: 'is not', a: 'subscription' }]);
      assert.equal(r.status, 400);
      assert.match(r.body, /could not parse given subscriptions/);
      assert.equal(
        r.body,
        'cannot accept subscription request: could not parse given subscriptions: invalid subscription: event-type not found when parsing {"this":"is not","a":"subscription"}',
      );
      assert.equal(r.headers.get('access-control-allow-origin'), TEST_CORS);
      await s.expectNothing();
    } finally {
      closeAll();
    }
  });

  it(`${kind}: 9. an invalid Bearer JWT is refused with 400 and changes nothing`, async () => {
    try {
      const s = await connect();
      const r = await put(s, [], { authorization: 'Bearer this is not a valid JWT' });
      assert.equal(r.status, 400);
      assert.match(r.body, /invalid authorization header/);
      assert.ok(
        r.body.startsWith('cannot accept subscription request: invalid authorization header: could not decode JWT: '),
        r.body,
      );
      await s.expectNothing();
    } finally {
      closeAll();
    }
  });

  it(`${kind}: 10. events arrive only while a matching subscription is set`, async () => {
    try {
      const url = gateway().url;
      const s = await connect();
      // No subscription: nothing arrives.
      assert.equal((await postEvent(url, greeting('alice'))).status, 202);
      await s.expectNothing();

      let r = await put(s, [sub('alice')]);
      assert.equal(r.status, 204, r.body);
      assert.deepEqual(await s.nextSubscriptionsSet(), [sub('alice')]);
      // bob is posted first: were it delivered, it would be the first greeting read.
      const bob = greeting('bob');
      const alice = greeting('alice');
      assert.equal((await postEvent(url, bob)).status, 202);
      assert.equal((await postEvent(url, alice)).status, 202);
      const got = await s.receive('greeting');
      assert.equal(got.data.name, 'alice');
      assert.equal(got.id, alice.id);
      await s.expectNothing();

      r = await put(s, []);
      assert.equal(r.status, 204, r.body);
      assert.deepEqual(await s.nextSubscriptionsSet(), []);
      assert.equal((await postEvent(url, greeting('alice'))).status, 202);
      await s.expectNothing();
    } finally {
      closeAll();
    }
  });
}

/** Checks the envelope of an event the gateway itself emits (spec 4.6). */
export function assertRigEvent(e: CloudEventJson, type: string): void {
  assert.equal(e.type, type);
  assert.equal(e.specversion, '0.2');
  assert.equal(e.source, 'rig');
  assert.match(String(e.id), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.match(String(e.time), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/);
  const skew = Math.abs(Date.parse(String(e.time).replace(/(\.\d{3})\d{3}/, '$1')) - Date.now());
  assert.ok(skew < 60_000, `time ${e.time} is not now`);
}

/** Checks rig.connection.create: the envelope, the exact key order of RIG's JSON, and a URL-safe token. */
export function assertConnectionCreate(e: CloudEventJson): void {
  assertRigEvent(e, 'rig.connection.create');
  assert.deepEqual(Object.keys(e), ['data', 'id', 'source', 'specversion', 'time', 'type']);
  assert.deepEqual(Object.keys(e.data), ['connection_token']);
  assert.match(e.data.connection_token, /^[A-Za-z0-9_-]+={0,2}$/);
}
