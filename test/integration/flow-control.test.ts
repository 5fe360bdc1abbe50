/**
 * Flow control (OUTBOUND_QUEUE_MAX_BYTES): a client that stops reading is disconnected once what
 * the gateway holds for it exceeds the limit, while clients that read keep receiving every event.
 * The loopback kernel buffers absorb several MB before the gateway sees any backpressure, so the
 * test publishes bounded bursts until the gateway has let the slow clients go.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { SseClient, WsClient } from '../helpers/clients.js';
import type { ReceivedEvent } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { freshRequest } from '../helpers/raw-http.js';
import { sleep, waitFor } from '../helpers/wait.js';

const QUEUE_LIMIT = 65_536;
const LANES = 8;
const MAX_EVENTS = 20_000;
const MAX_PUBLISH_MS = 15_000;
const PAD = 'p'.repeat(900);
/**
 * Events the fast readers may be behind the publisher (about 1 KB each; with the LANES posts in
 * flight still well under QUEUE_LIMIT, so the gateway can never see a fast reader as slow).
 */
const MAX_LAG = 40;
const SUBS = JSON.stringify([{ eventType: 'burst' }]);

/** Every (lane, n) exactly once and, per lane, in publishing order. */
function assertCompleteAndOrdered(name: string, events: ReceivedEvent[], published: number[]): void {
  const next = new Array<number>(LANES).fill(0);
  for (const e of events) {
    if (e.event !== 'burst') continue;
    const { lane, n } = e.data.data as { lane: number; n: number };
    assert.equal(n, next[lane], `${name}: lane ${lane} expected event ${next[lane]} next, got ${n}`);
    next[lane]!++;
  }
  assert.deepEqual(next, published, `${name}: received per lane vs published per lane`);
}

