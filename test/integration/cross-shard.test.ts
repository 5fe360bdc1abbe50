/**
 * Requests about a connection that reach a shard other than the connection's owner. Every shard
 * listens on the public port and the kernel picks one per TCP connection, so a subscriptions PUT or
 * a long poll arriving on a new TCP connection lands on either shard; the gateway must route it to
 * the owner named in the token. Which shard served a request cannot be seen from outside, so every
 * request here uses its own TCP connection and is repeated: with two shards about half of them
 * cross, and each must behave exactly like one served by the owner.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { createTokenCodec } from '../../src/shared/token/connection-token.js';
import { SseClient, WsClient } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { greeting } from '../helpers/http.js';
import { TEST_JWT_SECRET } from '../helpers/jwt.js';
import { freshRequest } from '../helpers/raw-http.js';
import type { FreshAnswer } from '../helpers/raw-http.js';
import { waitFor } from '../helpers/wait.js';

const EXTRACTORS = { greeting: { name: { stable_field_index: 0, event: { json_pointer: '/data/name' } } } };
const codec = createTokenCodec('test-cookie');

function shardOf(token: string): number {
  const p = codec.decode(token);
  assert.ok(p, `token ${token} does not decode with the test NODE_COOKIE`);
  return p.shard;
}

function putFresh(gw: RunningGateway, token: string, body: unknown, kind = 'sse'): Promise<FreshAnswer> {
  return freshRequest(`${gw.url}/_rig/v1/connection/${kind}/${token}/subscriptions`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function postFresh(gw: RunningGateway, event: Record<string, unknown>): Promise<void> {
  const r = await freshRequest(`${gw.url}/_rig/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify(event),
  });
  assert.equal(r.status, 202, r.body);
}

const greet = (name: string) => [{ eventType: 'greeting', oneOf: [{ name }] }];

/** A long-polling client whose every request is a new TCP connection, carrying its cookies. */
class FreshLongPoll {
  readonly cookies = new Map<string, string>();
  token = '';

  constructor(private readonly gw: RunningGateway) {}

  async get(): Promise<FreshAnswer> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const r = await freshRequest(`${this.gw.url}/_rig/v1/connection/longpolling`, { headers: cookie ? { cookie } : {} });
    this.store(r.headers);
    return r;
  }

  async create(): Promise<void> {
    const r = await this.get();
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, '"ok"');
    this.token = this.cookies.get('connection_token') ?? '';
    assert.ok(this.token);
  }

  /** One poll that must find its session: 200 with a JSON event list and the same token. */
  async poll(): Promise<Array<Record<string, any>>> {
    const r = await this.get();
    assert.equal(r.status, 200, r.body);
    assert.notEqual(r.body, '"ok"', 'the poll did not find its session: a new one was created');
    assert.equal(this.cookies.get('connection_token'), this.token, 'the session token is unchanged');
    const parsed = JSON.parse(r.body) as { last_event_id: string; events: Array<Record<string, any>> };
    assert.ok(Array.isArray(parsed.events));
    return parsed.events;
  }

  private store(headers: IncomingHttpHeaders): void {
    for (const sc of headers['set-cookie'] ?? []) {
      const [pair] = sc.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      if (/max-age=0/i.test(sc)) this.cookies.delete(name);
      else this.cookies.set(name, pair!.slice(eq + 1).trim());
    }
  }
}

