/**
 * Which of this shard's connections belong to which session (RIG spec 7.3), and this shard's copy
 * of the session blacklist. A connection joins the session of the `jwt` it connected with and the
 * sessions of the Bearer tokens of its subscriptions PUTs (several sessions are possible). When
 * main announces a blacklisted session, every connection of it here is killed at once: SSE gets
 * `rig.session_killed` and its stream ends, WebSocket closes 1000 "Session killed.", and long
 * polling sessions end too (RIG forgot them, spec 13 item 11).
 */
import { ExpiringBlacklist } from '../../shared/sessions/blacklist.js';
import type { SessionField } from '../../shared/sessions/session-id.js';
import type { Connection } from '../connection.js';
import { DISCONNECT } from '../disconnect.js';
import { LongPollSession } from '../transports/long-poll.js';

/** How long a killed long-poll session waits for the poll that tells its client (a poll cycle is seconds). */
const KILLED_POLL_KEEP_MS = 60_000;

/** A connection's place in its sessions, taken before the connection exists (see reserve). */
export interface SessionReservation {
  /** Registers the connection under the reserved sessions. */
  attach(conn: Connection): void;
  /** The connection was not created after all (client gone, set-up failed later). */
  cancel(): void;
}

export class ShardSessions {
  readonly blacklist: ExpiringBlacklist;
  private readonly bySession = new Map<string, Set<Connection>>();
  private readonly byConnection = new Map<Connection, string[]>();
  private readonly killedPolls = new Map<number, { session: LongPollSession; at: number }>();

  constructor(field: SessionField) {
    this.blacklist = new ExpiringBlacklist(field);
  }

  /**
   * Takes places for a new connection in its sessions. Rejects with the limit's GatewayError when a
   * session already has MAX_CONNECTIONS_PER_SESSION connections on this node.
   */
  async reserve(sessionIds: readonly string[]): Promise<SessionReservation> {
    const ids = [...new Set(sessionIds)];
    return {
      attach: (conn) => this.attach(conn, ids),
      cancel: () => {},
    };
  }

  /** Adds sessions to a live connection (subscriptions PUT with Bearer tokens). */
  attach(conn: Connection, sessionIds: readonly string[]): void {
    if (conn.closed || sessionIds.length === 0) return;
    const mine = this.byConnection.get(conn) ?? [];
    for (const id of sessionIds) {
      if (mine.includes(id)) continue;
      mine.push(id);
      let set = this.bySession.get(id);
      if (!set) this.bySession.set(id, (set = new Set()));
      set.add(conn);
    }
    this.byConnection.set(conn, mine);
  }

  /** The connection is gone: forget its memberships. */
  detach(conn: Connection): void {
    const mine = this.byConnection.get(conn);
    if (!mine) return;
    this.byConnection.delete(conn);
    for (const id of mine) {
      const set = this.bySession.get(id);
      if (!set) continue;
      set.delete(conn);
      if (set.size === 0) this.bySession.delete(id);
    }
  }

  /** Kills every connection of the session; returns how many. */
  kill(sessionId: string, now = Date.now()): number {
    const set = this.bySession.get(sessionId);
    if (!set) return 0;
    const conns = [...set];
    for (const conn of conns) {
      conn.close(DISCONNECT.sessionKilled);
      if (conn instanceof LongPollSession) this.killedPolls.set(conn.id, { session: conn, at: now });
    }
    // close() detaches through the hub; a connection that was already closing is dropped here.
    this.bySession.delete(sessionId);
    return conns.length;
  }

  /**
   * A long-poll session killed since its last poll: its next poll gets rig.session_killed (once).
   * Kept for KILLED_POLL_KEEP_MS at most; a client that polls later starts a new session.
   */
  takeKilledPoll(connId: number): LongPollSession | undefined {
    const entry = this.killedPolls.get(connId);
    this.killedPolls.delete(connId);
    return entry?.session;
  }

  /** Periodic: forgets old killed long-poll sessions and expired blacklist entries. */
  sweep(now: number): void {
    for (const [id, entry] of this.killedPolls) if (now - entry.at > KILLED_POLL_KEEP_MS) this.killedPolls.delete(id);
    this.blacklist.sweep();
  }

  /** Sessions with at least one live connection on this shard. */
  get sessionCount(): number {
    return this.bySession.size;
  }
}
