/**
 * The reverse proxy behind RIG's own routes (spec 6): every request that is not one of the
 * gateway's endpoints comes here. In order, as RIG did:
 *   1. match a route (./route-table.ts); none -> 404 `{"message":"Not Found"}` without content type;
 *   2. secured endpoint: JWT check (./auth.ts); failure -> 401 `Authentication failed.` with CORS;
 *      then REQUEST_LOG (./request-log.ts): a console line and/or a Kafka record per request.
 *      The check answers at once unless a token waits for JWKS keys; then the request waits too,
 *      with its body held (./held-body.ts), and goes on from step 2 once the keys are known;
 *   3. target `kafka` (./targets/kafka-target.ts): OPTIONS -> 204 with CORS, anything else is
 *      produced to the endpoint's topic;
 *   4. target `http`: method GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS are forwarded, others
 *      -> 405; headers (./headers.ts) and the upstream exchange (./targets/http-target.ts);
 *   5. `response_from: http_async | kafka`: the request gets a correlation token (the upstream sees
 *      it as the `correlation` query parameter, Kafka inside the event) and, if the upstream says
 *      202, waits for the reply (./replies/waiting-requests.ts).
 * Targets kinesis and nats, and waiting for kinesis or nats replies, answer 501.
 * Each request is counted once, where its outcome is decided (`rig_proxy_requests_total`,
 * ./request-metrics.ts; the upstream's outcome is reported by the exchange).
 * The routes are compiled once per change of the API definitions, which main sends.
 */
import type { ApiDefinition } from '../shared/apis/types.js';
import { err, type GatewayError } from '../shared/errors.js';
import { errorResponse, snapshot, statusLine, writeResponse, type Headers, type RequestSnapshot } from '../shared/http/uws-http.js';
import type { TokenCheck } from '../shared/jwt/check.js';
import type { Logger } from '../shared/logger.js';
import type { HttpRequest, HttpResponse } from '../shared/uws.js';
import { isAuthenticated } from './auth.js';
import { clientAddress, forwardedHeader, upstreamRequestHeaders } from './headers.js';
import { HeldBody } from './held-body.js';
import type { Ingress } from './ingress.js';
import type { WaitingRequests } from './replies/waiting-requests.js';
import { requestLogLine, requestLogRecord, type RequestLogRecord } from './request-log.js';
import { NOT_APPLICABLE, type ProxyRequestCounter, type ProxyRequestStatus } from './request-metrics.js';
import { compileRoutes, RouteTable, type Route, type RouteMatch } from './route-table.js';
import { HttpTarget, type AwaitReply } from './targets/http-target.js';
import { KafkaTarget, type KafkaTargetDeps } from './targets/kafka-target.js';

const FORWARDED_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
/** RIG forwarded a request body for these methods only. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export interface ProxyDeps {
  maxHeaderValueBytes: number;
  /** PROXY_RECV_TIMEOUT */
  recvTimeoutMs: number;
  /** CORS: access-control-allow-origin of the 401 answer. */
  cors: string;
  /** HOST's IPv4 address, the by= of the forwarded header. */
  hostIp: string;
  /** The shard's token check (verify with JWT_SECRET_KEY / JWKS keys, session blacklist). */
  tokenCheck: TokenCheck;
  log: Logger;
  /** Environment for `use_env` upstreams. */
  env: NodeJS.ProcessEnv;
  /** Requests waiting for asynchronous replies (this shard's). */
  waiting: WaitingRequests;
  /** PROXY_HTTP_ASYNC_RESPONSE_TIMEOUT */
  httpAsyncTimeoutMs: number;
  /** How kafka targets reach main's producer, and their limits. */
  kafka: Omit<KafkaTargetDeps, 'waiting' | 'cors'>;
  /** REQUEST_LOG: `console` writes a line to stdout; `kafka` hands a record to this function. */
  requestLog: { console: boolean; kafka?: (record: RequestLogRecord) => void };
  /** PROMETHEUS_METRICS_ENABLED: counts every request's outcome. */
  metrics?: ProxyRequestCounter;
}

