/**
 * PUT /_rig/v1/connection/{sse|ws|longpolling}/:token/subscriptions (RIG 2.6).
 *
 * The shard that receives the request validates everything it can; the connection's owner (named
 * by the token) applies it. RIG reports a vanished connection (410) before an invalid JWT or
 * subscription (400), so the validation error travels with the request and the owner decides which
 * answer wins. All answers carry the CORS header.
 */
import { isUtf8 } from 'node:buffer';
import { GatewayError, err } from '../../shared/errors.js';
import { mediaTypeOf } from '../../shared/cloudevents/http-binding.js';
import { errorResponse, header, headerAll, readBody, send, snapshot, track, writeResponse } from '../../shared/http/uws-http.js';
import type { Headers } from '../../shared/http/uws-http.js';
import type { OpReply, SubscriptionsOp } from '../../shared/channel/messages.js';
import { JwtError } from '../../shared/jwt/verifier.js';
import { jsonForMessage } from '../../shared/json-depth.js';
import { SubscriptionParseError, parseSubscriptionList, subscriptionLimitsOf } from '../../shared/subscriptions/parse.js';
import { inferSubscriptionsFromClaims } from '../../shared/subscriptions/jwt-infer.js';
import type { Subscription } from '../../shared/subscriptions/types.js';
import type { HttpRequest, HttpResponse } from '../../shared/uws.js';
import type { ShardContext } from '../context.js';
import { bearerTokens } from '../../shared/http/authorization.js';
import { checkTokenFor } from '../authorization/lenient-token.js';

export function subscriptionsPut(ctx: ShardContext) {
  return (res: HttpResponse, req: HttpRequest): void => {
    const cors = ctx.corsHeaders;
    let snap;
    try {
      snap = snapshot(req, ctx.config.maxHeaderValueBytes);
      checkAccept(headerAll(snap.headers, 'accept'));
    } catch (e) {
      const r = errorResponse(e, cors);
      writeResponse(res, r.status, r.body, r.headers);
      return;
    }
    const token = req.getParameter(1) ?? '';
    const headers = snap.headers;
    const t = track(res);
    readBody(
      t,
      ctx.config.maxRequestBodyBytes,
      (body) => {
        validate(ctx, token, headers, body).then(
          (op) => {
            if (t.aborted) return;
            applyOrForward(ctx, op.owner, op.op, (reply) => send(t, reply.status, reply.body, [...cors, ...(reply.headers ?? [])]));
          },
          (e: unknown) => {
            const r = errorResponse(e, cors);
            if (r.status >= 500) ctx.log.error('subscriptions PUT failed', { error: e });
            send(t, r.status, r.body, r.headers);
          },
        );
      },
      (e) => send(t, e.status, e.message, cors),
    );
  };
}

function checkAccept(accept: string[]): void {
  if (accept.length === 0) return;
  const ok = accept.some((a) =>
    a.split(',').some((item) => {
      const m = mediaTypeOf(item);
      return m === 'application/json' || m === '*/*' || m === 'application/*';
    }),
  );
  if (!ok) throw err.notAcceptable(accept);
}

