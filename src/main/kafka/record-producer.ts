/**
 * Writes the records shards hand to main (`produce` messages): requests to `target: kafka`
 * endpoints, replies posted for another node, request-log events. Records of one event-loop
 * turn go out in one produce request per topic, and every sender learns the outcome of its own
 * record (a kafka-target client gets 202 only once its record is written).
 */
import type { Logger } from '../../shared/logger.js';
import type { JsonProducer, OutgoingMessage } from './producer.js';

export interface TopicCounts {
  produced: number;
  failed: number;
}

interface Queued {
  message: OutgoingMessage;
  done?: (error?: string) => void;
}

export class RecordProducer {
  /** Per topic: records written and records that could not be written. */
  readonly stats = new Map<string, TopicCounts>();
  private queued = new Map<string, Queued[]>();
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly producer: JsonProducer,
    private readonly log: Logger,
  ) {}

  /** Queues a record; `done` is called once with undefined (written) or the reason it was not. */
  send(topic: string, message: OutgoingMessage, done?: (error?: string) => void): void {
    const list = this.queued.get(topic);
    const item: Queued = done ? { message, done } : { message };
    if (list) list.push(item);
    else this.queued.set(topic, [item]);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** `send` as a promise. */
  sendAsync(topic: string, message: OutgoingMessage): Promise<void> {
    return new Promise((resolve, reject) => this.send(topic, message, (e) => (e === undefined ? resolve() : reject(new Error(e)))));
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const batches = this.queued;
    this.queued = new Map();
    for (const [topic, items] of batches) {
      const counts = this.counts(topic);
      const p = this.producer.send(topic, items.map((i) => i.message)).then(
        () => {
          counts.produced += items.length;
          for (const i of items) i.done?.();
        },
        (e: unknown) => {
          counts.failed += items.length;
          const reason = e instanceof Error ? e.message : String(e);
          this.log.warn(`could not write ${items.length} record(s) to Kafka topic ${topic}`, { error: reason });
          for (const i of items) i.done?.(reason);
        },
      );
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }
  };

  private counts(topic: string): TopicCounts {
    let c = this.stats.get(topic);
    if (!c) {
      c = { produced: 0, failed: 0 };
      this.stats.set(topic, c);
    }
    return c;
  }

  /** Sends what is queued and waits for the sends under way (shutdown). */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all([...this.inFlight]);
  }
}
