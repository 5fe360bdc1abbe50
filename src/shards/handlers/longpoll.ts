/**
 * GET /_rig/v1/connection/longpolling (RIG 2.5). Without a live session cookie it creates a session
 * (answer "ok" + cookies); with one it polls. The session lives on the shard that created it; a
 * poll that lands on another shard (a new TCP connection) is forwarded to the owner through main
 * and its answer relayed back.
 *
 * Cookies that cannot be decoded (tampered, or issued under another NODE_COOKIE) answer 400 and
 * clear both cookies so the next request starts a fresh session: RIG answered 500 there, and an
 * HttpOnly cookie the page cannot remove must not wedge a client.
 */
import { connectionCreateEvent } from '../../shared/cloudevents/rig-events.js';
import type { OpReply, PollOp } from '../../shared/channel/messages.js';
import { err } from '../../shared/errors.js';
import type { GatewayError } from '../../shared/errors.js';
import { errorResponse, headerAll, send, snapshot, track, writeResponse } from '../../shared/http/uws-http.js';
import type { Headers, RequestSnapshot, Tracked } from '../../shared/http/uws-http.js';
import type { HttpRequest, HttpResponse } from '../../shared/uws.js';
import { admitConnection } from '../connect.js';
import type { ShardContext } from '../context.js';
import type { SessionReservation } from '../sessions/shard-sessions.js';
import { ShardEvent } from '../shard-event.js';
import { FIRST_EVENT, LongPollSession } from '../transports/long-poll.js';

const CLEAR_COOKIES: Headers = [
  ['set-cookie', 'connection_token=; path=/; HttpOnly; Max-Age=0'],
  ['set-cookie', 'last_event_id=; path=/; HttpOnly; Max-Age=0'],
];

export function lpHeaders(ctx: ShardContext): Headers {
  return [
    ['content-type', 'application/json; charset=utf-8'],
    ['cache-control', 'no-cache'],
    ...ctx.corsHeaders,
    ['access-control-allow-credentials', 'true'],
  ];
}

export function longpollOptions(ctx: ShardContext) {
  return (res: HttpResponse): void => {
    writeResponse(res, 204, '', [
      ...ctx.corsHeaders,
      ['access-control-allow-credentials', 'true'],
      ['access-control-allow-methods', 'GET'],
      ['access-control-allow-headers', '*'],
    ]);
  };
}

export function longpollGet(ctx: ShardContext) {
  return (res: HttpResponse, req: HttpRequest): void => {
    let snap: RequestSnapshot;
    try {
      snap = snapshot(req, ctx.config.maxHeaderValueBytes);
    } catch (e) {
      const r = errorResponse(e, ctx.corsHeaders);
      writeResponse(res, r.status, r.body, r.headers);
      return;
    }
    const cookies = parseCookies(headerAll(snap.headers, 'cookie'));
    const tokenCookie = cookies.get('connection_token');
    if (tokenCookie === undefined || tokenCookie === '') {
      create(ctx, snap, track(res));
      return;
    }
    const payload = ctx.tokens.decode(tokenCookie);
    if (payload === null || payload.kind !== 'connection') {
      badCookie(ctx, res, err.invalidLongpollCookie('connection_token'));
      return;
    }
    const cursor = decodeCursor(cookies.get('last_event_id'));
    if (cursor === null) {
      badCookie(ctx, res, err.invalidLongpollCookie('last_event_id'));
      return;
    }
    if (payload.nodeId !== ctx.config.nodeId || payload.shard >= ctx.config.shards) {
      // A session of another node (or a gone shard layout) is not alive here: start a new one.
      create(ctx, snap, track(res));
      return;
    }
    const op: PollOp = { op: 'poll', connId: payload.id, incarnation: payload.incarnation, cursor };
    const t = track(res);
    const relay = (reply: OpReply) => {
      if (reply.status === 410) {
        // The session ended (idle, shard restart): RIG starts a new session in that case.
        create(ctx, snap, t);
        return;
      }
      send(t, reply.status, reply.body, reply.headers);
    };
    if (payload.shard === ctx.shardId) pollLocal(ctx, op, relay);
    else ctx.link.request(payload.shard, op, relay);
  };
}

