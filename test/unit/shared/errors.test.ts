import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, GatewayError, err } from '../../../src/shared/errors.js';
import { DISCONNECT } from '../../../src/shards/disconnect.js';

const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');

test('every error code is documented with its status', () => {
  for (const [code, { status }] of Object.entries(ERROR_CODES)) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
    assert.ok(row, `${code} is missing from docs/errors.md`);
    assert.match(row, new RegExp(`\\| ${status} \\|`), `${code} documented with another status`);
    assert.ok(status >= 400 && status < 600);
  }
});

test('every disconnect reason is documented with its close code', () => {
  for (const d of Object.values(DISCONNECT)) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${d.reason}\` |`));
    assert.ok(row, `${d.reason} is missing from docs/errors.md`);
    assert.match(row, new RegExp(`\\| ${d.wsCode} \\|`));
    // Close reasons travel in a control frame: at most 123 bytes.
    assert.ok(Buffer.byteLength(d.message) <= 123, `${d.reason} close text too long`);
  }
});

test('errors survive the trip across threads', () => {
  const e = err.connectionGone();
  const back = GatewayError.fromWire(structuredClone(e.toWire()));
  assert.equal(back.code, 'GW_ERR_CONNECTION_GONE');
  assert.equal(back.status, 410);
  assert.equal(back.message, 'Connection no longer exists.');
});

test('RIG texts are kept verbatim', () => {
  assert.equal(err.rateLimited().message, 'Reached maximum number of connections');
  assert.equal(err.invalidConnectionToken().message, 'Invalid connection token.');
  assert.equal(
    err.batchUnsupported().message,
    'The batched CloudEvents HTTP transport binding mode is currently not supported.',
  );
  assert.equal(
    err.invalidAuthorization('Invalid signature').message,
    'cannot accept subscription request: invalid authorization header: could not decode JWT: Invalid signature',
  );
  assert.equal(err.notFoundProxy().message, '{"message":"Not Found"}');
  assert.equal(err.proxyAuthFailed().message, 'Authentication failed.');
  assert.equal(err.proxyMethodNotAllowed().message, 'Method not allowed.');
  assert.equal(err.proxyBadGateway().message, 'Bad gateway.');
  assert.equal(err.apiNotFound('a"b').message, '{"message":"API with id=a\\"b doesn\'t exists."}');
  assert.equal(err.apiExists('new-service').message, '{"message":"API with id=new-service already exists."}');
  assert.equal(err.apiBodyInvalid().message, '{"errors":{"detail":"Bad request"}}');
});