describe('requests routed to the owning shard', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway(undefined, {
      JWT_SECRET_KEY: TEST_JWT_SECRET,
      EXTRACTORS: JSON.stringify(EXTRACTORS),
      LONGPOLL_TIMEOUT_MS: '300',
    });
  });
  after(() => gw.stop());

  test('subscriptions PUTs on fresh TCP connections reach every SSE connection, whichever shard serves them', async () => {
    const clients: SseClient[] = [];
    const tokens: string[] = [];
    const shards = new Set<number>();
    try {
      // Open 20 streams, more if the kernel happened to put them all on one shard (bounded).
      while (clients.length < 20 || (shards.size < 2 && clients.length < 40)) {
        const c = await SseClient.connect(gw.url);
        clients.push(c);
        const token = await c.token();
        tokens.push(token);
        shards.add(shardOf(token));
        await c.next((e) => e.event === 'rig.subscriptions_set', 5000);
      }
      assert.deepEqual([...shards].sort(), [0, 1], 'both shards own streams');

      const ROUNDS = 4;
      for (let round = 0; round < ROUNDS; round++) {
        await Promise.all(
          clients.map(async (c, i) => {
            const subs = greet(`c${i}-r${round}`);
            const r = await putFresh(gw, tokens[i]!, { subscriptions: subs });
            assert.equal(r.status, 204, `connection ${i} round ${round}: ${r.body}`);
            assert.equal(r.body, '');
            assert.equal(r.headers['access-control-allow-origin'], '*');
            const set = await c.next((e) => e.event === 'rig.subscriptions_set', 5000);
            assert.deepEqual(set.data.data, subs, `connection ${i} round ${round}`);
          }),
        );
      }

      // Final state: every third connection wants alice, the others bob.
      const wantsAlice = (i: number) => i % 3 === 0;
      await Promise.all(
        clients.map(async (c, i) => {
          const subs = greet(wantsAlice(i) ? 'alice' : 'bob');
          const r = await putFresh(gw, tokens[i]!, { subscriptions: subs });
          assert.equal(r.status, 204, r.body);
          assert.deepEqual((await c.next((e) => e.event === 'rig.subscriptions_set', 5000)).data.data, subs);
        }),
      );
      await postFresh(gw, greeting('alice'));
      await postFresh(gw, greeting('bob'));
      await Promise.all(
        clients.map(async (c, i) => {
          const e = await c.next((x) => x.event === 'greeting', 5000);
          assert.equal(e.data.data.name, wantsAlice(i) ? 'alice' : 'bob', `connection ${i}`);
        }),
      );
      await Promise.all(clients.map((c) => c.none((x) => x.event === 'greeting', 500)));
      // No stream was ended along the way.
      assert.ok(clients.every((c) => !c.ended));
    } finally {
      for (const c of clients) c.close();
    }
  });

  test('subscriptions PUTs on fresh TCP connections reach WebSocket connections on either shard', async () => {
    const clients: WsClient[] = [];
    const tokens: string[] = [];
    const shards = new Set<number>();
    try {
      while (clients.length < 10 || (shards.size < 2 && clients.length < 30)) {
        const c = await WsClient.connect(gw.url);
        clients.push(c);
        const token = await c.token();
        tokens.push(token);
        shards.add(shardOf(token));
        await c.next((e) => e.event === 'rig.subscriptions_set', 5000);
      }
      assert.deepEqual([...shards].sort(), [0, 1]);
      for (let round = 0; round < 3; round++) {
        await Promise.all(
          clients.map(async (c, i) => {
            const subs = greet(`w${i}-r${round}`);
            const r = await putFresh(gw, tokens[i]!, { subscriptions: subs }, 'ws');
            assert.equal(r.status, 204, r.body);
            assert.deepEqual((await c.next((e) => e.event === 'rig.subscriptions_set', 5000)).data.data, subs);
          }),
        );
      }
      await postFresh(gw, greeting('w1-r2'));
      await clients[1]!.next((e) => e.event === 'greeting', 5000);
      await Promise.all(clients.filter((_, i) => i !== 1).map((c) => c.none((x) => x.event === 'greeting', 300)));
    } finally {
      for (const c of clients) c.close();
    }
  });

  test('long polls on fresh TCP connections always find their session, whichever shard owns it', async () => {
    const sessions: FreshLongPoll[] = [];
    const shards = new Set<number>();
    while (sessions.length < 8 || (shards.size < 2 && sessions.length < 30)) {
      const s = new FreshLongPoll(gw);
      await s.create();
      sessions.push(s);
      shards.add(shardOf(s.token));
    }
    assert.deepEqual([...shards].sort(), [0, 1], 'both shards own sessions');

    await Promise.all(
      sessions.map(async (s, i) => {
        const first = await s.poll();
        assert.deepEqual(
          first.map((e) => e.type),
          ['rig.connection.create', 'rig.subscriptions_set'],
          `session ${i}`,
        );
        const r = await putFresh(gw, s.token, { subscriptions: greet(`lp${i}`) }, 'longpolling');
        assert.equal(r.status, 204, r.body);
        const set = await s.poll();
        assert.equal(set[0]?.type, 'rig.subscriptions_set', `session ${i}`);
        assert.deepEqual(set[0]?.data, greet(`lp${i}`));
        // Nothing new: the poll waits LONGPOLL_TIMEOUT_MS and answers an empty list, still 200.
        assert.deepEqual(await s.poll(), []);
      }),
    );

    for (let i = 0; i < sessions.length; i++) await postFresh(gw, greeting(`lp${i}`));
    await Promise.all(
      sessions.map(async (s, i) => {
        const events: Array<Record<string, any>> = [];
        for (let tries = 0; tries < 6 && events.length === 0; tries++) events.push(...(await s.poll()));
        assert.deepEqual(
          events.map((e) => [e.type, e.data?.name]),
          [['greeting', `lp${i}`]],
          `session ${i} gets exactly its own greeting`,
        );
        for (let k = 0; k < 3; k++) assert.deepEqual(await s.poll(), [], `session ${i} poll ${k}`);
      }),
    );
  });

  test('a PUT for a connection that closed answers 410 on every shard', async () => {
    const sse = await SseClient.connect(gw.url);
    const sseToken = await sse.token();
    const ws = await WsClient.connect(gw.url);
    const wsToken = await ws.token();
    sse.close();
    ws.close();
    for (const [kind, token] of [
      ['sse', sseToken],
      ['ws', wsToken],
    ] as const) {
      // The owner notices the closed socket shortly; until then a PUT may still succeed.
      await waitFor(async () => (await putFresh(gw, token, { subscriptions: [] }, kind)).status === 410, 5000, `${kind} PUT answering 410`);
      for (let i = 0; i < 6; i++) {
        const r = await putFresh(gw, token, { subscriptions: [] }, kind);
        assert.equal(r.status, 410, `${kind} attempt ${i}: ${r.body}`);
        assert.equal(r.body, 'Connection no longer exists.');
        assert.equal(r.headers['access-control-allow-origin'], '*');
      }
    }
  });

  test('a tampered token answers 400 "Invalid connection token." on every shard', async () => {
    const sse = await SseClient.connect(gw.url);
    try {
      const token = await sse.token();
      const mid = Math.floor(token.length / 2);
      const flipped = token.slice(0, mid) + (token[mid] === 'A' ? 'B' : 'A') + token.slice(mid + 1);
      const variants = [flipped, token.slice(0, -1), `${token}A`, token.slice(1), token.split('').reverse().join('')];
      for (const bad of variants) {
        for (let i = 0; i < 4; i++) {
          const r = await putFresh(gw, bad, { subscriptions: greet('mallory') });
          assert.equal(r.status, 400, `${bad}: ${r.body}`);
          assert.equal(r.body, 'Invalid connection token.');
        }
      }
      await sse.none((e) => e.event === 'rig.subscriptions_set' && e.data.data.length > 0, 200);
      // The genuine token still works.
      const ok = await putFresh(gw, token, { subscriptions: greet('alice') });
      assert.equal(ok.status, 204);
      assert.deepEqual((await sse.next((e) => e.event === 'rig.subscriptions_set' && e.data.data.length > 0, 5000)).data.data, greet('alice'));
    } finally {
      sse.close();
    }
  });

  test('a token issued by a gateway with another NODE_COOKIE is rejected (PUT 400, long-poll cookie 400)', async () => {
    const other = await startGateway(undefined, { JWT_SECRET_KEY: TEST_JWT_SECRET, NODE_COOKIE: 'another-cookie' });
    try {
      const sse = await SseClient.connect(other.url);
      const foreignToken = await sse.token();
      const lp = new FreshLongPoll(other);
      await lp.create();
      try {
        // It is a real token: its own gateway accepts it.
        assert.equal((await putFresh(other, foreignToken, { subscriptions: [] })).status, 204);
        for (let i = 0; i < 4; i++) {
          const r = await putFresh(gw, foreignToken, { subscriptions: [] });
          assert.equal(r.status, 400, r.body);
          assert.equal(r.body, 'Invalid connection token.');

          const poll = await freshRequest(`${gw.url}/_rig/v1/connection/longpolling`, {
            headers: { cookie: `connection_token=${lp.token}; last_event_id="first_event"` },
          });
          assert.equal(poll.status, 400, poll.body);
          const cleared = (poll.headers['set-cookie'] ?? []).filter((c) => /max-age=0/i.test(c)).map((c) => c.split('=')[0]);
          assert.deepEqual(cleared.sort(), ['connection_token', 'last_event_id']);
        }
      } finally {
        sse.close();
      }
    } finally {
      assert.equal(await other.stop(), 0);
    }
  });
});
