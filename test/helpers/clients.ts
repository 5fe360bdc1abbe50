/**
 * Real clients for the gateway's three transports: an SSE reader over node:http, a WebSocket client
 * (ws), and a long-polling client carrying its cookies between requests like a browser does.
 */
import { request } from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import WebSocket from 'ws';
import { sleep } from './wait.js';

export interface ReceivedEvent {
  /** SSE `event:` name, or the CloudEvent type for WS/long-poll. */
  event: string;
  /** Parsed CloudEvent. */
  data: Record<string, any>;
  /** JSON text as received. */
  raw: string;
}

/** A queue of received events with waiting helpers shared by all clients. */
class EventQueue {
  readonly events: ReceivedEvent[] = [];
  private cursor = 0;
  private waiters: Array<() => void> = [];

  push(e: ReceivedEvent): void {
    this.events.push(e);
    for (const w of this.waiters.splice(0)) w();
  }

  wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Next not-yet-consumed event matching `pred` (events before it are skipped). */
  async next(pred: (e: ReceivedEvent) => boolean = () => true, timeoutMs = 5000, isOver: () => boolean = () => false): Promise<ReceivedEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.events.length) {
        const e = this.events[this.cursor++]!;
        if (pred(e)) return e;
      }
      const left = deadline - Date.now();
      if (left <= 0 || isOver()) throw new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(this.events.map((e) => e.event))}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
  }

  /** Asserts that no unconsumed event matching `pred` arrives within `ms`. */
  async none(pred: (e: ReceivedEvent) => boolean, ms = 500): Promise<void> {
    await sleep(ms);
    const hit = this.events.slice(this.cursor).find(pred);
    if (hit) throw new Error(`unexpected event ${hit.event}: ${hit.raw}`);
  }
}

export class SseClient extends EventQueue {
  status = 0;
  headers: IncomingMessage['headers'] = {};
  body = '';
  ended = false;
  comments = 0;
  private req!: ClientRequest;
  private res?: IncomingMessage;

  /** `ca`: the certificate an https:// gateway is verified against (a test's self-signed one). */
  static async connect(baseUrl: string, query: Record<string, string> = {}, opts: { expectStatus?: number; ca?: string } = {}): Promise<SseClient> {
    const c = new SseClient();
    await c.open(baseUrl, query, opts.ca);
    if ((opts.expectStatus ?? 200) !== c.status) throw new Error(`SSE connect answered ${c.status}: ${c.body}`);
    return c;
  }

  private open(baseUrl: string, query: Record<string, string>, ca: string | undefined): Promise<void> {
    const qs = new URLSearchParams(query).toString();
    const url = new URL(`/_rig/v1/connection/sse${qs ? `?${qs}` : ''}`, baseUrl);
    const send = url.protocol === 'https:' ? httpsRequest : request;
    return new Promise((resolve, reject) => {
      this.req = send(url, { headers: { accept: 'text/event-stream' }, ...(ca !== undefined && { ca }) }, (res) => {
        this.res = res;
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          if (this.status !== 200) {
            this.body += chunk;
            return;
          }
          buf += chunk;
          let idx;
          while ((idx = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, idx);
            buf = buf.slice(idx + 2);
            this.parseBlock(block);
          }
        });
        res.on('end', () => {
          this.ended = true;
          this.wake();
          if (this.status !== 200) resolve();
        });
        res.on('error', () => {
          this.ended = true;
          this.wake();
        });
        if (this.status === 200) resolve();
      });
      this.req.on('error', (e) => {
        this.ended = true;
        this.wake();
        reject(e);
      });
      this.req.end();
    });
  }

  private parseBlock(block: string): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments++;
        continue;
      }
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length === 0) return;
    const raw = data.join('\n');
    this.push({ event, raw, data: JSON.parse(raw) });
  }

  override next(pred?: (e: ReceivedEvent) => boolean, timeoutMs?: number): Promise<ReceivedEvent> {
    return super.next(pred, timeoutMs, () => this.ended);
  }

  /** Stops reading from the socket (a slow consumer) without closing it. */
  pause(): void {
    this.res?.pause();
    this.res?.socket?.pause();
  }

  /** Reads again after `pause()`. */
  resume(): void {
    this.res?.socket?.resume();
    this.res?.resume();
  }

  close(): void {
    this.req.destroy();
  }

  async token(): Promise<string> {
    const e = this.events.find((x) => x.event === 'rig.connection.create') ?? (await this.next((x) => x.event === 'rig.connection.create'));
    return e.data.data.connection_token as string;
  }
}

