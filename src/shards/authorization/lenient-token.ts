/**
 * Token checks of subscription requests when SUBSCRIPTION_CHECK is a decision service (RIG spec
 * 7.5, PR #378): the service may accept tokens the gateway has no key for, so a token that does
 * not verify is not an error. It is passed to the service and contributes no inferred
 * subscriptions (its claims are not trusted). Its claims are still read, unverified, to name its
 * session, only so that the connection joins it (a kill reaches it) and so that a blacklisted
 * session is refused as it would be with a verifiable token.
 */
import { createDecoder } from 'fast-jwt';
import { checkToken, refuseBlacklisted, type CheckedToken, type TokenCheck } from '../../shared/jwt/check.js';
import { sessionIdOf } from '../../shared/sessions/session-id.js';

const decode = createDecoder();

export interface LenientToken {
  /** Verified claims; undefined when the token did not verify (the decision service judges it). */
  claims: Record<string, unknown> | undefined;
  sessionId: string | undefined;
}

/**
 * `lenient` false: checkToken (throws JwtError). `lenient` true: a token that does not verify gives
 * no claims; only a blacklisted session throws.
 */
export async function checkTokenFor(check: TokenCheck, token: string, lenient: boolean): Promise<LenientToken> {
  if (!lenient) return checkToken(check, token);
  let verified: CheckedToken;
  try {
    verified = await checkToken(check, token);
  } catch {
    const sessionId = unverifiedSessionId(check, token);
    refuseBlacklisted(check, sessionId);
    return { claims: undefined, sessionId };
  }
  return verified;
}

function unverifiedSessionId(check: TokenCheck, token: string): string | undefined {
  let claims: unknown;
  try {
    claims = decode(token);
  } catch {
    return undefined; // not even a JWT: the service will say no
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) return undefined;
  return sessionIdOf(claims as Record<string, unknown>, check.sessionField);
}
