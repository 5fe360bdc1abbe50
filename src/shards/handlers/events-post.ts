/**
 * POST /_rig/v1/events (RIG 2.7): parse the CloudEvent (structured or binary mode), extract its
 * configured fields here (the only time they are extracted), hand the record to main for routing,
 * answer 202 with the event. RIG double-encoded the event as a JSON string in the body; we return
 * the event object itself (spec 13, item 2).
 */
import { encodeEventRecord } from '../../shared/channel/event-record.js';
import { parseHttpEvent } from '../../shared/cloudevents/http-binding.js';
import { extractFieldValues } from '../../shared/extractors/extract.js';
import { errorResponse, header, readBody, send, snapshot, track, writeResponse } from '../../shared/http/uws-http.js';
import type { HttpRequest, HttpResponse } from '../../shared/uws.js';
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
    const t = track(res);
    readBody(
      t,
      ctx.config.maxRequestBodyBytes,
      (body) => {
        try {
          const event = parseHttpEvent({ contentType: header(snap.headers, 'content-type'), headers: snap.headers, body });
          const values = extractFieldValues(ctx.extractors, event.type, event.body);
          ctx.link.submitEvent(encodeEventRecord(event.type, values, event.json));
          send(t, 202, event.json, [...cors, ['content-type', 'application/json; charset=utf-8']]);
        } catch (e) {
          const r = errorResponse(e, cors);
          if (r.status >= 500) ctx.log.error('event submission failed', { error: e });
          send(t, r.status, r.body, r.headers);
        }
      },
      (e) => send(t, e.status, e.message, cors),
    );
  };
}
