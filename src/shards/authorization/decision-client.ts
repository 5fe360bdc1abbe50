/**
 * Calls an external decision service (RIG spec 7.5): `POST <url>` with the original request's
 * content type, Authorization and body; 2xx allows, every other answer, a transport error or no
 * answer within AUTHORIZATION_CHECK_TIMEOUT_MS denies.
 *
 * A slow or dead service must not take the gateway down with it, so calls are bounded twice: each
 * one by the timeout, and their number by AUTHORIZATION_CHECK_MAX_IN_FLIGHT per shard. A request
 * beyond the bound is not queued (a queue would only turn the service's slowness into the
 * gateway's memory): `ask` answers undefined and the caller tells its client to retry later.
 * The client has its own undici Agent, so these calls never compete with proxied requests for
 * sockets.
 */
import { Agent, request } from 'undici';
import type { Logger } from '../../shared/logger.js';

export type Decision = 'allow' | 'deny';

export interface DecisionRequest {
  readonly contentType: string;
  /** The Authorization header to pass on; undefined: the client sent no credentials. */
  readonly authorization: string | undefined;
  readonly body: string | Buffer;
}

export interface DecisionClientOptions {
  readonly timeoutMs: number;
  readonly maxInFlight: number;
  readonly log: Logger;
  /** Which check the client serves, for log lines. */
  readonly name: string;
}

/** A failing service is logged at most this often (per client), with how many lines were left out. */
const LOG_INTERVAL_MS = 10_000;

export class DecisionClient {
  private readonly agent: Agent;
  private open = 0;
  private lastLog = 0;
  private unlogged = 0;

  constructor(
    private readonly url: URL,
    private readonly opts: DecisionClientOptions,
  ) {
    this.agent = new Agent({
      // One socket per possible call: calls never wait behind each other inside undici.
      connections: opts.maxInFlight,
      keepAliveTimeout: 10_000,
      connect: { timeout: opts.timeoutMs },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
  }

  get inFlight(): number {
    return this.open;
  }

  /** The service's decision, or undefined without calling when maxInFlight calls are open. */
  ask(req: DecisionRequest): Promise<Decision> | undefined {
    if (this.open >= this.opts.maxInFlight) return undefined;
    this.open++;
    return this.call(req).finally(() => this.open--);
  }

  private async call(req: DecisionRequest): Promise<Decision> {
    const headers: Record<string, string> = { 'content-type': req.contentType };
    if (req.authorization !== undefined) headers['authorization'] = req.authorization;
    try {
      const res = await request(this.url, {
        method: 'POST',
        headers,
        body: req.body,
        dispatcher: this.agent,
        // The per-phase timeouts of the Agent would let a service that trickles its answer run
        // longer; this one bounds the whole call.
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      // Only the status matters; the body is read away so the socket can be reused.
      await res.body.dump().catch(() => undefined);
      if (res.statusCode >= 200 && res.statusCode < 300) return 'allow';
      if (res.statusCode !== 401 && res.statusCode !== 403) this.warn(`answered ${res.statusCode}`);
      return 'deny';
    } catch (e) {
      this.warn(describeFailure(e, this.opts.timeoutMs));
      return 'deny';
    }
  }

  private warn(what: string): void {
    const now = Date.now();
    if (now - this.lastLog < LOG_INTERVAL_MS) {
      this.unlogged++;
      return;
    }
    const detail: Record<string, unknown> = { url: this.url.origin + this.url.pathname };
    if (this.unlogged > 0) detail['sinceLastLine'] = this.unlogged;
    this.opts.log.warn(`${this.opts.name}: the decision service ${what}; denied`, detail);
    this.lastLog = now;
    this.unlogged = 0;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

function describeFailure(e: unknown, timeoutMs: number): string {
  const name = (e as { name?: string } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError' || name === 'HeadersTimeoutError' || name === 'BodyTimeoutError' || name === 'ConnectTimeoutError') {
    return `did not answer within ${timeoutMs} ms`;
  }
  const code = (e as { code?: string; cause?: { code?: string } } | null)?.cause?.code ?? (e as { code?: string } | null)?.code;
  return `could not be reached (${code ?? (e as Error)?.message ?? String(e)})`;
}
