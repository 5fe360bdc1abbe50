/**
 * One place to register the internal API's routes for all of its listeners (API_HTTP_PORT and,
 * with HTTPS on, API_HTTPS_PORT), each handler first passed through a wrapper (the API token
 * check, ./api-auth.ts). Route modules take a TemplatedApp and call get/post/put/del/...; given a
 * registrar they register on every listener, and every route they add gets the wrapper without
 * knowing about it: a route module added later cannot forget the check.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from '../../shared/uws.js';

export type RouteHandler = (res: HttpResponse, req: HttpRequest) => void | Promise<void>;
export type HandlerWrapper = (handler: RouteHandler) => RouteHandler;

const ROUTE_METHODS = ['get', 'post', 'put', 'del', 'patch', 'options', 'head', 'connect', 'trace', 'any'] as const;

/**
 * A TemplatedApp that only registers HTTP routes: each goes to every app of `apps`, its handler
 * wrapped by `wrap`. Everything else (listen, close, WebSocket routes) throws: those belong to the
 * apps themselves, and a WebSocket route would bypass `wrap`.
 */
export function routeRegistrar(apps: readonly TemplatedApp[], wrap: HandlerWrapper = (h) => h): TemplatedApp {
  const registrar: Record<string, unknown> = {};
  for (const method of ROUTE_METHODS) {
    registrar[method] = (pattern: string, handler: RouteHandler) => {
      const wrapped = wrap(handler);
      for (const app of apps) app[method](pattern, wrapped);
      return registrar;
    };
  }
  return new Proxy(registrar, {
    get(target, prop) {
      if (typeof prop === 'string' && prop in target) return target[prop];
      if (typeof prop === 'symbol' || prop === 'then') return undefined;
      throw new Error(`${prop}() is not available on a route registrar: it only registers HTTP routes`);
    },
  }) as unknown as TemplatedApp;
}
