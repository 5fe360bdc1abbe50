/**
 * WebSocket connections. Each event is one text frame carrying the CloudEvent JSON (RIG's format).
 *
 * Flow control: uWS queues what the kernel does not take. When a flush finds that queue above
 * OUTBOUND_QUEUE_MAX_BYTES (bytes the socket refused), no further event is sent (a skipped frame
 * would be a silent gap) and the socket is closed with code 4000 `slow_consumer`. Events waiting for
 * the flush are written early once they reach the limit, so a shard working through a backlog never
 * mistakes its own delay for a slow client, and uWS holds at most about twice the limit. The limit
 * is ours, not uWS's `maxBackpressure`: uWS drops every frame over that limit, the close frame
 * included, and the client would see an abnormal closure (1006) instead of 4000. Frames of one
 * flush are sent inside one cork: one syscall per flush.
 *
 * Closing: `end()` queues the close frame behind what uWS still holds and arms uWS's short close
 * timer (0 to 4 s, its timer granularity), after which uWS drops the socket and everything still
 * queued, close frame included. A client that resumes reading a moment later would then often see
 * 1006. So while uWS still holds data for the socket, the close waits (no more events are queued)
 * until the next drain empties it, for at most CLOSE_GRACE_MS; then `end()` runs.
 *
 * Liveness: RIG pings every 15 s. A client that has not answered (pong or any frame) for three
 * heartbeat intervals is closed with 4001, which frees sockets of peers that vanished silently.
 */
import type { Subscription } from '../../shared/subscriptions/types.js';
import type { WebSocket } from '../../shared/uws.js';
import type { Connection } from '../connection.js';
import type { Disconnect } from '../disconnect.js';
import { DISCONNECT } from '../disconnect.js';
import type { ShardEvent } from '../shard-event.js';
import type { SessionReservation } from '../sessions/shard-sessions.js';

const SEND_DROPPED = 2;
/** How long a close waits for uWS to hand a congested socket's backlog to the kernel. */
const CLOSE_GRACE_MS = 10_000;

export interface WsUserData {
  /** Set by the upgrade handler when connection set-up failed: the socket is closed on open. */
  setupError?: Disconnect;
  /** Set by the upgrade handler on success. */
  setup?: unknown;
  /** The connection's place in its sessions, taken during set-up; attached on open. */
  reservation?: SessionReservation;
  conn?: WsConnection;
}

export class WsConnection implements Connection {
  readonly kind = 'ws' as const;
  subscriptions: readonly Subscription[] = [];
  dirty = false;
  closed = false;
  lastSeen: number;
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  /** A close waiting for the backlog to drain (see the header comment). */
  private pendingClose: Disconnect | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    readonly token: string,
    private readonly ws: WebSocket<WsUserData>,
    private readonly maxQueueBytes: number,
    private readonly onGone: (c: WsConnection) => void,
    now: number,
  ) {
    this.lastSeen = now;
  }

  deliver(event: ShardEvent): void {
    if (this.closed) return;
    this.queue.push(event.json);
    this.queuedBytes += event.json.byteLength;
    // A shard working through a backlog must not hold more than the limit for one socket until the
    // end of its turn: write early (the slowness check below then judges only what the socket refused).
    if (this.queuedBytes > this.maxQueueBytes) this.flush();
  }

  flush(): void {
    if (this.pendingClose) {
      // Called on drain: end as soon as uWS holds nothing more for the socket.
      if (this.ws.getBufferedAmount() === 0) this.endNow();
      return;
    }
    if (this.closed || this.queue.length === 0) return;
    // Slow = uWS still holds more than the limit from earlier flushes: bytes the socket refused.
    // What this flush adds is itself bounded by the limit (deliver flushes early).
    if (this.ws.getBufferedAmount() > this.maxQueueBytes) {
      this.close(DISCONNECT.slowConsumer);
      return;
    }
    const queue = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    let dropped = false;
    this.ws.cork(() => {
      for (const frame of queue) {
        if (this.ws.send(frame, false, false) === SEND_DROPPED) {
          dropped = true;
          break;
        }
      }
    });
    if (dropped) this.close(DISCONNECT.slowConsumer);
  }

  heartbeat(now: number, intervalMs: number): void {
    if (this.closed) return;
    if (now - this.lastSeen > 3 * intervalMs) {
      this.close(DISCONNECT.heartbeatTimeout);
      return;
    }
    this.ws.cork(() => this.ws.ping());
  }

  close(reason: Disconnect): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
    if (this.ws.getBufferedAmount() > 0) {
      this.pendingClose = reason;
      this.graceTimer = setTimeout(() => this.endNow(), CLOSE_GRACE_MS);
      this.graceTimer.unref();
      this.onGone(this);
      return;
    }
    this.ws.end(reason.wsCode, reason.message);
    this.onGone(this);
  }

  private endNow(): void {
    const reason = this.pendingClose;
    if (!reason) return;
    this.pendingClose = undefined;
    clearTimeout(this.graceTimer);
    this.ws.end(reason.wsCode, reason.message);
  }

  /** uWS reported the socket closed (by either side). */
  closedByPeer(): void {
    this.pendingClose = undefined;
    clearTimeout(this.graceTimer);
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.onGone(this);
  }
}
