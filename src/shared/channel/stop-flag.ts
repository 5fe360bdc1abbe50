/**
 * "Stop dispatching" flags, one per shard, in shared memory. Shutdown is a message on the same port
 * as event batches, so a shard that is behind would first fan out every batch queued ahead of it,
 * possibly for longer than SHUTDOWN_TIMEOUT_MS. Main raises the flag before it asks shards to stop;
 * a shard that sees it skips the batches still queued (their clients are about to be disconnected
 * anyway) and reaches the shutdown message at once.
 */
export function createStopFlags(shards: number): SharedArrayBuffer {
  return new SharedArrayBuffer(4 * Math.max(1, shards));
}

export function raiseStop(buffer: SharedArrayBuffer, shard: number): void {
  Atomics.store(new Int32Array(buffer), shard, 1);
}

export function clearStop(buffer: SharedArrayBuffer, shard: number): void {
  Atomics.store(new Int32Array(buffer), shard, 0);
}

export function stopRaised(flags: Int32Array, shard: number): boolean {
  return Atomics.load(flags, shard) === 1;
}
