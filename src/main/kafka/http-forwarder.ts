/**
 * Sends events submitted over HTTP (POST /_rig/v1/events on the public port, POST /v3/messages on
 * the internal API) to the first source topic instead of routing them locally, while Kafka is
 * configured. Every node consumes that topic, so each node delivers the event exactly once to its
 * own subscribers, wherever it was submitted.
 *
 * The submitter got its 202 before the event reaches Kafka (the shard answers as soon as the event
 * is parsed). A failed send is logged and counted in `produceFailed`; the event is lost. Sends are
 * batched per event-loop turn: one produce request for everything submitted in that turn.
 */
import type { Logger } from '../../shared/logger.js';
import type { JsonProducer, OutgoingMessage } from './producer.js';

export const CLOUDEVENTS_JSON = 'application/cloudevents+json';

export interface ForwarderStats {
  produced: number;
  produceFailed: number;
}

export class TopicForwarder {
  readonly stats: ForwarderStats = { produced: 0, produceFailed: 0 };
  private pending: OutgoingMessage[] = [];
  private scheduled = false;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly producer: JsonProducer,
    readonly topic: string,
    private readonly log: Logger,
  ) {}

  /** Queues one event's JSON text (structured mode, forwarded byte-for-byte by the consumers). */
  forward(json: string | Uint8Array): void {
    const value = typeof json === 'string' ? json : Buffer.from(json.buffer, json.byteOffset, json.byteLength);
    this.pending.push({ value, headers: { 'content-type': CLOUDEVENTS_JSON } });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const messages = this.pending;
    this.pending = [];
    if (messages.length === 0) return;
    const p = this.producer.send(this.topic, messages).then(
      () => {
        this.stats.produced += messages.length;
      },
      (e: unknown) => {
        this.stats.produceFailed += messages.length;
        this.log.error(`could not send ${messages.length} submitted event(s) to Kafka topic ${this.topic}; they are lost`, {
          error: e instanceof Error ? e.message : String(e),
        });
      },
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  };

  /** Sends what is queued and waits for the sends under way (shutdown). */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all([...this.inFlight]);
  }
}
