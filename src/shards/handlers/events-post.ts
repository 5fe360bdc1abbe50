/**
 * POST /_rig/v1/events (RIG 2.7): parse the CloudEvent (structured or binary mode), SUBMISSION_CHECK,
 * extract its configured fields here (the only time they are extracted), hand the record to main
 * for routing, answer 202 with the event. RIG double-encoded the event as a JSON string in the
 * body; we return the event object itself (spec 13, item 2).
 */
import { encodeEventRecord } from '../../shared/channel/event-record.js';
import { parseHttpEvent } from '../../shared/cloudevents/http-binding.js';
import type { CloudEvent } from '../../shared/cloudevents/types.js';
import { err } from '../../shared/errors.js';
import { extractFieldValues } from '../../shared/extractors/extract.js';
import { bearerTokens } from '../../shared/http/authorization.js';
import { errorResponse, header, headerAll, readBody, send, snapshot, track, writeResponse } from '../../shared/http/uws-http.js';
import type { Tracked } from '../../shared/http/uws-http.js';
import type { HttpRequest, HttpResponse } from '../../shared/uws.js';
import { submissionCheckRequest } from '../authorization/submission-check.js';
import type { ShardContext } from '../context.js';

export function eventsPost(ctx: ShardContext) {
  return (res: HttpResponse, req: HttpRequest): void => {
    const cors = ctx.corsHeaders;
    let snap;
    try {
      snap = snapshot(req, ctx.config.maxHeaderValueBytes);
    } catch (e) {
      const r = errorResponse(e, cors);
      writeResponse(res, r.status, r.body, r.headers);
      return;
    }
    const headers = snap.headers;
    const t = track(res);
    readBody(
      t,
      ctx.config.maxRequestBodyBytes,
      (body) => {
        let event: CloudEvent;
        try {
          event = parseHttpEvent({ contentType: header(headers, 'content-type'), headers, body });
        } catch (e) {
          fail(ctx, t, e);
          return;
        }
        const check = ctx.authorization.submission;
        if (!check.enabled) {
          submit(ctx, t, event);
          return;
        }
        const authorization = headerAll(headers, 'authorization');
        check
          .decide({ tokens: bearerTokens(authorization), describe: () => submissionCheckRequest(headers, authorization, event) })
          .then((verdict) => {
            if (verdict === 'allow') submit(ctx, t, event);
            else fail(ctx, t, verdict === 'busy' ? err.authorizationBusy() : err.submissionDenied());
          })
          .catch((e: unknown) => fail(ctx, t, e));
      },
      (e) => send(t, e.status, e.message, cors),
    );
  };
}

function submit(ctx: ShardContext, t: Tracked, event: CloudEvent): void {
  if (t.aborted) return;
  try {
    const values = extractFieldValues(ctx.extractors, event.type, event.body);
    ctx.link.submitEvent(encodeEventRecord(event.type, values, event.json));
    send(t, 202, event.json, [...ctx.corsHeaders, ['content-type', 'application/json; charset=utf-8']]);
  } catch (e) {
    fail(ctx, t, e);
  }
}

function fail(ctx: ShardContext, t: Tracked, e: unknown): void {
  const r = errorResponse(e, ctx.corsHeaders);
  if (r.status >= 500 && r.status !== 503) ctx.log.error('event submission failed', { error: e });
  send(t, r.status, r.body, r.headers);
}
