/**
 * The uWS request/response rules, written down once (used by the shards' public app and the main
 * thread's internal API):
 * - HttpRequest is stack-allocated: everything is copied out synchronously (`snapshot`).
 * - A response not answered synchronously must have onAborted registered before the handler
 *   returns (`track`), and is never touched after the client went away.
 * - Writes that start outside a uWS callback are corked (`send`).
 */
import { GatewayError, err } from '../errors.js';
import type { HttpRequest, HttpResponse } from '../uws.js';

export type Headers = Array<[string, string]>;

export interface RequestSnapshot {
  method: string;
  url: string;
  query: string;
  /** All headers, names lower-case, in arrival order (repeated headers kept). */
  headers: Headers;
}

/** Copies what the handlers need from the request; enforces MAX_HEADER_VALUE_BYTES. */
export function snapshot(req: HttpRequest, maxHeaderValueBytes: number): RequestSnapshot {
  const headers: Headers = [];
  let tooLarge: string | undefined;
  req.forEach((k, v) => {
    if (v.length > maxHeaderValueBytes) tooLarge ??= k;
    headers.push([k, v]);
  });
  const snap = { method: req.getMethod().toUpperCase(), url: req.getUrl(), query: req.getQuery() ?? '', headers };
  if (tooLarge !== undefined) throw err.headerTooLarge(tooLarge, maxHeaderValueBytes);
  return snap;
}

export function header(headers: Headers, name: string): string | undefined {
  for (const [k, v] of headers) if (k === name) return v;
  return undefined;
}

export function headerAll(headers: Headers, name: string): string[] {
  const out: string[] = [];
  for (const [k, v] of headers) if (k === name) out.push(v);
  return out;
}

export function queryParam(query: string, name: string): string | undefined {
  if (query === '') return undefined;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    if (safeDecode(k) !== name) continue;
    return eq < 0 ? '' : safeDecode(part.slice(eq + 1));
  }
  return undefined;
}

/** Every value of a query parameter, in order (the proxy accepts a token from any of them). */
export function queryParamAll(query: string, name: string): string[] {
  const out: string[] = [];
  if (query === '') return out;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    if (safeDecode(k) === name) out.push(eq < 0 ? '' : safeDecode(part.slice(eq + 1)));
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** A response that may be answered later: tracks whether the client is still there. */
export interface Tracked {
  readonly res: HttpResponse;
  aborted: boolean;
  done: boolean;
  onAbort?: () => void;
}

export function track(res: HttpResponse): Tracked {
  const t: Tracked = { res, aborted: false, done: false };
  res.onAborted(() => {
    t.aborted = true;
    t.onAbort?.();
  });
  return t;
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 400: 'Bad Request', 401: 'Unauthorized',
  403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable', 410: 'Gone',
  413: 'Payload Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function statusLine(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? 'Unknown'}`;
}

/** Answers a tracked response once, corked; a response whose client left is silently skipped. */
export function send(t: Tracked, status: number, body: string | Uint8Array, headers?: Headers): void {
  if (t.aborted || t.done) return;
  t.done = true;
  t.res.cork(() => writeResponse(t.res, status, body, headers));
}

/** Answers synchronously inside the uWS handler (already corked). */
export function writeResponse(res: HttpResponse, status: number, body: string | Uint8Array, headers?: Headers): void {
  res.writeStatus(statusLine(status));
  if (headers) for (const [k, v] of headers) res.writeHeader(k, v);
  if (status === 204) res.endWithoutBody();
  else res.end(body);
}

/** Renders any thrown value: GatewayErrors with their status and text, anything else as a logged 500. */
export function errorResponse(e: unknown, headers?: Headers): { status: number; body: string; headers?: Headers } {
  if (e instanceof GatewayError) {
    if (e.retryAfterS !== undefined) headers = [...(headers ?? []), ['retry-after', String(e.retryAfterS)]];
    return { status: e.status, body: e.message, ...(headers ? { headers } : {}) };
  }
  return { status: 500, body: 'Internal server error', ...(headers ? { headers } : {}) };
}

/**
 * Reads the request body up to `limit` bytes. Over the limit the request is answered 413 at once
 * and `onBody` is never called. Requires `t` to be tracked (onAborted registered). `source` is
 * where the pieces come from: the response itself, or whoever held them meanwhile.
 */
export function readBody(
  t: Tracked,
  limit: number,
  onBody: (body: Buffer) => void,
  onTooLarge: (e: GatewayError) => void,
  source: { onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): unknown } = t.res,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  source.onData((chunk, isLast) => {
    if (failed || t.aborted) return;
    size += chunk.byteLength;
    if (size > limit) {
      failed = true;
      onTooLarge(err.bodyTooLarge(limit));
      return;
    }
    // uWS reuses the chunk's memory after this callback returns: copy.
    chunks.push(Buffer.from(new Uint8Array(chunk)));
    if (isLast) onBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  });
}

/**
 * The common shape of an endpoint that reads a body: header values checked (431), the body read
 * within `maxRequestBodyBytes` (413), then `onBody`, which answers through `t` (a GatewayError it
 * throws is answered with its status and text). Error answers carry `errorHeaders` (e.g. CORS).
 */
export function withRequestBody(
  res: HttpResponse,
  req: HttpRequest,
  limits: { maxHeaderValueBytes: number; maxRequestBodyBytes: number },
  onBody: (t: Tracked, body: Buffer, snap: RequestSnapshot) => void,
  onError: (e: unknown) => void = () => {},
  errorHeaders?: Headers,
): void {
  let snap: RequestSnapshot;
  try {
    snap = snapshot(req, limits.maxHeaderValueBytes);
  } catch (e) {
    const r = errorResponse(e, errorHeaders);
    writeResponse(res, r.status, r.body, r.headers);
    return;
  }
  const t = track(res);
  readBody(
    t,
    limits.maxRequestBodyBytes,
    (body) => {
      try {
        onBody(t, body, snap);
      } catch (e) {
        const r = errorResponse(e, errorHeaders);
        if (r.status >= 500) onError(e);
        send(t, r.status, r.body, r.headers);
      }
    },
    (e) => send(t, e.status, e.message, errorHeaders),
  );
}
