/**
 * API_AUTH_TOKEN: with a token configured, an internal API request must carry
 * `authorization: Bearer <token>`; without it, or with another token, it is answered 401 with
 * `www-authenticate: Bearer` (RFC 6750) and never reaches its route. Without a token the internal
 * API stays unauthenticated, as RIG's was.
 *
 * The comparison takes the same time whatever the presented token is: both sides are hashed to
 * SHA-256 digests of equal length and compared with timingSafeEqual, so neither the position of
 * the first wrong character nor the token's length shows in the response time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { err } from '../../shared/errors.js';
import { writeResponse } from '../../shared/http/uws-http.js';
import type { HandlerWrapper } from './route-registrar.js';

const JSON_TYPE: [string, string] = ['content-type', 'application/json; charset=utf-8'];
/** `Bearer <token>`; the scheme is case-insensitive (RFC 9110 11.1). All after it is the token. */
const BEARER = /^bearer[ \t]+(.*?)[ \t]*$/i;

/** The check wrapped around every protected route; a no-op without a token. */
export function requireApiToken(token: string): HandlerWrapper {
  if (token === '') return (handler) => handler;
  const expected = digest(token);
  return (handler) => (res, req) => {
    const presented = BEARER.exec(req.getHeader('authorization'))?.[1];
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return handler(res, req);
    const e = presented === undefined ? err.apiTokenMissing() : err.apiTokenInvalid();
    const challenge = presented === undefined ? 'Bearer realm="internal API"' : 'Bearer realm="internal API", error="invalid_token"';
    writeResponse(res, e.status, e.message, [JSON_TYPE, ['www-authenticate', challenge]]);
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
