/**
 * Main's view of one shard: its Worker, its per-turn event batch, and its state. A handle outlives
 * the workers it runs: when a shard dies, the supervisor starts a new Worker in the same handle.
 */
import { Worker } from 'node:worker_threads';
import { EventBatcher, postControl, postEvents } from '../../shared/channel/port.js';
import type { MainToShard } from '../../shared/channel/messages.js';

export type ShardState = 'starting' | 'ready' | 'stopping' | 'down';

export class ShardHandle {
  worker: Worker | undefined;
  state: ShardState = 'down';
  incarnation = 0;
  restarts = 0;
  connections = 0;
  private readonly batcher: EventBatcher;

  constructor(readonly id: number) {
    this.batcher = new EventBatcher((records, bytes) => {
      if (this.worker && this.state === 'ready') postEvents(this.worker, records, bytes);
    });
  }

  pushEvent(record: Uint8Array): void {
    if (this.state === 'ready') this.batcher.push(record);
  }

  send(msg: MainToShard): boolean {
    if (!this.worker || (this.state !== 'ready' && this.state !== 'stopping')) return false;
    postControl(this.worker, msg);
    return true;
  }
}
