import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestLogLine, requestLogRecord } from '../../../src/proxy/request-log.js';
import { parseStructuredEvent } from '../../../src/shared/cloudevents/structured.js';

const endpoint = { id: 'list-books', method: 'GET', path_regex: '/books/(.+)', secured: true, target: 'http' };

test('console line: CALL: [<endpoint id>] <METHOD> <path_regex> => <proxy.target_url>', () => {
  assert.equal(requestLogLine(endpoint, 'http://books.internal'), 'CALL: [list-books] GET /books/(.+) => http://books.internal');
});

test('Kafka record: RIG\'s CloudEvent 0.2 with key "partition"', () => {
  const now = new Date('2024-05-06T07:08:09.123Z');
  const r = requestLogRecord({ endpoint, requestPath: '/books/42', remoteIp: '10.1.2.3' }, now, 'fixed-id');
  assert.equal(r.key, 'partition');
  assert.deepEqual(r.headers, { ce_contenttype: 'application/json' });
  assert.deepEqual(JSON.parse(r.value), {
    id: 'fixed-id',
    time: '2024-05-06T07:08:09.123Z',
    source: '/rig',
    type: 'com.rig.proxy.api.call',
    specversion: '0.2',
    contenttype: 'application/json',
    data: { endpoint, request_path: '/books/42', remote_ip: '10.1.2.3' },
  });
  // The gateway's own CloudEvent check accepts it, so a gateway consuming the log topic delivers it.
  assert.doesNotThrow(() => parseStructuredEvent(r.value));
});

test('each record gets a fresh UUID and the current time by default', () => {
  const a = JSON.parse(requestLogRecord({ endpoint, requestPath: '/', remoteIp: '::1' }).value);
  const b = JSON.parse(requestLogRecord({ endpoint, requestPath: '/', remoteIp: '::1' }).value);
  assert.match(a.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a.id, b.id);
  assert.ok(Math.abs(Date.parse(a.time) - Date.now()) < 5000);
});
