/**
 * A small producer for JSON values: events submitted over HTTP while Kafka is configured go to the
 * first source topic (docs/kafka.md, "HTTP events through the topic"). Connects lazily and again
 * after a failure; a send while the broker is unreachable fails (and is counted by the caller)
 * instead of queueing without bound.
 */
import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from '../../shared/logger.js';
import { createPartitioner } from './partitioner.js';
import type { PartitionerName } from './partitioner.js';

export interface ProducerOptions {
  /** -1: all in-sync replicas (default), 1: the leader, 0: none. */
  acks?: -1 | 0 | 1;
  /** Idempotent writes (kafkajs then also limits in-flight requests per broker to keep order). */
  idempotent?: boolean;
  /** KAFKA_PARTITIONER: partition choice for keyed records (partitioner.ts); murmur2 by default. */
  partitioner?: PartitionerName;
}

/** KAFKA_PRODUCER_ACKS values as Kafka's acks numbers. */
export const PRODUCER_ACKS = { all: -1, leader: 1, none: 0 } as const;

export interface OutgoingMessage {
  key?: string | null;
  /** null: a tombstone (removes the key from a compacted topic). */
  value: string | Buffer | null;
  headers?: Record<string, string>;
}

export class JsonProducer {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  private closed = false;
  private readonly acks: -1 | 0 | 1;

  constructor(
    private readonly kafka: Kafka,
    private readonly log: Logger,
    private readonly opts: ProducerOptions = {},
  ) {
    this.acks = opts.acks ?? -1;
  }

  async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    const producer = await this.connected();
    try {
      await producer.send({ topic, acks: this.acks, messages });
    } catch (e) {
      // Start from a fresh connection next time; kafkajs may keep a broken one otherwise.
      this.drop(producer);
      throw e;
    }
  }

  private connected(): Promise<Producer> {
    if (this.closed) return Promise.reject(new Error('producer closed'));
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const p = this.kafka.producer({
        idempotent: this.opts.idempotent ?? false,
        allowAutoTopicCreation: false,
        createPartitioner: createPartitioner(this.opts.partitioner ?? 'murmur2'),
      });
      try {
        await p.connect();
      } catch (e) {
        p.disconnect().catch(() => undefined);
        throw e;
      } finally {
        this.connecting = undefined;
      }
      if (this.closed) {
        p.disconnect().catch(() => undefined);
        throw new Error('producer closed');
      }
      this.producer = p;
      return p;
    })();
    return this.connecting;
  }

  private drop(p: Producer): void {
    if (this.producer !== p) return;
    this.producer = undefined;
    p.disconnect().catch((e) => this.log.debug('producer disconnect failed', { error: e }));
  }

  async close(): Promise<void> {
    this.closed = true;
    const p = this.producer;
    this.producer = undefined;
    if (p) await p.disconnect().catch(() => undefined);
  }
}
