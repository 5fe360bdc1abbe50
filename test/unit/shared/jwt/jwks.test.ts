/**
 * JWKS: parsing key sets (RFC 7517), the key source's fetching rules against a real local HTTP
 * server (refresh on unknown kid, rate limit, shared fetches, failures keep the last good keys),
 * and the verifier on top of it (kid selection, one algorithm per key, cache vs. removed keys).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { JwksKeySource, parseJwks } from '../../../../src/shared/jwt/jwks.js';
import { JwtError, NO_KID_REASON, UNKNOWN_KID_REASON, createJwtVerifier } from '../../../../src/shared/jwt/verifier.js';
import type { Logger } from '../../../../src/shared/logger.js';
import { ecKey, keySet, rsaKey, startJwksServer } from '../../../helpers/jwks.js';
import { signJwtWithKey } from '../../../helpers/jwt.js';

const RSA1 = rsaKey('rsa-1');
const RSA2 = rsaKey('rsa-2');
const EC1 = ecKey('ec-1');

function capture(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (m) => void warnings.push(m) };
}

function source(url: string, log: Logger, extra: Partial<{ minRefreshIntervalMs: number; timeoutMs: number }> = {}): JwksKeySource {
  const s = new JwksKeySource({ url, defaultAlg: 'RS256', refreshIntervalMs: 600_000, minRefreshIntervalMs: 0, timeoutMs: 2000, log, ...extra });
  return s;
}

function rejects(fn: () => unknown, reason: string): void {
  assert.throws(fn, (e: unknown) => e instanceof JwtError && e.reason === reason, reason);
}

test('parseJwks: RSA and EC keys, each bound to one algorithm', () => {
  const { keys, warnings } = parseJwks(keySet(RSA1, EC1, ecKey('ec-384', 'P-384'), ecKey('ec-521', 'P-521'), rsaKey('rs512', { alg: 'RS512' })), 'RS384');
  assert.deepEqual(warnings, []);
  assert.deepEqual(keys.map((k) => [k.kid, k.alg]), [['rsa-1', 'RS384'], ['ec-1', 'ES256'], ['ec-384', 'ES384'], ['ec-521', 'ES512'], ['rs512', 'RS512']]);
  assert.equal(parseJwks(keySet(RSA1), 'HS256').keys[0]!.alg, 'RS256', 'JWT_ALG not an RS algorithm: RSA keys without alg are RS256');
  assert.equal(
    keys[0]!.pem,
    createPublicKey({ key: RSA1.jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString(),
  );
});

test('parseJwks: keys not for signatures are skipped quietly, unusable keys with a warning, the rest counts', () => {
  const { keys, warnings } = parseJwks({
    keys: [
      { ...RSA1.jwk, use: 'enc' },
      { ...EC1.jwk, key_ops: ['encrypt'] },
      { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
      { ...RSA1.jwk, kid: 'rsa-as-ec', alg: 'ES256' },
      { ...EC1.jwk, kid: 'ec-as-384', alg: 'ES384' },
      { kty: 'RSA', e: 'AQAB', kid: 'broken' },
      { kty: 'EC', crv: 'secp256k1', x: 'AA', y: 'AA', kid: 'k1' },
      { ...RSA1.jwk, kid: 7 },
      'not a key',
      { ...RSA2.jwk, use: 'sig', alg: 'RS256' },
      { ...RSA1.jwk, kid: 'rsa-2' },
    ],
  }, 'RS256');
  assert.deepEqual(keys.map((k) => k.kid), ['rsa-2']);
  assert.equal(warnings.length, 8, warnings.join('\n'));
  assert.match(warnings.join('\n'), /kid "hmac".*key type "oct" is not supported/);
  assert.match(warnings.join('\n'), /kid "rsa-as-ec".*does not fit an RSA key/);
  assert.match(warnings.join('\n'), /kid "ec-as-384".*does not fit curve P-256/);
  assert.match(warnings.join('\n'), /kid "rsa-2".*same kid/);
});

test('parseJwks: a private JWK only yields its public key', () => {
  const { keys } = parseJwks({ keys: [{ ...RSA1.jwk, ...createPrivateJwk(RSA1.privateKey) }] }, 'RS256');
  assert.match(keys[0]!.pem, /^-----BEGIN PUBLIC KEY-----/);
});

test('parseJwks: anything but a key set throws', () => {
  for (const body of [null, [], 'keys', {}, { keys: {} }]) assert.throws(() => parseJwks(body, 'RS256'), /not a JWK set/);
});

test('key source: refresh on unknown kid, shared by concurrent lookups; failures and junk keep the last good keys', async (t) => {
  const server = await startJwksServer(t, keySet(RSA1));
  const log = capture();
  const jwks = source(server.url, log);
  t.after(() => jwks.close());
  jwks.start();
  assert.ok(jwks.firstFetch(), 'the first fetch runs');
  await jwks.firstFetch();
  assert.equal(jwks.settled, true);
  assert.deepEqual(jwks.keys.map((k) => k.kid), ['rsa-1']);
  assert.equal(jwks.lookUp('rsa-1'), undefined, 'a known kid needs no fetch');

  server.serve(keySet(RSA2));
  const before = server.requests;
  const waits = Array.from({ length: 20 }, () => jwks.lookUp('rsa-2'));
  assert.ok(waits.every((w) => w === waits[0]), 'every lookup shares one fetch');
  await waits[0];
  assert.equal(server.requests, before + 1);
  assert.ok(jwks.find('rsa-2') && !jwks.find('rsa-1'), 'the set is replaced');

  server.serve({ status: 200, body: '<html>maintenance</html>' });
  await jwks.refresh();
  server.serve({ status: 500, body: 'oops' });
  await jwks.refresh();
  server.serve({ keys: [{ kty: 'oct', k: 'AA' }] });
  await jwks.refresh();
  assert.deepEqual(jwks.keys.map((k) => k.kid), ['rsa-2'], 'junk, errors and sets without usable keys keep the last good keys');
  assert.equal(log.warnings.filter((w) => /keeping the 1 known key/.test(w)).length, 3, log.warnings.join('\n'));

  await server.close();
  await jwks.refresh();
  assert.deepEqual(jwks.keys.map((k) => k.kid), ['rsa-2'], 'an unreachable endpoint keeps them too');
});

test('key source: unknown kids refetch at most once per JWKS_MIN_REFRESH_INTERVAL_MS', async (t) => {
  const server = await startJwksServer(t, keySet(RSA1));
  let now = 1_000_000;
  const jwks = new JwksKeySource({
    url: server.url, defaultAlg: 'RS256', refreshIntervalMs: 600_000, minRefreshIntervalMs: 30_000, timeoutMs: 2000, log: capture(), now: () => now,
  });
  t.after(() => jwks.close());
  await jwks.refresh();
  assert.equal(jwks.lookUp('nope'), undefined, 'within the interval: no fetch, the answer is "unknown" now');
  now += 29_999;
  assert.equal(jwks.lookUp('nope'), undefined);
  now += 1;
  const wait = jwks.lookUp('nope');
  assert.ok(wait);
  await wait;
  assert.equal(jwks.lookUp('nope'), undefined);
  assert.equal(server.requests, 2);
});

test('key source: a slow endpoint is given up after JWKS_TIMEOUT_MS', async (t) => {
  const { createServer } = await import('node:http');
  const hang = createServer(() => {});
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  t.after(() => {
    hang.closeAllConnections();
    hang.close();
  });
  const log = capture();
  const jwks = source(`http://127.0.0.1:${(hang.address() as { port: number }).port}/jwks`, log, { timeoutMs: 200 });
  await jwks.refresh();
  assert.equal(jwks.settled, true);
  assert.equal(jwks.keys.length, 0);
  assert.match(log.warnings[0]!, /fetching the keys failed/);
});

test('verifier with JWKS: kid picks the key, its algorithm only; unknown kids wait for a refresh, then fail', async (t) => {
  const server = await startJwksServer(t, keySet(RSA1, EC1));
  const jwks = source(server.url, capture());
  t.after(() => jwks.close());
  jwks.start();
  const verifier = createJwtVerifier({ alg: 'RS256', secretKey: '', cacheSize: 100, jwks });
  const rsa1 = signJwtWithKey({ sub: 'a' }, { privateKey: RSA1.privateKey, algorithm: 'RS256', kid: 'rsa-1' });
  const ec1 = signJwtWithKey({ sub: 'b' }, { privateKey: EC1.privateKey, algorithm: 'ES256', kid: 'ec-1' });

  const first = verifier.pending(rsa1);
  assert.ok(first, 'before the first fetch a token waits');
  rejects(() => verifier.verify(rsa1), UNKNOWN_KID_REASON);
  await first;
  assert.equal(verifier.pending(rsa1), undefined);
  assert.equal(verifier.verify(rsa1)['sub'], 'a');
  assert.equal(verifier.verify(ec1)['sub'], 'b', 'EC keys verify ES256 whatever JWT_ALG says');

  // The EC key's kid on an RS256 token, and an HS256 token "signed" with the RSA key's public PEM:
  // each key verifies its own algorithm only.
  const rsaWithEcKid = signJwtWithKey({}, { privateKey: RSA1.privateKey, algorithm: 'RS256', kid: 'ec-1' });
  rejects(() => verifier.verify(rsaWithEcKid), 'Invalid algorithm');
  const publicPem = jwks.find('rsa-1')!.pem;
  const confused = createSigner({ key: publicPem, algorithm: 'HS256', kid: 'rsa-1', expiresIn: 60_000 })({});
  rejects(() => verifier.verify(confused), 'Invalid algorithm');

  const noKid = signJwtWithKey({}, { privateKey: RSA1.privateKey, algorithm: 'RS256' });
  rejects(() => verifier.verify(noKid), NO_KID_REASON);

  // Rotation: rsa-2 appears, rsa-1 goes. The cached rsa-1 token goes with its key.
  server.serve(keySet(RSA2));
  const rsa2 = signJwtWithKey({ sub: 'c' }, { privateKey: RSA2.privateKey, algorithm: 'RS256', kid: 'rsa-2' });
  const refresh = verifier.pending(rsa2);
  assert.ok(refresh);
  await refresh;
  assert.equal(verifier.verify(rsa2)['sub'], 'c');
  rejects(() => verifier.verify(rsa1), UNKNOWN_KID_REASON);
  assert.equal(verifier.verify(signJwtWithKey({}, { privateKey: RSA2.privateKey, algorithm: 'RS256' }))['exp'] !== undefined, true,
    'without kid the only key of the set is used');
});

test('verifier with JWKS and JWT_SECRET_KEY: tokens without kid use the static key, tokens with one the JWKS', async (t) => {
  const server = await startJwksServer(t, keySet(RSA1));
  const jwks = source(server.url, capture());
  t.after(() => jwks.close());
  await jwks.refresh();
  const verifier = createJwtVerifier({ alg: 'HS256', secretKey: 'shared', cacheSize: 0, jwks });
  const hs = createSigner({ key: 'shared', algorithm: 'HS256', expiresIn: 60_000 })({ sub: 'hs' });
  assert.equal(verifier.pending(hs), undefined);
  assert.equal(verifier.verify(hs)['sub'], 'hs');
  const hsWithKid = createSigner({ key: 'shared', algorithm: 'HS256', kid: 'rsa-1', expiresIn: 60_000 })({});
  rejects(() => verifier.verify(hsWithKid), 'Invalid algorithm');
  assert.equal(verifier.verify(signJwtWithKey({ sub: 'rs' }, { privateKey: RSA1.privateKey, algorithm: 'RS256', kid: 'rsa-1' }))['sub'], 'rs');
  rejects(() => verifier.verify('not-a.jwt'), 'Invalid token');
  assert.equal(verifier.pending('not-a.jwt'), undefined);
});

/** The private members (d, p, q, ...) a careless provider might publish. */
function createPrivateJwk(pem: string): Record<string, unknown> {
  return createPrivateKey(pem).export({ format: 'jwk' }) as Record<string, unknown>;
}
