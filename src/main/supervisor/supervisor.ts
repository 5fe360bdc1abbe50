/**
 * Starts the shard workers, relays what they say to each other, restarts a shard that died, and
 * stops them one at a time on shutdown.
 *
 * Relaying: a token-routed request (shard A asks the owner B) is forwarded by main; main remembers
 * it until B answers so that, if B dies meanwhile, A still gets an answer (410: the connection is
 * gone with its shard) instead of waiting forever.
 *
 * API definitions: the supervisor holds the current set of active definitions and its generation.
 * A new worker receives them in its workerData; a change is sent to every ready shard, and
 * `setApis` resolves once each of them has compiled it (or died, or a timeout passed), so the
 * internal API answers a change only when every shard serves it.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { TAG_EVENTS, readFrame } from '../../shared/channel/port.js';
import { CHANNEL_VERSION } from '../../shared/channel/messages.js';
import type { BlacklistEntry, MainToShard, ProduceRequest, ProxyRequestCount, ShardToMain } from '../../shared/channel/messages.js';
import type { ApiDefinition } from '../../shared/apis/types.js';
import type { GatewayConfig } from '../../shared/config/types.js';
import type { Logger } from '../../shared/logger.js';
import type { Router } from '../router/router.js';
import { ShardHandle } from './shard-handle.js';
import { createBacklogBuffer } from '../../shared/channel/backlog.js';
import { clearStop, createStopFlags, raiseStop } from '../../shared/channel/stop-flag.js';

const SHARD_ENTRY = new URL('../../shards/shard.js', import.meta.url);
const RESTART_BACKOFF_MS = [0, 100, 500, 2000, 5000];
/** How long a change of API definitions waits for the shards' acknowledgements. */
const APIS_ACK_TIMEOUT_MS = 5000;

/** What every shard gets at start besides the configuration. */
export interface ShardInit {
  /** IPv4 address of HOST, the by= of the forwarded header on proxied requests. */
  hostIp: string;
  /** The live session blacklist, for a shard that starts (main/sessions/blacklist-store.ts). */
  blacklist?: () => BlacklistEntry[];
}

/** What shards say about their connections' sessions (MAX_CONNECTIONS_PER_SESSION). */
export type SessionMessage = Extract<ShardToMain, { t: 'sessions-admit' | 'sessions-join' | 'sessions-leave' }>;

interface ApisWaiter {
  gen: number;
  pending: Set<number>;
  done(): void;
}

export class Supervisor {
  readonly shards: ShardHandle[];
  private stopping = false;
  /** `${from}:${id}` -> owner shard, for requests in flight between shards. */
  private readonly inFlight = new Map<string, number>();
  private readonly readyWaiters = new Map<number, (ok: boolean, reason?: string) => void>();
  /** Set while `catchUp` runs, so nothing it dispatches starts another one. */
  private catchingUp = false;
  /** Listen port the shards reported (resolves INBOUND_PORT=0 only when SHARDS=1). */
  publicPort = 0;
  /** HTTPS listen port the shards reported (same rule as publicPort); 0 while HTTPS is off. */
  publicHttpsPort = 0;
  /** Per-shard dispatched-bytes counters (shared/channel/backlog.ts). */
  private readonly backlogBuffer: SharedArrayBuffer;
  /** Per-shard "skip queued batches" flags raised on shutdown (shared/channel/stop-flag.ts). */
  private readonly stopFlags: SharedArrayBuffer;
  /** The active API definitions every shard serves, and their generation. */
  private apis: ApiDefinition[] = [];
  private apisGen = 0;
  private apisWaiters: ApisWaiter[] = [];
  /** Writes a record a shard hands over (set by the gateway); the shard is answered `produced`. */
  onProduce: ((shard: ShardHandle, req: ProduceRequest) => void) | undefined;
  /** Counts sessions' connections (set by the gateway when MAX_CONNECTIONS_PER_SESSION is on); admits are answered here. */
  onSessions: ((shard: ShardHandle, msg: SessionMessage) => void) | undefined;
  /** A shard ended: what it counted is gone with it. */
  onShardGone: ((shard: number) => void) | undefined;
  /** Receives the proxy request counts shards report (set by the gateway when metrics are enabled). */
  onProxyRequests: ((counts: ProxyRequestCount[]) => void) | undefined;

