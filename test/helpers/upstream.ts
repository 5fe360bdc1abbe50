/**
 * Upstream services for proxy tests: a real node:http server on a free loopback port that records
 * every request it gets (method, URL, headers, body bytes, whether the client went away before
 * the body was complete) and answers with `handler`, by default an echo of the request as JSON.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  /** Body bytes received so far (grows while the body streams in). */
  received: number;
  /** The whole body arrived. */
  complete: boolean;
  /** The connection ended before the body was complete. */
  aborted: boolean;
  /** Our response was closed before it finished (the gateway went away mid-response). */
  responseClosedEarly: boolean;
}

export interface Upstream {
  readonly port: number;
  readonly server: Server;
  readonly requests: RecordedRequest[];
  /** Open TCP connections to the server right now. */
  connections(): Promise<number>;
  close(): Promise<void>;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, record: RecordedRequest) => void;

/** The default answer: 200 with the request as JSON (body as text), once the body is complete. */
export const echo: UpstreamHandler = (req, res, record) => {
  req.on('end', () => {
    const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: record.body.toString('utf8') });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
};

export async function startUpstream(t: TestContext | undefined, handler: UpstreamHandler = echo): Promise<Upstream> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const record: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: Buffer.alloc(0),
      received: 0,
      complete: false,
      aborted: false,
      responseClosedEarly: false,
    };
    requests.push(record);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      record.received += c.length;
    });
    req.on('end', () => {
      record.body = Buffer.concat(chunks);
      record.complete = true;
    });
    req.on('error', () => undefined);
    req.on('close', () => {
      if (!record.complete) {
        record.body = Buffer.concat(chunks);
        record.aborted = true;
      }
    });
    res.on('close', () => {
      if (!res.writableFinished) record.responseClosedEarly = true;
    });
    handler(req, res, record);
  });
  // Tests measure how the gateway uses connections; keep them until it closes them.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closed: Promise<void> | undefined;
  const up: Upstream = {
    port,
    server,
    requests,
    connections: () => new Promise((resolve, reject) => server.getConnections((e, n) => (e ? reject(e) : resolve(n)))),
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closed;
    },
  };
  t?.after(() => up.close());
  return up;
}