export class ReverseProxy {
  private table = new RouteTable([]);
  private readonly http: HttpTarget;
  private readonly kafka: KafkaTarget;
  /** RIG's CORS headers of the 401 and of asynchronous http-target answers. */
  private readonly unauthorizedHeaders: Headers;

  constructor(private readonly deps: ProxyDeps) {
    this.http = new HttpTarget(deps.recvTimeoutMs, deps.log);
    this.kafka = new KafkaTarget({ ...deps.kafka, waiting: deps.waiting, cors: deps.cors });
    this.unauthorizedHeaders = [
      ['access-control-allow-origin', deps.cors],
      ['access-control-allow-methods', '*'],
      ['access-control-allow-headers', 'content-type'],
    ];
  }

  /** Replaces every route with those of `apis` (compiled here, once). */
  setApis(apis: readonly ApiDefinition[]): void {
    const { table, warnings } = compileRoutes(apis, this.deps.env);
    for (const w of warnings) this.deps.log.warn(w);
    this.table = table;
  }

  /**
   * The handler for requests that arrived on `ingress` (the shard's HTTP or HTTPS listener): the
   * scheme and port are part of what the upstream is told (forwarded `proto=`, Kafka `rig.scheme`).
   */
  handlerFor(ingress: Ingress): (res: HttpResponse, req: HttpRequest) => void {
    return (res, req) => this.handle(res, req, ingress);
  }

  private handle(res: HttpResponse, req: HttpRequest, ingress: Ingress): void {
    let snap;
    try {
      snap = snapshot(req, this.deps.maxHeaderValueBytes);
    } catch (e) {
      const r = errorResponse(e);
      writeResponse(res, r.status, r.body);
      return;
    }
    const match = this.table.match(snap.method, snap.url);
    if (!match) {
      this.count(snap, undefined, 'not_found');
      return answerNow(res, snap.method, err.notFoundProxy());
    }
    const { route } = match;
    if (route.auth) {
      const passed = isAuthenticated(route.auth, snap.headers, snap.query, this.deps.tokenCheck);
      if (passed === false) return this.unauthorized(res, snap, route);
      if (passed !== true) return this.afterKeys(res, snap, match, ingress, passed);
    }
    this.dispatch(res, snap, match, ingress);
  }

  /**
   * A token waits for JWKS keys: the request waits with it. onAborted and the body holder are
   * registered now, inside the uWS handler; everything after the check is corked.
   */
  private afterKeys(res: HttpResponse, snap: RequestSnapshot, match: RouteMatch, ingress: Ingress, passed: Promise<boolean>): void {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const held = new HeldBody(res);
    void passed.then((ok) => {
      if (aborted) return;
      res.cork(() => {
        if (!ok) {
          held.release();
          return this.unauthorized(res, snap, match.route);
        }
        this.dispatch(res, snap, match, ingress, held);
      });
    });
  }

  private unauthorized(res: HttpResponse, snap: RequestSnapshot, route: Route): void {
    this.count(snap, route, 'unauthorized');
    answerNow(res, snap.method, err.proxyAuthFailed(), this.unauthorizedHeaders);
  }

