/**
 * The shard's public routes: RIG's (spec 2.1), then the proxy catch-all (ctx.proxy, which routes by
 * the API definitions). Registered on each of the shard's listeners, the HTTP app and, with HTTPS
 * configured, the HTTPS app; every shard does the same and listens on the same ports, and the
 * kernel spreads connections (SO_REUSEPORT).
 */
import { err } from '../shared/errors.js';
import { errorResponse, snapshot, writeResponse } from '../shared/http/uws-http.js';
import type { HttpRequest, HttpResponse, TemplatedApp, WebSocketBehavior } from '../shared/uws.js';
import type { Ingress } from '../proxy/ingress.js';
import type { ShardContext } from './context.js';
import { eventsPost } from './handlers/events-post.js';
import { longpollGet, longpollOptions } from './handlers/longpoll.js';
import { sseConnect } from './handlers/sse-connect.js';
import { subscriptionsPut } from './handlers/subscriptions-put.js';
import { wsBehavior } from './handlers/ws-connect.js';

const CONNECTION_KINDS = new Set(['sse', 'ws', 'longpolling']);

/** Registers the public routes on `app`, whose requests arrive through `ingress`. */
export function registerPublicRoutes(app: TemplatedApp, ctx: ShardContext, ingress: Ingress): TemplatedApp {
  // The proxy reads the headers itself and applies MAX_HEADER_VALUE_BYTES there.
  const guard = urlGuard(ctx.config.maxUrlBytes);
  const proxyHandler = ctx.proxy.handlerFor(ingress);
  const proxy = guard(proxyHandler);
  const cors = ctx.corsHeaders;

  app.get('/_rig/health', guard(withHeaderLimit(ctx, (res) => writeResponse(res, 200, 'OK', [['content-type', 'text/plain; charset=utf-8']]))));

  // RIG serves the SSE endpoint whatever the method (cowboy dispatch, spec 2.1).
  app.any('/_rig/v1/connection/sse', guard(sseConnect(ctx)));
  app.ws('/_rig/v1/connection/ws', guardUpgrade(guard, wsBehavior(ctx)));
  app.get('/_rig/v1/connection/longpolling', guard(longpollGet(ctx)));
  app.options('/_rig/v1/connection/longpolling', guard(longpollOptions(ctx)));

  const put = subscriptionsPut(ctx);
  app.put('/_rig/v1/connection/:kind/:token/subscriptions', guard((res, req) => {
    if (!CONNECTION_KINDS.has(req.getParameter(0) ?? '')) return proxyHandler(res, req);
    put(res, req);
  }));
  app.options('/_rig/v1/connection/:kind/:token/subscriptions', guard((res, req) => {
    if (!CONNECTION_KINDS.has(req.getParameter(0) ?? '')) return proxyHandler(res, req);
    writeResponse(res, 204, '', [
      ...cors,
      ['access-control-allow-methods', 'PUT'],
      ['access-control-allow-headers', 'content-type,authorization'],
    ]);
  }));

  app.post('/_rig/v1/events', guard(eventsPost(ctx)));
  app.options('/_rig/v1/events', guard((res) =>
    writeResponse(res, 204, '', [...cors, ['access-control-allow-methods', 'POST'], ['access-control-allow-headers', 'content-type']]),
  ));

  app.any('/*', proxy);
  return app;
}

/**
 * MAX_URL_BYTES holds on every route: each handler (and the WebSocket upgrade) first checks the
 * request target's length and answers 414 when it is over. The check comes before any routing work
 * of ours, so a megabyte-long path never reaches the proxy's route patterns or a JSON decoder.
 */
type Handler = (res: HttpResponse, req: HttpRequest) => void;

function urlGuard(maxUrlBytes: number): (handler: Handler) => Handler {
  return (handler) => (res, req) => {
    if (urlTooLong(req, maxUrlBytes)) {
      const e = err.urlTooLong(maxUrlBytes);
      writeResponse(res, e.status, e.message);
      return;
    }
    handler(res, req);
  };
}

function guardUpgrade<T>(guard: (handler: Handler) => Handler, behavior: WebSocketBehavior<T>): WebSocketBehavior<T> {
  const upgrade = behavior.upgrade;
  if (upgrade === undefined) return behavior;
  return { ...behavior, upgrade: (res, req, context) => guard((r, q) => upgrade(r, q, context))(res, req) };
}

function urlTooLong(req: HttpRequest, maxBytes: number): boolean {
  const url = req.getUrl();
  const query = req.getQuery() ?? '';
  const chars = url.length + query.length + (query === '' ? 0 : 1);
  // A character is at most 3 UTF-8 bytes: count bytes only when the characters leave it open.
  if (chars > maxBytes) return true;
  if (chars * 3 <= maxBytes) return false;
  return Buffer.byteLength(url) + Buffer.byteLength(query) + (query === '' ? 0 : 1) > maxBytes;
}

/**
 * MAX_HEADER_VALUE_BYTES holds on every route, as RIG's limit did (Cowboy refused such requests
 * before routing): for routes whose handlers do not read the headers themselves (health) the
 * check happens here.
 */
function withHeaderLimit(ctx: ShardContext, handler: (res: HttpResponse, req: HttpRequest) => void) {
  return (res: HttpResponse, req: HttpRequest): void => {
    try {
      snapshot(req, ctx.config.maxHeaderValueBytes);
    } catch (e) {
      const r = errorResponse(e);
      writeResponse(res, r.status, r.body);
      return;
    }
    handler(res, req);
  };
}
