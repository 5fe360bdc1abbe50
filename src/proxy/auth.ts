/**
 * The proxy's JWT check (RIG spec 6.3), for endpoints with `secured: true` in an API with
 * `auth_type: "jwt"`. Tokens are collected from
 * - the query parameter `auth.query_name` when `auth.use_query` is true: comma-separated raw JWTs
 *   (RIG 3.0 never read it, spec 13 item 6);
 * - the header `auth.header_name` when `auth.use_header` is true: for Authorization, the Bearer
 *   credentials of every Authorization header; for any other name (RIG: only `x-` names, anything
 *   else crashed, item 7) the header's raw values.
 * The request passes when at least one token verifies (shared/jwt: JWT_ALG, JWT_SECRET_KEY, `exp`)
 * and is not blacklisted. The Authorization header itself is forwarded unchanged.
 */
import { bearerTokens } from '../shared/http/authorization.js';
import { headerAll, queryParamAll, type Headers } from '../shared/http/uws-http.js';
import type { JwtVerifier } from '../shared/jwt/verifier.js';
import type { SessionBlacklist } from '../shared/sessions/blacklist.js';
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

export function isAuthenticated(
  policy: AuthPolicy,
  headers: Headers,
  query: string,
  jwt: JwtVerifier,
  blacklist: SessionBlacklist,
): boolean {
  for (const token of requestTokens(policy, headers, query)) {
    let claims: Record<string, unknown>;
    try {
      claims = jwt.verify(token.trim());
    } catch {
      continue;
    }
    if (!blacklist.isBlacklisted(claims)) return true;
  }
  return false;
}
