/**
 * Consumes replies to proxied requests waiting with `response_from: "kafka"` (RIG spec 6.6, 6.9)
 * from PROXY_KAFKA_RESPONSE_TOPICS and hands each valid one to `onReply`; the caller finds the
 * waiting request by its correlation token (docs/kafka.md, "Replies to proxied requests").
 *
 * - Every node sees every reply: each node joins its own group
 *   `${PROXY_KAFKA_RESPONSE_KAFKA_GROUP_ID}-${NODE_ID}` and keeps the replies whose token names it.
 *   RIG's nodes shared one group and passed a reply on to the node holding the request over Erlang
 *   distribution, which does not exist here.
 * - The group starts at the latest offset and never commits: a reply is only useful to a request
 *   waiting now, and a commit would put OffsetCommit round trips between the replies. A restarted
 *   node therefore starts at the latest offset again.
 * - Latency: a short fetch wait, batches handled synchronously, nothing awaited per record.
 * - A record without valid `rig-correlation` / `rig-response-code` headers is counted in `invalid`,
 *   logged (rate-limited) and skipped; the waiting request then times out (504), as in RIG.
 * - Failures: like the event source (consumer.ts), a consumer that cannot connect or crashes is
 *   dropped and a new one started after KAFKA_RESTART_DELAY_MS, forever; nothing throws.
 */
import type { Consumer, EachBatchPayload, IHeaders, Kafka } from 'kafkajs';
import type { GatewayConfig } from '../../shared/config/types.js';
import type { Logger } from '../../shared/logger.js';
import { parseReplyHeaders } from '../../shared/replies/reply-headers.js';
import { createKafka } from './client.js';
import type { KafkaState } from './consumer.js';
import { RateLimitedLog } from './rate-limited-log.js';

/**
 * Longest wait of a fetch with nothing to return. The broker answers a fetch as soon as a record
 * arrives, so this is no floor on reply latency; kept short so that a fetch that just came back
 * empty is never what a reply waits behind (kafkajs fetches a broker's partitions in one request).
 */
const MAX_WAIT_MS = 100;

export interface KafkaReply {
  /** The `rig-correlation` header: the waiting request's correlation token. */
  correlation: string;
  /** The `rig-response-code` header, 100..599. */
  status: number;
  /** Every other header, filtered as parseReplyHeaders does (src/shared/replies/reply-headers.ts). */
  headers: Array<[string, string]>;
  /** The record value, byte-for-byte (empty for a null value); its own buffer, safe to transfer. */
  body: Uint8Array;
}

export interface ReplyConsumerStats {
  /** Records read from the reply topics. */
  received: number;
  /** Replies handed to onReply. */
  delivered: number;
  /** Records skipped for missing or invalid rig-correlation / rig-response-code headers. */
  invalid: number;
  /** Consumer restarts after a failure. */
  restarts: number;
}

export interface ReplyConsumerOptions {
  config: Pick<
    GatewayConfig,
    | 'kafkaBrokers' | 'proxyKafkaResponseTopics' | 'proxyKafkaResponseGroupId' | 'kafkaRestartDelayMs' | 'kafkaSslEnabled'
    | 'kafkaSslCaCertFile' | 'kafkaSslCertFile' | 'kafkaSslKeyFile' | 'kafkaSslKeyFilePass' | 'kafkaSasl' | 'nodeId' | 'logLevel'
    | 'kafkaSessionTimeoutMs'
  >;
  log: Logger;
  /** Must not throw; a throw is logged and the reply dropped. */
  onReply: (reply: KafkaReply) => void;
  onState?: (state: KafkaState) => void;
}

export interface ReplyConsumer {
  readonly groupId: string;
  /** connected: joined and positioned at the latest offsets; replies produced from now on arrive. */
  state(): KafkaState;
  readonly stats: Readonly<ReplyConsumerStats>;
  lastError(): string | undefined;
  stop(): Promise<void>;
}

export function replyGroupId(config: Pick<GatewayConfig, 'proxyKafkaResponseGroupId' | 'nodeId'>): string {
  return `${config.proxyKafkaResponseGroupId}-${config.nodeId}`;
}

export function startReplyConsumer(opts: ReplyConsumerOptions): ReplyConsumer {
  const consumer = new Replies(opts);
  consumer.start();
  return consumer;
}

