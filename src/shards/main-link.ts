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

export class MainLink {
  private readonly events: EventBatcher;
  private nextId = 1;
  private readonly pending = new Map<number, (r: OpReply) => void>();
  private nextProduceId = 1;
  private readonly producing = new Map<number, (error?: string) => void>();
  private nextAdmitId = 1;
  private readonly admitting = new Map<number, (ok: boolean) => void>();

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
    const id = this.nextId++;
    if (this.nextId > 0x7fffffff) this.nextId = 1;
    this.pending.set(id, cb);
    this.send({ t: 'req', id, to, op });
  }

  /** Hands a record to main's Kafka producer; `done` gets the outcome (without it, nobody waits). */
  produce(record: Omit<ProduceRequest, 'id'>, done?: (error?: string) => void): void {
    let id = 0;
    if (done) {
      id = this.nextProduceId++;
      if (this.nextProduceId > 0x7fffffff) this.nextProduceId = 1;
      this.producing.set(id, done);
    }
    this.send({ t: 'produce', id, ...record });
  }

  /** Asks main whether a new connection may join `sessions` (MAX_CONNECTIONS_PER_SESSION); counted if so. */
  admitSessions(sessions: string[]): Promise<boolean> {
    const id = this.nextAdmitId++;
    if (this.nextAdmitId > 0x7fffffff) this.nextAdmitId = 1;
    return new Promise((resolve) => {
      this.admitting.set(id, resolve);
      this.send({ t: 'sessions-admit', id, sessions });
    });
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
      case 'res': {
        const cb = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        cb?.(msg.reply);
        break;
      }
      case 'apis':
        this.handlers.onApis(msg.gen, msg.apis);
        break;
      case 'produced': {
        const done = this.producing.get(msg.id);
        this.producing.delete(msg.id);
        done?.(msg.error);
        break;
      }
      case 'reply':
        this.handlers.onReply(msg.incarnation, msg.id, msg.reply);
        break;
      case 'blacklist':
        this.handlers.onBlacklist(msg.entries, msg.kill);
        break;
      case 'sessions-admitted': {
        const done = this.admitting.get(msg.id);
        this.admitting.delete(msg.id);
        done?.(msg.ok);
        break;
      }
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
    for (const cb of this.pending.values()) cb(GONE);
    this.pending.clear();
    for (const done of this.producing.values()) done('the gateway is shutting down');
    this.producing.clear();
    // The shard is ending: no new connection is created any more.
    for (const done of this.admitting.values()) done(false);
    this.admitting.clear();
  }
}
