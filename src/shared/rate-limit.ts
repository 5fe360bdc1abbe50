/**
 * MAX_CONNECTIONS_PER_MINUTE is a per-node limit (RIG 2.9), but connections are accepted by several
 * shard threads. The counter therefore lives in a SharedArrayBuffer that main creates and hands to
 * every shard: one 64-bit cell holding (window start in seconds << 32 | count), updated with a
 * compare-and-swap loop so the limit is exact across threads without any message round trip.
 * The window starts with the first connection after the previous one expired (not aligned to the
 * clock minute), like RIG's bucket.
 */
const WINDOW_S = 60n;

export function createRateLimitBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(8);
}

export class ConnectionRateLimiter {
  private readonly cell: BigInt64Array;

  constructor(
    buffer: SharedArrayBuffer,
    private readonly limit: number,
  ) {
    this.cell = new BigInt64Array(buffer);
  }

  /** Counts one connection creation; false when the node already accepted `limit` in this window. */
  tryAcquire(nowMs: number = Date.now()): boolean {
    const nowS = BigInt(Math.floor(nowMs / 1000));
    const limit = BigInt(this.limit);
    for (;;) {
      const cur = Atomics.load(this.cell, 0);
      const start = cur >> 32n;
      const count = cur & 0xffffffffn;
      let next: bigint;
      if (cur === 0n || nowS - start >= WINDOW_S) next = (nowS << 32n) | 1n;
      else if (count >= limit) return false;
      else next = cur + 1n;
      if (Atomics.compareExchange(this.cell, 0, cur, next) === cur) return true;
    }
  }
}
