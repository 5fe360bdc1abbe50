/**
 * Everything a shard's handlers share: configuration, codecs, the hub and the link to main.
 * Built once in shard.ts; handlers receive it instead of reaching for globals.
 */
import type { GatewayConfig } from '../shared/config/types.js';
import type { ExtractorConfig } from '../shared/extractors/types.js';
import type { TokenCheck } from '../shared/jwt/check.js';
import type { JwtVerifier } from '../shared/jwt/verifier.js';
import type { Logger } from '../shared/logger.js';
import type { ConnectionRateLimiter } from '../shared/rate-limit.js';
import type { TokenPayload } from '../shared/token/connection-token.js';
import type { ReverseProxy } from '../proxy/proxy.js';
import type { AuthorizationCheck } from './authorization/authorization-check.js';
import type { Hub } from './hub.js';
import type { MainLink } from './main-link.js';
import type { ShardSessions } from './sessions/shard-sessions.js';

export interface ShardContext {
  readonly config: GatewayConfig;
  readonly shardId: number;
  readonly incarnation: number;
  readonly log: Logger;
  readonly extractors: ExtractorConfig;
  readonly jwt: JwtVerifier;
  /** JWT verification + the session blacklist, for shared/jwt/check.ts (checkToken). */
  readonly tokenCheck: TokenCheck;
  /** Session memberships of this shard's connections and its copy of the blacklist. */
  readonly sessions: ShardSessions;
  /** SUBSCRIPTION_CHECK and SUBMISSION_CHECK (docs/security.md). */
  readonly authorization: { readonly subscription: AuthorizationCheck; readonly submission: AuthorizationCheck };
  readonly tokens: { encode(p: TokenPayload): string; decode(token: string): TokenPayload | null };
  readonly rateLimiter: ConnectionRateLimiter;
  readonly hub: Hub;
  readonly link: MainLink;
  /** The reverse proxy: every request that is not one of RIG's routes. */
  readonly proxy: ReverseProxy;
  /** Allocates the id of a new connection and mints its token. */
  newConnection(): { id: number; token: string };
  /** Headers with access-control-allow-origin: CORS. */
  readonly corsHeaders: Array<[string, string]>;
}
