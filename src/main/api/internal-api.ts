/**
 * The internal API (API_HTTP_PORT, and API_HTTPS_PORT with HTTPS on; RIG section 3), served by the
 * main thread. Like RIG's it is unauthenticated unless API_AUTH_TOKEN is set; then every route but
 * GET /health and GET /ready needs `authorization: Bearer <token>` (./api-auth.ts; probes cannot
 * be given a secret, Prometheus can). Keep the port off public networks (docs/security.md).
 *   GET  /health                 -> 200 "OK" (liveness, RIG semantics: also while Kafka is down)
 *   GET  /ready                  -> 200 when shards are ready and Kafka (if configured) consumes, else 503;
 *                                   JSON body with the state either way (for orchestrators)
 *   GET  /v3/stats               -> event counters (routing, Kafka consumed/failed/produced)
 *   GET  /metrics                -> Prometheus text format 0.0.4 (docs/metrics.md); only with
 *                                   PROMETHEUS_METRICS_ENABLED (default), else the unknown route's 404
 *   POST /v3/messages, /v2/messages -> submit an event (no submission check, no CORS; RIG 3.3)
 *   GET, POST /v3/apis; GET, PUT, DELETE /v3/apis/:id (and /v2) -> proxy API definitions (./apis-routes.ts)
 *   POST /v3/responses (and /v2)  -> reply to a waiting `response_from: http_async` request (./responses-route.ts)
 *   POST /v3/session-blacklist, GET /v3/session-blacklist/:id (and /v2) -> blacklist a session: kill
 *                                   its connections, refuse its tokens (./session-blacklist-routes.ts)
 *   POST /_fault/shards/:id/crash -> only with ENABLE_FAULT_INJECTION: make a shard fail
 *   POST /_fault/shards/:id/stall/:ms -> only with ENABLE_FAULT_INJECTION: block a shard's thread
 * Unknown routes answer RIG's 404 `{"errors":{"detail":"Not found"}}`.
 */
import { parseHttpEvent } from '../../shared/cloudevents/http-binding.js';
import { header, send, withRequestBody, writeResponse } from '../../shared/http/uws-http.js';
import type { GatewayConfig } from '../../shared/config/types.js';
import type { Logger } from '../../shared/logger.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../../shared/uws.js';
import { requireApiToken } from './api-auth.js';
import { routeRegistrar } from './route-registrar.js';
import type { ApiStore } from '../apis/api-store.js';
import type { Router } from '../router/router.js';
import { registerApisRoutes } from './apis-routes.js';
import { registerResponsesRoutes } from './responses-route.js';
import { registerSessionBlacklistRoutes } from './session-blacklist-routes.js';
import type { BlacklistRecord, BlacklistStore } from '../sessions/blacklist-store.js';
import type { ReplyRouter } from '../replies/reply-router.js';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics/prometheus-text.js';
import type { Supervisor } from '../supervisor/supervisor.js';

const JSON_TYPE: [string, string] = ['content-type', 'application/json; charset=utf-8'];

/** What /ready and /v3/stats report; built by the gateway. */
export interface GatewayStatus {
  ready: boolean;
  shards: 'ready' | 'not ready';
  /** disabled, connecting, connected, reconnecting, stopped (kafka/consumer.ts). */
  kafka: string;
  kafkaError?: string;
  stats: Record<string, number>;
}

/**
 * Registers the routes on every app of `apps` (the HTTP app, and the HTTPS app with HTTPS on). Every
 * route registered on `app` below, including those of the route modules, gets the token check.
 */
export function buildInternalApi(
  apps: readonly TemplatedApp[],
  deps: {
    config: GatewayConfig; router: Router; supervisor: Supervisor; log: Logger; faultInjection: boolean;
    status: () => GatewayStatus;
    apis: ApiStore;
    /** Sends the active API definitions to the shards; resolves once they serve them. */
    publishApis: () => Promise<void>;
    replies: ReplyRouter;
    blacklist: BlacklistStore;
    /** Shares a blacklisting with the other nodes (with Kafka). */
    replicateBlacklisting?: ((record: BlacklistRecord) => void) | undefined;
    /** The /metrics body; undefined when PROMETHEUS_METRICS_ENABLED is false. */
    metrics?: (() => string) | undefined;
  },
): void {
  const { config, router, log } = deps;
  // Open to anyone who reaches the port: liveness and readiness probes.
  const open = routeRegistrar(apps);
  const app = routeRegistrar(apps, requireApiToken(config.apiAuthToken));

  open.get('/health', (res) => writeResponse(res, 200, 'OK', [['content-type', 'text/plain; charset=utf-8']]));

  open.get('/ready', (res) => {
    const s = deps.status();
    const body = s.ready
      ? { status: 'ready', kafka: s.kafka }
      : { status: 'not ready', shards: s.shards, kafka: s.kafka, ...(s.kafkaError !== undefined && { error: s.kafkaError }) };
    writeResponse(res, s.ready ? 200 : 503, JSON.stringify(body), [JSON_TYPE]);
  });

  app.get('/v3/stats', (res) => {
    const s = deps.status();
    writeResponse(res, 200, JSON.stringify({ kafka: s.kafka, ...s.stats }), [JSON_TYPE]);
  });

  const metrics = deps.metrics;
  if (metrics) app.get('/metrics', (res) => writeResponse(res, 200, metrics(), [['content-type', PROMETHEUS_CONTENT_TYPE]]));

  const messages = (res: HttpResponse, req: HttpRequest) =>
    withRequestBody(
      res,
      req,
      config,
      (t, body, snap) => {
        const event = parseHttpEvent({ contentType: header(snap.headers, 'content-type'), headers: snap.headers, body });
        router.submitHttp(event);
        send(t, 202, event.json, [JSON_TYPE]);
      },
      (e) => log.error('message submission failed', { error: e }),
    );
  app.post('/v3/messages', messages);
  app.post('/v2/messages', messages);

  registerApisRoutes(app, {
    store: deps.apis,
    publish: deps.publishApis,
    maxRequestBodyBytes: config.maxRequestBodyBytes,
    maxHeaderValueBytes: config.maxHeaderValueBytes,
    log,
  });

  registerSessionBlacklistRoutes(app, {
    store: deps.blacklist,
    ...(deps.replicateBlacklisting && { replicate: deps.replicateBlacklisting }),
    maxRequestBodyBytes: config.maxRequestBodyBytes,
    maxHeaderValueBytes: config.maxHeaderValueBytes,
  });

  registerResponsesRoutes(app, {
    replies: deps.replies,
    maxRequestBodyBytes: config.maxRequestBodyBytes,
    maxHeaderValueBytes: config.maxHeaderValueBytes,
  });

  if (deps.faultInjection) {
    app.post('/_fault/shards/:id/crash', (res, req) => {
      const ok = deps.supervisor.crash(Number(req.getParameter(0)));
      writeResponse(res, ok ? 202 : 404, ok ? 'crash requested' : 'no such running shard');
    });
    app.post('/_fault/shards/:id/stall/:ms', (res, req) => {
      const ms = Number(req.getParameter(1));
      if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) {
        writeResponse(res, 400, 'ms must be an integer 0..60000');
        return;
      }
      const ok = deps.supervisor.stall(Number(req.getParameter(0)), ms);
      writeResponse(res, ok ? 202 : 404, ok ? 'stall requested' : 'no such running shard');
    });
  }

  app.any('/*', (res) => writeResponse(res, 404, '{"errors":{"detail":"Not found"}}', [JSON_TYPE]));
}
