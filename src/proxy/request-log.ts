/**
 * The request log (REQUEST_LOG, RIG spec 10.4) as pure functions: what is written for a matched
 * proxy request after its JWT check, to stdout (`console`) and as a Kafka record for
 * KAFKA_LOG_TOPIC (`kafka`). The shard builds the record; the main thread produces it.
 */
import { randomUUID } from 'node:crypto';
import type { JsonObject } from '../shared/apis/types.js';

/** The fields of an endpoint definition the console line names. */
export interface LoggedEndpoint {
  id: string;
  method: string;
  path_regex: string;
}

/** RIG's console line: `CALL: [<endpoint id>] <METHOD> <path_regex> => <proxy.target_url>`. */
export function requestLogLine(endpoint: LoggedEndpoint, targetUrl: string): string {
  return `CALL: [${endpoint.id}] ${endpoint.method} ${endpoint.path_regex} => ${targetUrl}`;
}

export interface RequestLogRecord {
  /** RIG's constant key: every request-log record goes to the same partition. */
  key: 'partition';
  /** The CloudEvent 0.2 as JSON text. */
  value: string;
  /** RIG's JSON serializer names a 0.2 event's contenttype in a header (spec 6.6). */
  headers: Record<string, string>;
}

export interface RequestLogInput {
  /** The endpoint definition as configured (the object inside version_data.default.endpoints). */
  endpoint: JsonObject;
  /** The request path as the client sent it (before path_replacement), without the query. */
  requestPath: string;
  /** The client's address, e.g. "127.0.0.1". */
  remoteIp: string;
}

/**
 * RIG's request-log CloudEvent 0.2: `{id, time, source: "/rig", type: "com.rig.proxy.api.call",
 * specversion: "0.2", contenttype: "application/json", data: {endpoint, request_path, remote_ip}}`.
 * `now` and `id` are parameters for tests.
 */
export function requestLogRecord(input: RequestLogInput, now: Date = new Date(), id: string = randomUUID()): RequestLogRecord {
  const event = {
    id,
    time: now.toISOString(),
    source: '/rig',
    type: 'com.rig.proxy.api.call',
    specversion: '0.2',
    contenttype: 'application/json',
    data: { endpoint: input.endpoint, request_path: input.requestPath, remote_ip: input.remoteIp },
  };
  return { key: 'partition', value: JSON.stringify(event), headers: { ce_contenttype: 'application/json' } };
}
