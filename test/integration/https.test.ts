/**
 * HTTPS on both ports (HTTPS_CERTFILE, HTTPS_KEYFILE, HTTPS_KEYFILE_PASS) with a self-signed
 * certificate the test makes with openssl: SSE, WebSocket, event submission and the proxy over
 * the public HTTPS port of a 2-shard gateway whose HTTP ports keep working, the internal API over
 * its HTTPS port, and start-up refusals for a half configuration, a missing file, a wrong
 * passphrase and an occupied HTTPS port. Clients verify the gateway against the certificate (no verification switched off).
 * Without openssl the test is skipped on a developer machine; under CI=true it fails.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SseClient, WsClient } from '../helpers/clients.js';
import { freePort, runGatewayExpectingExit, startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { greeting, http, postEvent } from '../helpers/http.js';
import { startUpstream } from '../helpers/upstream.js';
import type { Upstream } from '../helpers/upstream.js';

const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
if (process.env.CI && !hasOpenssl) throw new Error('openssl is required for the HTTPS test under CI');
const skip = hasOpenssl ? false : 'no openssl on this machine';

const PASSPHRASE = 'correct horse battery staple';
const GREETINGS = JSON.stringify([{ eventType: 'greeting' }]);

interface Certificates {
  dir: string;
  cert: string;
  key: string;
  encryptedKey: string;
  /** The certificate's PEM text: clients trust exactly this certificate. */
  ca: string;
}

/** A self-signed certificate for 127.0.0.1 and localhost, its key, and the key encrypted with PASSPHRASE. */
function makeCertificates(): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'rig-https-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const encryptedKey = join(dir, 'key-encrypted.pem');
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
  };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
  run(['pkey', '-in', key, '-aes256', '-passout', `pass:${PASSPHRASE}`, '-out', encryptedKey]);
  return { dir, cert, key, encryptedKey, ca: readFileSync(cert, 'utf8') };
}

interface TlsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request over HTTPS, verified against `ca`, on a connection of its own. */
function tlsRequest(url: string, ca: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('HTTPS on the public port and the internal API', { skip }, () => {
  let certs: Certificates;
  let gw: RunningGateway;
  let up: Upstream;
  let https: string;
  let apiHttps: string;

  before(async () => {
    certs = makeCertificates();
    up = await startUpstream(undefined);
    const apis = [{
      id: 'echo', name: 'echo',
      version_data: { default: { endpoints: [{ id: 'direct', method: 'GET', path_regex: '/echo' }] } },
      proxy: { target_url: 'localhost', port: up.port },
    }];
    writeFileSync(join(certs.dir, 'apis.json'), JSON.stringify(apis));
    // The encrypted key: uWS must get the passphrase in every shard and in main.
    gw = await startGateway(undefined, {
      HTTPS_CERTFILE: certs.cert, HTTPS_KEYFILE: certs.encryptedKey, HTTPS_KEYFILE_PASS: PASSPHRASE,
      PROXY_CONFIG_FILE: join(certs.dir, 'apis.json'),
    });
    assert.ok(gw.httpsUrl && gw.apiHttpsUrl, gw.output());
    https = gw.httpsUrl;
    apiHttps = gw.apiHttpsUrl;
  });
  after(async () => {
    const code = await gw?.stop();
    await up?.close();
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
    assert.equal(code, 0, 'both listeners of every shard and of main close on SIGTERM');
  });

  test('SSE over HTTPS: 200 text/event-stream, and an event submitted over HTTP arrives', async () => {
    // Several connections, so that both shards serve one (the kernel spreads them).
    const clients = await Promise.all([1, 2, 3, 4].map(() => SseClient.connect(https, { subscriptions: GREETINGS }, { ca: certs.ca })));
    try {
      for (const c of clients) {
        assert.equal(c.status, 200);
        assert.match(String(c.headers['content-type']), /^text\/event-stream/);
        await c.next((e) => e.event === 'rig.connection.create');
        await c.next((e) => e.event === 'rig.subscriptions_set');
      }
      const sent = greeting('over-tls');
      assert.equal((await postEvent(gw.url, sent)).status, 202);
      for (const c of clients) {
        const got = await c.next((e) => e.event === 'greeting');
        assert.equal(got.data.id, sent.id);
      }
    } finally {
      for (const c of clients) c.close();
    }
  });

  test('WebSocket over wss: rig.connection.create, then events', async () => {
    const ws = await WsClient.connect(https, { subscriptions: GREETINGS }, { ca: certs.ca });
    try {
      const created = await ws.next((e) => e.event === 'rig.connection.create');
      assert.equal(typeof created.data.data.connection_token, 'string');
      await ws.next((e) => e.event === 'rig.subscriptions_set');
      const sent = greeting('wss');
      assert.equal((await postEvent(gw.url, sent)).status, 202);
      assert.equal((await ws.next((e) => e.event === 'greeting')).data.id, sent.id);
    } finally {
      ws.close();
    }
  });

  test('POST /_rig/v1/events over HTTPS: 202, delivered to an HTTP subscriber', async () => {
    const sse = await SseClient.connect(gw.url, { subscriptions: GREETINGS });
    try {
      await sse.next((e) => e.event === 'rig.subscriptions_set');
      const sent = greeting('posted-over-tls');
      const r = await tlsRequest(`${https}/_rig/v1/events`, certs.ca, {
        method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(sent),
      });
      assert.equal(r.status, 202, r.body);
      assert.equal((await sse.next((e) => e.event === 'greeting')).data.id, sent.id);
    } finally {
      sse.close();
    }
  });

  test('the proxy over HTTPS tells the upstream forwarded: ...;proto=https; over HTTP as RIG did', async () => {
    const tls = await tlsRequest(`${https}/echo`, certs.ca);
    assert.equal(tls.status, 200, tls.body);
    assert.match(JSON.parse(tls.body).headers.forwarded, /^for=127\.0\.0\.1;by=[^;]+;proto=https$/);
    const plain = await http(`${gw.url}/echo`);
    assert.match(JSON.parse(plain.body).headers.forwarded, /^for=127\.0\.0\.1;by=[^;]+$/);
  });

  test('the HTTP ports keep working; /_rig/health on both public ports', async () => {
    assert.equal((await http(`${gw.url}/_rig/health`)).body, 'OK');
    const r = await tlsRequest(`${https}/_rig/health`, certs.ca);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'OK');
  });

  test('the internal API over HTTPS: /health OK, /v3/apis lists the definitions; HTTP too', async () => {
    const health = await tlsRequest(`${apiHttps}/health`, certs.ca);
    assert.deepEqual([health.status, health.body], [200, 'OK']);
    const apis = await tlsRequest(`${apiHttps}/v3/apis`, certs.ca);
    assert.equal(apis.status, 200);
    assert.deepEqual(JSON.parse(apis.body).map((a: { id: string }) => a.id), ['echo']);
    assert.equal((await http(`${gw.apiUrl}/health`)).body, 'OK');
  });

  test('a client that does not trust the certificate is refused by TLS, not served', async () => {
    await assert.rejects(
      new Promise((resolve, reject) => {
        const req = request(`${https}/_rig/health`, { agent: false }, resolve);
        req.on('error', reject);
        req.end();
      }),
      /self[- ]signed/i,
    );
  });
});

