/**
 * `target: "http"` (RIG spec 6.5): one upstream exchange per proxied request, streamed both ways.
 *
 * - One undici Agent per shard, which keeps a keep-alive Pool per upstream origin.
 * - Request body (POST, PUT, PATCH; RIG forwarded no other method's body): uWS hands it over in
 *   pieces (onData); each piece goes into a Readable that undici sends on. When undici does not
 *   take more, the client socket is paused, so a fast client never fills memory.
 * - Response: status and headers as soon as they arrive; the body piece by piece. With a
 *   content-length the client gets that length (uWS tryEnd), otherwise chunked (uWS write). When
 *   the client socket is congested, the upstream is paused until uWS reports it writable.
 * - A client that goes away aborts the upstream request, and so frees its connection.
 * - Failures before the response started: no response headers within PROXY_RECV_TIMEOUT -> 504,
 *   anything else (refused, unknown host, connect timeout, reset) -> 502 `Bad gateway.`. After it
 *   started, the client's connection is closed: a status can no longer be changed, and a cut
 *   connection is the only way to tell the client its response is incomplete.
 *
 * - `response_from: http_async | kafka` (`awaitReply`): an upstream 202 is not relayed; its body is
 *   read and dropped (the keep-alive connection stays usable) and the client's response is handed
 *   to the waiting-requests table, which answers it with the correlated reply or 504. Any other
 *   upstream status is relayed as above and the wait is released.
 *
 * uWS rules followed here: onAborted and onData are registered before the handler returns; the
 * response is never touched after it was aborted or ended; writes from undici callbacks are corked.
 */
import { Readable } from 'node:stream';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import { err, type GatewayError } from '../../shared/errors.js';
import { statusLine } from '../../shared/http/uws-http.js';
import type { Logger } from '../../shared/logger.js';
import type { HttpResponse } from '../../shared/uws.js';
import { clientResponseHeaders } from '../headers.js';
import type { BodySource } from '../held-body.js';

/** Idle upstream connections are closed after this; most servers keep them 5 s (Node's default). */
const KEEP_ALIVE_MS = 4000;

export interface UpstreamRequest {
  origin: string;
  method: string;
  /** Path and query string. */
  path: string;
  /** Flat name/value list (./headers.ts). */
  headers: string[];
  /** Stream the client's request body to the upstream. */
  withBody: boolean;
  /** For log lines: which API and endpoint. */
  label: string;
  /**
   * Called once when the outcome is known: `ok` when the response started (any upstream status),
   * else the failure answered. Not called when the client went away first.
   */
  onOutcome?: ((outcome: 'ok' | 'unreachable' | 'request_timeout') => void) | undefined;
  /** `response_from: http_async | kafka`: a 202 from the upstream means "wait for the reply". */
  awaitReply?: AwaitReply;
  /** Where the request body comes from when it was held while the request waited (../held-body.ts); default the response. */
  body?: BodySource;
}

/** The hand-over to ../replies/waiting-requests.ts. */
export interface AwaitReply {
  /** The upstream answered 202: `res` is the waiting table's from now on (called corked). */
  accepted(res: HttpResponse): void;
  /** The upstream answered something else, failed, or the client left: nobody waits. Idempotent. */
  released(): void;
}

export class HttpTarget {
  private readonly agent: Agent;

  constructor(
    recvTimeoutMs: number,
    private readonly log: Logger,
  ) {
    this.agent = new Agent({
      keepAliveTimeout: KEEP_ALIVE_MS,
      headersTimeout: recvTimeoutMs,
      bodyTimeout: recvTimeoutMs,
      connect: { timeout: recvTimeoutMs },
    });
  }

  /** Must be called synchronously from the uWS handler (it registers onAborted and onData). */
  forward(res: HttpResponse, req: UpstreamRequest): void {
    new Exchange(res, req, this.agent, this.log).start();
  }

  /** Ends every upstream connection (shard shutdown). */
  close(): Promise<void> {
    return this.agent.destroy();
  }
}

