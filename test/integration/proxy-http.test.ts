/**
 * The synchronous HTTP proxy through the real gateway (2 shards) and a real upstream: RIG's proxy
 * scenarios (spec 12.3) with definitions from PROXY_CONFIG_FILE, plus streaming in both
 * directions. Every request uses its own TCP connection, so both shards serve them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { signJwt, TEST_JWT_SECRET } from '../helpers/jwt.js';
import { freshRequest } from '../helpers/raw-http.js';
import type { FreshAnswer } from '../helpers/raw-http.js';
import { echo, startUpstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';
import type { Upstream } from '../helpers/upstream.js';

const SECURED_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const FLOOD_BYTES = 96 * 1024 * 1024;

function definitions(port: number): unknown[] {
  const ep = (id: string, method: string, path_regex: string, extra: Record<string, unknown> = {}) => ({ id, method, path_regex, ...extra });
  return [
    {
      id: 'myapi',
      name: 'myapi',
      auth_type: 'jwt',
      versioned: false,
      version_data: {
        default: {
          endpoints: [
            ep('free', 'GET', '/myapi/free'),
            ...SECURED_METHODS.map((m) => ep(`books-${m}`, m.toLowerCase(), '/myapi/books', { secured: true })),
            ep('detail', 'GET', '/myapi/detail/(.+)'),
            ep('direct', 'GET', '/myapi/direct'),
            ep('transform', 'POST', '/myapi/transform-headers', { transform_request_headers: true }),
            ep('no-transform', 'POST', '/myapi/no-transform-headers'),
            ep('rewrite', 'GET', '/docs/([^/]+)/tables/([^/]+)', { path_replacement: '/mytables/\\1/\\2' }),
            ep('upload', 'POST', '/myapi/upload'),
            ep('stream', 'GET', '/myapi/stream/(.+)'),
            ep('big', 'PUT', '/myapi/big'),
            ep('trace', 'TRACE', '/myapi/trace'),
            ep('kafka', 'POST', '/myapi/kafka', { target: 'kafka', topic: 'requests' }),
            ep('nats', 'POST', '/myapi/nats', { target: 'nats', topic: 'requests' }),
            ep('kinesis-reply', 'GET', '/myapi/kinesis-reply', { response_from: 'kinesis' }),
          ],
          transform_request_headers: { add_headers: { host: 'different', john: 'doe' } },
        },
      },
      proxy: { use_env: false, target_url: 'localhost', port },
    },
    {
      id: 'query-auth',
      name: 'query-auth',
      auth_type: 'jwt',
      auth: { use_query: true, query_name: 'token' },
      version_data: { default: { endpoints: [ep('q', 'GET', '/q/secured', { secured: true })] } },
      proxy: { target_url: 'localhost', port },
    },
    {
      id: 'from-env',
      name: 'from-env',
      version_data: { default: { endpoints: [ep('env', 'GET', '/env/(.*)')] } },
      proxy: { use_env: true, target_url: 'PROXY_TEST_UPSTREAM', port },
    },
  ];
}

/** The upstream's echo of the request (see helpers/upstream.ts). */
function echoed(r: FreshAnswer): { method: string; url: string; headers: Record<string, string>; body: string } {
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body);
}