  constructor(
    private readonly config: GatewayConfig,
    private readonly router: Router,
    private readonly rateLimitBuffer: SharedArrayBuffer,
    private readonly log: Logger,
    private readonly init: ShardInit = { hostIp: 'unknown' },
  ) {
    this.backlogBuffer = createBacklogBuffer(config.shards);
    this.stopFlags = createStopFlags(config.shards);
    this.shards = Array.from({ length: config.shards }, (_, i) => new ShardHandle(i, this.backlogBuffer));
  }

  /** Starts every shard; resolves when all listen, rejects if one cannot. */
  async start(): Promise<void> {
    await Promise.all(this.shards.map((s) => this.spawn(s)));
  }

  private spawn(shard: ShardHandle): Promise<void> {
    return new Promise((resolve, reject) => {
      shard.state = 'starting';
      shard.backlog.reset();
      clearStop(this.stopFlags, shard.id);
      // An explicit channel instead of the worker's built-in one: main must be able to take
      // queued messages synchronously (receiveMessageOnPort), see `catchUp`.
      const { port1, port2 } = new MessageChannel();
      shard.apisGen = this.apisGen;
      const worker = new Worker(SHARD_ENTRY, {
        workerData: {
          shardId: shard.id, config: this.config, rateLimitBuffer: this.rateLimitBuffer, backlogBuffer: this.backlogBuffer, stopFlags: this.stopFlags, port: port2,
          hostIp: this.init.hostIp, apis: this.apis, apisGen: this.apisGen, blacklist: this.init.blacklist?.() ?? [],
        },
        transferList: [port2],
      });
      shard.worker = worker;
      shard.port = port1;
      this.readyWaiters.set(shard.id, (ok, reason) => (ok ? resolve() : reject(new Error(reason))));
      port1.on('message', (data) => {
        if (shard.port === port1) this.onMessage(shard, data);
      });
      worker.on('error', (e) => this.log.error(`shard ${shard.id} error`, { error: e }));
      worker.on('exit', (code) => this.onExit(shard, worker, code));
    });
  }

  private onMessage(shard: ShardHandle, data: unknown): void {
    try {
      const frame = readFrame(data);
      if (frame.tag === TAG_EVENTS) this.catchUp(frame.records);
      else this.onControl(shard, frame.msg as ShardToMain);
    } catch (e) {
      this.log.error(`bad message from shard ${shard.id}`, { error: e });
    }
  }

  /**
   * Applies every message the shards have already posted before an event is routed (`first`, a
   * batch just received, is routed ahead of the batches taken here).
   *
   * Node hands a thread its port messages port by port in a fixed order, not in the order they
   * were posted. Without this, an event batch from shard A could be routed before an interest
   * update that shard B posted earlier: B told its client "rig.subscriptions_set" right after
   * posting the update, the client then submitted an event through A, and the event missed the
   * subscription. Control messages are applied before any taken batch is routed; applying
   * interest early is always safe because a shard updates its own index before announcing it.
   */
  catchUp(first?: Uint8Array): void {
    if (this.catchingUp) {
      if (first) this.router.routeBatch(first);
      return;
    }
    this.catchingUp = true;
    try {
      const batches: Uint8Array[] = first ? [first] : [];
      for (const shard of this.shards) this.drain(shard, batches);
      for (const records of batches) this.router.routeBatch(records);
    } finally {
      this.catchingUp = false;
    }
  }

