/**
 * JWKS_URL through the real gateway: secured proxy routes checked with the keys a real local
 * JWKS endpoint publishes (RSA and EC), key rotation, made-up key ids (the endpoint is not
 * flooded), a provider that answers junk or is down (known keys keep working), and requests that
 * wait for the first fetch with their body held. One shard, so fetch counts are exact.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { ecKey, keySet, rsaKey, startJwksServer } from '../helpers/jwks.js';
import type { JwksAnswer, JwksServer } from '../helpers/jwks.js';
import { signJwt, signJwtWithKey } from '../helpers/jwt.js';
import { freshRequest } from '../helpers/raw-http.js';
import { startUpstream } from '../helpers/upstream.js';
import type { Upstream } from '../helpers/upstream.js';
import { sleep } from '../helpers/wait.js';

const MIN_REFRESH_MS = 1000;
const RSA1 = rsaKey('rsa-1');
const RSA2 = rsaKey('rsa-2');
const EC1 = ecKey('ec-1');

function definitions(port: number): unknown[] {
  const ep = (id: string, method: string, path_regex: string, extra: Record<string, unknown> = {}) => ({ id, method, path_regex, secured: true, ...extra });
  return [{
    id: 'jwks-api',
    name: 'jwks-api',
    auth_type: 'jwt',
    version_data: {
      default: {
        endpoints: [
          ep('get', 'GET', '/secured'),
          ep('post', 'POST', '/secured'),
          ep('kafka', 'POST', '/secured/kafka', { target: 'kafka', topic: 'requests' }),
        ],
      },
    },
    proxy: { target_url: 'localhost', port },
  }];
}

async function setUp(t: TestContext, first: JwksAnswer): Promise<{ gw: RunningGateway; jwks: JwksServer; up: Upstream }> {
  const jwks = await startJwksServer(t, first);
  return { jwks, ...(await setUpWith(t, jwks)) };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const rsaToken = (key: typeof RSA1, kid: string = key.kid) => signJwtWithKey({ sub: kid }, { privateKey: key.privateKey, algorithm: 'RS256', kid });

async function status(url: string, token: string): Promise<number> {
  return (await freshRequest(url, { headers: bearer(token) })).status;
}

describe('JWKS_URL: secured proxy routes', () => {
  test('keys by kid, rotation, made-up kids rate-limited, junk and outages keep the known keys', async (t) => {
    const { gw, jwks } = await setUp(t, keySet(RSA1, EC1));
    const url = `${gw.url}/secured`;

    assert.equal(await status(url, rsaToken(RSA1)), 200, 'RSA key rsa-1');
    assert.equal(await status(url, signJwtWithKey({}, { privateKey: EC1.privateKey, algorithm: 'ES256', kid: 'ec-1' })), 200, 'EC key ec-1 (ES256)');
    assert.equal(await status(url, signJwt({})), 401, 'HS256 without kid: no JWT_SECRET_KEY');
    assert.equal(await status(url, rsaToken(RSA2, 'rsa-1')), 401, 'signed by another key than its kid names');
    assert.equal(await status(url, signJwtWithKey({}, { privateKey: RSA1.privateKey, algorithm: 'RS256', kid: 'ec-1' })), 401, 'the EC key verifies ES256 only');

    // Rotation: rsa-2 replaces rsa-1. A token of the new key is accepted at once (it causes a refresh).
    jwks.serve(keySet(RSA2, EC1));
    await sleep(MIN_REFRESH_MS + 100);
    const body = randomBytes(1024 * 1024);
    const posted = await freshRequest(url, { method: 'POST', headers: { ...bearer(rsaToken(RSA2)), 'content-type': 'application/octet-stream' }, body });
    assert.equal(posted.status, 200, posted.body);
    assert.equal(
      createHash('sha256').update(JSON.parse(posted.body).body, 'utf8').digest('hex'),
      createHash('sha256').update(body.toString('utf8')).digest('hex'),
      'the body of a request that waited for the refresh reaches the upstream whole',
    );
    assert.equal(await status(url, rsaToken(RSA2)), 200);
    assert.equal(await status(url, rsaToken(RSA1)), 401, 'the removed key no longer verifies (also not from the cache)');

    // Made-up key ids: at most one fetch per JWKS_MIN_REFRESH_INTERVAL_MS.
    await sleep(MIN_REFRESH_MS + 100);
    const before = jwks.requests;
    const ghosts = await Promise.all(Array.from({ length: 50 }, (_, i) => status(url, rsaToken(RSA2, `ghost-${i}`))));
    assert.deepEqual(new Set(ghosts), new Set([401]));
    const fetched = jwks.requests - before;
    assert.ok(fetched >= 1 && fetched <= 2, `50 unknown kids caused ${fetched} fetches`);
    assert.equal(await status(url, rsaToken(RSA2, 'ghost-again')), 401);
    assert.equal(jwks.requests - before, fetched, 'within the interval: no fetch at all');

    // The provider answers junk: the last good keys stay.
    jwks.serve({ status: 200, body: '<html>maintenance</html>' });
    await sleep(MIN_REFRESH_MS + 100);
    const beforeJunk = jwks.requests;
    assert.equal(await status(url, rsaToken(RSA2, 'ghost-junk')), 401);
    assert.equal(jwks.requests, beforeJunk + 1, 'the unknown kid fetched the junk');
    assert.equal(await status(url, rsaToken(RSA2)), 200);
    assert.equal(await status(url, signJwtWithKey({}, { privateKey: EC1.privateKey, algorithm: 'ES256', kid: 'ec-1' })), 200);

    // The provider is down: the same.
    await jwks.close();
    await sleep(MIN_REFRESH_MS + 100);
    assert.equal(await status(url, rsaToken(RSA2, 'ghost-down')), 401);
    assert.equal(await status(url, rsaToken(RSA2)), 200);
    assert.match(gw.output(), /JWKS_URL: fetching the keys failed, keeping the 2 known key\(s\)/);
  });

  test('requests arriving before the first fetch wait for it, body held; a client leaving meanwhile harms nothing', async (t) => {
    const jwks = await startJwksServer(t, keySet(RSA1));
    const release = jwks.hold();
    const { gw, up } = await setUpWith(t, jwks);
    const url = `${gw.url}/secured`;
    const body = randomBytes(512 * 1024).toString('base64');
    let answered = false;
    const waiting = freshRequest(url, { method: 'POST', headers: { ...bearer(rsaToken(RSA1)), 'content-type': 'text/plain' }, body })
      .then((r) => ((answered = true), r));
    const waitingGet = freshRequest(url, { headers: bearer(rsaToken(RSA1)) });
    const kafka = freshRequest(`${url}/kafka`, { method: 'POST', headers: { ...bearer(rsaToken(RSA1)), 'content-type': 'application/json' }, body: '{"specversion":"1.0"}' });
    const denied = freshRequest(url, { headers: bearer(rsaToken(RSA2)) });
    const leaving = request(url, { method: 'POST', agent: false, headers: { ...bearer(rsaToken(RSA1)), 'content-length': '10' } });
    leaving.on('error', () => {});
    leaving.write('12345');
    await sleep(300);
    assert.equal(answered, false, 'no answer before the keys are known');
    assert.equal(up.requests.length, 0);
    leaving.destroy();
    await sleep(50);
    release();

    const r = await waiting;
    assert.equal(r.status, 200, r.body);
    assert.equal(JSON.parse(r.body).body, body);
    assert.equal((await waitingGet).status, 200);
    assert.equal((await kafka).status, 503, 'the kafka target answers without Kafka, the held body released');
    assert.equal((await denied).status, 401);
    assert.equal(up.requests.length, 2, 'the request whose client left never reached the upstream');
    assert.equal(await status(url, rsaToken(RSA1)), 200, 'the shard still serves');
  });
});

async function setUpWith(t: TestContext, jwks: JwksServer): Promise<{ gw: RunningGateway; up: Upstream }> {
  const up = await startUpstream(t);
  const dir = mkdtempSync(join(tmpdir(), 'rig-jwks-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'proxy.json');
  writeFileSync(file, JSON.stringify(definitions(up.port)));
  const gw = await startGateway(t, {
    PROXY_CONFIG_FILE: file,
    SHARDS: '1',
    JWT_ALG: 'RS256',
    JWKS_URL: jwks.url,
    JWKS_MIN_REFRESH_INTERVAL_MS: String(MIN_REFRESH_MS),
    JWKS_TIMEOUT_MS: '8000',
  });
  return { gw, up };
}
