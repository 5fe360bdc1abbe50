/**
 * A compacted Kafka topic that every node reads from its first record to its end at start-up and
 * then keeps following: the shape of the cluster's replicated state (API definitions, the session
 * blacklist). One partition, so every node applies the records in the same order.
 *
 * - The topic is created (compacted, one partition) when it does not exist.
 * - start() resolves once the records that existed at start-up were applied, so the shards start
 *   with the cluster's state. Brokers that do not answer within ADMIN_TIMEOUT_MS, or a topic not
 *   read within CATCH_UP_TIMEOUT_MS, do not hold up start-up: the node starts with what it has and
 *   applies the rest when it arrives.
 * - Never committing and a group of its own per node make every start read the whole topic;
 *   compaction keeps it one record per key.
 */
import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { GatewayConfig } from '../../shared/config/types.js';
import type { Logger } from '../../shared/logger.js';
import { ConsumerLoop, type KafkaState } from './consumer-loop.js';

/** How long start-up waits for the topic to be read to its end before it goes on without. */
const CATCH_UP_TIMEOUT_MS = 15_000;
/** How long start-up waits for the brokers to say whether the topic exists and how long it is. */
const ADMIN_TIMEOUT_MS = 3000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

export interface CompactedTopicOptions {
  config: Pick<GatewayConfig, 'kafkaSessionTimeoutMs' | 'kafkaRestartDelayMs'>;
  kafka: Kafka;
  log: Logger;
  /** What the topic holds, for log lines ("API definitions", "session blacklist"). */
  what: string;
  topic: string;
  groupId: string;
  /** Applies one batch of records, in topic order. */
  apply(messages: readonly KafkaMessage[]): void;
}

export class CompactedTopic {
  private readonly loop: ConsumerLoop;
  /** Offset of the last record applied (-1: none). */
  private applied = -1;
  private endOffset = 0;
  private caughtUp: (() => void) | undefined;

  constructor(private readonly opts: CompactedTopicOptions) {
    this.loop = new ConsumerLoop({
      kafka: opts.kafka,
      log: opts.log,
      name: `Kafka ${opts.what} consumer`,
      groupId: opts.groupId,
      topics: [opts.topic],
      fromBeginning: true,
      maxWaitMs: 200,
      sessionTimeoutMs: opts.config.kafkaSessionTimeoutMs,
      restartDelayMs: opts.config.kafkaRestartDelayMs,
      autoResolve: true,
      eachBatch: (p) => this.eachBatch(p),
    });
  }

  state(): KafkaState {
    return this.loop.state();
  }

  /** Creates the topic if needed, starts consuming, and resolves once it was read to its end (or after a timeout). */
  async start(): Promise<void> {
    const { topic, what, log } = this.opts;
    const end = await Promise.race([this.prepareTopic(), sleep(ADMIN_TIMEOUT_MS).then(() => undefined)]);
    if (end === undefined) {
      log.warn(`${what} topic ${topic} not readable within ${ADMIN_TIMEOUT_MS} ms; starting with the local state`);
      this.loop.start();
      return;
    }
    this.endOffset = end;
    const done = new Promise<void>((resolve) => {
      this.caughtUp = resolve;
    });
    this.loop.start();
    if (this.endOffset === 0) this.caughtUp?.();
    await Promise.race([done, sleep(CATCH_UP_TIMEOUT_MS)]);
    if (this.applied + 1 < this.endOffset) {
      log.warn(`${what} topic ${topic} not read to its end within ${CATCH_UP_TIMEOUT_MS} ms; starting with what was read`);
    }
  }

  /** Creates the topic when missing; resolves with its end offset (0 on failure, logged). */
  private async prepareTopic(): Promise<number> {
    const { topic, what, log } = this.opts;
    const admin = this.opts.kafka.admin();
    try {
      await admin.connect();
      const topics = await admin.listTopics();
      if (!topics.includes(topic)) {
        // Another node may create it at the same moment: "already exists" is fine.
        await admin
          .createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }], waitForLeaders: true })
          .catch((e: unknown) => log.debug(`creating ${topic}`, { error: (e as Error).message }));
      }
      const offsets = await admin.fetchTopicOffsets(topic);
      return Math.max(0, ...offsets.map((o) => Number(o.high)));
    } catch (e) {
      log.warn(`${what} topic ${topic} is not readable; starting with the local state`, { error: (e as Error).message });
      return 0;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async eachBatch({ batch }: EachBatchPayload): Promise<void> {
    if (batch.messages.length > 0) {
      this.applied = Number(batch.messages[batch.messages.length - 1]!.offset);
      this.opts.apply(batch.messages);
    }
    if (this.applied + 1 >= this.endOffset) this.caughtUp?.();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
