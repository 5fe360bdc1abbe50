/**
 * Routes asynchronous replies (spec 6.9) to the shard whose proxied request waits for them. The
 * correlation token names node, shard, shard incarnation and request (shared/token), so nothing
 * is looked up here: decode, check, send.
 *
 * - Token of this node: sent to the named shard, which answers its waiting request, or counts
 *   the reply as unknown when that request is gone (timed out, answered, shard restarted).
 * - Token of another node: a reply consumed from Kafka is ignored here (every node consumes the
 *   response topics, the owner included); a reply posted to this node's /v3/responses is
 *   produced to the first response topic so that the owner consumes it. Without Kafka it cannot
 *   reach the other node and is counted as `foreign`.
 * - Anything that does not decode (forged, other NODE_COOKIE, a connection token) is counted
 *   as `invalid`.
 */
import type { CorrelatedReply } from '../../shared/channel/messages.js';
import type { TokenCodec, TokenPayload } from '../../shared/token/connection-token.js';

export type ReplyOutcome = 'delivered' | 'forwarded' | 'foreign' | 'invalid' | 'gone';

export interface ReplyRouterStats {
  delivered: number;
  forwarded: number;
  foreign: number;
  invalid: number;
  gone: number;
}

export interface ReplyRouterDeps {
  tokens: TokenCodec;
  nodeId: string;
  /** Sends the reply to shard `shard`; false when that shard is not running. */
  toShard(shard: number, incarnation: number, id: number, reply: CorrelatedReply): boolean;
  /** Produces a reply for another node to the response topic; undefined without Kafka. */
  toOtherNode?: (token: string, reply: CorrelatedReply) => Promise<void>;
}

export class ReplyRouter {
  readonly stats: ReplyRouterStats = { delivered: 0, forwarded: 0, foreign: 0, invalid: 0, gone: 0 };

  constructor(private readonly deps: ReplyRouterDeps) {}

  /** A reply consumed from Kafka. */
  route(token: string, reply: CorrelatedReply): ReplyOutcome {
    return this.deliver(token, this.resolve(token), reply, false);
  }

  /** Where a correlation token points, or undefined when it is not one of this cluster's. */
  resolve(token: string): TokenPayload | undefined {
    const p = this.deps.tokens.decode(token);
    return p && p.kind === 'correlation' ? p : undefined;
  }

  /**
   * Sends the reply where `resolve(token)` said (`p`). `posted`: it came through /v3/responses,
   * so a reply for another node is passed on to it.
   */
  deliver(token: string, p: TokenPayload | undefined, reply: CorrelatedReply, posted: boolean): ReplyOutcome {
    if (!p) return this.count('invalid');
    if (p.nodeId !== this.deps.nodeId) {
      if (!posted || !this.deps.toOtherNode) return this.count('foreign');
      this.deps.toOtherNode(token, reply).catch(() => undefined); // the producer counts failures
      return this.count('forwarded');
    }
    return this.count(this.deps.toShard(p.shard, p.incarnation, p.id, reply) ? 'delivered' : 'gone');
  }

  private count(outcome: ReplyOutcome): ReplyOutcome {
    this.stats[outcome]++;
    return outcome;
  }
}
