/**
 * `POST /v3/responses` (RIG spec 3.5): a backend completes a proxied request that waits with
 * `response_from: http_async`. Headers `rig-correlation` (the token the upstream got as the
 * `correlation` query parameter) and `rig-response-code` (the status for the waiting client);
 * other headers go to the client as response headers (shared/replies/reply-headers.ts says which).
 *
 * Differences from RIG, on purpose (spec 13 items 12, 13):
 * - the body reaches the client byte for byte, whatever its content type (RIG parsed JSON, form
 *   and multipart bodies, re-encoded them as JSON, and refused anything else with 415);
 * - only a safe subset of the headers is copied (RIG copied host, content-length, ...);
 * - `/v2/responses` is the same endpoint (RIG's v2 variant never completed a request).
 *
 * Answers: 202 `message sent to correlated reverse proxy request` once the reply is on its way,
 * also when the request no longer waits (as RIG); 400 with RIG's `Failed to parse request body:`
 * texts for missing or invalid headers and for tokens this cluster did not issue; 413 over
 * MAX_REQUEST_BODY_BYTES.
 */
import { err } from '../../shared/errors.js';
import { errorResponse, readBody, send, snapshot, track, writeResponse } from '../../shared/http/uws-http.js';
import { parseReplyHeaders } from '../../shared/replies/reply-headers.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../../shared/uws.js';
import type { ReplyRouter } from '../replies/reply-router.js';

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

export function registerResponsesRoutes(
  app: TemplatedApp,
  deps: { replies: ReplyRouter; maxRequestBodyBytes: number; maxHeaderValueBytes: number },
): void {
  const handler = (res: HttpResponse, req: HttpRequest) => {
    let snap;
    try {
      snap = snapshot(req, deps.maxHeaderValueBytes);
    } catch (e) {
      const r = errorResponse(e);
      writeResponse(res, r.status, r.body);
      return;
    }
    const head = parseReplyHeaders(snap.headers);
    if (!head.ok) return writeResponse(res, 400, err.replyInvalid(head.message.replace(/^Failed to parse request body: /, '')).message);
    const target = deps.replies.resolve(head.correlation);
    if (!target) {
      const inspected = BASE64URL.test(head.correlation) ? '{:error, :invalid_term}' : '{:error, :not_base64}';
      return writeResponse(res, 400, err.replyInvalid(inspected).message);
    }
    const t = track(res);
    readBody(
      t,
      deps.maxRequestBodyBytes,
      (body) => {
        deps.replies.deliver(head.correlation, target, { status: head.status, headers: head.headers, body }, true);
        send(t, 202, 'message sent to correlated reverse proxy request');
      },
      (e) => send(t, e.status, e.message),
    );
  };
  app.post('/v3/responses', handler);
  app.post('/v2/responses', handler);
}
