// Client-held tokens: connection tokens, JWTs and the long-poll cookies. Garbage and tampered
// tokens are refused in the module's own way (null / JwtError / a parse result), never a throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createSigner } from 'fast-jwt';
import { createJwtVerifier, JwtError } from '../../../src/shared/jwt/verifier.js';
import { createTokenCodec, type TokenPayload } from '../../../src/shared/token/connection-token.js';
import { decodeCursor, parseCookies } from '../../../src/shards/handlers/longpoll.js';
import { anyString, asciiString, failsOnlyWith, flipChar, params, stringOf } from './fuzz.js';

const codec = createTokenCodec('fuzz-cookie');
const payload = fc.record({
  kind: fc.constantFrom('connection', 'correlation') as fc.Arbitrary<TokenPayload['kind']>,
  nodeId: fc.string({ minLength: 1, maxLength: 16, unit: 'binary-ascii' }),
  shard: fc.integer({ min: 0, max: 255 }),
  incarnation: fc.integer({ min: 0, max: 0xffffffff }),
  id: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
});
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=.+/';

test('connection tokens: encode/decode round-trips', () => {
  fc.assert(fc.property(payload, (p) => assert.deepEqual(codec.decode(codec.encode(p)), { ...p })), params);
});

test('connection tokens: random text decodes to null without throwing', () => {
  fc.assert(
    fc.property(fc.oneof(anyString(200), stringOf(B64URL, 200)), (s) => {
      assert.equal(codec.decode(s), null);
    }),
    params,
  );
});

test('connection tokens: a bit-flipped, cut or extended real token decodes to null; another cookie\'s token too', () => {
  const other = createTokenCodec('another-cookie');
  fc.assert(
    fc.property(payload, fc.nat(), fc.nat(), fc.constantFrom('flip', 'cut', 'extend', 'foreign'), (p, pos, bit, how) => {
      const token = codec.encode(p);
      const bad =
        how === 'flip' ? flipChar(token, pos, bit) : how === 'cut' ? token.slice(0, pos % token.length) : how === 'extend' ? `${token}${B64URL[pos % 64]}` : other.encode(p);
      // Flipping one of the two spare bits of the last base64url character leaves the bytes equal.
      const decoded = codec.decode(bad);
      if (decoded !== null) assert.deepEqual(decoded, { ...p }, `tampered token ${bad} decoded to another payload`);
      if (how === 'foreign' || how === 'cut') assert.equal(decoded, null);
    }),
    params,
  );
});

const SECRET = 'fuzz-secret';
const verifier = createJwtVerifier({ alg: 'HS256', secretKey: SECRET, cacheSize: 100 });
const sign = createSigner({ key: SECRET, algorithm: 'HS256', expiresIn: 3_600_000 });
const JWT_CHARS = `${B64URL}{}":,`;

test('JWTs: random and garbled tokens fail with a JwtError only', () => {
  const garbled = fc
    .tuple(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), fc.nat(), fc.nat(), fc.constantFrom('flip', 'cut', 'dots', 'swap'))
    .map(([claims, pos, bit, how]) => {
      const token = sign(claims);
      if (how === 'flip') return flipChar(token, pos, bit);
      if (how === 'cut') return token.slice(0, pos % token.length);
      if (how === 'dots') return token.replace(/\./g, pos % 2 === 0 ? '..' : '');
      const [h, p, s] = token.split('.');
      return `${p}.${h}.${s}`;
    });
  const segments = fc.array(stringOf(JWT_CHARS, 40), { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.'));
  const headerJson = fc.jsonValue({ maxDepth: 3 }).map((h) => `${Buffer.from(JSON.stringify(h)).toString('base64url')}.${Buffer.from('{"exp":99999999999}').toString('base64url')}.sig`);
  fc.assert(
    fc.property(fc.oneof(anyString(300), asciiString(300), segments, garbled, headerJson), (token) => {
      failsOnlyWith(JwtError, () => verifier.verify(token));
    }),
    params,
  );
});

test('JWTs: a valid token round-trips its claims', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['exp', 'iat', 'nbf'].includes(k)), fc.string({ maxLength: 10 }), { maxKeys: 4 }), (claims) => {
      const verified = verifier.verify(sign(claims));
      for (const [k, v] of Object.entries(claims)) assert.deepEqual(verified[k], v);
    }),
    params,
  );
});

const COOKIE_CHARS = 'ab=; ,"%\\\t_-0x';
test('long-poll cookies: any Cookie headers parse to a map; any cursor decodes to a string or null', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(anyString(100), stringOf(COOKIE_CHARS, 100)), { maxLength: 4 }), (values) => {
      const cookies = parseCookies(values);
      for (const [k, v] of cookies) assert.ok(typeof k === 'string' && typeof v === 'string');
      for (const v of cookies.values()) {
        const c = decodeCursor(v);
        assert.ok(c === null || typeof c === 'string');
      }
    }),
    params,
  );
  fc.assert(
    fc.property(fc.oneof(anyString(100), stringOf('%"\\u0123456789abcdef{}[]', 60)), (raw) => {
      const c = decodeCursor(raw);
      assert.ok(c === null || typeof c === 'string');
    }),
    params,
  );
});

test('long-poll cookies: a cursor written as the gateway writes it round-trips', () => {
  fc.assert(
    fc.property(anyString(60), (id) => {
      const header = `other=1; last_event_id=${encodeURIComponent(JSON.stringify(id))}; connection_token=abc`;
      assert.equal(decodeCursor(parseCookies([header]).get('last_event_id')), id);
    }),
    params,
  );
});
