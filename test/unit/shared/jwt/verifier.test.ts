import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSigner } from 'fast-jwt';
import { JwtError, createJwtVerifier } from '../../../../src/shared/jwt/verifier.js';
import type { JwtAlgorithm } from '../../../../src/shared/config/types.js';

// Fixtures stay in the source tree; this file runs from dist/test/unit/shared/jwt/.
const fixture = (name: string) => readFileSync(new URL(`../../../../../test/fixtures/jwt/${name}`, import.meta.url), 'utf8');
const RSA_PRIVATE = fixture('rsa-key.pem');
const RSA_CERT = fixture('rsa-cert.pem');
const RSA_PUBLIC = createPublicKey(RSA_PRIVATE).export({ type: 'spki', format: 'pem' }).toString();

const inOneHour = () => Math.floor(Date.now() / 1000) + 3600;

function rejects(fn: () => unknown, reason: string): void {
  assert.throws(fn, (e: unknown) => e instanceof JwtError && e.reason === reason && e.message === reason);
}

for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
  test(`${alg}: a token signed with the shared secret verifies`, () => {
    const sign = createSigner({ key: 'shared-secret', algorithm: alg });
    const verifier = createJwtVerifier({ alg, secretKey: 'shared-secret', cacheSize: 0 });
    const claims = verifier.verify(sign({ sub: 'u1', exp: inOneHour() }));
    assert.equal(claims['sub'], 'u1');
  });
}

test('RS256 with a PEM public key', () => {
  const token = createSigner({ key: RSA_PRIVATE, algorithm: 'RS256' })({ jti: 's1', exp: inOneHour() });
  assert.equal(createJwtVerifier({ alg: 'RS256', secretKey: RSA_PUBLIC, cacheSize: 0 }).verify(token)['jti'], 's1');
});

test('RS256 with an X.509 certificate, as in RIG\'s tests', () => {
  const token = createSigner({ key: RSA_PRIVATE, algorithm: 'RS256' })({ jti: 's1', exp: inOneHour() });
  assert.equal(createJwtVerifier({ alg: 'RS256', secretKey: RSA_CERT, cacheSize: 0 }).verify(token)['jti'], 's1');
});

test('RS512 with a certificate whose line breaks arrive as literal "\\n"', () => {
  const token = createSigner({ key: RSA_PRIVATE, algorithm: 'RS512' })({ exp: inOneHour() });
  const oneLine = RSA_CERT.trim().split('\n').join('\\n');
  assert.ok(!oneLine.includes('\n'));
  assert.ok(createJwtVerifier({ alg: 'RS512', secretKey: oneLine, cacheSize: 0 }).verify(token));
});

