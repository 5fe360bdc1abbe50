/**
 * The session blacklist as every token check sees it (RIG spec 7.4): a token whose session
 * (JWT_SESSION_FIELD, ./session-id.ts) is listed does not authenticate anywhere: connect,
 * subscriptions PUT, event submission checks, secured proxy routes. Lookups are local and
 * synchronous; the shard keeps a copy that main updates (shards/sessions/).
 */
export interface SessionBlacklist {
  /** Whether this session id (shared/sessions/session-id.ts) is blacklisted now. */
  has(sessionId: string): boolean;
}

/** RIG's cause text for a blacklisted token, wrapped like every other JWT failure. */
export function blacklistedReason(sessionId: string): string {
  return `Ignoring blacklisted JWT with ID ${JSON.stringify(sessionId)}.`;
}

/** A blacklist keyed by session id with absolute expiry times (ms since the epoch). */
export class ExpiringBlacklist implements SessionBlacklist {
  private readonly entries = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.entries.size;
  }

  /** Adds or extends an entry; an entry never shrinks (re-adding extends its lifetime, RIG 7.4). */
  set(sessionId: string, expiresAt: number): void {
    const prev = this.entries.get(sessionId);
    if (prev === undefined || expiresAt > prev) this.entries.set(sessionId, expiresAt);
  }

  expiresAt(sessionId: string): number | undefined {
    const at = this.entries.get(sessionId);
    return at !== undefined && at > this.now() ? at : undefined;
  }

  has(sessionId: string): boolean {
    return this.expiresAt(sessionId) !== undefined;
  }

  /** Drops expired entries; returns how many. */
  sweep(): number {
    const now = this.now();
    let n = 0;
    for (const [id, at] of this.entries) {
      if (at <= now) {
        this.entries.delete(id);
        n++;
      }
    }
    return n;
  }

  /** Live entries as [sessionId, expiresAt] pairs. */
  list(): Array<[string, number]> {
    const now = this.now();
    return [...this.entries].filter(([, at]) => at > now);
  }
}

/** For code paths that have no blacklist (unit tests of the proxy). */
export const NO_SESSION_BLACKLIST: SessionBlacklist = { has: () => false };
