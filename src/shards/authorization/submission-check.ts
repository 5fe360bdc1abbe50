/**
 * What SUBMISSION_CHECK's decision service is sent for POST /_rig/v1/events (RIG spec 7.5): the
 * CloudEvent JSON and the client's Authorization. A structured-mode request keeps its own content
 * type (its body is the event); a binary-mode request's content type describes only the event's
 * data, so the assembled event goes out as application/cloudevents+json.
 */
import { mediaTypeOf } from '../../shared/cloudevents/http-binding.js';
import type { CloudEvent } from '../../shared/cloudevents/types.js';
import { header, type Headers } from '../../shared/http/uws-http.js';
import type { DecisionRequest } from './decision-client.js';

const ASSEMBLED_EVENT_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

export function submissionCheckRequest(headers: Headers, authorization: readonly string[], event: CloudEvent): DecisionRequest {
  const contentType = header(headers, 'content-type');
  return {
    contentType: contentType !== undefined && isStructured(contentType, headers) ? contentType : ASSEMBLED_EVENT_CONTENT_TYPE,
    authorization: authorization.length === 0 ? undefined : authorization.join(', '),
    body: event.json,
  };
}

/** The mode choice of parseHttpEvent (RIG 2.7), for a request that parsed. */
function isStructured(contentType: string, headers: Headers): boolean {
  const m = mediaTypeOf(contentType);
  if (m === 'application/cloudevents' || m === 'application/cloudevents+json') return true;
  return m === 'application/json' && header(headers, 'ce-specversion') === undefined;
}
