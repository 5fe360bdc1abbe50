/**
 * Which of this shard's connections belong to which session (RIG spec 7.3), and this shard's copy
 * of the session blacklist. A connection joins the session of the `jwt` it connected with and the
 * sessions of the Bearer tokens of its subscriptions PUTs (several sessions are possible). When
 * main announces a blacklisted session, every connection of it here is killed at once: SSE gets
 * `rig.session_killed` and its stream ends, WebSocket closes 1000 "Session killed.", and long
 * polling sessions end too (RIG forgot them, spec 13 item 11).
 */
import { err } from '../../shared/errors.js';
import { ExpiringBlacklist } from '../../shared/sessions/blacklist.js';
import type { Connection } from '../connection.js';
import { DISCONNECT } from '../disconnect.js';
import { LongPollSession } from '../transports/long-poll.js';

/** How long a killed long-poll session waits for the poll that tells its client (a poll cycle is seconds). */
const KILLED_POLL_KEEP_MS = 60_000;
/** How often expired blacklist entries are dropped (RIG: every 60 s). */
const BLACKLIST_SWEEP_MS = 60_000;

/** A connection's place in its sessions, taken before the connection exists (see reserve). */
export interface SessionReservation {
  /** Registers the connection under the reserved sessions. */
  attach(conn: Connection): void;
  /** The connection was not created after all (client gone, set-up failed later). */
  cancel(): void;
}

/**
 * Main's count of each session's connections on this node (MAX_CONNECTIONS_PER_SESSION), reached
 * over the shard's channel (main-link.ts). Absent when there is no limit: nothing is counted then.
 */
export interface SessionCounter {
  /** Counts a new connection in `sessions` unless one of them is full; resolves false then. */
  admit(sessions: string[]): Promise<boolean>;
  join(sessions: string[]): void;
  leave(sessions: string[]): void;
}

const NOTHING_TO_RESERVE: SessionReservation = { attach: () => {}, cancel: () => {} };

export class ShardSessions {
  readonly blacklist: ExpiringBlacklist;
  private readonly bySession = new Map<string, Set<Connection>>();
  private readonly byConnection = new Map<Connection, string[]>();
  private readonly killedPolls = new Map<number, { session: LongPollSession; at: number }>();
  private nextBlacklistSweep = 0;

  constructor(private readonly counter?: SessionCounter) {
    this.blacklist = new ExpiringBlacklist();
  }

  /**
   * Takes places for a new connection in its sessions. Rejects with the limit's GatewayError when a
   * session already has MAX_CONNECTIONS_PER_SESSION connections on this node. Without a session or
   * without a limit this costs nothing (no message to main).
   */
  async reserve(sessionIds: readonly string[]): Promise<SessionReservation> {
    if (sessionIds.length === 0) return NOTHING_TO_RESERVE;
    const ids = [...new Set(sessionIds)];
    const counter = this.counter;
    if (!counter) return { attach: (conn) => this.register(conn, ids), cancel: () => {} };
    if (!(await counter.admit(ids))) throw err.sessionConnectionLimit();
    let settled = false;
    return {
      attach: (conn) => {
        if (settled) return;
        settled = true;
        // A connection that ended before it was attached is never detached: give the places back.
        if (conn.closed) counter.leave(ids);
        else this.register(conn, ids);
      },
      cancel: () => {
        if (settled) return;
        settled = true;
        counter.leave(ids);
      },
    };
  }

  /** Adds sessions to a live connection (subscriptions PUT with Bearer tokens); counted, never refused. */
  attach(conn: Connection, sessionIds: readonly string[]): void {
    if (conn.closed || sessionIds.length === 0) return;
    const added = this.register(conn, sessionIds);
    if (added.length > 0) this.counter?.join(added);
  }

  /** Records memberships (already counted); returns the sessions that are new for the connection. */
  private register(conn: Connection, sessionIds: readonly string[]): string[] {
    const mine = this.byConnection.get(conn) ?? [];
    const added: string[] = [];
    for (const id of sessionIds) {
      if (mine.includes(id)) continue;
      mine.push(id);
      added.push(id);
      let set = this.bySession.get(id);
      if (!set) this.bySession.set(id, (set = new Set()));
      set.add(conn);
    }
    this.byConnection.set(conn, mine);
    return added;
  }

  /** The connection is gone: forget its memberships. */
  detach(conn: Connection): void {
    const mine = this.byConnection.get(conn);
    if (!mine) return;
    this.byConnection.delete(conn);
    this.counter?.leave(mine);
    for (const id of mine) {
      const set = this.bySession.get(id);
      if (!set) continue;
      set.delete(conn);
      if (set.size === 0) this.bySession.delete(id);
    }
  }

  /** Applies blacklist entries from main; with `kill`, ends the connections of those sessions here. */
  applyBlacklist(entries: ReadonlyArray<readonly [string, number]>, kill: boolean): number {
    let killed = 0;
    for (const [id, expiresAt] of entries) {
      this.blacklist.set(id, expiresAt);
      if (kill) killed += this.kill(id);
    }
    return killed;
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

  /**
   * Periodic (the shard's long-poll sweeper, several times a second): forgets old killed long-poll
   * sessions, and expired blacklist entries once every BLACKLIST_SWEEP_MS; lookups ignore expired
   * entries anyway, so the blacklist sweep only frees memory and need not walk every entry each time.
   */
  sweep(now: number): void {
    for (const [id, entry] of this.killedPolls) if (now - entry.at > KILLED_POLL_KEEP_MS) this.killedPolls.delete(id);
    if (now >= this.nextBlacklistSweep) {
      this.nextBlacklistSweep = now + BLACKLIST_SWEEP_MS;
      this.blacklist.sweep();
    }
  }
}
