/**
 * The internal API (API_HTTP_PORT, RIG section 3), served by the main thread. Like RIG's it is
 * unauthenticated: keep the port off public networks (docs/configuration.md).
 *   GET  /health                 -> 200 "OK"
 *   POST /v3/messages, /v2/messages -> submit an event (no submission check, no CORS; RIG 3.3)
 *   POST /_fault/shards/:id/crash -> only with ENABLE_FAULT_INJECTION: make a shard fail
 * Unknown routes answer RIG's 404 `{"errors":{"detail":"Not found"}}`.
 */
import { parseHttpEvent } from '../../shared/cloudevents/http-binding.js';
import { errorResponse, header, readBody, send, snapshot, track, writeResponse } from '../../shared/http/uws-http.js';
import type { GatewayConfig } from '../../shared/config/types.js';
import type { Logger } from '../../shared/logger.js';
import type { HttpRequest, HttpResponse, TemplatedApp, UwsModule } from '../../shared/uws.js';
import type { Router } from '../router/router.js';
import type { Supervisor } from '../supervisor/supervisor.js';

const JSON_TYPE: [string, string] = ['content-type', 'application/json; charset=utf-8'];

export function buildInternalApi(
  uws: UwsModule,
  deps: { config: GatewayConfig; router: Router; supervisor: Supervisor; log: Logger; faultInjection: boolean },
): TemplatedApp {
  const { config, router, log } = deps;
  const app = uws.App();

  app.get('/health', (res) => writeResponse(res, 200, 'OK', [['content-type', 'text/plain; charset=utf-8']]));

  const messages = (res: HttpResponse, req: HttpRequest) => {
    let snap;
    try {
      snap = snapshot(req, config.maxHeaderValueBytes);
    } catch (e) {
      const r = errorResponse(e);
      writeResponse(res, r.status, r.body);
      return;
    }
    const t = track(res);
    readBody(
      t,
      config.maxRequestBodyBytes,
      (body) => {
        try {
          const event = parseHttpEvent({ contentType: header(snap.headers, 'content-type'), headers: snap.headers, body });
          router.submit(event);
          send(t, 202, event.json, [JSON_TYPE]);
        } catch (e) {
          const r = errorResponse(e);
          if (r.status >= 500) log.error('message submission failed', { error: e });
          send(t, r.status, r.body);
        }
      },
      (e) => send(t, e.status, e.message),
    );
  };
  app.post('/v3/messages', messages);
  app.post('/v2/messages', messages);

  if (deps.faultInjection) {
    app.post('/_fault/shards/:id/crash', (res, req) => {
      const ok = deps.supervisor.crash(Number(req.getParameter(0)));
      writeResponse(res, ok ? 202 : 404, ok ? 'crash requested' : 'no such running shard');
    });
  }

  app.any('/*', (res) => writeResponse(res, 404, '{"errors":{"detail":"Not found"}}', [JSON_TYPE]));
  return app;
}
