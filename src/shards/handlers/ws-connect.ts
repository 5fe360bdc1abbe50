/**
 * /_rig/v1/connection/ws. Like RIG, the upgrade always succeeds; a failed set-up is reported
 * afterwards by a close frame (1000 "Bad request.", or the decoder message for an undecodable
 * subscription list; 1008 when SUBSCRIPTION_CHECK denies, 1013 when its decision service is busy).
 * Set-up may wait (JWKS keys, a decision service), so the upgrade happens when it is done.
 * Clients may not talk: any data frame closes the socket (RIG 2.4).
 */
import { connectionCreateEvent } from '../../shared/cloudevents/rig-events.js';
import { isGatewayError } from '../../shared/errors.js';
import { snapshot } from '../../shared/http/uws-http.js';
import type { RequestSnapshot } from '../../shared/http/uws-http.js';
import type { WebSocketBehavior } from '../../shared/uws.js';
import { admitConnection } from '../connect.js';
import type { ConnectSetup } from '../connect.js';
import type { ShardContext } from '../context.js';
import { DISCONNECT, wsSetupError } from '../disconnect.js';
import type { Disconnect } from '../disconnect.js';
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
      // HttpRequest is only valid during this call: copy what the (possibly later) upgrade needs.
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      let snap: RequestSnapshot;
      try {
        snap = snapshot(req, ctx.config.maxHeaderValueBytes);
      } catch {
        res.upgrade({ setupError: DISCONNECT.badRequest } satisfies WsUserData, key, protocol, extensions, context);
        return;
      }
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      setUp(ctx, snap).then((data) => {
        if (aborted) {
          data.reservation?.cancel();
          return;
        }
        res.cork(() => res.upgrade(data, key, protocol, extensions, context));
      }).catch((e) => ctx.log.error('WS upgrade failed', { error: e }));
    },
    open: (ws) => {
      const data = ws.getUserData();
      if (data.setupError) {
        ws.end(data.setupError.wsCode, data.setupError.message);
        return;
      }
      const setup = data.setup as ConnectSetup;
      const reservation = data.reservation!;
      data.setup = undefined;
      data.reservation = undefined;
      const { id, token } = ctx.newConnection();
      const conn = new WsConnection(id, token, ws, ctx.config.outboundQueueMaxBytes, (c) => ctx.hub.remove(c), Date.now());
      data.conn = conn;
      ctx.hub.add(conn);
      reservation.attach(conn);
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
      const data = ws.getUserData();
      data.reservation?.cancel();
      data.conn?.closedByPeer();
    },
  };
}

/**
 * Runs the set-up (RIG 2.3) and says how the socket starts: with a connection, or with the close
 * frame that reports the failure. Never rejects: RIG upgrades whatever happened.
 */
async function setUp(ctx: ShardContext, snap: RequestSnapshot): Promise<WsUserData> {
  try {
    return await admitConnection(ctx, snap.query, { rateLimit: true });
  } catch (e) {
    return { setupError: setupErrorOf(ctx, e) };
  }
}

function setupErrorOf(ctx: ShardContext, e: unknown): Disconnect {
  if (!isGatewayError(e)) {
    ctx.log.error('WS set-up failed', { error: e });
    return DISCONNECT.badRequest;
  }
  switch (e.code) {
    case 'GW_ERR_SUBSCRIPTION_LIST_UNDECODABLE':
    case 'GW_ERR_SUBSCRIPTION_LIMIT':
      return wsSetupError(e.message);
    case 'GW_ERR_SUBSCRIPTION_NOT_AUTHORIZED':
      return DISCONNECT.subscriptionDenied;
    case 'GW_ERR_AUTHORIZATION_BUSY':
      return DISCONNECT.authorizationBusy;
    default:
      return DISCONNECT.badRequest;
  }
}