describe('flow control', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway(undefined, { OUTBOUND_QUEUE_MAX_BYTES: String(QUEUE_LIMIT) });
  });
  after(() => gw.stop());

  test('slow SSE and WebSocket readers are disconnected; fast ones receive every event in order', async (t) => {
    const fastSse = await SseClient.connect(gw.url, { subscriptions: SUBS });
    const slowSse = await SseClient.connect(gw.url, { subscriptions: SUBS });
    const fastWs = await WsClient.connect(gw.url, { subscriptions: SUBS });
    const slowWs = await WsClient.connect(gw.url, { subscriptions: SUBS });
    const slowWsSocket = (slowWs.ws as unknown as { _socket: Socket })._socket;
    try {
      for (const c of [fastSse, slowSse, fastWs, slowWs]) await c.next((e) => e.event === 'rig.subscriptions_set', 5000);
      const slowSseToken = await slowSse.token();
      const slowWsToken = await slowWs.token();
      slowSse.pause();
      slowWsSocket.pause();

      // The gateway forgets a connection it dropped: a PUT for it then answers 410. That is how the
      // test sees the slow clients go while they are not reading.
      const gone = async (kind: string, token: string) =>
        (
          await freshRequest(`${gw.url}/_rig/v1/connection/${kind}/${token}/subscriptions`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ subscriptions: [{ eventType: 'burst' }] }),
          })
        ).status === 410;
      let slowSseGone = false;
      let slowWsGone = false;

      const published = new Array<number>(LANES).fill(0);
      let total = 0;
      let stop = false;
      const started = Date.now();
      // The fast readers live in this process, which also publishes: on a busy machine it may be
      // starved for a while. Publishing waits while they lag, so a fast reader never looks slow to
      // the gateway (what it has not read stays below QUEUE_LIMIT); the slow ones read nothing.
      const lagging = () => total - (fastSse.events.length - 2) > MAX_LAG || total - (fastWs.events.length - 2) > MAX_LAG;
      // While a dropped client drains what was buffered for it, publishing pauses (see the watcher).
      let draining: Promise<unknown> | undefined;
      const lane = async (id: number) => {
        while (!stop && total < MAX_EVENTS && Date.now() - started < MAX_PUBLISH_MS) {
          if (draining) await draining;
          if (lagging()) {
            await sleep(1);
            continue;
          }
          const n = published[id]!;
          total++;
          const res = await fetch(`${gw.apiUrl}/v3/messages`, {
            method: 'POST',
            headers: { 'content-type': 'application/cloudevents+json' },
            body: JSON.stringify({ specversion: '0.2', type: 'burst', source: 'flow-test', id: `${id}-${n}`, data: { lane: id, n, pad: PAD } }),
          });
          await res.arrayBuffer();
          assert.equal(res.status, 202);
          published[id] = n + 1;
        }
      };
      // A dropped client is resumed at once, and publishing pauses until it has read to the end: the
      // gateway gives a dropped socket about 10 s to drain, which a starved test process spending its
      // time on publishing could otherwise miss.
      const watcher = (async () => {
        while (!stop && Date.now() - started < MAX_PUBLISH_MS + 1000) {
          await sleep(50);
          const [sseNow, wsNow] = await Promise.all([
            slowSseGone ? false : gone('sse', slowSseToken),
            slowWsGone ? false : gone('ws', slowWsToken),
          ]);
          const drained: Array<Promise<unknown>> = [];
          if (sseNow) {
            slowSseGone = true;
            slowSse.resume();
            drained.push(waitFor(() => slowSse.ended, 10_000, 'the slow SSE stream to end').catch(() => {}));
          }
          if (wsNow) {
            slowWsGone = true;
            slowWsSocket.resume();
            drained.push(slowWs.closed(10_000).catch(() => {}));
          }
          if (drained.length > 0) {
            draining = Promise.all(drained);
            await draining;
            draining = undefined;
          }
          if (slowSseGone && slowWsGone) stop = true;
        }
      })();
      await Promise.all([...Array.from({ length: LANES }, (_, i) => lane(i)), watcher]);
      stop = true;
      const sent = published.reduce((a, b) => a + b, 0);
      const state = () =>
        `fast SSE: ${fastSse.events.length} events, ended=${fastSse.ended}, last ${fastSse.events.at(-1)?.event}; ` +
        `fast WS: ${fastWs.events.length} events, close=${fastWs.closeCode}`;
      assert.ok(slowSseGone, `the slow SSE client was not disconnected after ${sent} events (${Date.now() - started} ms); ${state()}`);
      assert.ok(slowWsGone, `the slow WebSocket client was not disconnected after ${sent} events (${Date.now() - started} ms); ${state()}`);
      t.diagnostic(`published ${sent} events in ${Date.now() - started} ms`);

      // Fast readers: everything, per publisher lane in order, and still connected.
      await waitFor(() => fastSse.events.filter((e) => e.event === 'burst').length >= sent || fastSse.ended, 10_000, 'fast SSE to catch up');
      await waitFor(() => fastWs.events.filter((e) => e.event === 'burst').length >= sent || fastWs.closeCode !== undefined, 10_000, 'fast WS to catch up');
      assertCompleteAndOrdered('fast SSE', fastSse.events, published);
      assertCompleteAndOrdered('fast WS', fastWs.events, published);
      assert.equal(fastSse.ended, false, 'the fast SSE stream is still open');
      assert.equal(fastWs.closeCode, undefined, 'the fast WebSocket is still open');

      // Slow readers resume and find the end: WS close 4000, SSE rig.connection.closed (slow_consumer) or an ended socket.
      await slowWs.closed(10_000);
      assert.equal(slowWs.closeCode, 4000, `slow WS close ${slowWs.closeCode} ${slowWs.closeReason}`);
      await waitFor(() => slowSse.ended, 10_000, 'the slow SSE stream to end');
      const last = slowSse.events.at(-1);
      t.diagnostic(`slow SSE: ${slowSse.events.length} events, last ${last?.event}; slow WS: ${slowWs.events.length} events`);
      if (last?.event === 'rig.connection.closed') assert.equal(last.data.data.reason, 'slow_consumer');
      // What it did get before the cut is a gap-free prefix of each lane.
      const prefix = new Array<number>(LANES).fill(0);
      for (const e of slowSse.events) {
        if (e.event !== 'burst') continue;
        const { lane: l, n } = e.data.data as { lane: number; n: number };
        assert.equal(n, prefix[l], `slow SSE lane ${l}`);
        prefix[l]!++;
      }
      assert.ok(prefix.reduce((a, b) => a + b, 0) < sent, 'the slow SSE client did not get everything');

      // The gateway is unharmed: a new client receives a new event.
      const late = await SseClient.connect(gw.url, { subscriptions: SUBS });
      try {
        await late.next((e) => e.event === 'rig.subscriptions_set', 5000);
        const res = await fetch(`${gw.apiUrl}/v3/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify({ specversion: '0.2', type: 'burst', source: 'flow-test', id: 'late', data: { lane: 0, n: -1 } }),
        });
        assert.equal(res.status, 202);
        await late.next((e) => e.event === 'burst', 5000);
      } finally {
        late.close();
      }
    } finally {
      for (const c of [fastSse, slowSse]) c.close();
      for (const c of [fastWs, slowWs]) c.close();
    }
  });
});
