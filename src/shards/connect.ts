/**
 * The connection set-up shared by SSE, WebSocket and long-polling (RIG 2.3). The order of the steps
 * decides which error a client sees when several things are wrong, so it follows RIG exactly:
 * decode the `subscriptions` parameter, validate the `jwt` parameter and infer its subscriptions,
 * parse the explicit subscriptions, merge (JWT ones first, de-duplicated), SUBSCRIPTION_CHECK
 * (only when a `subscriptions` parameter was given), then the rate limit.
 *
 * Set-up is asynchronous: a token may name a JWKS key not fetched yet, and SUBSCRIPTION_CHECK may
 * ask a decision service. Without either it settles within the same turn.
 */
import { err } from '../shared/errors.js';
import { JwtError } from '../shared/jwt/verifier.js';
import { SubscriptionParseError, dedupeSubscriptions, parseSubscriptionList, subscriptionLimitsOf } from '../shared/subscriptions/parse.js';
import { inferSubscriptionsFromClaims } from '../shared/subscriptions/jwt-infer.js';
import type { Subscription } from '../shared/subscriptions/types.js';
import { checkTokenFor } from './authorization/lenient-token.js';
import type { ShardContext } from './context.js';
import { queryParam } from '../shared/http/uws-http.js';
import type { SessionReservation } from './sessions/shard-sessions.js';

export interface ConnectParams {
  jwt: string | undefined;
  subscriptions: string | undefined;
}

export interface ConnectSetup {
  subscriptions: Subscription[];
  /** Verified claims of the `jwt` parameter (undefined without one, or when only a decision service can judge it). */
  claims: Record<string, unknown> | undefined;
  /** Sessions (JWT_SESSION_FIELD) the new connection joins: the one of its `jwt`, if any. */
  sessions: string[];
}

/** What a decision service is sent for a connect (RIG: the parameter re-encoded as a PUT body). */
const CONNECT_CHECK_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * A connect's whole admission: its set-up from the `jwt` and `subscriptions` query parameters, then
 * places in its sessions (MAX_CONNECTIONS_PER_SESSION). The caller attaches the new connection to
 * the reservation, or cancels it when the client left meanwhile.
 */
export async function admitConnection(
  ctx: ShardContext,
  query: string,
  opts: { rateLimit: boolean },
): Promise<{ setup: ConnectSetup; reservation: SessionReservation }> {
  const setup = await prepareConnection(ctx, { jwt: queryParam(query, 'jwt'), subscriptions: queryParam(query, 'subscriptions') }, opts);
  return { setup, reservation: await ctx.sessions.reserve(setup.sessions) };
}

/** Validates a connect request; rejects with the GatewayError RIG would answer with. */
export async function prepareConnection(ctx: ShardContext, params: ConnectParams, opts: { rateLimit: boolean }): Promise<ConnectSetup> {
  const given = params.subscriptions !== undefined && params.subscriptions !== '';
  let decoded: unknown = null;
  if (given) {
    try {
      decoded = JSON.parse(params.subscriptions!);
    } catch (e) {
      throw err.subscriptionListUndecodable((e as Error).message);
    }
  }
  const check = ctx.authorization.subscription;
  const jwt = params.jwt !== undefined && params.jwt !== '' ? params.jwt : undefined;
  let claims: Record<string, unknown> | undefined;
  let jwtSubs: Subscription[] = [];
  const sessions: string[] = [];
  if (jwt !== undefined) {
    try {
      const checked = await checkTokenFor(ctx.tokenCheck, jwt, check.external);
      claims = checked.claims;
      if (checked.sessionId !== undefined) sessions.push(checked.sessionId);
    } catch (e) {
      throw err.connectJwtInvalid(e instanceof JwtError ? e.reason : String(e));
    }
    if (claims !== undefined) jwtSubs = inferSubscriptionsFromClaims(ctx.extractors, claims);
  }
  let paramSubs: Subscription[];
  try {
    paramSubs = parseSubscriptionList(decoded, subscriptionLimitsOf(ctx.config));
  } catch (e) {
    if (!(e instanceof SubscriptionParseError)) throw e;
    const detail = e.message.startsWith('invalid subscription') ? `could not parse subscription from JSON: ${e.message}` : e.message;
    throw err.connectSubscriptionsInvalid(detail);
  }
  if (given && check.enabled) {
    const verdict = await check.decide({
      tokens: jwt === undefined ? [] : [jwt],
      describe: () => ({
        contentType: CONNECT_CHECK_CONTENT_TYPE,
        authorization: jwt === undefined ? undefined : `Bearer ${jwt}`,
        body: JSON.stringify({ subscriptions: decoded }),
      }),
    });
    if (verdict === 'deny') throw err.subscriptionNotAuthorized();
    if (verdict === 'busy') throw err.authorizationBusy();
  }
  if (opts.rateLimit && !ctx.rateLimiter.tryAcquire()) throw err.rateLimited();
  return { subscriptions: dedupeSubscriptions([...jwtSubs, ...paramSubs]), claims, sessions };
}