  /** Takes the messages queued on a shard's port: control messages are applied, event batches collected. */
  private drain(shard: ShardHandle, batches: Uint8Array[]): void {
    const port: MessagePort | undefined = shard.port;
    if (!port) return;
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
      try {
        const frame = readFrame(m.message);
        if (frame.tag === TAG_EVENTS) batches.push(frame.records);
        else this.onControl(shard, frame.msg as ShardToMain);
      } catch (e) {
        this.log.error(`bad message from shard ${shard.id}`, { error: e });
      }
    }
  }

  private onControl(shard: ShardHandle, msg: ShardToMain): void {
    switch (msg.t) {
      case 'ready':
        if (msg.v !== CHANNEL_VERSION) throw new Error(`shard speaks channel version ${msg.v}, main ${CHANNEL_VERSION}`);
        shard.state = 'ready';
        shard.incarnation = msg.incarnation;
        this.publicPort = msg.port;
        this.publicHttpsPort = msg.httpsPort ?? 0;
        this.log.info(`shard ${shard.id} ready`, { port: msg.port, httpsPort: msg.httpsPort, restarts: shard.restarts });
        // Definitions changed while it was starting: it was not sent them then.
        if (shard.apisGen !== this.apisGen) shard.send({ t: 'apis', gen: this.apisGen, apis: this.apis });
        // Sessions blacklisted while it was starting: no connection of theirs may stay.
        {
          const entries = this.init.blacklist?.() ?? [];
          if (entries.length > 0) shard.send({ t: 'blacklist', entries, kill: true });
        }
        this.readyWaiters.get(shard.id)?.(true);
        this.readyWaiters.delete(shard.id);
        break;
      case 'apis-applied':
        shard.apisGen = msg.gen;
        this.settleApis(shard.id, msg.gen);
        break;
      case 'fatal':
        this.readyWaiters.get(shard.id)?.(false, msg.reason);
        this.readyWaiters.delete(shard.id);
        break;
      case 'interest':
        if (msg.add.length) this.router.interest.add(shard.id, msg.add);
        if (msg.remove.length) this.router.interest.remove(shard.id, msg.remove);
        break;
      case 'req': {
        const owner = this.shards[msg.to];
        this.inFlight.set(`${shard.id}:${msg.id}`, msg.to);
        if (!owner || !owner.send({ t: 'req', id: msg.id, from: shard.id, op: msg.op })) {
          this.inFlight.delete(`${shard.id}:${msg.id}`);
          shard.send({ t: 'res', id: msg.id, reply: { status: 410, body: 'Connection no longer exists.' } });
        }
        break;
      }
      case 'res':
        this.inFlight.delete(`${msg.to}:${msg.id}`);
        this.shards[msg.to]?.send({ t: 'res', id: msg.id, reply: msg.reply });
        break;
      case 'stats':
        shard.connections = msg.connections;
        break;
      case 'produce': {
        const { t: _t, ...req } = msg;
        if (this.onProduce) this.onProduce(shard, req);
        else if (req.id !== 0) shard.send({ t: 'produced', id: req.id, error: 'Kafka is not configured' });
        break;
      }
      case 'metrics':
        this.onProxyRequests?.(msg.proxyRequests);
        break;
      case 'sessions-admit':
        if (this.onSessions) this.onSessions(shard, msg);
        else shard.send({ t: 'sessions-admitted', id: msg.id, ok: true });
        break;
      case 'sessions-join':
      case 'sessions-leave':
        this.onSessions?.(shard, msg);
        break;
    }
  }

  private onExit(shard: ShardHandle, worker: Worker, code: number): void {
    if (shard.worker !== worker) return;
    // What the shard posted before it ended still counts (events it accepted, answers), as it
    // did with the worker's built-in channel, which is drained before 'exit'.
    const batches: Uint8Array[] = [];
    this.drain(shard, batches);
    for (const records of batches) this.router.routeBatch(records);
    shard.port?.close();
    shard.port = undefined;
    shard.worker = undefined;
    shard.state = 'down';
    shard.connections = 0;
    this.settleApis(shard.id);
    this.router.interest.clearShard(shard.id);
    this.onShardGone?.(shard.id);
    // Answer requests other shards were waiting on from this one.
    for (const [key, owner] of this.inFlight) {
      if (owner !== shard.id) continue;
      this.inFlight.delete(key);
      const [from, id] = key.split(':').map(Number) as [number, number];
      this.shards[from]?.send({ t: 'res', id, reply: { status: 410, body: 'Connection no longer exists.' } });
    }
    const waiter = this.readyWaiters.get(shard.id);
    if (waiter) {
      this.readyWaiters.delete(shard.id);
      waiter(false, `shard ${shard.id} exited with code ${code} before it was ready`);
      return;
    }
    if (this.stopping) return;
    const delay = RESTART_BACKOFF_MS[Math.min(shard.restarts, RESTART_BACKOFF_MS.length - 1)]!;
    shard.restarts++;
    this.log.warn(`shard ${shard.id} exited (code ${code}); restarting in ${delay} ms`);
    setTimeout(() => {
      if (this.stopping) return;
      this.spawn(shard).catch((e) => this.log.error(`shard ${shard.id} failed to restart`, { error: e }));
    }, delay);
  }

  /**
   * Makes `apis` the definitions every shard serves. Resolves when every shard that was ready has
   * compiled them (a shard that dies meanwhile no longer counts; one that starts later gets them
   * when it is ready), or after APIS_ACK_TIMEOUT_MS with a warning.
   */
  setApis(apis: ApiDefinition[]): Promise<void> {
    const gen = ++this.apisGen;
    this.apis = apis;
    const pending = new Set<number>();
    for (const shard of this.shards) {
      if (shard.state === 'ready' && shard.send({ t: 'apis', gen, apis })) pending.add(shard.id);
    }
    if (pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.log.warn('shards did not confirm new API definitions in time', { generation: gen, shards: [...waiter.pending] });
        waiter.done();
      }, APIS_ACK_TIMEOUT_MS);
      timer.unref();
      const waiter: ApisWaiter = {
        gen,
        pending,
        done: () => {
          clearTimeout(timer);
          this.apisWaiters = this.apisWaiters.filter((w) => w !== waiter);
          resolve();
        },
      };
      this.apisWaiters.push(waiter);
    });
  }

  /** A shard acknowledged generation `gen`, or (without `gen`) is gone: it no longer holds anyone up. */
  private settleApis(shardId: number, gen?: number): void {
    for (const waiter of [...this.apisWaiters]) {
      if (gen !== undefined && gen < waiter.gen) continue;
      waiter.pending.delete(shardId);
      if (waiter.pending.size === 0) waiter.done();
    }
  }

  /** Sends a control message to every running shard. */
  broadcast(msg: MainToShard): void {
    for (const shard of this.shards) shard.send(msg);
  }

  /** The largest event backlog of any ready shard, in bytes (what a pausable source waits on). */
  maxPendingBytes(): number {
    let max = 0;
    for (const s of this.shards) max = Math.max(max, s.pendingBytes());
    return max;
  }

  /** true when every shard is ready (readiness). */
  allReady(): boolean {
    return !this.stopping && this.shards.every((s) => s.state === 'ready');
  }

  /** Asks one shard to fail as a bug would (ENABLE_FAULT_INJECTION). */
  crash(id: number): boolean {
    return this.shards[id]?.send({ t: 'crash' }) ?? false;
  }

  /** Blocks one shard's thread for `ms` (ENABLE_FAULT_INJECTION; backpressure tests). */
  stall(id: number, ms: number): boolean {
    return this.shards[id]?.send({ t: 'stall', ms }) ?? false;
  }

  /** Stops shards one after the other (each closes its listener first), waiting up to `timeoutMs` in all. */
  async stop(timeoutMs: number): Promise<boolean> {
    this.stopping = true;
    for (const shard of this.shards) raiseStop(this.stopFlags, shard.id);
    const deadline = Date.now() + timeoutMs;
    for (const shard of this.shards) {
      const worker = shard.worker;
      if (!worker) continue;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      shard.send({ t: 'shutdown' });
      shard.state = 'stopping';
      const left = deadline - Date.now();
      const timedOut = await Promise.race([exited.then(() => false), sleep(Math.max(0, left)).then(() => true)]);
      if (timedOut) return false;
    }
    return true;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
