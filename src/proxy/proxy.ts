/**
 * The catch-all behind RIG's own routes. RIG forwards every request that is not one of its
 * endpoints to the API definitions of its reverse proxy; with no API definitions configured, as
 * here, every such request is answered like RIG answers an unmatched route: 404
 * `{"message":"Not Found"}` without a content type (spec 2.8).
 */
import { err } from '../shared/errors.js';
import { writeResponse } from '../shared/http/uws-http.js';
import type { HttpRequest, HttpResponse } from '../shared/uws.js';

export function createProxyHandler() {
  return (res: HttpResponse, _req: HttpRequest): void => {
    const e = err.notFoundProxy();
    writeResponse(res, e.status, e.message);
  };
}
