/**
 * The proxy's JWT check (RIG spec 6.3), for endpoints with `secured: true` in an API with
 * `auth_type: "jwt"`. Tokens are collected from
 * - the query parameter `auth.query_name` when `auth.use_query` is true: comma-separated raw JWTs
 *   (RIG 3.0 never read it, spec 13 item 6);
 * - the header `auth.header_name` when `auth.use_header` is true: for Authorization, the Bearer
 *   credentials of every Authorization header; for any other name (RIG: only `x-` names, anything
 *   else crashed, item 7) the header's raw values.
 * The request passes when at least one token passes the shared token check (shared/jwt/check.ts:
 * JWT_ALG, JWT_SECRET_KEY or JWKS_URL keys, `exp`, session blacklist). The Authorization header itself is forwarded unchanged.
 */
import { bearerTokens } from '../shared/http/authorization.js';
import { headerAll, queryParamAll, type Headers } from '../shared/http/uws-http.js';
import { checkToken, checkTokenNow, type TokenCheck } from '../shared/jwt/check.js';
import type { AuthPolicy } from './route-table.js';

export function requestTokens(policy: AuthPolicy, headers: Headers, query: string): string[] {
  const tokens: string[] = [];
  if (policy.useQuery && policy.queryName !== '') {
    for (const value of queryParamAll(query, policy.queryName)) {
      for (const t of value.split(',')) if (t !== '') tokens.push(t);
    }
  }
  if (policy.useHeader && policy.headerName !== '') {
    const values = headerAll(headers, policy.headerName);
    if (policy.headerName === 'authorization') tokens.push(...bearerTokens(values));
    else tokens.push(...values);
  }
  return tokens;
}

/**
 * Whether one of the request's tokens passes the token check (verify + blacklist). Synchronous
 * while the verifier can answer every token now, which is always the case without JWKS_URL and
 * with JWKS keys already fetched; a promise (never rejecting) when no token passed and some wait
 * for JWKS keys (the first fetch, or a refresh for an unknown `kid`).
 */
export function isAuthenticated(policy: AuthPolicy, headers: Headers, query: string, check: TokenCheck): boolean | Promise<boolean> {
  let waiting: string[] | undefined;
  for (const raw of requestTokens(policy, headers, query)) {
    const token = raw.trim();
    if (check.jwt.pending(token)) {
      (waiting ??= []).push(token);
      continue;
    }
    try {
      checkTokenNow(check, token);
      return true;
    } catch {
      // the next token may pass
    }
  }
  return waiting ? anyPasses(check, waiting) : false;
}

async function anyPasses(check: TokenCheck, tokens: string[]): Promise<boolean> {
  const results = await Promise.all(tokens.map((t) => checkToken(check, t).then(() => true, () => false)));
  return results.includes(true);
}