class ClientGone extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientGone';
  }
}

type BodyMode = 'none' | 'sized' | 'chunked';

class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private upload: Readable | undefined;
  private uploadPaused = false;
  /** The client went away (uWS onAborted): `res` must not be touched any more. */
  private aborted = false;
  /** The response was ended (or the connection closed) by us: `res` must not be touched any more. */
  private ended = false;
  /** Status and headers were written: an error can no longer become a status. */
  private started = false;
  private mode: BodyMode = 'none';
  private total = 0;
  private lengthForNoBody: number | undefined;
  /** A piece tryEnd could not write completely, and the write offset before it. */
  private pending: Buffer | undefined;
  private pendingOffset = 0;
  private upstreamDone = false;
  private readonly body: BodySource;

  constructor(
    private readonly res: HttpResponse,
    private readonly req: UpstreamRequest,
    private readonly agent: Agent,
    private readonly log: Logger,
  ) {
    this.body = req.body ?? res;
  }

  start(): void {
    this.res.onAborted(() => this.clientAborted());
    if (this.req.withBody) this.streamUpload();
    else this.body.release?.();
    try {
      this.agent.dispatch(
        {
          origin: this.req.origin,
          path: this.req.path,
          method: this.req.method as Dispatcher.HttpMethod,
          headers: this.req.headers,
          body: this.upload ?? null,
        },
        this,
      );
    } catch (e) {
      // undici refuses the request itself (e.g. a rewritten path with characters it cannot send).
      this.fail(e);
    }
  }

  private streamUpload(): void {
    const upload = new Readable({
      read: () => {
        if (!this.uploadPaused || this.aborted || this.ended) return;
        this.uploadPaused = false;
        this.body.resume();
      },
    });
    this.upload = upload;
    this.body.onData((chunk, isLast) => {
      if (this.aborted || this.ended || upload.destroyed) return;
      // uWS reuses the chunk's memory once this callback returns: copy.
      const more = upload.push(Buffer.from(new Uint8Array(chunk)));
      if (isLast) upload.push(null);
      else if (!more) {
        this.uploadPaused = true;
        this.body.pause();
      }
    });
  }

  // --- undici's side -------------------------------------------------------------------------

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.aborted) controller.abort(new ClientGone());
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    if (this.aborted || this.ended) {
      controller.abort(new ClientGone());
      return;
    }
    if (statusCode < 200) return; // informational: undici handles it, the client gets the final one
    const wait = this.req.awaitReply;
    if (wait) {
      if (statusCode === 202) {
        this.resumeUpload();
        this.ended = true; // the response is the waiting table's now; the 202's body is dropped
        this.res.cork(() => wait.accepted(this.res));
        return;
      }
      wait.released();
    }
    // An upstream answering before it read the whole request body: let the client finish sending.
    this.resumeUpload();
    this.started = true;
    this.req.onOutcome?.('ok');
    const length = contentLength(headers['content-length']);
    const noBody = this.req.method === 'HEAD' || statusCode === 204 || statusCode === 304;
    this.mode = noBody ? 'none' : length === undefined ? 'chunked' : 'sized';
    this.total = length ?? 0;
    this.lengthForNoBody = noBody && statusCode !== 204 ? length : undefined;
    const status = statusMessage && /^[\t\x20-\x7e]+$/.test(statusMessage) ? `${statusCode} ${statusMessage}` : statusLine(statusCode);
    this.res.cork(() => {
      this.res.writeStatus(status);
      for (const [k, v] of clientResponseHeaders(headers)) this.res.writeHeader(k, v);
      if (this.mode === 'sized' && this.total === 0) this.end(() => this.res.end());
    });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.aborted || this.ended) return;
    if (this.mode === 'chunked') {
      let ok = true;
      this.res.cork(() => {
        ok = this.res.write(chunk);
      });
      // uWS keeps what the socket did not take; wait until it drained before taking more.
      if (!ok) this.waitWritable(controller);
    } else if (this.mode === 'sized') {
      const offset = this.res.getWriteOffset();
      let result: [boolean, boolean] = [true, false];
      this.res.cork(() => {
        result = this.res.tryEnd(chunk, this.total);
      });
      const [ok, done] = result;
      if (done) {
        this.ended = true;
        return;
      }
      // tryEnd keeps nothing: the unwritten rest is written again from onWritable.
      if (!ok) {
        this.pending = chunk;
        this.pendingOffset = offset;
        this.waitWritable(controller);
      }
    }
  }

  onResponseEnd(): void {
    this.upstreamDone = true;
    if (this.aborted || this.ended) return;
    if (this.mode === 'none') {
      const length = this.lengthForNoBody;
      // endWithoutBody(undefined) would announce a length of 2^63: pass none instead.
      this.res.cork(() => this.end(() => (length === undefined ? this.res.endWithoutBody() : this.res.endWithoutBody(length))));
    } else if (this.mode === 'chunked') {
      this.res.cork(() => this.end(() => this.res.end()));
    } else if (!this.pending) {
      // Fewer bytes than announced (undici normally reports that as an error first).
      this.cut('the upstream response ended before its content-length');
    }
    // 'sized' with a pending piece: onWritable finishes the response.
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.aborted || this.ended) return;
    this.fail(error);
  }

  // --- the client's side ---------------------------------------------------------------------

  private waitWritable(controller: Dispatcher.DispatchController): void {
    controller.pause();
    this.res.onWritable((offset) => {
      if (this.aborted || this.ended) return true;
      if (this.mode === 'sized' && this.pending) {
        const [ok, done] = this.res.tryEnd(this.pending.subarray(offset - this.pendingOffset), this.total);
        if (done) {
          this.ended = true;
          this.pending = undefined;
          return true;
        }
        if (!ok) return false;
        this.pending = undefined;
        if (this.upstreamDone) this.cut('the upstream response ended before its content-length');
      }
      controller.resume();
      return true;
    });
  }

  private clientAborted(): void {
    this.aborted = true;
    this.req.awaitReply?.released();
    this.upload?.destroy(new ClientGone());
    if (!this.upstreamDone) this.controller?.abort(new ClientGone());
  }

  private resumeUpload(): void {
    if (!this.uploadPaused || this.aborted || this.ended) return;
    this.uploadPaused = false;
    this.body.resume();
  }

  private fail(e: unknown): void {
    if (this.aborted || this.ended) return;
    this.req.awaitReply?.released();
    const code = (e as { code?: unknown } | null)?.code;
    if (this.started) {
      this.cut(`the upstream exchange broke off (${String(code ?? (e as Error).message)})`);
      return;
    }
    const answer: GatewayError = code === 'UND_ERR_HEADERS_TIMEOUT' ? err.proxyGatewayTimeout() : err.proxyBadGateway();
    this.req.onOutcome?.(code === 'UND_ERR_HEADERS_TIMEOUT' ? 'request_timeout' : 'unreachable');
    this.log.warn(`proxy ${this.req.label}: ${this.req.method} ${this.req.origin}${this.req.path} failed, answering ${answer.status}`, {
      reason: (e as Error)?.message,
      code,
    });
    this.resumeUpload();
    this.res.cork(() =>
      this.end(() => {
        this.res.writeStatus(statusLine(answer.status));
        if (this.req.method === 'HEAD') this.res.endWithoutBody();
        else this.res.end(answer.message);
      }),
    );
  }

  /** Closes the client's connection: the response cannot be completed. */
  private cut(why: string): void {
    this.log.warn(`proxy ${this.req.label}: ${why}; closing the client connection`);
    this.end(() => this.res.close());
  }

  private end(fn: () => void): void {
    this.ended = true;
    fn();
  }
}

function contentLength(v: string | string[] | undefined): number | undefined {
  const text = Array.isArray(v) ? v[0] : v;
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}