  /**
   * Everything after the JWT check. `held`: the body kept while the check waited; answers given
   * here without reading it release it first (a held body pauses the client's socket).
   */
  private dispatch(res: HttpResponse, snap: RequestSnapshot, match: RouteMatch, ingress: Ingress, held?: HeldBody): void {
    const { route } = match;
    const answer = (method: string, e: GatewayError): void => {
      held?.release();
      answerNow(res, method, e);
    };
    const clientIp = clientAddress(Buffer.from(res.getRemoteAddressAsText()).toString('latin1'));
    const { requestLog } = this.deps;
    if (requestLog.console) {
      const e = route.endpoint;
      console.log(requestLogLine({ id: String(e['id']), method: String(e['method']), path_regex: String(e['path_regex']) }, route.targetUrl));
    }
    requestLog.kafka?.(requestLogRecord({ endpoint: route.endpoint, requestPath: snap.url, remoteIp: clientIp }));
    if (route.target === 'kafka') {
      if (snap.method === 'OPTIONS') {
        this.count(snap, route, 'ok');
        held?.release();
        return writeResponse(res, 204, '', this.kafka.corsHeaders);
      }
      this.kafka.handle(res, {
        snap,
        path: match.path,
        topic: route.topic,
        waitForReply: route.responseFrom === 'kafka',
        clientIp,
        ingress,
        done: (outcome) => this.count(snap, route, outcome),
        ...(held && { body: held }),
      });
      return;
    }
    if (route.target !== 'http') {
      this.count(snap, route, 'not_implemented');
      return answer(snap.method, err.proxyTargetNotSupported(`target ${route.target}`));
    }
    const waits = route.responseFrom === 'http_async' || route.responseFrom === 'kafka';
    if (!waits && route.responseFrom !== 'http') {
      this.count(snap, route, 'not_implemented');
      return answer(snap.method, err.proxyTargetNotSupported(`response_from ${route.responseFrom}`));
    }
    if (!FORWARDED_METHODS.has(snap.method)) {
      this.count(snap, route, 'bad_request');
      return answer(snap.method, err.proxyMethodNotAllowed());
    }
    const label = `${route.apiId}/${route.endpointId}`;
    if (!route.upstream.ok) {
      this.deps.log.warn(`proxy ${label}: no usable upstream (${route.upstream.reason}), answering 502`);
      this.count(snap, route, 'unreachable');
      return answer(snap.method, err.proxyBadGateway());
    }
    const withBody = BODY_METHODS.has(snap.method);
    let query = snap.query;
    let awaitReply: AwaitReply | undefined;
    if (waits) {
      const { waiting } = this.deps;
      const slot = waiting.open();
      query = withCorrelation(query, slot.token);
      const opts = {
        timeoutMs: route.responseFrom === 'kafka' ? this.deps.kafka.responseTimeoutMs : this.deps.httpAsyncTimeoutMs,
        cors: this.unauthorizedHeaders,
        head: snap.method === 'HEAD',
        onOutcome: (outcome: 'ok' | 'response_timeout') => this.count(snap, route, outcome),
      };
      awaitReply = { accepted: (r) => waiting.accept(slot.id, r, opts), released: () => waiting.release(slot.id) };
    }
    this.http.forward(res, {
      origin: route.upstream.origin,
      method: snap.method,
      path: query === '' ? match.path : `${match.path}?${query}`,
      headers: upstreamRequestHeaders(snap.headers, {
        hostHeader: route.upstream.hostHeader,
        forwarded: forwardedHeader(clientIp, this.deps.hostIp, ingress.scheme),
        addHeaders: route.addHeaders,
        withBody,
      }),
      withBody,
      label,
      ...(awaitReply && { awaitReply }),
      ...(held && { body: held }),
      onOutcome: this.deps.metrics && outcomeCounter(this.deps.metrics, snap.method, snap.url, route),
    });
  }

  private count(snap: RequestSnapshot, route: Route | undefined, status: ProxyRequestStatus): void {
    this.deps.metrics?.count(snap.method, snap.url, route?.target ?? NOT_APPLICABLE, route?.responseFrom ?? NOT_APPLICABLE, status);
  }

  /** Ends the upstream connections (shard shutdown). */
  close(): Promise<void> {
    return this.http.close();
  }
}

/**
 * The query string with `correlation=<token>` as its only `correlation` parameter (RIG added or
 * overwrote it). Tokens are base64url: nothing to escape.
 */
export function withCorrelation(query: string, token: string): string {
  const kept = query === '' ? [] : query.split('&').filter((part) => {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    return name !== 'correlation' && name !== '' ;
  });
  kept.push(`correlation=${token}`);
  return kept.join('&');
}

/** Counts the upstream exchange's outcome (keeps only the labels, not the request's headers). */
function outcomeCounter(metrics: ProxyRequestCounter, method: string, path: string, route: Route): (status: ProxyRequestStatus) => void {
  return (status) => metrics.count(method, path, route.target, route.responseFrom, status);
}

/** An answer of the proxy itself, in the handler or corked (HEAD gets no body). */
function answerNow(res: HttpResponse, method: string, e: GatewayError, headers?: Headers): void {
  if (method !== 'HEAD') return writeResponse(res, e.status, e.message, headers);
  res.writeStatus(statusLine(e.status));
  if (headers) for (const [k, v] of headers) res.writeHeader(k, v);
  res.endWithoutBody();
}
