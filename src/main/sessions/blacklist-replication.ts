/**
 * The session blacklist shared by every node of a cluster (RIG spec 11.3), through a compacted
 * Kafka topic (SESSION_BLACKLIST_TOPIC, one partition, key = session id, value = the blacklisting
 * as JSON: sessionId, expiresAt in ms since the epoch, a unique uuid).
 *
 * - A blacklisting through /v3/session-blacklist is applied on this node at once (the kill is on
 *   its way to this node's shards before the answer) and then written to the topic; every node applies every record,
 *   killing the session's connections there. Entries only grow (the later expiry wins), so the
 *   order in which nodes see concurrent blacklistings does not matter.
 * - At start-up the topic is read to its end before the shards start (kafka/compacted-topic.ts):
 *   the blacklist survives a restart of every node (RIG's lived in memory only).
 * - Expired entries are removed from the topic with a tombstone an hour after they expired, so the
 *   topic does not grow forever. A node that sees a tombstone for an entry it still holds live
 *   (a blacklisting that raced with the tombstone) writes the entry again.
 */
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { GatewayConfig } from '../../shared/config/types.js';
import type { Logger } from '../../shared/logger.js';
import { CompactedTopic } from '../kafka/compacted-topic.js';
import type { KafkaState } from '../kafka/consumer-loop.js';
import type { RecordProducer } from '../kafka/record-producer.js';
import type { BlacklistRecord, BlacklistStore } from './blacklist-store.js';

/** How long after its expiry an entry is removed from the topic. */
const TOMBSTONE_AFTER_MS = 3_600_000;

export interface BlacklistReplicationOptions {
  config: Pick<GatewayConfig, 'sessionBlacklistTopic' | 'kafkaGroupId' | 'nodeId' | 'kafkaSessionTimeoutMs' | 'kafkaRestartDelayMs'>;
  kafka: Kafka;
  log: Logger;
  store: BlacklistStore;
  records: RecordProducer;
  now?: () => number;
}

export class BlacklistReplication {
  private readonly topic: CompactedTopic;
  /** The latest record of each live key in the topic, for tombstones and self-healing. */
  private readonly inTopic = new Map<string, BlacklistRecord>();
  private readonly now: () => number;

  constructor(private readonly opts: BlacklistReplicationOptions) {
    const { config } = opts;
    this.now = opts.now ?? Date.now;
    this.topic = new CompactedTopic({
      config,
      kafka: opts.kafka,
      log: opts.log,
      what: 'session blacklist',
      topic: config.sessionBlacklistTopic,
      groupId: `${config.kafkaGroupId}-blacklist-${config.nodeId}`,
      apply: (messages) => this.apply(messages),
    });
  }

  state(): KafkaState {
    return this.topic.state();
  }

  start(): Promise<void> {
    return this.topic.start();
  }

  /** Writes a blacklisting made on this node. */
  async write(record: BlacklistRecord): Promise<void> {
    await this.opts.records.sendAsync(this.opts.config.sessionBlacklistTopic, { key: record.sessionId, value: JSON.stringify(record) });
  }

  /** Removes entries that expired more than an hour ago from the topic (called periodically). */
  async sweep(): Promise<void> {
    const cutoff = this.now() - TOMBSTONE_AFTER_MS;
    for (const [id, record] of this.inTopic) {
      if (record.expiresAt > cutoff) continue;
      this.inTopic.delete(id);
      await this.opts.records.sendAsync(this.opts.config.sessionBlacklistTopic, { key: id, value: null });
    }
  }

  private apply(messages: readonly KafkaMessage[]): void {
    for (const message of messages) {
      const key = message.key?.toString('utf8');
      if (message.value === null) {
        if (key !== undefined) this.tombstone(key);
        continue;
      }
      const record = parseRecord(message.value);
      if (!record || (key !== undefined && key !== record.sessionId)) {
        this.opts.log.warn('skipped a record of the session blacklist topic that is not a blacklisting', { offset: message.offset });
        continue;
      }
      const known = this.inTopic.get(record.sessionId);
      if (!known || record.expiresAt >= known.expiresAt) this.inTopic.set(record.sessionId, record);
      this.opts.store.apply(record);
    }
  }

  private tombstone(sessionId: string): void {
    const known = this.inTopic.get(sessionId);
    this.inTopic.delete(sessionId);
    const expiresAt = this.opts.store.expiresAt(sessionId);
    if (expiresAt === undefined) return;
    // Still live here: a blacklisting raced with the tombstone; put it back for nodes that start later.
    const record: BlacklistRecord = known && known.expiresAt >= expiresAt ? known : { sessionId, expiresAt, uuid: known?.uuid ?? 'restored' };
    this.write(record).catch((e: unknown) =>
      this.opts.log.warn(`could not restore blacklisted session in ${this.opts.config.sessionBlacklistTopic}`, { error: (e as Error).message }));
  }

  stop(): Promise<void> {
    return this.topic.stop();
  }
}

function parseRecord(value: Buffer): BlacklistRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object') return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r['sessionId'] !== 'string' || r['sessionId'] === '') return undefined;
  if (typeof r['expiresAt'] !== 'number' || !Number.isFinite(r['expiresAt'])) return undefined;
  if (typeof r['uuid'] !== 'string') return undefined;
  return { sessionId: r['sessionId'], expiresAt: r['expiresAt'], uuid: r['uuid'] };
}
