import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, runGatewayExpectingExit } from '../helpers/gateway.js';

test('start-up refuses the slow pure-JS uWS fallback unless allowed', async () => {
  // UWS_USE_FALLBACK makes the uWebSockets.js loader pick its fallback, as a failed binary load would.
  const { code, output } = await runGatewayExpectingExit({
    UWS_USE_FALLBACK: '1',
    INBOUND_PORT: String(await freePort()),
    API_HTTP_PORT: '0',
    INBOUND_HOST: '127.0.0.1',
    API_HTTP_HOST: '127.0.0.1',
  });
  assert.notEqual(code, 0);
  assert.match(output, /native binary/);
  assert.match(output, /UWS_ALLOW_FALLBACK/);
});
