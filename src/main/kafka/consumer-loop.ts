/**
 * The life of a kafkajs consumer that must never give up and never throw into the event loop,
 * shared by the event source (consumer.ts) and the reply consumer (reply-consumer.ts):
 *
 * - attempt: a new consumer joins `groupId`, subscribes to `topics` (latest offset for a new
 *   group) and runs `eachBatch`. The state turns `connected` at the first fetch after joining:
 *   kafkajs has positioned the partitions then, so every record produced from now on arrives.
 * - failure (cannot connect, or crashes later): kafkajs's own restart is disabled; the consumer is
 *   dropped and a new attempt starts after KAFKA_RESTART_DELAY_MS, forever.
 * - stop: whatever attempt is under way is abandoned; `beforeLeave` (a last commit) and leaving
 *   the group get at most 5 s, so a broker that is away never holds up shutdown.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { GatewayConfig } from '../../shared/config/types.js';
import type { Logger } from '../../shared/logger.js';
import type { KafkaClientConfig } from './client.js';

/**
 * disabled: KAFKA_BROKERS is empty. connecting: first attempt under way. connected: joined the
 * group and resolved its offsets (records produced from now on are delivered). reconnecting: the
 * last attempt failed, the next starts after KAFKA_RESTART_DELAY_MS. stopped: shut down.
 */
export type KafkaState = 'disabled' | 'connecting' | 'connected' | 'reconnecting' | 'stopped';

/** What every consumer built on this loop takes from the configuration besides its own topics. */
export type ConsumerLoopConfig = KafkaClientConfig & Pick<GatewayConfig, 'kafkaRestartDelayMs' | 'kafkaSessionTimeoutMs'>;

/** What the gateway sees of such a consumer (readiness, stats, shutdown). */
export interface RunningConsumer {
  readonly groupId: string;
  state(): KafkaState;
  /** Description of the last failure, for the readiness body. */
  lastError(): string | undefined;
  stop(): Promise<void>;
}

export interface ConsumerLoopOptions {
  kafka: Kafka;
  log: Logger;
  /** For log lines, e.g. "Kafka consumer". */
  name: string;
  groupId: string;
  topics: readonly string[];
  /** Longest wait of a fetch that has nothing to return. */
  maxWaitMs: number;
  sessionTimeoutMs: number;
  restartDelayMs: number;
  /** A group without committed offsets starts at the first record instead of the latest. */
  fromBeginning?: boolean;
  /** false: `eachBatch` resolves offsets itself (records it did not resolve are fetched again). */
  autoResolve: boolean;
  eachBatch(payload: EachBatchPayload): Promise<void>;
  /** An attempt failed (before the next is scheduled): drop what belonged to its consumer. */
  onFailure?(): void;
  /** Last words of the consumer on stop (e.g. a commit); bounded with the leave to 5 s. */
  beforeLeave?(consumer: Consumer): Promise<void>;
  onState?(state: KafkaState): void;
}

export class ConsumerLoop {
  private current: KafkaState = 'connecting';
  private running: Consumer | undefined;
  /** Incremented per attempt; events of an older consumer are ignored. */
  private attemptNo = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private error: string | undefined;

  constructor(private readonly opts: ConsumerLoopOptions) {}

  state(): KafkaState {
    return this.current;
  }

  /** Description of the last failure, for the readiness body; cleared once connected again. */
  lastError(): string | undefined {
    return this.error;
  }

  /** The consumer of the current attempt (for commits). */
  consumer(): Consumer | undefined {
    return this.running;
  }

  start(): void {
    void this.attempt();
  }

  private setState(s: KafkaState): void {
    if (this.current === s) return;
    this.current = s;
    this.opts.onState?.(s);
  }

  private async attempt(): Promise<void> {
    const n = ++this.attemptNo;
    const { opts } = this;
    const consumer = opts.kafka.consumer({
      groupId: opts.groupId,
      maxWaitTimeInMs: opts.maxWaitMs,
      // After a broker restart the group still lists the previous member, which could not leave;
      // the new member is admitted once that one's session expired. kafkajs's 30 s default made
      // delivery resume half a minute after the broker was back.
      sessionTimeout: opts.sessionTimeoutMs,
      heartbeatInterval: Math.min(3000, Math.floor(opts.sessionTimeoutMs / 3)),
      retry: { retries: 3, initialRetryTime: 300, restartOnFailure: async () => false },
    });
    this.running = consumer;
    let joined = false;
    const { GROUP_JOIN, FETCH, CRASH } = consumer.events;
    consumer.on(GROUP_JOIN, () => {
      joined = true;
    });
    consumer.on(FETCH, () => {
      if (n !== this.attemptNo || !joined || this.current === 'connected' || this.current === 'stopped') return;
      this.error = undefined;
      this.setState('connected');
    });
    consumer.on(CRASH, (e) => {
      if (!e.payload.restart) this.fail(n, e.payload.error);
    });
    // stop() may run while this attempt is connecting: the attempt must then not go on to run.
    const abandoned = () => n !== this.attemptNo || this.current === 'stopped';
    try {
      await consumer.connect();
      if (abandoned()) return void consumer.disconnect().catch(() => undefined);
      await consumer.subscribe({ topics: [...opts.topics], fromBeginning: opts.fromBeginning ?? false });
      if (abandoned()) return void consumer.disconnect().catch(() => undefined);
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: opts.autoResolve,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => opts.eachBatch(payload),
      });
    } catch (e) {
      this.fail(n, e);
    }
  }

  /** The attempt `n` failed: drop its consumer and start a new one after the configured delay. */
  private fail(n: number, error: unknown): void {
    if (n !== this.attemptNo || this.current === 'stopped' || this.restartTimer) return;
    const delay = this.opts.restartDelayMs;
    this.error = error instanceof Error ? error.message : String(error);
    this.setState('reconnecting');
    this.opts.log.error(`${this.opts.name} failed; restarting in ${delay} ms`, { group: this.opts.groupId, error: this.error });
    this.opts.onFailure?.();
    const consumer = this.running;
    this.running = undefined;
    consumer?.disconnect().catch(() => undefined);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.current !== 'stopped') void this.attempt();
    }, delay);
  }

  async stop(): Promise<void> {
    this.setState('stopped');
    this.attemptNo++; // an attempt under way sees it was abandoned
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const consumer = this.running;
    this.running = undefined;
    if (!consumer) return;
    const leave = async () => {
      await this.opts.beforeLeave?.(consumer);
      await consumer.disconnect().catch(() => undefined);
    };
    await Promise.race([leave(), sleep(5000)]);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
