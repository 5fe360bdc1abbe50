/**
 * The Kafka event source (its consumer's life, restarts included, is consumer-loop.ts's).
 *
 * - Every node sees every event: each node joins its own consumer group
 *   `${KAFKATOFILTER_KAFKA_GROUP_ID}-${NODE_ID}`, so partitions are not shared between nodes.
 *   A new group starts at the latest offset (events from before the node first joined are not
 *   replayed); a group that already committed offsets (same NODE_ID after a restart) resumes there.
 * - Records are decoded on the main thread (decode.ts) and handed to `dispatch` (the router).
 *   A record that is not a CloudEvent is counted in `consumedFailed`, logged (rate-limited) and
 *   skipped; its offset is resolved like any other so it never blocks its partition.
 * - Backpressure: before each record the source asks `backlogBytes()` how far the shards are
 *   behind. Above PAUSE_BYTES it pauses the partition (kafkajs stops fetching it, nothing is
 *   buffered here) and stops in the middle of the batch; the unresolved rest is fetched again on
 *   resume. A timer resumes every paused partition once the backlog is below RESUME_BYTES.
 *   eachBatchAutoResolve is off for that reason: kafkajs would otherwise mark the whole batch done
 *   when the handler returns early.
 * - Offsets are committed at most once per COMMIT_INTERVAL_MS, in the background, and once more
 *   when the consumer stops. kafkajs's auto-commit waits for an OffsetCommit round trip after
 *   every partition's batch before it handles the next one, which put several round trips in
 *   front of every event (docs/benchmarks.md, Kafka latency). Offsets only matter when a node
 *   restarts with the same NODE_ID: it then resumes at most one interval behind.
 * - Failures: a consumer that cannot connect, or crashes later, is replaced after
 *   KAFKA_RESTART_DELAY_MS, forever (consumer-loop.ts). Nothing here throws into the event loop:
 *   the gateway keeps serving HTTP, SSE and WebSocket clients while Kafka is away.
 */
import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { CloudEvent } from '../../shared/cloudevents/types.js';
import type { GatewayConfig } from '../../shared/config/types.js';
import type { Logger } from '../../shared/logger.js';
import { createKafka } from './client.js';
import { ConsumerLoop, type ConsumerLoopConfig, type KafkaState, type RunningConsumer } from './consumer-loop.js';
import { KafkaDecodeError, decodeKafkaRecord } from './decode.js';
import { RateLimitedLog } from './rate-limited-log.js';

/** Shard backlog above which partitions are paused (bytes of event records, see backlog.ts). */
export const PAUSE_BYTES = 8 * 1024 * 1024;
/** Backlog below which paused partitions are resumed. */
export const RESUME_BYTES = 2 * 1024 * 1024;
const RESUME_CHECK_MS = 10;
/** Longest wait of an idle fetch; also bounds how long after joining /ready turns true. */
const MAX_WAIT_MS = 1000;
/** How often resolved offsets are committed (see the header). */
export const COMMIT_INTERVAL_MS = 1000;

export type { KafkaState } from './consumer-loop.js';

export interface KafkaSourceStats {
  /** Records decoded and dispatched. */
  consumed: number;
  /** Records that were not CloudEvents (skipped). */
  consumedFailed: number;
  /** Times a partition was paused because shards fell behind. */
  pauses: number;
  /** Consumer restarts after a failure. */
  restarts: number;
  /** `consumed` and `consumedFailed` per topic (the metrics' topic label). */
  byTopic: Map<string, { consumed: number; failed: number }>;
}

export interface KafkaSourceOptions {
  config: ConsumerLoopConfig & Pick<GatewayConfig, 'kafkaSourceTopics' | 'kafkaGroupId'>;
  log: Logger;
  /** Routes one decoded event (Router.submit). Must not throw; a throw is logged and the record skipped. */
  dispatch: (event: CloudEvent) => void;
  /** Event bytes the slowest shard has not dispatched yet (Supervisor.maxPendingBytes). */
  backlogBytes: () => number;
  onState?: (state: KafkaState) => void;
}

export interface KafkaSource extends RunningConsumer {
  readonly stats: Readonly<KafkaSourceStats>;
}

export function kafkaGroupId(config: Pick<GatewayConfig, 'kafkaGroupId' | 'nodeId'>): string {
  return `${config.kafkaGroupId}-${config.nodeId}`;
}

export function startKafkaSource(opts: KafkaSourceOptions): KafkaSource {
  const source = new Source(opts);
  source.start();
  return source;
}

class Source implements KafkaSource {
  readonly groupId: string;
  readonly stats: KafkaSourceStats = { consumed: 0, consumedFailed: 0, pauses: 0, restarts: 0, byTopic: new Map() };
  private readonly loop: ConsumerLoop;
  private resumeTimer: NodeJS.Timeout | undefined;
  /** Resume functions of partitions paused for backpressure, by "topic/partition". */
  private readonly paused = new Map<string, () => void>();
  private readonly decodeLog = new RateLimitedLog(1000);
  /** Next offset to commit per "topic/partition" of the current consumer (resolved, not yet committed). */
  private readonly uncommitted = new Map<string, { topic: string; partition: number; offset: string }>();
  private lastCommit = 0;
  private committing = false;

