/**
 * The one token check every endpoint uses: verify (waiting for JWKS keys when the token names a
 * key id not fetched yet), then refuse tokens whose session is blacklisted. Throws JwtError with
 * RIG's cause text; callers wrap it into their endpoint's error.
 */
import type { SessionBlacklist } from '../sessions/blacklist.js';
import { blacklistedReason } from '../sessions/blacklist.js';
import { sessionIdOf, type SessionField } from '../sessions/session-id.js';
import { JwtError, type JwtVerifier } from './verifier.js';

export interface TokenCheck {
  jwt: JwtVerifier;
  blacklist: SessionBlacklist;
  sessionField: SessionField;
}

export interface CheckedToken {
  claims: Record<string, unknown>;
  /** The token's session (JWT_SESSION_FIELD), if it names one. */
  sessionId: string | undefined;
}

export async function checkToken(check: TokenCheck, token: string): Promise<CheckedToken> {
  const pending = check.jwt.pending(token);
  if (pending) await pending;
  return checkTokenNow(check, token);
}

/** The synchronous part: what checkToken does once keys are known. */
export function checkTokenNow(check: TokenCheck, token: string): CheckedToken {
  const claims = check.jwt.verify(token);
  const sessionId = sessionIdOf(claims, check.sessionField);
  refuseBlacklisted(check, sessionId);
  return { claims, sessionId };
}

/** Throws RIG's JwtError for a session that is blacklisted now. */
export function refuseBlacklisted(check: TokenCheck, sessionId: string | undefined): void {
  if (sessionId !== undefined && check.blacklist.has(sessionId)) throw new JwtError(blacklistedReason(sessionId));
}
