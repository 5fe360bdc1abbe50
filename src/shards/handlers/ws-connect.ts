/**
 * /_rig/v1/connection/ws. Like RIG, the upgrade always succeeds; a failed set-up is reported
 * afterwards by a close frame (1000 "Bad request.", or the decoder message for an undecodable
 * subscription list). Clients may not talk: any data frame closes the socket (RIG 2.4).
 */
import { connectionCreateEvent } from '../../shared/cloudevents/rig-events.js';
import { isGatewayError } from '../../shared/errors.js';
import { queryParam, snapshot } from '../../shared/http/uws-http.js';
import type { WebSocketBehavior } from '../../shared/uws.js';
import { prepareConnection } from '../connect.js';
import type { ConnectSetup } from '../connect.js';
import type { ShardContext } from '../context.js';
import { DISCONNECT, wsSetupError } from '../disconnect.js';
import { ShardEvent } from '../shard-event.js';
import { WsConnection } from '../transports/websocket.js';
import type { WsUserData } from '../transports/websocket.js';

/** Largest client frame we read before closing (clients are not supposed to send any). */
const MAX_CLIENT_FRAME = 16 * 1024;

export function wsBehavior(ctx: ShardContext): WebSocketBehavior<WsUserData> {
  return {
    maxPayloadLength: MAX_CLIENT_FRAME,
    // No uWS limit: it would drop the close frame too. WsConnection enforces OUTBOUND_QUEUE_MAX_BYTES.
    maxBackpressure: 0,
    closeOnBackpressureLimit: false,
    // Liveness is ours (pings every HEARTBEAT_INTERVAL_MS, see transports/websocket.ts).
    idleTimeout: 0,
    sendPingsAutomatically: false,
    upgrade: (res, req, context) => {
      const data: WsUserData = {};
      try {
        const snap = snapshot(req, ctx.config.maxHeaderValueBytes);
        data.setup = prepareConnection(
          ctx,
          { jwt: queryParam(snap.query, 'jwt'), subscriptions: queryParam(snap.query, 'subscriptions') },
          { rateLimit: true },
        );
      } catch (e) {
        if (isGatewayError(e) && (e.code === 'GW_ERR_SUBSCRIPTION_LIST_UNDECODABLE' || e.code === 'GW_ERR_SUBSCRIPTION_LIMIT')) data.setupError = wsSetupError(e.message);
        else {
          if (!isGatewayError(e)) ctx.log.error('WS set-up failed', { error: e });
          data.setupError = DISCONNECT.badRequest;
        }
      }
      res.upgrade(
        data,
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => {
      const data = ws.getUserData();
      if (data.setupError) {
        ws.end(data.setupError.wsCode, data.setupError.message);
        return;
      }
      const setup = data.setup as ConnectSetup;
      data.setup = undefined;
      const { id, token } = ctx.newConnection();
      const conn = new WsConnection(id, token, ws, ctx.config.outboundQueueMaxBytes, (c) => ctx.hub.remove(c), Date.now());
      data.conn = conn;
      ctx.hub.add(conn);
      ctx.sessions.attach(conn, setup.sessions);
      conn.deliver(ShardEvent.fromJson('rig.connection.create', connectionCreateEvent(token)));
      ctx.hub.setSubscriptions(conn, setup.subscriptions);
    },
    message: (ws) => {
      ws.getUserData().conn?.close(DISCONNECT.twoWay);
    },
    pong: (ws) => {
      const conn = ws.getUserData().conn;
      if (conn) conn.lastSeen = Date.now();
    },
    drain: (ws) => {
      ws.getUserData().conn?.flush();
    },
    close: (ws) => {
      ws.getUserData().conn?.closedByPeer();
    },
  };
}
