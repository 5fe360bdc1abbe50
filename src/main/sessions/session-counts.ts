/**
 * Live connections per session on this node, for MAX_CONNECTIONS_PER_SESSION (RIG issue #258).
 * The count must span every shard (a user's tabs land on any of them), so main keeps it: a shard
 * asks before it creates a connection with a session, and reports when connections end. Counts are
 * kept per shard so that a shard that dies takes its connections' places with it.
 */
export class SessionCounts {
  private readonly counts = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly shards: number,
  ) {}

  /** Counts one more connection in each session unless one of them is full. */
  admit(shard: number, sessions: readonly string[]): boolean {
    for (const id of sessions) if (this.total(id) >= this.limit) return false;
    this.join(shard, sessions);
    return true;
  }

  join(shard: number, sessions: readonly string[]): void {
    for (const id of sessions) {
      let perShard = this.counts.get(id);
      if (!perShard) this.counts.set(id, (perShard = new Array<number>(this.shards).fill(0)));
      perShard[shard] = (perShard[shard] ?? 0) + 1;
    }
  }

  leave(shard: number, sessions: readonly string[]): void {
    for (const id of sessions) {
      const perShard = this.counts.get(id);
      if (!perShard || !perShard[shard]) continue;
      perShard[shard]--;
      if (perShard.every((n) => n === 0)) this.counts.delete(id);
    }
  }

  /** A shard ended: its connections are gone. */
  shardGone(shard: number): void {
    for (const [id, perShard] of this.counts) {
      perShard[shard] = 0;
      if (perShard.every((n) => n === 0)) this.counts.delete(id);
    }
  }

  total(sessionId: string): number {
    const perShard = this.counts.get(sessionId);
    return perShard ? perShard.reduce((a, b) => a + b, 0) : 0;
  }

  /** Sessions with at least one counted connection. */
  get size(): number {
    return this.counts.size;
  }
}
