/**
 * The gateway process's life: a clean SIGTERM drain with clients of every transport connected, a
 * shard that fails and is replaced while the rest keeps serving, and start-up refusing bad
 * configuration or an occupied port.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { createTokenCodec } from '../../src/shared/token/connection-token.js';
import { LongPollClient, SseClient, WsClient } from '../helpers/clients.js';
import { freePort, runGatewayExpectingExit, startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { greeting, postEvent } from '../helpers/http.js';
import { freshRequest } from '../helpers/raw-http.js';
import { waitFor } from '../helpers/wait.js';

const codec = createTokenCodec('test-cookie');
const SUBS = JSON.stringify([{ eventType: 'greeting' }]);

function shardOf(token: string): number {
  const p = codec.decode(token);
  assert.ok(p, 'token decodes with the test NODE_COOKIE');
  return p.shard;
}

/** Opens SSE clients subscribed to greeting until each shard holds at least `perShard` (bounded). */
async function sseOnBothShards(gw: RunningGateway, perShard: number, max = 60): Promise<Array<{ client: SseClient; token: string; shard: number }>> {
  const out: Array<{ client: SseClient; token: string; shard: number }> = [];
  const count = (s: number) => out.filter((c) => c.shard === s).length;
  while ((count(0) < perShard || count(1) < perShard) && out.length < max) {
    const client = await SseClient.connect(gw.url, { subscriptions: SUBS });
    const token = await client.token();
    await client.next((e) => e.event === 'rig.subscriptions_set', 5000);
    out.push({ client, token, shard: shardOf(token) });
  }
  assert.ok(count(0) >= perShard && count(1) >= perShard, `streams per shard: ${count(0)} and ${count(1)}`);
  return out;
}

async function listenExclusive(port: number, host = '127.0.0.1'): Promise<Server> {
  const srv = createServer((s) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen({ port, host, exclusive: true }, () => resolve());
  });
  return srv;
}

describe('shutdown', () => {
  test('SIGTERM with SSE, WebSocket and long-polling clients connected: they are told, and the process exits 0', async (t) => {
    const gw = await startGateway(t, { LONGPOLL_TIMEOUT_MS: '10000' });
    const sse = await Promise.all([1, 2, 3, 4].map(() => SseClient.connect(gw.url, { subscriptions: SUBS })));
    const ws = await Promise.all([1, 2, 3, 4].map(() => WsClient.connect(gw.url, { subscriptions: SUBS })));
    for (const c of [...sse, ...ws]) await c.next((e) => e.event === 'rig.subscriptions_set', 5000);
    const lp = new LongPollClient(gw.url);
    assert.equal((await lp.get()).status, 200);
    assert.equal((await lp.get()).status, 200); // create + subscriptions_set
    // A poll waiting for events when the signal arrives (LONGPOLL_TIMEOUT_MS is 10 s).
    const pending = lp.get().then(
      (r) => r.status,
      () => 'connection closed',
    );

    const started = Date.now();
    const code = await gw.stop();
    assert.equal(code, 0, gw.output());
    assert.ok(Date.now() - started < 8000, 'the drain does not wait for clients');

    for (const [i, c] of sse.entries()) {
      const closed = await c.next((e) => e.event === 'rig.connection.closed', 5000);
      assert.equal(closed.data.data.reason, 'shutdown', `SSE ${i}`);
      await waitFor(() => c.ended, 5000, `SSE ${i} stream to end`);
      assert.equal(c.events.at(-1)?.event, 'rig.connection.closed', 'nothing follows the closed event');
    }
    for (const [i, c] of ws.entries()) {
      await c.closed(5000);
      assert.equal(c.closeCode, 1001, `WS ${i}: ${c.closeCode} ${c.closeReason}`);
    }
    // The waiting poll is not left hanging.
    const outcome = await Promise.race([pending, new Promise((r) => setTimeout(() => r('still pending'), 5000))]);
    assert.notEqual(outcome, 'still pending');
    assert.ok(outcome === 200 || outcome === 'connection closed', `pending poll: ${String(outcome)}`);
    assert.doesNotMatch(gw.output(), /uncaught|unhandled|\berror\b/i);
  });
});

