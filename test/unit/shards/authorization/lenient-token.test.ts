import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTokenFor } from '../../../../src/shards/authorization/lenient-token.js';
import { JwtError, createJwtVerifier } from '../../../../src/shared/jwt/verifier.js';
import { ExpiringBlacklist } from '../../../../src/shared/sessions/blacklist.js';
import { parseSessionField } from '../../../../src/shared/sessions/session-id.js';
import { signJwt } from '../../../helpers/jwt.js';

function tokenCheck() {
  const sessionField = parseSessionField('/jti');
  const blacklist = new ExpiringBlacklist();
  const jwt = createJwtVerifier({ alg: 'HS256', secretKey: 'mysecret', cacheSize: 0 });
  return { jwt, blacklist, sessionField };
}

test('strict: a token that does not verify throws', async () => {
  const check = tokenCheck();
  const foreign = signJwt({ jti: 's1' }, { secret: 'other' });
  await assert.rejects(checkTokenFor(check, foreign, false), (e) => e instanceof JwtError && e.reason === 'Invalid signature');
  const own = await checkTokenFor(check, signJwt({ jti: 's1', username: 'a' }), false);
  assert.equal(own.sessionId, 's1');
  assert.equal(own.claims?.['username'], 'a');
});

test('lenient: a token that does not verify gives no claims but still names its session', async () => {
  const check = tokenCheck();
  const foreign = await checkTokenFor(check, signJwt({ jti: 's2', username: 'm' }, { secret: 'other' }), true);
  assert.deepEqual(foreign, { claims: undefined, sessionId: 's2' });
  assert.deepEqual(await checkTokenFor(check, 'not a jwt at all', true), { claims: undefined, sessionId: undefined });
  const own = await checkTokenFor(check, signJwt({ jti: 's3' }), true);
  assert.equal(own.sessionId, 's3');
  assert.ok(own.claims);
});

test('lenient: a blacklisted session is refused whether or not its token verifies', async () => {
  const check = tokenCheck();
  check.blacklist.set('blocked', Date.now() + 60_000);
  for (const token of [signJwt({ jti: 'blocked' }), signJwt({ jti: 'blocked' }, { secret: 'other' })]) {
    await assert.rejects(checkTokenFor(check, token, true), (e) => e instanceof JwtError && /blacklisted/.test(e.reason));
  }
});