describe('HTTP proxy', () => {
  let up: Upstream;
  let gw: RunningGateway;
  let dir: string;
  const jwt = signJwt({ jti: 'proxy-session' });
  let openGate: () => void = () => undefined;
  const gate = new Promise<void>((r) => (openGate = r));
  const flood = { written: 0 };

  before(async () => {
    up = await startUpstream(undefined, (req, res, record) => {
      const url = req.url ?? '';
      if (url === '/myapi/upload' || url === '/myapi/big') {
        req.on('end', () => {
          const digest = createHash('sha256').update(record.body).digest('hex');
          res.writeHead(201, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ bytes: record.body.length, sha256: digest, contentType: req.headers['content-type'] }));
        });
      } else if (url.startsWith('/myapi/stream/chunked')) {
        // No content-length: the gateway must pass the pieces on as they come.
        res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], connection: 'keep-alive, x-hop', 'x-hop': 'dropped', 'x-kept': 'yes' });
        let i = 0;
        const timer = setInterval(() => {
          res.write(`piece ${i}\n`);
          if (++i === 5) {
            clearInterval(timer);
            res.end();
          }
        }, 20);
      } else if (url.startsWith('/myapi/stream/sized')) {
        const size = Number(url.split('/').pop());
        const data = Buffer.alloc(size);
        for (let i = 0; i < size; i++) data[i] = i % 251;
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size, 'x-sha256': createHash('sha256').update(data).digest('hex') });
        res.end(data);
      } else if (url === '/myapi/stream/gated') {
        // The second piece is sent only once the client has the first: a gateway that buffered
        // the response would never deliver either.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first|');
        gate.then(() => res.end('second'));
      } else if (url === '/myapi/stream/flood') {
        // As much as the upstream can write, respecting its own socket's backpressure.
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': FLOOD_BYTES });
        const piece = Buffer.alloc(65536, 7);
        const pump = () => {
          while (flood.written < FLOOD_BYTES) {
            flood.written += piece.length;
            if (!res.write(piece)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      } else if (req.method === 'HEAD') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 42, 'x-method': 'HEAD' });
        res.end();
      } else {
        echo(req, res, record);
      }
    });
    dir = mkdtempSync(join(tmpdir(), 'rig-proxy-'));
    const file = join(dir, 'proxy.json');
    writeFileSync(file, JSON.stringify(definitions(up.port)));
    gw = await startGateway(undefined, { PROXY_CONFIG_FILE: file, JWT_SECRET_KEY: TEST_JWT_SECRET, PROXY_TEST_UPSTREAM: 'http://127.0.0.1' });
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an undefined route answers 404 {"message":"Not Found"} without content type', async () => {
    for (const path of ['/random/route', '/myapi/free/more', '/_rig/unknown']) {
      const r = await freshRequest(`${gw.url}${path}`);
      assert.equal(r.status, 404);
      assert.equal(r.body, '{"message":"Not Found"}');
      assert.equal(r.headers['content-type'], undefined);
    }
    assert.equal((await freshRequest(`${gw.url}/myapi/free`, { method: 'DELETE' })).status, 404, 'the method must match too');
  });

  test('secured endpoint: 401 with CORS headers without a valid JWT, 200 with a Bearer JWT', async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer not-a-jwt' }, { authorization: `Bearer ${signJwt({}, { secret: 'other' })}` }, { authorization: `Basic ${jwt}` }];
    for (const headers of attempts) {
      const r = await freshRequest(`${gw.url}/myapi/books`, { headers });
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.equal(r.body, 'Authentication failed.');
      assert.equal(r.headers['access-control-allow-origin'], '*');
      assert.equal(r.headers['access-control-allow-methods'], '*');
      assert.equal(r.headers['access-control-allow-headers'], 'content-type');
    }
    const before = up.requests.length;
    const ok = echoed(await freshRequest(`${gw.url}/myapi/books`, { headers: { authorization: `Bearer ${jwt}` } }));
    assert.equal(ok.headers['authorization'], `Bearer ${jwt}`, 'Authorization is forwarded unchanged');
    assert.equal(up.requests.length, before + 1, 'rejected requests never reached the upstream');
    // Several credentials in one header: one valid bearer token suffices.
    assert.equal((await freshRequest(`${gw.url}/myapi/books`, { headers: { authorization: `Bearer junk, Bearer ${jwt}` } })).status, 200);
  });

  test('unsecured endpoint: 200 without JWT', async () => {
    const e = echoed(await freshRequest(`${gw.url}/myapi/free`));
    assert.equal(e.method, 'GET');
    assert.equal(e.url, '/myapi/free');
  });

  test('token in the query parameter (auth.use_query)', async () => {
    assert.equal((await freshRequest(`${gw.url}/q/secured`)).status, 401);
    assert.equal((await freshRequest(`${gw.url}/q/secured?token=junk`)).status, 401);
    const e = echoed(await freshRequest(`${gw.url}/q/secured?token=junk,${jwt}&x=1`));
    assert.equal(e.url, `/q/secured?token=junk,${jwt}&x=1`, 'the query string reaches the upstream as sent');
  });

  test('GET, POST, PUT, PATCH, DELETE, OPTIONS forwarded with their method; HEAD as HEAD without body', async () => {
    for (const method of SECURED_METHODS.filter((m) => m !== 'HEAD')) {
      const withBody = ['POST', 'PUT', 'PATCH'].includes(method);
      const r = await freshRequest(`${gw.url}/myapi/books`, {
        method,
        headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
        ...(withBody ? { body: `{"method":"${method}"}` } : {}),
      });
      const e = echoed(r);
      assert.equal(e.method, method);
      assert.equal(e.body, withBody ? `{"method":"${method}"}` : '');
    }
    const head = await freshRequest(`${gw.url}/myapi/books`, { method: 'HEAD', headers: { authorization: `Bearer ${jwt}` } });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['x-method'], 'HEAD', 'the upstream got HEAD, not GET');
    assert.equal(head.headers['content-length'], '42', 'the upstream\'s length is reported');
    // A HEAD request also matches a GET endpoint (RIG routed HEAD as GET); it is still sent as HEAD.
    const headFree = await freshRequest(`${gw.url}/myapi/free`, { method: 'HEAD' });
    assert.equal(headFree.status, 200);
    assert.equal(headFree.headers['x-method'], 'HEAD');
  });

  test('an endpoint with a method the proxy does not forward answers 405', async () => {
    const r = await freshRequest(`${gw.url}/myapi/trace`, { method: 'TRACE' });
    assert.equal(r.status, 405);
    assert.equal(r.body, 'Method not allowed.');
  });

  test('path parameters with dots and UUIDs match (.+)', async () => {
    for (const id of ['first.user', '95258830-28c6-11e7-a7ed-a1b56e729040']) {
      assert.equal(echoed(await freshRequest(`${gw.url}/myapi/detail/${id}`)).url, `/myapi/detail/${id}`);
    }
  });

  test('nested query parameters reach the upstream', async () => {
    const e = echoed(await freshRequest(`${gw.url}/myapi/free?page[offset]=0&page[limit]=10`));
    const q = Object.fromEntries(new URL(e.url, 'http://x').searchParams);
    assert.deepEqual(q, { 'page[offset]': '0', 'page[limit]': '10' });
  });

  test('a multipart upload reaches the upstream byte for byte, its 201 comes back', async () => {
    const boundary = '----rig-test-boundary';
    const file = randomBytes(300_000);
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="display_name"\r\n\r\nupload_example\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload_example.txt"\r\nContent-Type: plain/text\r\n\r\n`),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const r = await freshRequest(`${gw.url}/myapi/upload`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
    assert.equal(r.status, 201, r.body);
    assert.deepEqual(JSON.parse(r.body), {
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      contentType: `multipart/form-data; boundary=${boundary}`,
    });
  });

  test('a large upload is streamed: 8 MB arrive intact, in pieces', async () => {
    const body = randomBytes(8 * 1024 * 1024);
    const r = await new Promise<FreshAnswer>((resolve, reject) => {
      const req = request(`${gw.url}/myapi/big`, { method: 'PUT', agent: false, headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      // Chunked, in 64 KB pieces: the gateway never sees the whole body at once.
      for (let o = 0; o < body.length; o += 65536) req.write(body.subarray(o, o + 65536));
      req.end();
    });
    assert.equal(r.status, 201, r.body);
    assert.deepEqual(JSON.parse(r.body), { bytes: body.length, sha256: createHash('sha256').update(body).digest('hex'), contentType: 'application/octet-stream' });
  });

  test('an upload reaches the upstream while the client is still sending it', async () => {
    const before = up.requests.length;
    const res = new Promise<FreshAnswer>((resolve, reject) => {
      const req = request(`${gw.url}/myapi/big`, { method: 'PUT', agent: false, headers: { 'content-length': String(2 * 65536) } }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.write(Buffer.alloc(65536, 1));
      // The second half only goes out once the upstream has bytes of the first.
      waitFor(() => up.requests.length > before && up.requests.at(-1)!.received > 0, 5000, 'the first bytes at the upstream').then(
        () => req.end(Buffer.alloc(65536, 2)),
        (e) => req.destroy(e),
      );
    });
    const r = await res;
    assert.equal(r.status, 201, r.body);
    assert.equal(JSON.parse(r.body).bytes, 2 * 65536);
  });

  test('a response reaches the client while the upstream is still sending it', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(`${gw.url}/myapi/stream/gated`, { agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
          if (text === 'first|') openGate();
        });
        res.on('end', () => resolve(text));
      });
      req.setTimeout(5000, () => req.destroy(new Error('the first piece never arrived')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(body, 'first|second');
  });

  test('a client that does not read holds the upstream back (backpressure), then gets every byte', async () => {
    const sock = connect(gw.publicPort, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write('GET /myapi/stream/flood HTTP/1.1\r\nhost: x\r\n\r\n');
    sock.pause();
    await waitFor(() => flood.written > 0, 5000, 'the upstream to start');
    await new Promise((r) => setTimeout(r, 1500));
    const whilePaused = flood.written;
    assert.ok(whilePaused < FLOOD_BYTES / 2, `the upstream wrote ${whilePaused} of ${FLOOD_BYTES} bytes to a client that reads nothing`);
    let received = 0;
    let head = '';
    await new Promise<void>((resolve, reject) => {
      sock.on('data', (c: Buffer) => {
        if (head === '' || !head.includes('\r\n\r\n')) {
          const text = c.toString('latin1');
          head += text;
          const split = head.indexOf('\r\n\r\n');
          if (split >= 0) received += Buffer.byteLength(head.slice(split + 4), 'latin1');
        } else received += c.length;
        if (received >= FLOOD_BYTES) resolve();
      });
      sock.on('error', reject);
      sock.on('close', () => resolve());
      sock.resume();
    });
    sock.destroy();
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.match(head, new RegExp(`content-length: ${FLOOD_BYTES}`, 'i'));
    assert.equal(received, FLOOD_BYTES);
  });

  test('responses stream back: chunked as chunked, a content-length body intact with its length', async () => {
    const chunked = await freshRequest(`${gw.url}/myapi/stream/chunked`);
    assert.equal(chunked.status, 200);
    assert.equal(chunked.body, 'piece 0\npiece 1\npiece 2\npiece 3\npiece 4\n');
    assert.equal(chunked.headers['transfer-encoding'], 'chunked');
    assert.deepEqual(chunked.headers['set-cookie'], ['a=1', 'b=2'], 'repeated headers kept');
    assert.equal(chunked.headers['x-kept'], 'yes');
    assert.equal(chunked.headers['x-hop'], undefined, 'headers named in Connection are hop-by-hop');

    const size = 6 * 1024 * 1024 + 7;
    const sized = await new Promise<{ status: number; length: string | undefined; sha: string; expected: string | undefined; bytes: number }>((resolve, reject) => {
      const req = request(`${gw.url}/myapi/stream/sized/${size}`, { agent: false }, (res) => {
        const hash = createHash('sha256');
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          hash.update(c);
          bytes += c.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, length: res.headers['content-length'], sha: hash.digest('hex'), expected: res.headers['x-sha256'] as string, bytes }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(sized.status, 200);
    assert.equal(sized.length, String(size));
    assert.equal(sized.bytes, size);
    assert.equal(sized.sha, sized.expected);
  });

  test('the upstream always sees forwarded: for=<client>;by=<HOST address>, replacing a client value', async () => {
    const variants: Array<Record<string, string>> = [{}, { forwarded: 'for=6.6.6.6;by=evil' }];
    for (const headers of variants) {
      const e = echoed(await freshRequest(`${gw.url}/myapi/direct`, { headers }));
      assert.match(e.headers['forwarded']!, /^for=127\.0\.0\.1;by=\d+\.\d+\.\d+\.\d+$/);
    }
  });

  test('the upstream\'s host header names the upstream, not the gateway', async () => {
    const e = echoed(await freshRequest(`${gw.url}/myapi/direct`, { headers: { host: 'rig.local' } }));
    assert.equal(e.headers['host'], `localhost:${up.port}`);
  });

  test('transform_request_headers: add_headers replace and add headers, only where asked for', async () => {
    const t = echoed(await freshRequest(`${gw.url}/myapi/transform-headers`, { method: 'POST', headers: { host: 'original', john: 'smith' }, body: '' }));
    assert.equal(t.headers['host'], 'different');
    assert.equal(t.headers['john'], 'doe');
    const n = echoed(await freshRequest(`${gw.url}/myapi/no-transform-headers`, { method: 'POST', headers: { host: 'original' }, body: '' }));
    assert.equal(n.headers['host'], `localhost:${up.port}`);
    assert.equal(n.headers['john'], undefined);
  });

  test('path_replacement rewrites the path with the capture groups', async () => {
    assert.equal(echoed(await freshRequest(`${gw.url}/docs/123/tables/456?x=1`)).url, '/mytables/123/456?x=1');
  });

  test('use_env: the upstream comes from the environment variable named by target_url', async () => {
    const e = echoed(await freshRequest(`${gw.url}/env/a/b`));
    assert.equal(e.url, '/env/a/b');
    assert.equal(e.headers['host'], `127.0.0.1:${up.port}`);
  });

  test('kafka target without KAFKA_BROKERS: 503 with CORS; nats and kinesis answer 501; none reaches the upstream', async () => {
    const before = up.requests.length;
    const k = await freshRequest(`${gw.url}/myapi/kafka`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"specversion":"1.0"}' });
    assert.equal(k.status, 503);
    assert.equal(k.body, 'This endpoint forwards to Kafka, but the gateway has no Kafka brokers configured (KAFKA_BROKERS).');
    assert.equal(k.headers['access-control-allow-headers'], 'content-type,authorization');
    const n = await freshRequest(`${gw.url}/myapi/nats`, { method: 'POST', body: '{"specversion":"1.0"}' });
    assert.equal(n.status, 501);
    assert.equal(n.body, 'This endpoint uses target nats, which this gateway does not support yet.');
    const a = await freshRequest(`${gw.url}/myapi/kinesis-reply`);
    assert.equal(a.status, 501);
    assert.equal(a.body, 'This endpoint uses response_from kinesis, which this gateway does not support yet.');
    assert.equal(up.requests.length, before);
  });

  test('the gateway\'s own routes still win over the proxy', async () => {
    const health = await freshRequest(`${gw.url}/_rig/health`);
    assert.equal(health.body, 'OK');
    assert.doesNotMatch(gw.output(), /uncaught|unhandled/i);
  });
});
