/** The shard's proxy request counter: deltas since the last report, and the label-set cap. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyRequestCounter } from '../../../src/proxy/request-metrics.js';
import { MAX_PROXY_LABEL_SETS, ProxyRequestTable } from '../../../src/shared/metrics/proxy-request-table.js';

test('takeDelta returns what was counted since the previous call, then nothing until more is counted', () => {
  const c = new ProxyRequestCounter();
  assert.equal(c.takeDelta(), undefined);
  c.count('GET', '/endpoint/undefined', 'N/A', 'N/A', 'not_found');
  c.count('GET', '/myapi/free', 'http', 'http', 'ok');
  c.count('GET', '/myapi/free', 'http', 'http', 'ok');
  c.count('POST', '/myapi/books', 'http', 'http', 'ok');
  assert.deepEqual(c.takeDelta(), [
    ['GET', '/endpoint/undefined', 'N/A', 'N/A', 'not_found', 1],
    ['GET', '/myapi/free', 'http', 'http', 'ok', 2],
    ['POST', '/myapi/books', 'http', 'http', 'ok', 1],
  ]);
  assert.equal(c.takeDelta(), undefined);
  c.count('GET', '/myapi/free', 'http', 'http', 'ok');
  c.count('GET', '/myapi/free', 'http', 'http', 'unreachable');
  assert.deepEqual(c.takeDelta(), [
    ['GET', '/myapi/free', 'http', 'http', 'ok', 1],
    ['GET', '/myapi/free', 'http', 'http', 'unreachable', 1],
  ]);
});

test('beyond the cap new label sets fold into path "(other)"; known ones keep counting; nothing is lost', () => {
  const c = new ProxyRequestCounter(3);
  c.count('GET', '/a', 'N/A', 'N/A', 'not_found');
  c.count('GET', '/b', 'N/A', 'N/A', 'not_found');
  c.count('GET', '/c', 'N/A', 'N/A', 'not_found');
  for (let i = 0; i < 500; i++) c.count('GET', `/scan/${i}`, 'N/A', 'N/A', 'not_found');
  c.count('GET', '/a', 'N/A', 'N/A', 'not_found');
  c.count('POST', '/x', 'N/A', 'N/A', 'not_found');
  c.count('X-RANDOM-1', '/y', 'N/A', 'N/A', 'not_found');
  c.count('X-RANDOM-2', '/z', 'N/A', 'N/A', 'not_found');
  const delta = c.takeDelta()!;
  assert.deepEqual(delta, [
    ['GET', '/a', 'N/A', 'N/A', 'not_found', 2],
    ['GET', '/b', 'N/A', 'N/A', 'not_found', 1],
    ['GET', '/c', 'N/A', 'N/A', 'not_found', 1],
    ['GET', '(other)', 'N/A', 'N/A', 'not_found', 500],
    ['POST', '(other)', 'N/A', 'N/A', 'not_found', 1],
    ['(other)', '(other)', 'N/A', 'N/A', 'not_found', 2],
  ]);
  assert.equal(delta.reduce((n, r) => n + r[5], 0), 507);
  // The shard's cap bounds one report; main applies the lasting one (registry test).
  c.count('GET', '/d', 'N/A', 'N/A', 'not_found');
  assert.deepEqual(c.takeDelta(), [['GET', '/d', 'N/A', 'N/A', 'not_found', 1]]);
});

test('the table stays bounded under a flood of distinct paths and methods', () => {
  const t = new ProxyRequestTable();
  for (let i = 0; i < 20_000; i++) t.add(`M${i % 50}`, `/p/${i}`, 'N/A', 'N/A', i % 2 ? 'not_found' : 'bad_request', 1);
  assert.ok(t.size <= MAX_PROXY_LABEL_SETS + 2, String(t.size));
  let total = 0;
  for (const r of t.rows()) total += r.count;
  assert.equal(total, 20_000);
});

test('label values with spaces in target or response_from cannot collide', () => {
  const t = new ProxyRequestTable();
  t.add('GET', '/p', 'a b', 'c', 'ok', 1);
  t.add('GET', '/p', 'a', 'b c', 'ok', 1);
  assert.equal(t.size, 2);
});
