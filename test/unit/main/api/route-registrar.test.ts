import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routeRegistrar } from '../../../../src/main/api/route-registrar.js';
import type { RouteHandler } from '../../../../src/main/api/route-registrar.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../../../../src/shared/uws.js';

/** Records what is registered on it, as a uWS app would hold it. */
function recordingApp(): { app: TemplatedApp; routes: Array<[string, string, RouteHandler]> } {
  const routes: Array<[string, string, RouteHandler]> = [];
  const app: Record<string, unknown> = {};
  for (const m of ['get', 'post', 'put', 'del', 'patch', 'options', 'head', 'connect', 'trace', 'any']) {
    app[m] = (pattern: string, handler: RouteHandler) => {
      routes.push([m, pattern, handler]);
      return app;
    };
  }
  return { app: app as unknown as TemplatedApp, routes };
}

test('every route goes to every app, wrapped, whatever method registered it', () => {
  const a = recordingApp();
  const b = recordingApp();
  const calls: string[] = [];
  const registrar = routeRegistrar([a.app, b.app], (h) => (res, req) => {
    calls.push('checked');
    return h(res, req);
  });
  registrar.get('/x', () => void calls.push('get')).post('/y', () => void calls.push('post'));
  registrar.del('/z', () => void calls.push('del'));
  registrar.any('/*', () => void calls.push('any'));
  assert.deepEqual(a.routes.map(([m, p]) => `${m} ${p}`), ['get /x', 'post /y', 'del /z', 'any /*']);
  assert.deepEqual(b.routes.map(([m, p]) => `${m} ${p}`), ['get /x', 'post /y', 'del /z', 'any /*']);
  for (const [, , handler] of [...a.routes, ...b.routes]) handler({} as HttpResponse, {} as HttpRequest);
  const once = ['checked', 'get', 'checked', 'post', 'checked', 'del', 'checked', 'any'];
  assert.deepEqual(calls, [...once, ...once]);
});

test('WebSocket routes, listen and close are refused: they would bypass the wrapper or belong to each app', () => {
  const registrar = routeRegistrar([recordingApp().app]);
  assert.throws(() => registrar.ws('/ws', {}), /ws\(\) is not available on a route registrar/);
  assert.throws(() => registrar.listen(0, () => {}), /listen\(\) is not available/);
  assert.throws(() => registrar.close(), /close\(\) is not available/);
});