async function validate(ctx: ShardContext, token: string, headers: Headers, body: Buffer): Promise<{ owner: number; op: SubscriptionsOp }> {
  const contentType = header(headers, 'content-type');
  if (contentType === undefined || mediaTypeOf(contentType) !== 'application/json') {
    throw err.expectedJsonBody(`unsupported content-type: ${contentType === undefined ? '(none)' : JSON.stringify(contentType)}, expected application/json`);
  }
  // JSON text is UTF-8 (RFC 8259); decoding invalid bytes would silently turn them into U+FFFD.
  if (!isUtf8(body)) throw err.expectedJsonBody('request body is not valid UTF-8');
  let decoded: unknown;
  try {
    decoded = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw err.expectedJsonBody((e as Error).message);
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded) || !('subscriptions' in decoded)) {
    throw err.subscriptionsFieldMissing(jsonForMessage(decoded));
  }
  const authorization = headerAll(headers, 'authorization');
  const check = ctx.authorization.subscription;
  if (check.enabled) {
    // RIG asks before it looks at the connection token or the JWTs; the service gets the body as sent.
    const verdict = await check.decide({
      tokens: bearerTokens(authorization),
      describe: () => ({
        contentType,
        authorization: authorization.length === 0 ? undefined : authorization.join(', '),
        body,
      }),
    });
    if (verdict === 'deny') throw err.subscriptionDenied();
    if (verdict === 'busy') throw err.authorizationBusy();
  }
  const payload = ctx.tokens.decode(token);
  if (payload === null || payload.kind !== 'connection') throw err.invalidConnectionToken();
  // Tokens of another node cannot be served by a standalone gateway: the connection is not here.
  if (payload.nodeId !== ctx.config.nodeId || payload.shard >= ctx.config.shards) throw err.connectionGone();
  const op: SubscriptionsOp = { op: 'subscriptions', connId: payload.id, incarnation: payload.incarnation };
  try {
    const effective = await effectiveSubscriptions(ctx, authorization, decoded, check.external);
    op.subscriptions = effective.subscriptions;
    if (effective.sessions.length > 0) op.sessions = effective.sessions;
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
    op.error = e.toWire();
  }
  return { owner: payload.shard, op };
}

/**
 * JWT-inferred subscriptions (merged claims of every Bearer token) ++ the body's, not de-duplicated
 * (RIG), and the sessions of those tokens, which the connection joins (RIG 7.3). `lenient`: a
 * decision service has accepted the request, so tokens the gateway cannot verify are not errors;
 * they infer nothing (see authorization/lenient-token.ts).
 */
async function effectiveSubscriptions(
  ctx: ShardContext,
  authorization: string[],
  decoded: object,
  lenient: boolean,
): Promise<{ subscriptions: Subscription[]; sessions: string[] }> {
  const claims: Record<string, unknown> = {};
  const sessions: string[] = [];
  let anyJwt = false;
  for (const jwt of bearerTokens(authorization)) {
    try {
      const checked = await checkTokenFor(ctx.tokenCheck, jwt, lenient);
      if (checked.sessionId !== undefined) sessions.push(checked.sessionId);
      if (checked.claims === undefined) continue;
      Object.assign(claims, checked.claims);
      anyJwt = true;
    } catch (e) {
      throw err.invalidAuthorization(e instanceof JwtError ? e.reason : String(e));
    }
  }
  let bodySubs: Subscription[];
  try {
    bodySubs = parseSubscriptionList(decoded, subscriptionLimitsOf(ctx.config));
  } catch (e) {
    if (e instanceof SubscriptionParseError) throw err.subscriptionsInvalid(e.message);
    throw e;
  }
  const jwtSubs = anyJwt ? inferSubscriptionsFromClaims(ctx.extractors, claims) : [];
  return { subscriptions: [...jwtSubs, ...bodySubs], sessions };
}

export function applyOrForward(ctx: ShardContext, owner: number, op: SubscriptionsOp, reply: (r: OpReply) => void): void {
  if (owner === ctx.shardId) applySubscriptions(ctx, op, reply);
  else ctx.link.request(owner, op, reply);
}

/** Runs on the owner shard. */
export function applySubscriptions(ctx: ShardContext, op: SubscriptionsOp, reply: (r: OpReply) => void): void {
  const conn = op.incarnation === ctx.incarnation ? ctx.hub.get(op.connId) : undefined;
  if (!conn || conn.closed) {
    const e = err.connectionGone();
    reply({ status: e.status, body: e.message });
    return;
  }
  if (op.error) {
    reply({ status: op.error.status, body: op.error.message });
    return;
  }
  if (op.sessions) ctx.sessions.attach(conn, op.sessions);
  ctx.hub.setSubscriptions(conn, op.subscriptions ?? []);
  reply({ status: 204, body: '' });
}
