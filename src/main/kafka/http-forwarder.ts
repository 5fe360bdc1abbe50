/**
 * Sends events submitted over HTTP (POST /_rig/v1/events on the public port, POST /v3/messages on
 * the internal API) to the first source topic instead of routing them locally, while Kafka is
 * configured. Every node consumes that topic, so each node delivers the event exactly once to its
 * own subscribers, wherever it was submitted.
 *
 * The submitter got its 202 before the event reaches Kafka (the shard answers as soon as the event
 * is parsed). A failed send is logged and counted in `produceFailed`; the event is lost. Sends go
 * through the record producer (./record-producer.ts), which writes everything of one event-loop
 * turn in one produce request per topic.
 */
import type { Logger } from '../../shared/logger.js';
import { RateLimitedLog } from './rate-limited-log.js';
import type { RecordProducer } from './record-producer.js';

export const CLOUDEVENTS_JSON = 'application/cloudevents+json';

export interface ForwarderStats {
  produced: number;
  produceFailed: number;
}

export class TopicForwarder {
  readonly stats: ForwarderStats = { produced: 0, produceFailed: 0 };
  private readonly lostLog = new RateLimitedLog(1000);

  constructor(
    private readonly records: RecordProducer,
    readonly topic: string,
    private readonly log: Logger,
  ) {}

  /** Queues one event's JSON text (structured mode, forwarded byte-for-byte by the consumers). */
  forward(json: string | Uint8Array): void {
    const value = typeof json === 'string' ? json : Buffer.from(json.buffer, json.byteOffset, json.byteLength);
    this.records.send(this.topic, { value, headers: { 'content-type': CLOUDEVENTS_JSON } }, (error) => {
      if (error === undefined) {
        this.stats.produced++;
        return;
      }
      this.stats.produceFailed++;
      this.lostLog.run((suppressed) =>
        this.log.error(`a submitted event could not be sent to Kafka topic ${this.topic}; it is lost`, { error, suppressed }),
      );
    });
  }
}
