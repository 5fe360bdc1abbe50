/**
 * The shard's registry of connections and their subscriptions, and the fan-out of event batches.
 * A batch from main is matched record by record; every matching connection queues the event, and
 * only after the whole batch is each touched connection flushed once: one write per connection per
 * batch, the property that makes uWS fast (see docs/architecture.md).
 */
import { readEventRecords } from '../shared/channel/event-record.js';
import type { ExtractorConfig } from '../shared/extractors/types.js';
import type { Subscription } from '../shared/subscriptions/types.js';
import { subscriptionsSetEvent } from '../shared/cloudevents/rig-events.js';
import { SubscriptionIndex } from './subscription-index.js';
import { ShardEvent } from './shard-event.js';
import type { Connection } from './connection.js';

export interface HubStats {
  connections: number;
  deliveries: number;
  events: number;
}

export class Hub {
  private readonly connections = new Map<number, Connection>();
  private readonly index: SubscriptionIndex<Connection>;
  private dirty: Connection[] = [];
  private flushScheduled = false;
  private interestAdd = new Set<string>();
  private interestRemove = new Set<string>();
  readonly stats: HubStats = { connections: 0, deliveries: 0, events: 0 };
  /** Called once for every connection that leaves the hub (session memberships, shards/sessions/). */
  onRemove: ((conn: Connection) => void) | undefined;

  constructor(
    extractors: ExtractorConfig,
    /** Tells main which interest keys this shard gained or lost. */
    private readonly publishInterest: (add: string[], remove: string[]) => void,
  ) {
    this.index = new SubscriptionIndex<Connection>(extractors, (key, added) => {
      if (added) {
        if (!this.interestRemove.delete(key)) this.interestAdd.add(key);
      } else if (!this.interestAdd.delete(key)) this.interestRemove.add(key);
    });
  }

  get size(): number {
    return this.connections.size;
  }

  get(id: number): Connection | undefined {
    return this.connections.get(id);
  }

  all(): IterableIterator<Connection> {
    return this.connections.values();
  }

  add(conn: Connection): void {
    this.connections.set(conn.id, conn);
    this.stats.connections = this.connections.size;
  }

  /**
   * Replaces the connection's subscriptions and tells it with rig.subscriptions_set. Interest is
   * published to main before the client hears about it, so an event submitted after the client saw
   * rig.subscriptions_set is routed here.
   */
  setSubscriptions(conn: Connection, subs: readonly Subscription[]): void {
    conn.subscriptions = subs;
    this.index.set(conn, subs);
    this.sendInterest();
    conn.deliver(ShardEvent.fromJson('rig.subscriptions_set', subscriptionsSetEvent(subs)));
    conn.flush();
  }

  remove(conn: Connection): void {
    if (this.connections.get(conn.id) !== conn) return;
    this.connections.delete(conn.id);
    this.stats.connections = this.connections.size;
    this.index.remove(conn);
    this.sendInterest();
    this.onRemove?.(conn);
  }

  /** Fans out one batch of event records from main. */
  dispatch(records: Uint8Array): void {
    const visit = (conn: Connection) => {
      conn.deliver(current!);
      if (!conn.dirty) {
        conn.dirty = true;
        this.dirty.push(conn);
      }
    };
    let current: ShardEvent | undefined;
    for (const r of readEventRecords(records)) {
      current = new ShardEvent(r.type, r.json);
      this.stats.events++;
      this.stats.deliveries += this.index.match(r.type, r.values, visit);
    }
    this.scheduleFlush();
  }

  /**
   * Touched connections are flushed once per event-loop turn, not once per batch. When fan-out
   * falls behind (every flush costs one syscall per connection), main's batches queue up on the
   * port; Node hands all queued port messages over in one turn, so they are matched first and
   * then written together: one write per connection per turn, and the backlog shrinks instead of
   * each queued batch paying the whole fan-out again (and starving the loop of socket I/O).
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushTurn);
  }

  private readonly flushTurn = (): void => {
    this.flushScheduled = false;
    this.flushDirty();
  };

  flushDirty(): void {
    const list = this.dirty;
    this.dirty = [];
    for (const conn of list) {
      conn.dirty = false;
      if (!conn.closed) conn.flush();
    }
  }

  private sendInterest(): void {
    if (this.interestAdd.size === 0 && this.interestRemove.size === 0) return;
    const add = [...this.interestAdd];
    const remove = [...this.interestRemove];
    this.interestAdd.clear();
    this.interestRemove.clear();
    this.publishInterest(add, remove);
  }
}
