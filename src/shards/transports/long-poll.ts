/**
 * A long-polling session: a bounded ring of recent events (LONGPOLL_BUFFER_SIZE, RIG's 200) and at
 * most one waiting poll. Polls carry a cursor in the `last_event_id` cookie; we use the session's
 * own event positions as cursors instead of CloudEvent ids (client-chosen ids need not be unique,
 * positions are), which also lets a poll that fell behind the ring get everything still buffered.
 *
 * A poll with nothing new waits up to LONGPOLL_TIMEOUT_MS and is answered as soon as an event
 * arrives (RIG re-checked every 500 ms). The ring is the flow control: a client that stops polling
 * loses the oldest events, never the gateway's memory; idle sessions end after
 * LONGPOLL_SESSION_IDLE_MS.
 */
import type { Subscription } from '../../shared/subscriptions/types.js';
import type { OpReply } from '../../shared/channel/messages.js';
import type { Connection } from '../connection.js';
import type { Disconnect } from '../disconnect.js';
import { DISCONNECT } from '../disconnect.js';
import { sessionKilledEvent } from '../../shared/cloudevents/rig-events.js';
import type { ShardEvent } from '../shard-event.js';

export const FIRST_EVENT = 'first_event';

interface Waiter {
  reply: (r: OpReply) => void;
  deadline: number;
}

export class LongPollSession implements Connection {
  readonly kind = 'longpolling' as const;
  subscriptions: readonly Subscription[] = [];
  dirty = false;
  closed = false;
  lastSeen: number;
  /** Ring of event JSON texts; position of ring[i] is `first + i`. */
  private ring: string[] = [];
  private first = 1;
  private waiter: Waiter | undefined;
  /** Position after which the waiting poll wants events. */
  private waiterCursor = 0;
  /** Ended by a session kill: the ring still holds what the client has not fetched, then rig.session_killed. */
  private killed = false;

  constructor(
    readonly id: number,
    readonly token: string,
    private readonly capacity: number,
    /** Headers every poll answer carries (CORS); cookies are added per answer. */
    private readonly baseHeaders: Array<[string, string]>,
    private readonly onGone: (s: LongPollSession) => void,
    now: number,
  ) {
    this.lastSeen = now;
  }

  deliver(event: ShardEvent): void {
    if (this.closed) return;
    this.push(event.text());
  }

  private push(text: string): void {
    this.ring.push(text);
    if (this.ring.length > this.capacity) {
      this.ring.shift();
      this.first++;
    }
  }

  flush(): void {
    if (this.waiter && this.ring.length > 0) this.answerWaiter(this.waiter.reply);
  }

  heartbeat(): void {}

  /** Starts a poll; answers now if events newer than `cursor` exist, else waits. */
  poll(cursor: string, reply: (r: OpReply) => void, now: number, timeoutMs: number): void {
    this.lastSeen = now;
    if (this.waiter) {
      // A newer poll replaces an older one still waiting (e.g. the client gave up on it).
      const old = this.waiter;
      this.waiter = undefined;
      old.reply(this.answer(this.newest()));
    }
    const since = this.parseCursor(cursor);
    if (this.hasAfter(since)) {
      reply(this.answer(since));
      return;
    }
    this.waiter = { reply, deadline: now + timeoutMs };
    this.waiterCursor = since;
  }

  /** Periodic sweep: time out waiting polls, report whether the session is idle past `idleMs`. */
  sweep(now: number, idleMs: number): boolean {
    if (this.waiter && now >= this.waiter.deadline) {
      const w = this.waiter;
      this.waiter = undefined;
      w.reply(this.answer(this.waiterCursor));
      this.lastSeen = now;
    }
    return !this.waiter && now - this.lastSeen > idleMs;
  }

  close(reason: Disconnect): void {
    if (this.closed) return;
    this.closed = true;
    const w = this.waiter;
    this.waiter = undefined;
    if (reason.reason === DISCONNECT.sessionKilled.reason) {
      // The client learns of the kill from its next poll (the waiting one, or a later one through
      // ShardSessions' record of killed long-poll sessions); its cookies are cleared there.
      this.killed = true;
      this.push(sessionKilledEvent());
      w?.reply(this.answer(this.waiterCursor));
    } else {
      w?.reply(this.answer(this.newest()));
      this.ring = [];
    }
    this.onGone(this);
  }

  /** A poll that arrives after the session was killed: what is left after `cursor`, ending with rig.session_killed. */
  answerKilled(cursor: string): OpReply {
    return this.answer(this.parseCursor(cursor));
  }

  private answerWaiter(reply: (r: OpReply) => void): void {
    const since = this.waiterCursor;
    if (!this.hasAfter(since)) return;
    this.waiter = undefined;
    reply(this.answer(since));
  }

  private newest(): number {
    return this.first + this.ring.length - 1;
  }

  /** Cursor -> position after which to answer. Unknown cursors (first_event, foreign) mean "everything buffered". */
  private parseCursor(cursor: string): number {
    if (cursor === FIRST_EVENT || !/^\d{1,15}$/.test(cursor)) return this.first - 1;
    const n = Number(cursor);
    if (n > this.newest()) return this.first - 1;
    return Math.max(n, this.first - 1);
  }

  private hasAfter(since: number): boolean {
    return this.newest() > since;
  }

  private answer(since: number): OpReply {
    const newest = this.newest();
    const from = Math.max(since + 1, this.first);
    const events = this.ring.slice(from - this.first);
    const lastId = newest >= this.first ? String(newest) : FIRST_EVENT;
    const body = `{"last_event_id":${JSON.stringify(lastId)},"events":[${events.join(',')}]}`;
    // A killed session's answer clears the cookies: the next poll starts a new session, which
    // needs a token again (and a blacklisted one is refused).
    const cookies: Array<[string, string]> = this.killed
      ? [
          ['set-cookie', 'connection_token=; path=/; HttpOnly; Max-Age=0'],
          ['set-cookie', 'last_event_id=; path=/; HttpOnly; Max-Age=0'],
        ]
      : [
          ['set-cookie', `connection_token=${this.token}; path=/; HttpOnly`],
          ['set-cookie', `last_event_id=${JSON.stringify(lastId)}; path=/; HttpOnly`],
        ];
    return { status: 200, body, headers: [...this.baseHeaders, ...cookies] };
  }
}
