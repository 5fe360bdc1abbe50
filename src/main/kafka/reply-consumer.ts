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
 * - Failures: a consumer that cannot connect or crashes is replaced after KAFKA_RESTART_DELAY_MS,
 *   forever (consumer-loop.ts, shared with the event source); nothing throws.
 */
import type { EachBatchPayload, IHeaders } from 'kafkajs';
import type { GatewayConfig } from '../../shared/config/types.js';
import type { Logger } from '../../shared/logger.js';
import { parseReplyHeaders } from '../../shared/replies/reply-headers.js';
import { createKafka } from './client.js';
import { ConsumerLoop, type ConsumerLoopConfig, type KafkaState, type RunningConsumer } from './consumer-loop.js';
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
  config: ConsumerLoopConfig & Pick<GatewayConfig, 'proxyKafkaResponseTopics' | 'proxyKafkaResponseGroupId'>;
  log: Logger;
  /** Must not throw; a throw is logged and the reply dropped. */
  onReply: (reply: KafkaReply) => void;
  onState?: (state: KafkaState) => void;
}

/** `state()` connected: joined and positioned at the latest offsets; replies produced from now on arrive. */
export interface ReplyConsumer extends RunningConsumer {
  readonly stats: Readonly<ReplyConsumerStats>;
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
  private readonly loop: ConsumerLoop;
  private readonly invalidLog = new RateLimitedLog(1000);

  constructor(private readonly opts: ReplyConsumerOptions) {
    this.groupId = replyGroupId(opts.config);
    const { config } = opts;
    this.loop = new ConsumerLoop({
      kafka: createKafka(config, opts.log, 'replies'),
      log: opts.log,
      name: 'Kafka reply consumer',
      groupId: this.groupId,
      topics: config.proxyKafkaResponseTopics,
      maxWaitMs: MAX_WAIT_MS,
      sessionTimeoutMs: config.kafkaSessionTimeoutMs,
      restartDelayMs: config.kafkaRestartDelayMs,
      // Every record of a batch is handled synchronously; nothing is committed anyway.
      autoResolve: true,
      eachBatch: (payload) => this.eachBatch(payload),
      onFailure: () => {
        this.stats.restarts++;
      },
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

  stop(): Promise<void> {
    return this.loop.stop();
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
