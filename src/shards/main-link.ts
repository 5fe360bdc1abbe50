/**
 * The shard's side of its MessagePort to main: submits events (batched per turn), publishes
 * interest changes, and runs token-routed requests to other shards with a bounded pending table
 * (every pending request is answered: by the owner, by main when the owner is gone, or here when
 * the port closes). Records for Kafka go to main's producer the same way: every `produce` with a
 * callback is answered by main's `produced`, or here with an error when the port closes.
 */
import type { MessagePort } from 'node:worker_threads';
import { EventBatcher, TAG_EVENTS, postControl, postEvents, readFrame } from '../shared/channel/port.js';
import type { BlacklistEntry, CorrelatedReply, MainToShard, OpReply, ProduceRequest, ShardOp, ShardToMain } from '../shared/channel/messages.js';
import type { ApiDefinition } from '../shared/apis/types.js';

export interface MainLinkHandlers {
  onEvents(records: Uint8Array): void;
  /** A request routed to this shard by another shard; `reply` must be called exactly once. */
  onRequest(op: ShardOp, reply: (r: OpReply) => void): void;
  /** A new set of API definitions; the shard answers with 'apis-applied'. */
  onApis(gen: number, apis: ApiDefinition[]): void;
  /** A correlated reply main routed here (waiting proxied request `id` of shard run `incarnation`). */
  onReply(incarnation: number, id: number, reply: CorrelatedReply): void;
  /** Blacklist entries from main; `kill`: end the connections of those sessions too. */
  onBlacklist(entries: BlacklistEntry[], kill: boolean): void;
  onShutdown(): void;
  onCrash(): void;
  onStall(ms: number): void;
}

const GONE: OpReply = { status: 410, body: 'Connection no longer exists.' };

/** Callbacks waiting for main's answer, by the id the request carried (ids wrap before 2^31). */
class Awaiting<T> {
  private nextId = 1;
  private readonly callbacks = new Map<number, (value: T) => void>();

  add(cb: (value: T) => void): number {
    const id = this.nextId++;
    if (this.nextId > 0x7fffffff) this.nextId = 1;
    this.callbacks.set(id, cb);
    return id;
  }

  settle(id: number, value: T): void {
    const cb = this.callbacks.get(id);
    this.callbacks.delete(id);
    cb?.(value);
  }

  /** The port closed: every waiter gets `value`. */
  settleAll(value: T): void {
    const all = [...this.callbacks.values()];
    this.callbacks.clear();
    for (const cb of all) cb(value);
  }
}

export class MainLink {
  private readonly events: EventBatcher;
  private readonly pending = new Awaiting<OpReply>();
  private readonly producing = new Awaiting<string | undefined>();
  private readonly admitting = new Awaiting<boolean>();

  constructor(
    private readonly port: MessagePort,
    private readonly handlers: MainLinkHandlers,
  ) {
    this.events = new EventBatcher((records, bytes) => postEvents(port, records, bytes));
    port.on('message', (data) => this.receive(data));
    port.on('close', () => this.failAll());
  }

  send(msg: ShardToMain): void {
    postControl(this.port, msg);
  }

  submitEvent(record: Uint8Array): void {
    this.events.push(record);
  }

  request(to: number, op: ShardOp, cb: (r: OpReply) => void): void {
    this.send({ t: 'req', id: this.pending.add(cb), to, op });
  }

  /** Hands a record to main's Kafka producer; `done` gets the outcome (without it, nobody waits). */
  produce(record: Omit<ProduceRequest, 'id'>, done?: (error?: string) => void): void {
    const id = done ? this.producing.add(done) : 0;
    this.send({ t: 'produce', id, ...record });
  }

  /** Asks main whether a new connection may join `sessions` (MAX_CONNECTIONS_PER_SESSION); counted if so. */
  admitSessions(sessions: string[]): Promise<boolean> {
    return new Promise((resolve) => this.send({ t: 'sessions-admit', id: this.admitting.add(resolve), sessions }));
  }

  private receive(data: unknown): void {
    const frame = readFrame(data);
    if (frame.tag === TAG_EVENTS) {
      this.handlers.onEvents(frame.records);
      return;
    }
    const msg = frame.msg as MainToShard;
    switch (msg.t) {
      case 'req': {
        let answered = false;
        this.handlers.onRequest(msg.op, (reply) => {
          if (answered) return;
          answered = true;
          this.send({ t: 'res', id: msg.id, to: msg.from, reply });
        });
        break;
      }
      case 'res':
        this.pending.settle(msg.id, msg.reply);
        break;
      case 'apis':
        this.handlers.onApis(msg.gen, msg.apis);
        break;
      case 'produced':
        this.producing.settle(msg.id, msg.error);
        break;
      case 'reply':
        this.handlers.onReply(msg.incarnation, msg.id, msg.reply);
        break;
      case 'blacklist':
        this.handlers.onBlacklist(msg.entries, msg.kill);
        break;
      case 'sessions-admitted':
        this.admitting.settle(msg.id, msg.ok);
        break;
      case 'shutdown':
        this.handlers.onShutdown();
        break;
      case 'stall':
        this.handlers.onStall(msg.ms);
        break;
      case 'crash':
        this.handlers.onCrash();
        break;
    }
  }

  private failAll(): void {
    this.pending.settleAll(GONE);
    this.producing.settleAll('the gateway is shutting down');
    // The shard is ending: no new connection is created any more.
    this.admitting.settleAll(false);
  }
}
