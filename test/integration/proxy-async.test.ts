/**
 * `response_from: http_async` through the real gateway (3 shards) with a real upstream that
 * answers 202 and posts the reply to the internal API's /v3/responses (RIG spec 6.5, 3.5; RIG's
 * async_http_test scenarios), plus what RIG got wrong or left open: replies reaching the right
 * request whichever shard holds it, forged and malformed replies, clients that leave.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { freshRequest } from '../helpers/raw-http.js';
import type { FreshAnswer } from '../helpers/raw-http.js';
import { startUpstream } from '../helpers/upstream.js';
import type { Upstream } from '../helpers/upstream.js';
import { sleep, waitFor } from '../helpers/wait.js';

const ASYNC_TIMEOUT_MS = 800;

describe('http_async: replies through /v3/responses', () => {
  let gw: RunningGateway;
  let up: Upstream;
  /** What /v3/responses answered to the upstream's posts, by test path. */
  const posted = new Map<string, FreshAnswer[]>();

  function postReply(token: string, code: string, body: string, headers: Record<string, string> = {}): Promise<FreshAnswer> {
    return freshRequest(`${gw.apiUrl}/v3/responses`, {
      method: 'POST',
      headers: { 'rig-correlation': token, 'rig-response-code': code, 'content-type': 'application/json;charset=utf-8', ...headers },
      body,
    });
  }

  function remember(key: string, a: FreshAnswer): void {
    posted.set(key, [...(posted.get(key) ?? []), a]);
  }

  before(async () => {
    up = await startUpstream(undefined, (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const token = url.searchParams.get('correlation') ?? '';
      const path = url.pathname;
      req.resume();
      req.on('end', async () => {
        try {
          if (path === '/async/reply-first') {
            remember(path, await postReply(token, '201', JSON.stringify({ message: 'created later', n: url.searchParams.get('n') })));
            res.writeHead(202).end('the 202 body is not relayed');
          } else if (path === '/async/invalid-code') {
            remember(path, await postReply(token, 'abc201', '{}'));
            res.writeHead(202).end();
          } else if (path === '/async/sync200') {
            res.writeHead(200, { 'content-type': 'text/plain' }).end('cached answer');
          } else if (path === '/async/sync400') {
            res.writeHead(400, { 'content-type': 'text/plain' }).end('bad input upstream');
          } else if (path === '/async/later') {
            res.writeHead(202).end();
            await sleep(30);
            const n = url.searchParams.get('n') ?? '';
            remember(path, await postReply(token, '200', `reply for ${n}`, { 'content-type': 'text/plain', 'x-request-n': n, host: 'evil.example', connection: 'x-drop', 'x-drop': '1' }));
          } else if (path === '/async/never') {
            res.writeHead(202).end();
          } else {
            res.writeHead(404).end();
          }
        } catch (e) {
          res.writeHead(500).end(String(e));
        }
      });
    });
    gw = await startGateway(undefined, {
      SHARDS: '3',
      PROXY_HTTP_ASYNC_RESPONSE_TIMEOUT: String(ASYNC_TIMEOUT_MS),
      PROXY_CONFIG_FILE: JSON.stringify([
        {
          id: 'async',
          name: 'async',
          version_data: { default: { endpoints: [
            { id: 'async-get', method: 'GET', path_regex: '/async/(.+)', response_from: 'http_async' },
            { id: 'async-head', method: 'HEAD', path_regex: '/async/(.+)', response_from: 'http_async' },
          ] } },
          proxy: { target_url: 'localhost', port: up.port },
        },
      ]),
    });
  });

  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  test('reply posted before the upstream\'s 202: the client gets its status, headers and body, with CORS', async () => {
    const r = await freshRequest(`${gw.url}/async/reply-first?n=7&page[limit]=10&correlation=client-value`);
    assert.equal(r.status, 201, r.body);
    assert.deepEqual(JSON.parse(r.body), { message: 'created later', n: '7' });
    assert.equal(r.headers['content-type'], 'application/json;charset=utf-8');
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(r.headers['access-control-allow-methods'], '*');
    assert.equal(r.headers['access-control-allow-headers'], 'content-type');
    assert.deepEqual(posted.get('/async/reply-first')?.map((a) => [a.status, a.body]), [[202, 'message sent to correlated reverse proxy request']]);
    // The upstream saw the other query parameters and exactly one correlation parameter, ours.
    const seen = new URL(up.requests.find((q) => q.url.startsWith('/async/reply-first'))!.url, 'http://x');
    assert.equal(seen.searchParams.get('page[limit]'), '10');
    assert.equal(seen.searchParams.getAll('correlation').length, 1);
    assert.notEqual(seen.searchParams.get('correlation'), 'client-value');
    assert.match(seen.searchParams.get('correlation')!, /^[A-Za-z0-9_-]{40,}$/);
  });

  test('an invalid rig-response-code: /v3/responses answers RIG\'s 400 and the client gets 504 with CORS', async () => {
    const r = await freshRequest(`${gw.url}/async/invalid-code`);
    assert.equal(r.status, 504);
    assert.equal(r.body, '');
    assert.equal(r.headers['access-control-allow-origin'], '*');
    const [answer] = posted.get('/async/invalid-code') ?? [];
    assert.equal(answer?.status, 400);
    assert.equal(answer?.body, 'Failed to parse request body: {:error, {:not_an_integer, "abc201"}}');
  });

  test('an upstream answering 200 or 400 is relayed at once, as with response_from http', async () => {
    const ok = await freshRequest(`${gw.url}/async/sync200`);
    assert.equal(ok.status, 200);
    assert.equal(ok.body, 'cached answer');
    const bad = await freshRequest(`${gw.url}/async/sync400`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body, 'bad input upstream');
  });

  test('no reply: 504 after PROXY_HTTP_ASYNC_RESPONSE_TIMEOUT, empty body; HEAD too', async () => {
    const started = Date.now();
    const r = await freshRequest(`${gw.url}/async/never`);
    assert.equal(r.status, 504);
    assert.ok(Date.now() - started >= ASYNC_TIMEOUT_MS - 50, 'waited for the timeout');
    const head = await freshRequest(`${gw.url}/async/never`, { method: 'HEAD' });
    assert.equal(head.status, 504);
  });

  test('80 concurrent waiting requests on 3 shards: each client gets exactly its own reply; transport headers are not copied', async () => {
    const n = 80;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => freshRequest(`${gw.url}/async/later?n=${i}`)));
    for (const [i, a] of answers.entries()) {
      assert.equal(a.status, 200, `request ${i}: ${a.body}`);
      assert.equal(a.body, `reply for ${i}`);
      assert.equal(a.headers['x-request-n'], String(i));
      assert.equal(a.headers['x-drop'], undefined, 'headers named by the reply\'s connection header are dropped');
    }
    // The upstream learns /v3/responses' answer after the client may already have its reply.
    const posts = await waitFor(() => (posted.get('/async/later')?.length === n ? posted.get('/async/later') : undefined), 5000, 'all replies posted');
    assert.ok(posts.every((p) => p.status === 202));
    // One fresh connection each: the kernel spreads them over the three shards' listeners.
    const stats = JSON.parse((await freshRequest(`${gw.apiUrl}/v3/stats`)).body);
    assert.ok(stats.replies_delivered >= n + 1, `replies delivered: ${stats.replies_delivered}`);
  });

  test('a client that leaves while waiting: its late reply is accepted (202) and nothing breaks', async () => {
    const before = up.requests.length;
    await new Promise<void>((resolve) => {
      const req = request(`${gw.url}/async/never`, { agent: false });
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
    await waitFor(() => up.requests.length > before, 2000, 'the upstream to get the request');
    const token = new URL(up.requests.at(-1)!.url, 'http://x').searchParams.get('correlation')!;
    const late = await postReply(token, '200', 'too late');
    assert.equal(late.status, 202);
    assert.equal(late.body, 'message sent to correlated reverse proxy request');
    const still = await freshRequest(`${gw.url}/async/sync200`);
    assert.equal(still.status, 200);
  });

  test('malformed replies get RIG\'s 400 texts; forged tokens are refused; oversized bodies 413', async () => {
    const missing = await freshRequest(`${gw.apiUrl}/v3/responses`, { method: 'POST', body: '{}' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body, 'Failed to parse request body: :error');
    const noCode = await freshRequest(`${gw.apiUrl}/v3/responses`, { method: 'POST', headers: { 'rig-correlation': 'abc' }, body: '{}' });
    assert.equal(noCode.body, 'Failed to parse request body: :error');
    const forged = await postReply('A'.repeat(60), '200', '{}');
    assert.equal(forged.status, 400);
    assert.equal(forged.body, 'Failed to parse request body: {:error, :invalid_term}');
    const notBase64 = await postReply('not a token!', '200', '{}');
    assert.equal(notBase64.body, 'Failed to parse request body: {:error, :not_base64}');
    const outOfRange = await postReply('A'.repeat(60), '999', '{}');
    assert.equal(outOfRange.status, 400);
    // A real token whose request is long gone is accepted, as RIG did.
    const old = new URL(up.requests.find((q) => q.url.startsWith('/async/never'))!.url, 'http://x').searchParams.get('correlation')!;
    const v2 = await freshRequest(`${gw.apiUrl}/v2/responses`, { method: 'POST', headers: { 'rig-correlation': old, 'rig-response-code': '200' }, body: 'x' });
    assert.equal(v2.status, 202);
    const big = await postReply(old, '200', 'x'.repeat(1024 * 1024 + 1));
    assert.equal(big.status, 413);
    const stats = JSON.parse((await freshRequest(`${gw.apiUrl}/v3/stats`)).body);
    assert.ok(stats.replies_delivered >= 1);
    assert.doesNotMatch(gw.output(), /uncaught|unhandled/i);
  });

  test('rig_proxy_requests_total counts answered replies as ok and missing ones as response_timeout', async () => {
    const line = (path: string, status: string) =>
      `rig_proxy_requests_total{method="GET",path="${path}",target="http",response_from="http_async",status="${status}"}`;
    await waitFor(async () => {
      const text = (await freshRequest(`${gw.apiUrl}/metrics`)).body;
      return text.includes(`${line('/async/reply-first', 'ok')} 1`) && text.includes(`${line('/async/never', 'response_timeout')} 1`)
        && text.includes(`${line('/async/later', 'ok')} 80`) && text.includes(`${line('/async/sync400', 'ok')} 1`);
    }, 5000, 'the proxy request counts');
  });
});
