import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseCheckSetting } from '../../../../src/shards/authorization/check-setting.js';
import { DecisionClient } from '../../../../src/shards/authorization/decision-client.js';
import { freePort } from '../../../helpers/gateway.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function service(t: import('node:test').TestContext, handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const addr = server.address();
  return new URL(`http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/check`);
}

test('check settings: modes in any case, anything else is a URL', () => {
  assert.deepEqual(parseCheckSetting(''), { kind: 'none' });
  assert.deepEqual(parseCheckSetting('NO_CHECK'), { kind: 'none' });
  assert.deepEqual(parseCheckSetting('Jwt_Validation'), { kind: 'jwt' });
  const s = parseCheckSetting('http://authz:8080/check?x=1');
  assert.equal(s.kind, 'url');
  assert.equal(s.kind === 'url' && s.url.href, 'http://authz:8080/check?x=1');
});

test('2xx allows; 401, 403 and every other status deny; the request carries what it was given', async (t) => {
  let status = 200;
  const seen: Array<{ method: string; ct: string | undefined; auth: string | undefined; body: string }> = [];
  const url = await service(t, (req, res, body) => {
    seen.push({ method: req.method!, ct: req.headers['content-type'], auth: req.headers.authorization, body });
    res.writeHead(status).end('whatever');
  });
  const client = new DecisionClient(url, { timeoutMs: 2000, maxInFlight: 4, log: quiet, name: 'TEST' });
  t.after(() => client.close());
  const ask = () => client.ask({ contentType: 'application/json', authorization: 'Bearer a, Bearer b', body: '{"x":1}' });
  for (const [s, expected] of [[200, 'allow'], [204, 'allow'], [299, 'allow'], [401, 'deny'], [403, 'deny'], [400, 'deny'], [404, 'deny'], [500, 'deny'], [302, 'deny']] as const) {
    status = s;
    assert.equal(await ask(), expected, `status ${s}`);
  }
  assert.deepEqual(seen[0], { method: 'POST', ct: 'application/json', auth: 'Bearer a, Bearer b', body: '{"x":1}' });
  assert.equal(await client.ask({ contentType: 'text/plain', authorization: undefined, body: Buffer.from('raw') }), 'deny');
  assert.equal(seen.at(-1)!.auth, undefined, 'no credentials: no authorization header');
  assert.equal(seen.at(-1)!.body, 'raw');
  assert.equal(client.inFlight, 0);
});

test('a service that is down or too slow denies; beyond maxInFlight nothing is called', async (t) => {
  const down = new URL(`http://127.0.0.1:${await freePort()}/check`);
  const refused = new DecisionClient(down, { timeoutMs: 2000, maxInFlight: 4, log: quiet, name: 'TEST' });
  t.after(() => refused.close());
  assert.equal(await refused.ask({ contentType: 'application/json', authorization: undefined, body: '{}' }), 'deny');

  const held: ServerResponse[] = [];
  const url = await service(t, (_req, res) => held.push(res));
  const slow = new DecisionClient(url, { timeoutMs: 300, maxInFlight: 2, log: quiet, name: 'TEST' });
  t.after(() => slow.close());
  const req = { contentType: 'application/json', authorization: undefined, body: '{}' };
  const first = slow.ask(req);
  const second = slow.ask(req);
  assert.ok(first && second);
  assert.equal(slow.inFlight, 2);
  assert.equal(slow.ask(req), undefined, 'a third call is refused at once');
  assert.deepEqual(await Promise.all([first, second]), ['deny', 'deny']);
  assert.equal(slow.inFlight, 0, 'timed-out calls free their places');
  for (const res of held) res.destroy();
});
