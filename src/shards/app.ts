/**
 * The shard's public routes: RIG's (spec 2.1), then the proxy catch-all (ctx.proxy, which routes by
 * the API definitions). Registered on each of the shard's listeners, the HTTP app and, with HTTPS
 * configured, the HTTPS app; every shard does the same and listens on the same ports, and the
 * kernel spreads connections (SO_REUSEPORT).
 */
import { errorResponse, snapshot, writeResponse } from '../shared/http/uws-http.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../shared/uws.js';
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
  const proxy = ctx.proxy.handlerFor(ingress);
  const cors = ctx.corsHeaders;

  app.get('/_rig/health', withHeaderLimit(ctx, (res) => writeResponse(res, 200, 'OK', [['content-type', 'text/plain; charset=utf-8']])));

  // RIG serves the SSE endpoint whatever the method (cowboy dispatch, spec 2.1).
  app.any('/_rig/v1/connection/sse', sseConnect(ctx));
  app.ws('/_rig/v1/connection/ws', wsBehavior(ctx));
  app.get('/_rig/v1/connection/longpolling', longpollGet(ctx));
  app.options('/_rig/v1/connection/longpolling', longpollOptions(ctx));

  const put = subscriptionsPut(ctx);
  app.put('/_rig/v1/connection/:kind/:token/subscriptions', (res, req) => {
    if (!CONNECTION_KINDS.has(req.getParameter(0) ?? '')) return proxy(res, req);
    put(res, req);
  });
  app.options('/_rig/v1/connection/:kind/:token/subscriptions', (res, req) => {
    if (!CONNECTION_KINDS.has(req.getParameter(0) ?? '')) return proxy(res, req);
    writeResponse(res, 204, '', [
      ...cors,
      ['access-control-allow-methods', 'PUT'],
      ['access-control-allow-headers', 'content-type,authorization'],
    ]);
  });

  app.post('/_rig/v1/events', eventsPost(ctx));
  app.options('/_rig/v1/events', (res) =>
    writeResponse(res, 204, '', [...cors, ['access-control-allow-methods', 'POST'], ['access-control-allow-headers', 'content-type']]),
  );

  app.any('/*', proxy);
  return app;
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
