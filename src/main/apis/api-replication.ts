/**
 * API definitions shared by every node of a cluster (RIG spec 6.12 / 11.2), through a compacted
 * Kafka topic (PROXY_APIS_TOPIC, one partition, key = API id, value = the stored definition as
 * JSON, deleted ones as their `active: false` tombstone).
 *
 * - A change through /v3/apis on any node is written to the topic after this node's shards serve
 *   it; every node (the writer too) applies the records in topic order, so all nodes end with the
 *   definition written last, whatever they applied in between.
 * - At start-up a node reads the topic from its beginning up to its end before the shards start:
 *   definitions created at run time survive a restart of every node (RIG lost them), and a node
 *   that joins later serves what the others serve. Topic records replace PROXY_CONFIG_FILE
 *   definitions with the same id (they are newer).
 * - Never committing and a group of its own per node (`<KAFKATOFILTER_KAFKA_GROUP_ID>-apis-<NODE_ID>`)
 *   make every start read the whole topic; compaction keeps it one record per API.
 * - The topic is created (compacted, one partition) when it does not exist.
 */
import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { ApiDefinition } from '../../shared/apis/types.js';
import { isObject } from '../../shared/apis/types.js';
import type { GatewayConfig } from '../../shared/config/types.js';
import type { Logger } from '../../shared/logger.js';
import { ConsumerLoop, type KafkaState } from '../kafka/consumer-loop.js';
import type { RecordProducer } from '../kafka/record-producer.js';
import type { ApiStore } from './api-store.js';

/** How long start-up waits for the topic to be read to its end before it goes on without. */
const CATCH_UP_TIMEOUT_MS = 15_000;
/** How long start-up waits for the brokers to say whether the topic exists and how long it is. */
const ADMIN_TIMEOUT_MS = 3000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

export interface ApiReplicationOptions {
  config: Pick<GatewayConfig, 'proxyApisTopic' | 'kafkaGroupId' | 'nodeId' | 'kafkaSessionTimeoutMs' | 'kafkaRestartDelayMs'>;
  kafka: Kafka;
  log: Logger;
  store: ApiStore;
  records: RecordProducer;
  /** The store changed through the topic: send the active set to the shards. */
  changed(): void;
}

export class ApiReplication {
  private readonly loop: ConsumerLoop;
  /** Offset of the last record applied (-1: none). */
  private applied = -1;
  private endOffset = 0;
  private caughtUp: (() => void) | undefined;

  constructor(private readonly opts: ApiReplicationOptions) {
    const { config } = opts;
    this.loop = new ConsumerLoop({
      kafka: opts.kafka,
      log: opts.log,
      name: 'Kafka API definitions consumer',
      groupId: `${config.kafkaGroupId}-apis-${config.nodeId}`,
      topics: [config.proxyApisTopic],
      fromBeginning: true,
      maxWaitMs: 200,
      sessionTimeoutMs: config.kafkaSessionTimeoutMs,
      restartDelayMs: config.kafkaRestartDelayMs,
      autoResolve: true,
      eachBatch: (p) => this.eachBatch(p),
    });
  }

  state(): KafkaState {
    return this.loop.state();
  }

  /** Creates the topic if needed, starts consuming, and resolves once it was read to its end (or after a timeout). */
  async start(): Promise<void> {
    const topic = this.opts.config.proxyApisTopic;
    // Brokers that are away must not hold up start-up: without an answer within ADMIN_TIMEOUT_MS
    // the node starts with its local definitions, and the consumer applies the topic's records
    // whenever the brokers are back.
    const end = await Promise.race([this.prepareTopic(topic), sleep(ADMIN_TIMEOUT_MS).then(() => undefined)]);
    if (end === undefined) {
      this.opts.log.warn(`API definitions topic ${topic} not readable within ${ADMIN_TIMEOUT_MS} ms; starting with the local definitions`);
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
      this.opts.log.warn(`API definitions topic ${topic} not read to its end within ${CATCH_UP_TIMEOUT_MS} ms; starting with what was read`);
    }
  }

  /** Creates the topic when missing; resolves with its end offset (0 on failure, logged). */
  private async prepareTopic(topic: string): Promise<number> {
    const admin = this.opts.kafka.admin();
    try {
      await admin.connect();
      const topics = await admin.listTopics();
      if (!topics.includes(topic)) {
        // Another node may create it at the same moment: "already exists" is fine.
        await admin
          .createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }], waitForLeaders: true })
          .catch((e: unknown) => this.opts.log.debug(`creating ${topic}`, { error: (e as Error).message }));
      }
      const offsets = await admin.fetchTopicOffsets(topic);
      return Math.max(0, ...offsets.map((o) => Number(o.high)));
    } catch (e) {
      this.opts.log.warn(`API definitions topic ${topic} is not readable; starting with the local definitions`, { error: (e as Error).message });
      return 0;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Writes the stored definition `id` (after a change through /v3/apis). */
  async write(id: string): Promise<void> {
    const def = this.opts.store.stored(id);
    if (!def) return;
    await this.opts.records.sendAsync(this.opts.config.proxyApisTopic, { key: id, value: JSON.stringify(def) });
  }

  private async eachBatch({ batch }: EachBatchPayload): Promise<void> {
    let changed = false;
    for (const message of batch.messages) {
      this.applied = Number(message.offset);
      let def: unknown;
      try {
        def = message.value ? JSON.parse(message.value.toString('utf8')) : undefined;
      } catch {
        def = undefined;
      }
      if (!isObject(def) || typeof def['id'] !== 'string' || typeof def['active'] !== 'boolean') {
        this.opts.log.warn('skipped a record of the API definitions topic that is not a stored definition', { offset: message.offset });
        continue;
      }
      this.opts.store.applyReplicated(def as ApiDefinition);
      changed = true;
    }
    if (changed) this.opts.changed();
    if (this.applied + 1 >= this.endOffset) this.caughtUp?.();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
