/** GET /_rig/v1/connection/sse: set-up (RIG 2.3), then the stream stays open on this shard. */
import { connectionCreateEvent } from '../../shared/cloudevents/rig-events.js';
import { errorResponse, send, snapshot, track, writeResponse } from '../../shared/http/uws-http.js';
import type { RequestSnapshot, Tracked } from '../../shared/http/uws-http.js';
import type { HttpRequest, HttpResponse } from '../../shared/uws.js';
import { admitConnection } from '../connect.js';
import type { ShardContext } from '../context.js';
import type { SessionReservation } from '../sessions/shard-sessions.js';
import { ShardEvent } from '../shard-event.js';
import { SseConnection } from '../transports/sse.js';

export function sseConnect(ctx: ShardContext) {
  return (res: HttpResponse, req: HttpRequest): void => {
    let snap: RequestSnapshot;
    try {
      snap = snapshot(req, ctx.config.maxHeaderValueBytes);
    } catch (e) {
      const r = errorResponse(e);
      writeResponse(res, r.status, r.body, r.headers);
      return;
    }
    const t = track(res);
    open(ctx, t, snap).catch((e) => {
      ctx.log.error('SSE set-up failed', { error: e });
      send(t, 500, 'Internal server error');
    });
  };
}

async function open(ctx: ShardContext, t: Tracked, snap: RequestSnapshot): Promise<void> {
  let setup;
  let reservation: SessionReservation;
  try {
    ({ setup, reservation } = await admitConnection(ctx, snap.query, { rateLimit: true }));
  } catch (e) {
    // RIG's set-up errors are plain text without content-type or CORS headers.
    const r = errorResponse(e);
    if (r.status >= 500) ctx.log.error('SSE set-up failed', { error: e });
    send(t, r.status, r.body, r.headers);
    return;
  }
  if (t.aborted || t.done) {
    reservation.cancel();
    return;
  }
  t.done = true;
  const res = t.res;
  res.cork(() => {
    const { id, token } = ctx.newConnection();
    res.writeStatus('200 OK');
    res.writeHeader('content-type', 'text/event-stream; charset=utf-8');
    res.writeHeader('cache-control', 'no-cache');
    for (const [k, v] of ctx.corsHeaders) res.writeHeader(k, v);
    const conn = new SseConnection(id, token, res, ctx.config.outboundQueueMaxBytes, (c) => ctx.hub.remove(c));
    ctx.hub.add(conn);
    reservation.attach(conn);
    conn.deliver(ShardEvent.fromJson('rig.connection.create', connectionCreateEvent(token)));
    ctx.hub.setSubscriptions(conn, setup.subscriptions);
  });
}
