/** GET /_rig/v1/connection/sse: set-up (RIG 2.3), then the stream stays open on this shard. */
import { connectionCreateEvent } from '../../shared/cloudevents/rig-events.js';
import { errorResponse, queryParam, snapshot, writeResponse } from '../../shared/http/uws-http.js';
import type { HttpRequest, HttpResponse } from '../../shared/uws.js';
import { prepareConnection } from '../connect.js';
import type { ShardContext } from '../context.js';
import { ShardEvent } from '../shard-event.js';
import { SseConnection } from '../transports/sse.js';

export function sseConnect(ctx: ShardContext) {
  return (res: HttpResponse, req: HttpRequest): void => {
    let setup;
    try {
      const snap = snapshot(req, ctx.config.maxHeaderValueBytes);
      setup = prepareConnection(
        ctx,
        { jwt: queryParam(snap.query, 'jwt'), subscriptions: queryParam(snap.query, 'subscriptions') },
        { rateLimit: true },
      );
    } catch (e) {
      // RIG's set-up errors are plain text without content-type or CORS headers.
      const r = errorResponse(e);
      if (r.status >= 500) ctx.log.error('SSE set-up failed', { error: e });
      writeResponse(res, r.status, r.body);
      return;
    }
    const { id, token } = ctx.newConnection();
    res.writeStatus('200 OK');
    res.writeHeader('content-type', 'text/event-stream; charset=utf-8');
    res.writeHeader('cache-control', 'no-cache');
    for (const [k, v] of ctx.corsHeaders) res.writeHeader(k, v);
    const conn = new SseConnection(id, token, res, ctx.config.outboundQueueMaxBytes, (c) => ctx.hub.remove(c));
    ctx.hub.add(conn);
    ctx.sessions.attach(conn, setup.sessions);
    conn.deliver(ShardEvent.fromJson('rig.connection.create', connectionCreateEvent(token)));
    ctx.hub.setSubscriptions(conn, setup.subscriptions);
  };
}