describe('HTTPS configuration errors stop start-up naming the variable', { skip }, () => {
  let certs: Certificates;
  before(() => {
    certs = makeCertificates();
  });
  after(() => {
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  });

  async function refused(env: Record<string, string>, mention: RegExp): Promise<string> {
    const { code, output } = await runGatewayExpectingExit({ SHARDS: '1', INBOUND_PORT: '0', API_HTTP_PORT: '0', ...env });
    assert.equal(code, 2, output);
    assert.match(output, /Invalid configuration, not starting/);
    assert.match(output, mention);
    assert.doesNotMatch(output, /rig gateway listening/);
    return output;
  }

  test('only the certificate, or only the key', async () => {
    await refused({ HTTPS_CERTFILE: certs.cert }, /HTTPS_KEYFILE: is empty, but HTTPS_CERTFILE is set/);
    await refused({ HTTPS_KEYFILE: certs.key }, /HTTPS_CERTFILE: is empty, but HTTPS_KEYFILE is set/);
  });

  test('a file that does not exist', async () => {
    await refused({ HTTPS_CERTFILE: join(certs.dir, 'nope.pem'), HTTPS_KEYFILE: certs.key }, /HTTPS_CERTFILE: ".*nope\.pem" is not a readable file/);
  });

  test('an occupied HTTPS port, public or internal, stops start-up naming its variable', async () => {
    for (const variable of ['INBOUND_HTTPS_PORT', 'API_HTTPS_PORT']) {
      const port = await freePort();
      const blocker = createServer((s) => s.destroy());
      await new Promise<void>((resolve, reject) => {
        blocker.once('error', reject);
        blocker.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve());
      });
      try {
        const { code, output } = await runGatewayExpectingExit({
          INBOUND_HOST: '127.0.0.1', API_HTTP_HOST: '127.0.0.1', INBOUND_PORT: String(await freePort()), API_HTTP_PORT: '0',
          INBOUND_HTTPS_PORT: String(await freePort()), API_HTTPS_PORT: '0', SHARDS: '2',
          HTTPS_CERTFILE: certs.cert, HTTPS_KEYFILE: certs.key, [variable]: String(port),
        });
        assert.equal(typeof code, 'number', `the gateway must exit by itself (it was killed): ${output}`);
        assert.notEqual(code, 0, output);
        assert.match(output, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(${variable}\\)`));
        assert.doesNotMatch(output, /rig gateway listening/);
      } finally {
        await new Promise<void>((r) => blocker.close(() => r()));
      }
    }
  });

  test('an encrypted key with a wrong or without a passphrase', async () => {
    const out = await refused(
      { HTTPS_CERTFILE: certs.cert, HTTPS_KEYFILE: certs.encryptedKey, HTTPS_KEYFILE_PASS: 'not-the-passphrase' },
      /HTTPS_KEYFILE_PASS: does not decrypt HTTPS_KEYFILE/,
    );
    assert.ok(!out.includes('not-the-passphrase'), 'the passphrase is never printed');
    await refused({ HTTPS_CERTFILE: certs.cert, HTTPS_KEYFILE: certs.encryptedKey }, /HTTPS_KEYFILE: the key is encrypted and HTTPS_KEYFILE_PASS is empty/);
  });
});
