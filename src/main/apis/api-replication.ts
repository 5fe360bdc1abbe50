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
 * - The topic is created (compacted, one partition) when it does not exist (kafka/compacted-topic.ts).
 */
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { ApiDefinition } from '../../shared/apis/types.js';
import { isObject } from '../../shared/apis/types.js';
import type { GatewayConfig } from '../../shared/config/types.js';
import type { Logger } from '../../shared/logger.js';
import { CompactedTopic } from '../kafka/compacted-topic.js';
import type { KafkaState } from '../kafka/consumer-loop.js';
import type { RecordProducer } from '../kafka/record-producer.js';
import type { ApiStore } from './api-store.js';

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
  private readonly topic: CompactedTopic;

  constructor(private readonly opts: ApiReplicationOptions) {
    const { config } = opts;
    this.topic = new CompactedTopic({
      config,
      kafka: opts.kafka,
      log: opts.log,
      what: 'API definitions',
      topic: config.proxyApisTopic,
      groupId: `${config.kafkaGroupId}-apis-${config.nodeId}`,
      apply: (messages) => this.apply(messages),
    });
  }

  state(): KafkaState {
    return this.topic.state();
  }

  /** Creates the topic if needed, starts consuming, and resolves once it was read to its end (or after a timeout). */
  start(): Promise<void> {
    return this.topic.start();
  }

  /** Writes the stored definition `id` (after a change through /v3/apis). */
  async write(id: string): Promise<void> {
    const def = this.opts.store.stored(id);
    if (!def) return;
    await this.opts.records.sendAsync(this.opts.config.proxyApisTopic, { key: id, value: JSON.stringify(def) });
  }

  private apply(messages: readonly KafkaMessage[]): void {
    let changed = false;
    for (const message of messages) {
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
  }

  stop(): Promise<void> {
    return this.topic.stop();
  }
}
