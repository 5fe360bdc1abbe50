import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../helpers/gateway.js';
import { SseClient, WsClient } from '../helpers/clients.js';
import { waitFor } from '../helpers/wait.js';

test('SSE streams get heartbeat comments and WebSockets get pings every HEARTBEAT_INTERVAL_MS', async (t) => {
  const gw = await startGateway(t, { HEARTBEAT_INTERVAL_MS: '1000' });
  const sse = await SseClient.connect(gw.url);
  const ws = await WsClient.connect(gw.url);
  let pings = 0;
  ws.ws.on('ping', () => pings++);
  t.after(() => {
    sse.close();
    ws.close();
  });
  await waitFor(() => sse.comments >= 2 && pings >= 2, 5000, 'two heartbeats on each transport');
  // The ws client answers pings, so the connection is alive and keeps receiving them.
  assert.equal(ws.closeCode, undefined);
  assert.equal(sse.ended, false);
});

test('a WebSocket that never answers pings is closed with 4001', async (t) => {
  const gw = await startGateway(t, { HEARTBEAT_INTERVAL_MS: '1000' });
  const ws = await WsClient.connect(gw.url);
  t.after(() => ws.close());
  // Stop answering pings: the client's automatic pong is sent by the socket layer, so pause the socket.
  (ws.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  await new Promise((r) => setTimeout(r, 4500));
  (ws.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  await ws.closed(3000);
  assert.equal(ws.closeCode, 4001);
  assert.equal(ws.closeReason, 'No pong received in time.');
});