class Replies implements ReplyConsumer {
  readonly groupId: string;
  readonly stats: ReplyConsumerStats = { received: 0, delivered: 0, invalid: 0, restarts: 0 };
  private current: KafkaState = 'connecting';
  private readonly kafka: Kafka;
  private consumer: Consumer | undefined;
  /** Incremented per attempt; events of an older consumer are ignored. */
  private attemptNo = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private error: string | undefined;
  private readonly invalidLog = new RateLimitedLog(1000);

  constructor(private readonly opts: ReplyConsumerOptions) {
    this.groupId = replyGroupId(opts.config);
    this.kafka = createKafka(opts.config, opts.log, 'replies');
  }

  state(): KafkaState {
    return this.current;
  }

  lastError(): string | undefined {
    return this.error;
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
    const { config } = this.opts;
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      maxWaitTimeInMs: MAX_WAIT_MS,
      sessionTimeout: config.kafkaSessionTimeoutMs,
      heartbeatInterval: Math.min(3000, Math.floor(config.kafkaSessionTimeoutMs / 3)),
      retry: { retries: 3, initialRetryTime: 300, restartOnFailure: async () => false },
    });
    this.consumer = consumer;
    let joined = false;
    const { GROUP_JOIN, FETCH, CRASH } = consumer.events;
    consumer.on(GROUP_JOIN, () => {
      joined = true;
    });
    // The first fetch after joining comes after the partitions were positioned at "latest".
    consumer.on(FETCH, () => {
      if (n !== this.attemptNo || !joined || this.current === 'connected' || this.current === 'stopped') return;
      this.error = undefined;
      this.setState('connected');
    });
    consumer.on(CRASH, (e) => {
      if (!e.payload.restart) this.fail(n, e.payload.error);
    });
    const abandoned = () => n !== this.attemptNo || this.current === 'stopped';
    try {
      await consumer.connect();
      if (abandoned()) return void consumer.disconnect().catch(() => undefined);
      await consumer.subscribe({ topics: [...config.proxyKafkaResponseTopics], fromBeginning: false });
      if (abandoned()) return void consumer.disconnect().catch(() => undefined);
      await consumer.run({
        autoCommit: false,
        // Partitions are handled one after the other; handling a batch is synchronous and short.
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => this.eachBatch(payload),
      });
    } catch (e) {
      this.fail(n, e);
    }
  }

  private async eachBatch({ batch, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      this.stats.received++;
      const head = parseReplyHeaders(headerList(message.headers));
      if (!head.ok) {
        this.stats.invalid++;
        this.invalidLog.run((suppressed) =>
          this.opts.log.warn('skipped a Kafka reply with invalid headers', { topic, partition, offset: message.offset, reason: head.message, suppressed }),
        );
        continue;
      }
      // A copy: kafkajs's value is a view into the whole fetch response, which a transfer to a
      // shard would detach.
      const body = message.value ? new Uint8Array(message.value) : new Uint8Array(0);
      try {
        this.opts.onReply({ correlation: head.correlation, status: head.status, headers: head.headers, body });
        this.stats.delivered++;
      } catch (e) {
        this.opts.log.error('handling a Kafka reply failed', { topic, partition, offset: message.offset, error: e });
      }
    }
  }

  /** The attempt `n` failed: drop its consumer and start a new one after the configured delay. */
  private fail(n: number, error: unknown): void {
    if (n !== this.attemptNo || this.current === 'stopped' || this.restartTimer) return;
    const delay = this.opts.config.kafkaRestartDelayMs;
    this.error = error instanceof Error ? error.message : String(error);
    this.stats.restarts++;
    this.setState('reconnecting');
    this.opts.log.error(`Kafka reply consumer failed; restarting in ${delay} ms`, { group: this.groupId, error: this.error });
    const consumer = this.consumer;
    this.consumer = undefined;
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
    const consumer = this.consumer;
    this.consumer = undefined;
    if (!consumer) return;
    // Leaving the group is polite but must not hold up shutdown.
    await Promise.race([consumer.disconnect().catch(() => undefined), sleep(5000)]);
  }
}

/** kafkajs's header object as a list of [name, value] strings; repeated headers arrive as arrays. */
function headerList(headers: IHeaders | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!headers) return out;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push([name, typeof v === 'string' ? v : v.toString('utf8')]);
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
