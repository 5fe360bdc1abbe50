/**
 * Which shards can use an event: interest key -> bitmask of shards. Shards report a key when
 * their first local subscription row needs it and withdraw it when the last one goes (see
 * shared/subscriptions/interest.ts for the key rule), so the table stays small and an event crosses
 * only to shards holding a possibly matching subscription.
 */
export const MAX_SHARDS = 32;

export class InterestTable {
  private readonly masks = new Map<string, number>();

  add(shard: number, keys: readonly string[]): void {
    const bit = 1 << shard;
    for (const k of keys) this.masks.set(k, (this.masks.get(k) ?? 0) | bit);
  }

  remove(shard: number, keys: readonly string[]): void {
    const bit = 1 << shard;
    for (const k of keys) {
      const m = (this.masks.get(k) ?? 0) & ~bit;
      if (m === 0) this.masks.delete(k);
      else this.masks.set(k, m);
    }
  }

  /** Forgets everything a shard registered (it restarted; its connections are gone). */
  clearShard(shard: number): void {
    const bit = 1 << shard;
    for (const [k, m] of this.masks) {
      const next = m & ~bit;
      if (next === 0) this.masks.delete(k);
      else this.masks.set(k, next);
    }
  }

  /** Bitmask of shards interested in any of the keys. */
  lookup(keys: readonly string[]): number {
    let mask = 0;
    for (const k of keys) mask |= this.masks.get(k) ?? 0;
    return mask;
  }

  get size(): number {
    return this.masks.size;
  }
}
