/**
 * HTTP requests that never share a TCP connection (each one lands on whichever shard the kernel
 * picks), and raw byte-level exchanges for requests a well-behaved client library refuses to send
 * (junk in the path, huge headers, invalid bytes).
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';

export interface FreshAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request on its own TCP connection (no agent, `connection: close`), bounded by `timeoutMs`. */
export function freshRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<FreshAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', agent: false, headers: { connection: 'close', ...(opts.headers ?? {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}

export interface RawAnswer {
  /** 0 when the server closed the connection without a status line. */
  status: number;
  /** Header block as text (lower-cased names not guaranteed). */
  head: string;
  body: string;
  /** Everything received. */
  raw: string;
}

/**
 * Writes `bytes` to a new TCP connection to 127.0.0.1:`port` and collects everything until the
 * server closes (send `connection: close`) or `timeoutMs` passes. Parses the first status line.
 */
export function rawExchange(port: number, bytes: string | Buffer, timeoutMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
      const split = raw.indexOf('\r\n\r\n');
      resolve({
        status: m ? Number(m[1]) : 0,
        head: split >= 0 ? raw.slice(0, split) : raw,
        body: split >= 0 ? raw.slice(split + 4) : '',
        raw,
      });
    };
    const timer = setTimeout(finish, timeoutMs);
    sock.on('data', (c) => {
      chunks.push(c);
      // A complete response with content-length: stop early (the server may keep the socket open).
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      if (split >= 0) {
        const len = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, split));
        if (len && text.length - split - 4 >= Number(len[1])) finish();
      }
    });
    sock.on('end', finish);
    sock.on('close', finish);
    sock.on('error', finish);
    sock.write(bytes);
  });
}
