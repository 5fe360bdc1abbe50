/**
 * What every transport (SSE, WebSocket, long-polling) offers the hub. Delivery is two-phase so a
 * whole batch of events costs one write per connection: `deliver` only queues (bounded), and
 * `flush` writes everything queued once per batch.
 */
import type { Subscription } from '../shared/subscriptions/types.js';
import type { ShardEvent } from './shard-event.js';
import type { Disconnect } from './disconnect.js';

export type TransportKind = 'sse' | 'ws' | 'longpolling';

export interface Connection {
  readonly id: number;
  readonly kind: TransportKind;
  /** The connection token handed to the client in rig.connection.create. */
  readonly token: string;
  subscriptions: readonly Subscription[];
  /** Set by the hub while the connection waits in this batch's flush list. */
  dirty: boolean;
  readonly closed: boolean;
  /** Queues one event; may decide the client is too slow and close it. */
  deliver(event: ShardEvent): void;
  /** Writes what is queued (one syscall per connection per batch). */
  flush(): void;
  /** Heartbeat tick (SSE comment, WS ping; long-polling does nothing). */
  heartbeat(now: number, intervalMs: number): void;
  /** Server-initiated close with a reason the client can act on. */
  close(reason: Disconnect): void;
}
