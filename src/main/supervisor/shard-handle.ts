/**
 * Main's view of one shard: its Worker, its per-turn event batch, and its state. A handle outlives
 * the workers it runs: when a shard dies, the supervisor starts a new Worker in the same handle.
 */
import { Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { EventBatcher, postControl, postEvents } from '../../shared/channel/port.js';
import type { MainToShard } from '../../shared/channel/messages.js';
import { ShardBacklog } from '../../shared/channel/backlog.js';

export type ShardState = 'starting' | 'ready' | 'stopping' | 'down';

export class ShardHandle {
  worker: Worker | undefined;
  /** Main's end of the channel to the running worker (see Supervisor.catchUp). */
  port: MessagePort | undefined;
  state: ShardState = 'down';
  incarnation = 0;
  restarts = 0;
  connections = 0;
  /** Generation of the API definitions the running worker has (given at spawn, or acknowledged). */
  apisGen = 0;
  private readonly batcher: EventBatcher;
  /** Record bytes queued in the batcher, not yet posted. */
  private unposted = 0;
  readonly backlog: ShardBacklog;

  constructor(readonly id: number, backlogBuffer: SharedArrayBuffer) {
    this.backlog = new ShardBacklog(backlogBuffer, id);
    this.batcher = new EventBatcher((records, bytes) => {
      this.unposted = 0;
      if (this.port && this.state === 'ready') {
        postEvents(this.port, records, bytes);
        this.backlog.addPosted(bytes);
      }
    });
  }

  pushEvent(record: Uint8Array): void {
    if (this.state !== 'ready') return;
    this.batcher.push(record);
    this.unposted += record.byteLength;
  }

  /** Event bytes this shard has been given but not yet dispatched (see shared/channel/backlog.ts). */
  pendingBytes(): number {
    return this.state === 'ready' ? this.unposted + this.backlog.bytes() : 0;
  }

  send(msg: MainToShard): boolean {
    if (!this.port || (this.state !== 'ready' && this.state !== 'stopping')) return false;
    postControl(this.port, msg);
    return true;
  }
}
