/**
 * The connection set-up shared by SSE, WebSocket and long-polling (RIG 2.3). The order of the steps
 * decides which error a client sees when several things are wrong, so it follows RIG exactly:
 * decode the `subscriptions` parameter, validate the `jwt` parameter and infer its subscriptions,
 * parse the explicit subscriptions, merge (JWT ones first, de-duplicated), then the rate limit.
 */
import { err } from '../shared/errors.js';
import { checkTokenNow } from '../shared/jwt/check.js';
import { JwtError } from '../shared/jwt/verifier.js';
import { SubscriptionParseError, dedupeSubscriptions, parseSubscriptionList, subscriptionLimitsOf } from '../shared/subscriptions/parse.js';
import { inferSubscriptionsFromClaims } from '../shared/subscriptions/jwt-infer.js';
import type { Subscription } from '../shared/subscriptions/types.js';
import type { ShardContext } from './context.js';

export interface ConnectParams {
  jwt: string | undefined;
  subscriptions: string | undefined;
}

export interface ConnectSetup {
  subscriptions: Subscription[];
  claims: Record<string, unknown> | undefined;
  /** Sessions (JWT_SESSION_FIELD) the new connection joins: the one of its `jwt`, if any. */
  sessions: string[];
}

/** Validates a connect request; throws the GatewayError RIG would answer with. */
export function prepareConnection(ctx: ShardContext, params: ConnectParams, opts: { rateLimit: boolean }): ConnectSetup {
  let decoded: unknown = null;
  if (params.subscriptions !== undefined && params.subscriptions !== '') {
    try {
      decoded = JSON.parse(params.subscriptions);
    } catch (e) {
      throw err.subscriptionListUndecodable((e as Error).message);
    }
  }
  let claims: Record<string, unknown> | undefined;
  let jwtSubs: Subscription[] = [];
  const sessions: string[] = [];
  if (params.jwt !== undefined && params.jwt !== '') {
    try {
      const checked = checkTokenNow(ctx.tokenCheck, params.jwt);
      claims = checked.claims;
      if (checked.sessionId !== undefined) sessions.push(checked.sessionId);
    } catch (e) {
      throw err.connectJwtInvalid(e instanceof JwtError ? e.reason : String(e));
    }
    jwtSubs = inferSubscriptionsFromClaims(ctx.extractors, claims);
  }
  let paramSubs: Subscription[];
  try {
    paramSubs = parseSubscriptionList(decoded, subscriptionLimitsOf(ctx.config));
  } catch (e) {
    if (!(e instanceof SubscriptionParseError)) throw e;
    const detail = e.message.startsWith('invalid subscription') ? `could not parse subscription from JSON: ${e.message}` : e.message;
    throw err.connectSubscriptionsInvalid(detail);
  }
  if (opts.rateLimit && !ctx.rateLimiter.tryAcquire()) throw err.rateLimited();
  return { subscriptions: dedupeSubscriptions([...jwtSubs, ...paramSubs]), claims, sessions };
}
