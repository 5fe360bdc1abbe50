/**
 * The main thread's half of the push path: takes event records (from shards' POST /_rig/v1/events,
 * from the internal API, from Kafka), looks up which shards registered interest in any of the
 * event's keys, and appends the unchanged record bytes to those shards' per-turn batches.
 */
import { encodeEventRecord, readEventRecords } from '../../shared/channel/event-record.js';
import type { CloudEvent } from '../../shared/cloudevents/types.js';
import { extractFieldValues } from '../../shared/extractors/extract.js';
import type { ExtractorConfig } from '../../shared/extractors/types.js';
import { eventInterestKeys } from '../../shared/subscriptions/interest.js';
import { InterestTable } from './interest-table.js';

export interface ShardSink {
  /** Queues a record for a shard (batched per turn by the shard handle). No-op if the shard is down. */
  pushEvent(shard: number, record: Uint8Array): void;
  /**
   * Applies the interest updates shards have already posted, so an event submitted in main is
   * routed with every subscription a client was told about (Supervisor.catchUp).
   */
  catchUp?(): void;
}

export interface RouterStats {
  events: number;
  /** Events no shard wanted (dropped in main without crossing a thread). */
  unrouted: number;
  /** Event copies sent to shards. */
  shardDeliveries: number;
}

export class Router {
  readonly interest = new InterestTable();
  readonly stats: RouterStats = { events: 0, unrouted: 0, shardDeliveries: 0 };
  /**
   * Set while Kafka is configured: events submitted over HTTP go to the source topic (which every
   * node consumes) instead of being routed here; see kafka/http-forwarder.ts.
   */
  forwardSubmitted: ((json: Uint8Array | string) => void) | undefined;

  constructor(
    private readonly extractors: ExtractorConfig,
    private readonly sink: ShardSink,
  ) {}

  /** An event submitted over the internal API: forwarded to Kafka when configured, else routed. */
  submitHttp(event: CloudEvent): void {
    if (this.forwardSubmitted) this.forwardSubmitted(event.json);
    else this.submit(event);
  }

  /** Routes an event parsed in main (internal API, Kafka). */
  submit(event: CloudEvent): void {
    this.sink.catchUp?.();
    const values = extractFieldValues(this.extractors, event.type, event.body);
    const record = encodeEventRecord(event.type, values, event.json);
    this.route(event.type, values, record);
  }

  /** Routes a batch of records a shard produced (events submitted over HTTP; forwarded to Kafka when configured). */
  routeBatch(records: Uint8Array): void {
    const forward = this.forwardSubmitted;
    if (forward) {
      for (const r of readEventRecords(records)) forward(r.json);
      return;
    }
    for (const r of readEventRecords(records)) this.route(r.type, r.values, r.record);
  }

  private route(type: string, values: Parameters<typeof eventInterestKeys>[1], record: Uint8Array): void {
    this.stats.events++;
    let mask = this.interest.lookup(eventInterestKeys(type, values));
    if (mask === 0) {
      this.stats.unrouted++;
      return;
    }
    for (let shard = 0; mask !== 0; shard++, mask >>>= 1) {
      if (mask & 1) {
        this.sink.pushEvent(shard, record);
        this.stats.shardDeliveries++;
      }
    }
  }
}