test('ES256 with a PEM public key', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const priv = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const token = createSigner({ key: priv, algorithm: 'ES256' })({ n: 1, exp: inOneHour() });
  const verifier = createJwtVerifier({ alg: 'ES256', secretKey: pub, cacheSize: 0 });
  assert.equal(verifier.verify(token)['n'], 1);
  rejects(() => verifier.verify(token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA')), 'Invalid signature');
});

test('a token whose header names another algorithm is rejected', () => {
  const hs512 = createSigner({ key: 'shared-secret', algorithm: 'HS512' })({ exp: inOneHour() });
  rejects(() => createJwtVerifier({ alg: 'HS256', secretKey: 'shared-secret', cacheSize: 0 }).verify(hs512), 'Invalid algorithm');
  // The classic confusion: an HS token keyed with the RSA public key must not pass an RS verifier.
  const confused = createSigner({ key: RSA_PUBLIC, algorithm: 'HS256' })({ exp: inOneHour() });
  rejects(() => createJwtVerifier({ alg: 'RS256', secretKey: RSA_PUBLIC, cacheSize: 0 }).verify(confused), 'Invalid algorithm');
});

test('a token without exp fails with "token expired", like RIG', () => {
  const token = createSigner({ key: 'k', algorithm: 'HS256' })({ sub: 'u1' });
  rejects(() => createJwtVerifier({ alg: 'HS256', secretKey: 'k', cacheSize: 0 }).verify(token), 'token expired');
});

test('an expired token fails with "token expired"', () => {
  const token = createSigner({ key: 'k', algorithm: 'HS256' })({ exp: Math.floor(Date.now() / 1000) - 10 });
  rejects(() => createJwtVerifier({ alg: 'HS256', secretKey: 'k', cacheSize: 100 }).verify(token), 'token expired');
});

test('a token that is not yet valid fails with "token not yet valid"', () => {
  const now = Math.floor(Date.now() / 1000);
  const token = createSigner({ key: 'k', algorithm: 'HS256' })({ nbf: now + 600, exp: now + 3600 });
  rejects(() => createJwtVerifier({ alg: 'HS256', secretKey: 'k', cacheSize: 0 }).verify(token), 'token not yet valid');
});

test('a wrong key or a tampered signature fails with "Invalid signature"', () => {
  const token = createSigner({ key: 'k', algorithm: 'HS256' })({ exp: inOneHour() });
  rejects(() => createJwtVerifier({ alg: 'HS256', secretKey: 'other', cacheSize: 0 }).verify(token), 'Invalid signature');
  const [h, p, s] = token.split('.') as [string, string, string];
  const flipped = s[0] === 'A' ? `B${s.slice(1)}` : `A${s.slice(1)}`;
  rejects(() => createJwtVerifier({ alg: 'HS256', secretKey: 'k', cacheSize: 0 }).verify(`${h}.${p}.${flipped}`), 'Invalid signature');
  // A changed payload under the original signature.
  const forged = Buffer.from(JSON.stringify({ exp: inOneHour(), admin: true })).toString('base64url');
  rejects(() => createJwtVerifier({ alg: 'HS256', secretKey: 'k', cacheSize: 0 }).verify(`${h}.${forged}.${s}`), 'Invalid signature');
});

test('garbage fails with "Invalid token" and never anything else', () => {
  const verifier = createJwtVerifier({ alg: 'HS256', secretKey: 'k', cacheSize: 10 });
  for (const junk of ['', 'abc', 'a.b.c', '...', 'eyJhbGciOiJIUzI1NiJ9.eyJ.', '€.€.€', 'x'.repeat(5000)]) {
    rejects(() => verifier.verify(junk), 'Invalid token');
  }
  rejects(() => verifier.verify(undefined as unknown as string), 'Invalid token');
});

test('an unsigned ("none") token is rejected', () => {
  const header = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url');
  const payload = Buffer.from(JSON.stringify({ exp: inOneHour() })).toString('base64url');
  assert.throws(
    () => createJwtVerifier({ alg: 'HS256', secretKey: 'k', cacheSize: 0 }).verify(`${header}.${payload}.`),
    JwtError,
  );
});

test('without JWT_SECRET_KEY every token is rejected', () => {
  const token = createSigner({ key: 'k', algorithm: 'HS256' })({ exp: inOneHour() });
  for (const alg of ['HS256', 'RS256', 'ES256'] as JwtAlgorithm[]) {
    rejects(() => createJwtVerifier({ alg, secretKey: '', cacheSize: 10 }).verify(token), 'no JWT_SECRET_KEY configured');
  }
});

test('an unusable RS/ES key stops creation with an error naming JWT_SECRET_KEY', () => {
  assert.throws(() => createJwtVerifier({ alg: 'RS256', secretKey: 'not a pem', cacheSize: 0 }), /JWT_SECRET_KEY/);
  assert.throws(() => createJwtVerifier({ alg: 'ES256', secretKey: RSA_CERT, cacheSize: 0 }), /JWT_SECRET_KEY/);
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  assert.throws(() => createJwtVerifier({ alg: 'ES256', secretKey: p384, cacheSize: 0 }), /JWT_SECRET_KEY/);
});

test('claims are frozen, so a cached result cannot be changed by one caller for the next', () => {
  const token = createSigner({ key: 'k', algorithm: 'HS256' })({ exp: inOneHour(), nested: { a: 1 } });
  const verifier = createJwtVerifier({ alg: 'HS256', secretKey: 'k', cacheSize: 10 });
  const first = verifier.verify(token);
  assert.ok(Object.isFrozen(first) && Object.isFrozen(first['nested']));
  assert.equal(verifier.verify(token), first);
});

test('the cache still rejects a token once it has expired', async () => {
  // exp is in whole seconds: pick one that is at least 300 ms away, then wait until it has passed.
  const exp = Math.floor((Date.now() + 1300) / 1000);
  const token = createSigner({ key: 'k', algorithm: 'HS256' })({ exp });
  const verifier = createJwtVerifier({ alg: 'HS256', secretKey: 'k', cacheSize: 10 });
  assert.equal(verifier.verify(token)['exp'], exp);
  assert.equal(verifier.verify(token)['exp'], exp);
  await sleep(exp * 1000 - Date.now() + 50);
  rejects(() => verifier.verify(token), 'token expired');
});