export class WsClient extends EventQueue {
  closeCode: number | undefined;
  closeReason = '';
  readonly ws: WebSocket;
  private closedPromise: Promise<void>;

  private constructor(url: string, ca: string | undefined) {
    super();
    this.ws = new WebSocket(url, ca === undefined ? {} : { ca });
    this.ws.on('message', (data, isBinary) => {
      const raw = isBinary ? '<binary>' : data.toString();
      let parsed: Record<string, any> = {};
      try {
        parsed = JSON.parse(raw);
      } catch {
        /* non-JSON frames are recorded raw */
      }
      this.push({ event: String(parsed.type ?? parsed.eventType ?? ''), data: parsed, raw });
    });
    this.closedPromise = new Promise((resolve) =>
      this.ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve();
      }),
    );
    this.ws.on('error', () => {});
  }

  /** An https:// `baseUrl` connects with wss://, verified against `opts.ca`. */
  static async connect(baseUrl: string, query: Record<string, string> = {}, opts: { ca?: string } = {}): Promise<WsClient> {
    const qs = new URLSearchParams(query).toString();
    const url = `${baseUrl.replace(/^http/, 'ws')}/_rig/v1/connection/ws${qs ? `?${qs}` : ''}`;
    const c = new WsClient(url, opts.ca);
    await new Promise<void>((resolve, reject) => {
      c.ws.once('open', () => resolve());
      c.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
      c.ws.once('error', reject);
    });
    return c;
  }

  override next(pred?: (e: ReceivedEvent) => boolean, timeoutMs?: number): Promise<ReceivedEvent> {
    return super.next(pred, timeoutMs, () => this.closeCode !== undefined);
  }

  closed(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('socket not closed in time')), timeoutMs);
    });
    // The timer is cleared once the socket closed, so a finished test does not keep the process alive.
    return Promise.race([this.closedPromise, timeout]).finally(() => clearTimeout(timer));
  }

  close(): void {
    this.ws.terminate();
  }

  async token(): Promise<string> {
    const e = this.events.find((x) => x.event === 'rig.connection.create') ?? (await this.next((x) => x.event === 'rig.connection.create'));
    return e.data.data.connection_token as string;
  }
}

/** A long-polling client that keeps its cookies (a tiny cookie jar) like a browser. */
export class LongPollClient extends EventQueue {
  readonly cookies = new Map<string, string>();
  lastStatus = 0;
  lastBody = '';
  lastHeaders: Headers | undefined;

  constructor(private readonly baseUrl: string) {
    super();
  }

  /** One GET: the create call (returns "ok") or a poll (events are queued). */
  async get(query: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Headers }> {
    const qs = new URLSearchParams(query).toString();
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(`${this.baseUrl}/_rig/v1/connection/longpolling${qs ? `?${qs}` : ''}`, {
      headers: cookie ? { cookie } : {},
    });
    const body = await res.text();
    for (const sc of res.headers.getSetCookie()) {
      const [pair] = sc.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0/i.test(sc)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    this.lastStatus = res.status;
    this.lastBody = body;
    this.lastHeaders = res.headers;
    if (res.status === 200 && body !== '"ok"') {
      const parsed = JSON.parse(body) as { events: Array<Record<string, any>> };
      for (const ev of parsed.events) this.push({ event: String(ev.type ?? ev.eventType ?? ''), data: ev, raw: JSON.stringify(ev) });
    }
    return { status: res.status, body, headers: res.headers };
  }

  /** Polls until a matching event arrived (each poll waits up to LONGPOLL_TIMEOUT_MS server-side). */
  async poll(pred: (e: ReceivedEvent) => boolean = () => true, timeoutMs = 8000): Promise<ReceivedEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await super.next(pred, 0);
      } catch {
        if (Date.now() > deadline) throw new Error(`no matching long-poll event within ${timeoutMs} ms; got ${JSON.stringify(this.events.map((e) => e.event))}`);
      }
      await this.get();
    }
  }

  async token(): Promise<string> {
    const e = this.events.find((x) => x.event === 'rig.connection.create') ?? (await this.poll((x) => x.event === 'rig.connection.create'));
    return e.data.data.connection_token as string;
  }
}