  constructor(private readonly opts: KafkaSourceOptions) {
    this.groupId = kafkaGroupId(opts.config);
    const { config } = opts;
    this.loop = new ConsumerLoop({
      kafka: createKafka(config, opts.log, 'consumer'),
      log: opts.log,
      name: 'Kafka consumer',
      groupId: this.groupId,
      topics: config.kafkaSourceTopics,
      maxWaitMs: MAX_WAIT_MS,
      sessionTimeoutMs: config.kafkaSessionTimeoutMs,
      restartDelayMs: config.kafkaRestartDelayMs,
      // Offsets are resolved record by record: a batch left early for backpressure is fetched again.
      autoResolve: false,
      eachBatch: (payload) => this.eachBatch(payload),
      onFailure: () => {
        this.stats.restarts++;
        this.resumeAll();
        // The next consumer starts from the committed offsets; offsets of this one cannot be committed.
        this.uncommitted.clear();
      },
      // A last commit, so that the same NODE_ID resumes where this one stopped.
      beforeLeave: (consumer) => this.commit(consumer),
      ...(opts.onState && { onState: opts.onState }),
    });
  }

  state(): KafkaState {
    return this.loop.state();
  }

  lastError(): string | undefined {
    return this.loop.lastError();
  }

  start(): void {
    this.loop.start();
  }

  private topicStats(topic: string): { consumed: number; failed: number } {
    let t = this.stats.byTopic.get(topic);
    if (t === undefined) this.stats.byTopic.set(topic, (t = { consumed: 0, failed: 0 }));
    return t;
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, pause, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      if (this.opts.backlogBytes() > PAUSE_BYTES) {
        this.pausePartition(`${topic}/${partition}`, pause());
        return; // the rest of the batch is fetched again after resume
      }
      let event: CloudEvent | undefined;
      try {
        event = decodeKafkaRecord({ value: message.value, headers: message.headers ?? {} });
      } catch (e) {
        this.stats.consumedFailed++;
        this.topicStats(topic).failed++;
        const reason = e instanceof KafkaDecodeError ? e.reason : String(e);
        this.decodeLog.run((suppressed) =>
          this.opts.log.warn('skipped a Kafka record that is not a CloudEvent', { topic, partition, offset: message.offset, reason, suppressed }),
        );
      }
      if (event) {
        try {
          this.opts.dispatch(event);
          this.stats.consumed++;
          this.topicStats(topic).consumed++;
        } catch (e) {
          this.stats.consumedFailed++;
          this.topicStats(topic).failed++;
          this.opts.log.error('routing a Kafka event failed', { topic, partition, offset: message.offset, error: e });
        }
      }
      resolveOffset(message.offset);
      this.uncommitted.set(`${topic}/${partition}`, { topic, partition, offset: nextOffset(message.offset) });
    }
    this.commitIfDue();
    await heartbeat();
  }

  /** Starts a background commit of the resolved offsets when the interval has passed and none is running. */
  private commitIfDue(): void {
    const now = Date.now();
    if (this.committing || now - this.lastCommit < COMMIT_INTERVAL_MS || this.uncommitted.size === 0) return;
    this.lastCommit = now;
    this.committing = true;
    void this.commit(this.loop.consumer()).finally(() => {
      this.committing = false;
    });
  }

  /** Commits what was resolved so far; a failure is logged and retried with the next interval. */
  private async commit(consumer: Consumer | undefined): Promise<void> {
    if (!consumer || this.uncommitted.size === 0) return;
    const offsets = [...this.uncommitted.values()];
    this.uncommitted.clear();
    try {
      await consumer.commitOffsets(offsets);
    } catch (e) {
      // Keep what is not superseded by a newer resolved offset meanwhile; a rebalance may also
      // have moved the partition elsewhere, in which case the commit is simply dropped later.
      for (const o of offsets) {
        const key = `${o.topic}/${o.partition}`;
        if (!this.uncommitted.has(key)) this.uncommitted.set(key, o);
      }
      this.opts.log.debug('committing Kafka offsets failed; retrying later', { error: e });
    }
  }

  private pausePartition(key: string, resume: () => void): void {
    if (!this.paused.has(key)) this.stats.pauses++;
    this.paused.set(key, resume);
    this.opts.log.debug('shards are behind: Kafka partition paused', { partition: key, backlog: this.opts.backlogBytes() });
    this.resumeTimer ??= setInterval(() => {
      if (this.opts.backlogBytes() > RESUME_BYTES) return;
      this.resumeAll();
    }, RESUME_CHECK_MS);
  }

  private resumeAll(): void {
    clearInterval(this.resumeTimer);
    this.resumeTimer = undefined;
    const resumes = [...this.paused.values()];
    this.paused.clear();
    for (const resume of resumes) {
      try {
        resume();
      } catch (e) {
        // A consumer that was replaced meanwhile may refuse; the new one is not paused anyway.
        this.opts.log.debug('resuming a Kafka partition failed', { error: e });
      }
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.resumeTimer);
    this.resumeTimer = undefined;
    this.paused.clear();
    await this.loop.stop();
  }
}

/** The offset after `offset` (Kafka commits the next offset to read). Offsets are int64 strings. */
function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}
