/**
 * Proxied requests waiting for an asynchronous reply (`response_from: http_async | kafka`, RIG
 * spec 6.5, 6.6, 6.9), one table per shard.
 *
 * A request gets a slot and its correlation token *before* the upstream or Kafka sees it, because
 * a fast backend may send the reply before the gateway learnt that it should wait: RIG's own test
 * posts the reply and only then answers 202. Such an early reply is kept in the slot. Then:
 * - `accept()` (the upstream said 202, or the record was produced): the reply kept is answered at
 *   once, otherwise the request waits up to its timeout and is answered 504 with an empty body;
 * - `release()` (the upstream answered anything else, or failed): the slot goes, a later reply for
 *   it is counted as late.
 * A client that goes away releases its slot too. Replies for slots that do not exist (timed out,
 * released, forged numbers, an earlier incarnation of this shard) are counted, never thrown.
 *
 * Answer: status `rig-response-code`, the CORS headers of the endpoint kind, the reply's headers,
 * the reply body.
 */
import { statusLine, type Headers } from '../../shared/http/uws-http.js';
import type { CorrelatedReply } from '../../shared/channel/messages.js';
import type { TokenCodec } from '../../shared/token/connection-token.js';
import type { HttpResponse } from '../../shared/uws.js';

export interface WaitingStats {
  /** Replies answered to a waiting client. */
  answered: number;
  /** Requests that waited in vain (504). */
  timedOut: number;
  /** Replies for no (longer) waiting request: late, released, or of an earlier incarnation. */
  unknown: number;
}

/** How the waiting request is answered once the reply (or the timeout) comes. */
export interface WaitOptions {
  timeoutMs: number;
  /** CORS headers of the answer (spec 6.5 for http targets, 6.6 for kafka targets). */
  cors: Headers;
  /** HEAD gets status and headers only. */
  head: boolean;
  /** Told once how the wait ended (rig_proxy_requests_total). */
  onOutcome?: (outcome: 'ok' | 'response_timeout') => void;
}

interface Slot {
  res: HttpResponse | undefined;
  opts: WaitOptions | undefined;
  early: CorrelatedReply | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** Request numbers stay below 2^48 (the token's field); they wrap long before that matters. */
const ID_LIMIT = 2 ** 48;

export class WaitingRequests {
  readonly stats: WaitingStats = { answered: 0, timedOut: 0, unknown: 0 };
  private readonly slots = new Map<number, Slot>();
  private nextId = 1;

  constructor(
    private readonly tokens: TokenCodec,
    private readonly where: { nodeId: string; shard: number; incarnation: number },
  ) {}

  /** A new slot and the correlation token naming it. */
  open(): { id: number; token: string } {
    const id = this.nextId++;
    if (this.nextId >= ID_LIMIT) this.nextId = 1;
    this.slots.set(id, { res: undefined, opts: undefined, early: undefined, timer: undefined });
    const token = this.tokens.encode({ kind: 'correlation', nodeId: this.where.nodeId, shard: this.where.shard, incarnation: this.where.incarnation, id });
    return { id, token };
  }

  /**
   * Starts waiting: from now on `res` is this table's to answer. Must be called from a uWS
   * callback or inside a cork; the caller must have registered onAborted and call `release` from it.
   */
  accept(id: number, res: HttpResponse, opts: WaitOptions): void {
    const slot = this.slots.get(id);
    if (!slot) return;
    slot.res = res;
    slot.opts = opts;
    if (slot.early) {
      const reply = slot.early;
      this.slots.delete(id);
      this.answer(res, opts, reply);
      return;
    }
    slot.timer = setTimeout(() => this.timeout(id), opts.timeoutMs);
  }

  /** Forgets the slot without answering (the caller answers, or the client is gone). */
  release(id: number): void {
    const slot = this.slots.get(id);
    if (!slot) return;
    clearTimeout(slot.timer);
    this.slots.delete(id);
  }

  /** A reply routed here by main. */
  deliver(incarnation: number, id: number, reply: CorrelatedReply): void {
    const slot = incarnation === this.where.incarnation ? this.slots.get(id) : undefined;
    if (!slot) {
      this.stats.unknown++;
      return;
    }
    if (!slot.res || !slot.opts) {
      // Not waiting yet: keep the first reply for accept().
      slot.early ??= reply;
      return;
    }
    clearTimeout(slot.timer);
    this.slots.delete(id);
    const { res, opts } = slot;
    res.cork(() => this.answer(res, opts, reply));
  }

  /** Ends every waiting request (shard shutdown): their clients get 504 now rather than a cut connection. */
  closeAll(): void {
    for (const id of [...this.slots.keys()]) this.timeout(id);
  }

  private answer(res: HttpResponse, opts: WaitOptions, reply: CorrelatedReply): void {
    this.stats.answered++;
    opts.onOutcome?.('ok');
    res.writeStatus(statusLine(reply.status));
    for (const [k, v] of opts.cors) res.writeHeader(k, v);
    for (const [k, v] of reply.headers) res.writeHeader(k, v);
    if (opts.head || reply.status === 204 || reply.status === 304) res.endWithoutBody();
    else res.end(reply.body);
  }

  private timeout(id: number): void {
    const slot = this.slots.get(id);
    if (!slot) return;
    clearTimeout(slot.timer);
    this.slots.delete(id);
    const { res, opts } = slot;
    if (!res || !opts) return;
    this.stats.timedOut++;
    opts.onOutcome?.('response_timeout');
    res.cork(() => {
      res.writeStatus(statusLine(504));
      for (const [k, v] of opts.cors) res.writeHeader(k, v);
      res.end();
    });
  }
}