/** Runs on the owner shard (directly, or for a poll forwarded by another shard). */
export function pollLocal(ctx: ShardContext, op: PollOp, reply: (r: OpReply) => void): void {
  const conn = op.incarnation === ctx.incarnation ? ctx.hub.get(op.connId) : undefined;
  if (!conn && op.incarnation === ctx.incarnation) {
    const killed = ctx.sessions.takeKilledPoll(op.connId);
    if (killed) {
      reply(killed.answerKilled(op.cursor));
      return;
    }
  }
  if (!(conn instanceof LongPollSession) || conn.closed) {
    reply({ status: 410, body: 'Connection no longer exists.' });
    return;
  }
  conn.poll(op.cursor, reply, Date.now(), ctx.config.longpollTimeoutMs);
}

function create(ctx: ShardContext, snap: RequestSnapshot, t: Tracked): void {
  if (t.aborted || t.done) return;
  // RIG checks the rate limit before anything else for long polling, and answers without CORS.
  if (!ctx.rateLimiter.tryAcquire()) {
    const e = err.rateLimited();
    send(t, e.status, e.message);
    return;
  }
  startSession(ctx, snap, t).catch((e) => {
    ctx.log.error('long-poll set-up failed', { error: e });
    send(t, 500, 'Internal server error', ctx.corsHeaders);
  });
}

/**
 * The rest of RIG's create (2.5) plus what RIG forgot (spec 13 item 11): SUBSCRIPTION_CHECK when a
 * `subscriptions` parameter is given, and the session of the `jwt`, so a kill ends it.
 */
async function startSession(ctx: ShardContext, snap: RequestSnapshot, t: Tracked): Promise<void> {
  let setup;
  let reservation: SessionReservation;
  try {
    ({ setup, reservation } = await admitConnection(ctx, snap.query, { rateLimit: false }));
  } catch (e) {
    const r = errorResponse(e, ctx.corsHeaders);
    if (r.status >= 500) ctx.log.error('long-poll set-up failed', { error: e });
    send(t, r.status, r.body, r.headers);
    return;
  }
  if (t.aborted || t.done) {
    reservation.cancel();
    return;
  }
  const { id, token } = ctx.newConnection();
  const session = new LongPollSession(id, token, ctx.config.longpollBufferSize, lpHeaders(ctx), (s) => ctx.hub.remove(s), Date.now());
  ctx.hub.add(session);
  reservation.attach(session);
  session.deliver(ShardEvent.fromJson('rig.connection.create', connectionCreateEvent(token)));
  ctx.hub.setSubscriptions(session, setup.subscriptions);
  send(t, 200, '"ok"', [
    ...lpHeaders(ctx),
    ['set-cookie', `connection_token=${token}; path=/; HttpOnly`],
    ['set-cookie', `last_event_id=${JSON.stringify(FIRST_EVENT)}; path=/; HttpOnly`],
  ]);
}

function badCookie(ctx: ShardContext, res: HttpResponse, e: GatewayError): void {
  writeResponse(res, e.status, e.message, [...ctx.corsHeaders, ['access-control-allow-credentials', 'true'], ...CLEAR_COOKIES]);
}

/** The last_event_id cookie holds a JSON string (RIG: `"first_event"` with the quotes). */
export function decodeCursor(raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return FIRST_EVENT;
  let value = raw;
  try {
    value = decodeURIComponent(raw);
  } catch {
    return null;
  }
  try {
    const v: unknown = JSON.parse(value);
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

export function parseCookies(values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    for (const part of v.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      const name = part.slice(0, eq).trim();
      if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
    }
  }
  return out;
}
