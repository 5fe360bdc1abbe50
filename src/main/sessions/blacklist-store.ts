/**
 * The node's session blacklist (RIG spec 7.4, 11.3), owned by main. Entries come from
 * POST /v3/session-blacklist on this node and, with Kafka, from the other nodes through the
 * blacklist topic (./blacklist-replication.ts). Every entry is announced to the shards, which keep
 * a copy for their synchronous token checks and kill the session's connections.
 *
 * Each blacklisting carries a unique id: a kill is carried out once per blacklisting, so this
 * node's own record coming back from the topic does not kill again, while a second blacklisting of
 * the same session (RIG: re-adding extends the lifetime and kills again) does.
 */
import { randomUUID } from 'node:crypto';
import type { BlacklistEntry } from '../../shared/channel/messages.js';
import { ExpiringBlacklist } from '../../shared/sessions/blacklist.js';

/** One blacklisting, as the topic stores it. */
export interface BlacklistRecord {
  sessionId: string;
  /** ms since the epoch */
  expiresAt: number;
  /** Unique per blacklisting. */
  uuid: string;
}

export class BlacklistStore {
  private readonly entries: ExpiringBlacklist;
  /** The last blacklisting applied per session, so each one kills once. */
  private readonly lastUuid = new Map<string, string>();

  constructor(
    /** Sends entries to every shard; `kill`: end their sessions' connections too. */
    private readonly announce: (entries: BlacklistEntry[], kill: boolean) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.entries = new ExpiringBlacklist(now);
  }

  /** Blacklists a session for `validitySeconds` from now and kills its connections on this node. */
  add(sessionId: string, validitySeconds: number): BlacklistRecord {
    const record: BlacklistRecord = { sessionId, expiresAt: this.now() + Math.ceil(validitySeconds * 1000), uuid: randomUUID() };
    this.apply(record);
    return record;
  }

  /** A blacklisting read from the topic (another node's, or this node's own coming back). */
  apply(record: BlacklistRecord): void {
    this.entries.set(record.sessionId, record.expiresAt);
    const fresh = this.lastUuid.get(record.sessionId) !== record.uuid;
    this.lastUuid.set(record.sessionId, record.uuid);
    // An entry that has already expired (an old record read at start-up) refuses nothing and has
    // nothing left to kill.
    if (record.expiresAt <= this.now()) return;
    this.announce([[record.sessionId, this.entries.expiresAt(record.sessionId) ?? record.expiresAt]], fresh);
  }

  has(sessionId: string): boolean {
    return this.entries.has(sessionId);
  }

  expiresAt(sessionId: string): number | undefined {
    return this.entries.expiresAt(sessionId);
  }

  /** Live entries, for a shard that starts. */
  list(): BlacklistEntry[] {
    return this.entries.list();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Forgets expired entries (RIG: every 60 s). */
  sweep(): void {
    if (this.entries.sweep() === 0) return;
    for (const id of this.lastUuid.keys()) if (!this.entries.has(id)) this.lastUuid.delete(id);
  }
}
