/**
 * How far each shard is behind on the event batches main posted to it, in bytes.
 *
 * Main counts the bytes it posts to a shard; the shard adds the bytes of every batch it has
 * dispatched to its connections to a shared counter (one Int32 slot per shard, written only by
 * that shard). The difference is the backlog: batches sitting in the shard's port queue or not yet
 * taken from main's per-turn batcher. A source that can wait (Kafka) pauses while any shard's
 * backlog is above a bound, instead of queueing without limit in MessagePort buffers.
 *
 * Counters are 32-bit and wrap; differences are taken modulo 2^32, which is exact as long as a
 * backlog stays below 2 GiB (the pause bound is far lower).
 */
export function createBacklogBuffer(shards: number): SharedArrayBuffer {
  return new SharedArrayBuffer(4 * Math.max(1, shards));
}

/** Shard side: record that `bytes` of posted events have been dispatched. */
export function markDispatched(buffer: SharedArrayBuffer, shard: number, bytes: number): void {
  Atomics.add(new Int32Array(buffer), shard, bytes | 0);
}

/** Main side of one shard's counter. */
export class ShardBacklog {
  private readonly done: Int32Array;
  private posted = 0;

  constructor(buffer: SharedArrayBuffer, private readonly shard: number) {
    this.done = new Int32Array(buffer);
  }

  /** A new worker starts from zero (batches posted to a dead one are gone with it). */
  reset(): void {
    this.posted = 0;
    Atomics.store(this.done, this.shard, 0);
  }

  addPosted(bytes: number): void {
    this.posted = (this.posted + bytes) | 0;
  }

  /** Bytes posted but not yet dispatched by the shard. */
  bytes(): number {
    return (this.posted - Atomics.load(this.done, this.shard)) >>> 0;
  }
}
