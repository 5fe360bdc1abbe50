import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReplyHeaders } from '../../../../src/shared/replies/reply-headers.js';

test('correlation, status and the remaining headers, names lower-cased, repeated ones kept', () => {
  const r = parseReplyHeaders([
    ['RIG-Correlation', 'tok-123'],
    ['rig-response-code', '201'],
    ['Content-Type', 'application/json'],
    ['x-request-id', ' abc '],
    ['set-cookie', 'a=1'],
    ['set-cookie', 'b=2'],
  ]);
  assert.deepEqual(r, {
    ok: true,
    correlation: 'tok-123',
    status: 201,
    headers: [['content-type', 'application/json'], ['x-request-id', 'abc'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']],
  });
});

test('transport headers and headers that cannot be written are dropped', () => {
  const r = parseReplyHeaders([
    ['rig-correlation', 't'], ['rig-response-code', '200'],
    ['connection', 'close, x-private'], ['x-private', 'secret'], ['keep-alive', 'timeout=5'], ['transfer-encoding', 'chunked'],
    ['upgrade', 'websocket'], ['te', 'trailers'], ['trailer', 'x'], ['proxy-connection', 'keep-alive'],
    ['content-length', '12'], ['host', 'backend:8080'], ['date', 'Mon, 01 Jan 2024 00:00:00 GMT'], ['expect', '100-continue'],
    ['bad name', 'v'], ['x-(paren)', 'v'], ['', 'v'], ['x-crlf', 'a\r\nset-cookie: evil=1'], ['x-nul', 'a\0b'],
    ['x-tab', 'a\tb'], ['x-utf8', 'grüße'], ['x-empty', ''],
  ]);
  assert.ok(r.ok);
  assert.deepEqual(r.headers, [['x-tab', 'a\tb'], ['x-utf8', 'grüße'], ['x-empty', '']]);
});

test('RIG\'s error texts: a missing header is :error, a non-integer code is {:not_an_integer, "..."}', () => {
  const missing = 'Failed to parse request body: :error';
  assert.deepEqual(parseReplyHeaders([['rig-response-code', '200']]), { ok: false, reason: 'missing-correlation', message: missing });
  assert.deepEqual(parseReplyHeaders([['rig-correlation', ''], ['rig-response-code', '200']]), { ok: false, reason: 'missing-correlation', message: missing });
  assert.deepEqual(parseReplyHeaders([['rig-correlation', 't']]), { ok: false, reason: 'missing-response-code', message: missing });
  assert.deepEqual(parseReplyHeaders([]), { ok: false, reason: 'missing-correlation', message: missing });

  assert.deepEqual(parseReplyHeaders([['rig-correlation', 't'], ['rig-response-code', 'abc201']]), {
    ok: false, reason: 'not-an-integer', message: 'Failed to parse request body: {:error, {:not_an_integer, "abc201"}}',
  });
  for (const code of ['', '201abc', '20.1', ' 201', '2e2']) {
    const r = parseReplyHeaders([['rig-correlation', 't'], ['rig-response-code', code]]);
    assert.equal(!r.ok && r.reason, 'not-an-integer', JSON.stringify(code));
  }
  const quoted = parseReplyHeaders([['rig-correlation', 't'], ['rig-response-code', 'a"b\\c\x01']]);
  assert.equal(!quoted.ok && quoted.message, 'Failed to parse request body: {:error, {:not_an_integer, "a\\"b\\\\c\\x01"}}');
});

test('the code must be an HTTP status 100..599', () => {
  for (const [code, status] of [['100', 100], ['+204', 204], ['599', 599], ['0404', 404]] as const) {
    const r = parseReplyHeaders([['rig-correlation', 't'], ['rig-response-code', code]]);
    assert.equal(r.ok && r.status, status, code);
  }
  for (const code of ['99', '600', '999', '-200', '0', '99999999999999999999']) {
    const r = parseReplyHeaders([['rig-correlation', 't'], ['rig-response-code', code]]);
    assert.equal(!r.ok && r.reason, 'status-out-of-range', code);
  }
  const r = parseReplyHeaders([['rig-correlation', 't'], ['rig-response-code', '999']]);
  assert.equal(!r.ok && r.message, 'Failed to parse request body: {:error, {:invalid_status, 999}}');
});
