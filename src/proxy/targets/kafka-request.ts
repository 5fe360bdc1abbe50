/**
 * `target: "kafka"` requests as Kafka records (RIG spec 6.6), as pure functions.
 *
 * Body: a JSON object with a `specversion` key (only its presence is checked, as RIG did).
 * Otherwise 400 `Bad request: expected a JSON encoded request body.` or `... the body does not look
 * like a CloudEvent.`, each followed by a usage text. With PROXY_KAFKA_WRAP_NON_CLOUDEVENTS (RIG
 * issue #310) a body that is not a CloudEvent is not refused but wrapped into a CloudEvent 1.0.
 *
 * Record value: the event with its `rig` attribute replaced by the request's metadata (correlation
 * token, client address, host, port, scheme, headers, method, rewritten path, raw query), plus the
 * request's `traceparent`/`tracestate` headers as top-level attributes when it sent them.
 * Key: `rig.target_partition` of the body (a string), else none (any partition). Kafka headers:
 * `ce_contenttype` / `ce_contentType` when the event has that attribute, as RIG's JSON serializer.
 */
import { randomUUID } from 'node:crypto';
import { isObject, type JsonObject } from '../../shared/apis/types.js';
import type { Headers } from '../../shared/http/uws-http.js';
import { err } from '../../shared/errors.js';

export interface KafkaRequestMeta {
  correlation: string;
  remoteIp: string;
  host: string;
  port: number;
  scheme: string;
  headers: Headers;
  method: string;
  path: string;
  query: string;
}

export interface KafkaRecord {
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

/** The request body as the event to produce, or the 400 to answer. */
export function eventFromBody(body: Buffer, contentType: string | undefined, wrapNonCloudEvents: boolean): JsonObject {
  let parsed: unknown;
  let isJson = true;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    isJson = false;
  }
  if (isObject(parsed) && 'specversion' in parsed) {
    const rig = parsed['rig'];
    if (isObject(rig) && 'target_partition' in rig && typeof rig['target_partition'] !== 'string') {
      throw err.kafkaRequestInvalid('rig.target_partition must be a string');
    }
    return parsed;
  }
  if (wrapNonCloudEvents) return wrap(body, isJson ? (parsed as JsonObject) : undefined, isJson, contentType);
  throw err.kafkaRequestInvalid(isJson ? 'the body does not look like a CloudEvent' : 'expected a JSON encoded request body');
}

/** A body that is not a CloudEvent, as the `data` of a CloudEvent 1.0 (JSON as is, anything else base64). */
function wrap(body: Buffer, json: JsonObject | undefined, isJson: boolean, contentType: string | undefined): JsonObject {
  const event: JsonObject = {
    specversion: '1.0',
    id: randomUUID(),
    source: '/rig/proxy',
    type: 'rig.proxy.request',
    datacontenttype: isJson ? 'application/json' : contentType ?? 'application/octet-stream',
  };
  if (isJson) event['data'] = json ?? null;
  else event['data_base64'] = body.toString('base64');
  return event;
}

export function kafkaRecord(event: JsonObject, meta: KafkaRequestMeta): KafkaRecord {
  const original = event['rig'];
  const key = isObject(original) && typeof original['target_partition'] === 'string' ? original['target_partition'] : null;
  const out: JsonObject = { ...event };
  out['rig'] = {
    correlation: meta.correlation,
    remoteip: meta.remoteIp,
    host: meta.host,
    port: meta.port,
    scheme: meta.scheme,
    headers: meta.headers.map(([k, v]) => [k, v]),
    method: meta.method,
    path: meta.path,
    query: meta.query,
  };
  for (const [k, v] of meta.headers) {
    if (k === 'traceparent' || k === 'tracestate') out[k] = v;
  }
  const headers: Record<string, string> = {};
  if (typeof event['contenttype'] === 'string') headers['ce_contenttype'] = event['contenttype'];
  else if (typeof event['contentType'] === 'string') headers['ce_contentType'] = event['contentType'];
  return { key: key === '' ? null : key, value: JSON.stringify(out), headers };
}

/** `Host` without its port, and the port (the Host header's, else the listening port). */
export function hostAndPort(hostHeader: string | undefined, listenPort: number): { host: string; port: number } {
  if (!hostHeader) return { host: '', port: listenPort };
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(hostHeader);
  if (!m) return { host: hostHeader, port: listenPort };
  return { host: m[1]!, port: m[2] === undefined ? listenPort : Number(m[2]) };
}