describe('shard failure', () => {
  test('a crashed shard is replaced; the other shard, health and new connections keep working', async (t) => {
    const gw = await startGateway(t, { ENABLE_FAULT_INJECTION: 'true', SHARDS: '2', LOG_LEVEL: 'info' });
    const clients = await sseOnBothShards(gw, 3);
    const onZero = clients.filter((c) => c.shard === 0);
    const onOne = clients.filter((c) => c.shard === 1);
    const outputBefore = gw.output().length;

    const crash = await fetch(`${gw.apiUrl}/_fault/shards/0/crash`, { method: 'POST' });
    assert.equal(crash.status, 202, await crash.text());

    // Shard 0's streams end (they are told why first, if the shard got that far).
    for (const c of onZero) {
      await waitFor(() => c.client.ended, 5000, 'a shard-0 stream to end');
      const last = c.client.events.at(-1);
      if (last?.event === 'rig.connection.closed') assert.equal(last.data.data.reason, 'shutdown');
    }
    await waitFor(() => /shard 0 ready/.test(gw.output().slice(outputBefore)), 10_000, 'shard 0 to be restarted');
    const restartLog = gw.output().slice(outputBefore);
    assert.match(restartLog, /shard 0 exited/);
    assert.equal(gw.proc.exitCode, null, 'the process keeps running');
    assert.equal(gw.proc.signalCode, null);

    // Shard 1's clients were not disturbed and still receive events.
    assert.ok(onOne.every((c) => !c.client.ended));
    assert.equal((await postEvent(gw.url, greeting('after-crash'))).status, 202);
    for (const c of onOne) assert.equal((await c.client.next((e) => e.event === 'greeting', 5000)).data.data.name, 'after-crash');

    // A token of the crashed shard names a connection that is gone.
    const stale = await freshRequest(`${gw.url}/_rig/v1/connection/sse/${onZero[0]!.token}/subscriptions`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"subscriptions":[]}',
    });
    assert.equal(stale.status, 410, stale.body);

    // New connections land on both shards, the new shard 0 included, and receive events.
    const fresh = await sseOnBothShards(gw, 2);
    assert.equal((await postEvent(gw.url, greeting('after-restart'))).status, 202);
    for (const c of fresh) assert.equal((await c.client.next((e) => e.event === 'greeting', 5000)).data.data.name, 'after-restart');
    for (const c of onOne) await c.client.next((e) => e.event === 'greeting' && e.data.data.name === 'after-restart', 5000);

    for (let i = 0; i < 6; i++) {
      const health = await freshRequest(`${gw.url}/_rig/health`);
      assert.equal(health.status, 200);
      assert.equal(health.body, 'OK');
    }
    assert.equal((await freshRequest(`${gw.apiUrl}/health`)).status, 200);

    for (const c of [...clients, ...fresh]) c.client.close();
    assert.equal(await gw.stop(), 0, 'a restarted shard drains like the others');
  });

  test('fault injection is off by default', async (t) => {
    const gw = await startGateway(t);
    const r = await freshRequest(`${gw.apiUrl}/_fault/shards/0/crash`, { method: 'POST' });
    assert.equal(r.status, 404);
    assert.equal((await freshRequest(`${gw.url}/_rig/health`)).status, 200);
  });
});

describe('start-up refusals', () => {
  async function expectRefusal(env: Record<string, string>, mention: RegExp): Promise<string> {
    const base = { INBOUND_HOST: '127.0.0.1', API_HTTP_HOST: '127.0.0.1', INBOUND_PORT: String(await freePort()), API_HTTP_PORT: '0', SHARDS: '2' };
    const started = Date.now();
    const { code, output } = await runGatewayExpectingExit({ ...base, ...env }, 10_000);
    assert.equal(typeof code, 'number', `the gateway must exit by itself (it was killed): ${output}`);
    assert.notEqual(code, 0, output);
    assert.ok(Date.now() - started < 10_000);
    assert.match(output, mention);
    return output;
  }

  test('configuration errors stop start-up with a message naming the variable', async () => {
    await expectRefusal({ INBOUND_PORT: 'abc' }, /INBOUND_PORT: "abc" is not an integer/);
    await expectRefusal({ JWT_ALG: 'XX256' }, /JWT_ALG: .*XX256/);
    await expectRefusal({ EXTRACTORS: '{"greeting": {"name": ' }, /EXTRACTORS: /);
    await expectRefusal({ SHARDS: '0' }, /SHARDS: 0 is out of range/);
    // Every problem at once.
    const all = await expectRefusal({ SHARDS: '99', MAX_CONNECTIONS_PER_MINUTE: '0', LOG_LEVEL: 'loud' }, /SHARDS/);
    assert.match(all, /MAX_CONNECTIONS_PER_MINUTE/);
    assert.match(all, /LOG_LEVEL/);
  });

  test('an occupied public port stops start-up with a clear message', async () => {
    const port = await freePort();
    const blocker = await listenExclusive(port);
    try {
      const output = await expectRefusal({ INBOUND_PORT: String(port) }, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(INBOUND_PORT\\)`));
      assert.doesNotMatch(output, /rig gateway listening/);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  test('an occupied internal API port stops start-up with a clear message', async () => {
    const port = await freePort();
    const blocker = await listenExclusive(port);
    try {
      const output = await expectRefusal({ API_HTTP_PORT: String(port) }, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(API_HTTP_PORT\\)`));
      assert.doesNotMatch(output, /rig gateway listening/);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});
