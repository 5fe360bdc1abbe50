/**
 * Structured-mode CloudEvents: a JSON object whose attributes carry the event. This is the
 * acceptance rule every ingress shares (HTTP, NATS, Kinesis, binary mode after assembly).
 *
 * The submitted text is kept and forwarded byte-for-byte, as RIG does, so unknown attributes
 * (even ones with spaces in their names) and the sender's formatting reach clients untouched.
 * Acceptance per version:
 *  - 0.1 (`cloudEventsVersion`) and 0.2: RIG's lenient rule, type and id only need to be JSON
 *    scalars and `source` is optional; clients built against RIG depend on that.
 *  - 0.3 and 1.0: RIG rejected them (a defect); we accept them with their spec's required
 *    attributes `id`, `source`, `type` as non-empty strings.
 */

import { jsonForMessage } from '../json-depth.js';
import { err } from '../errors.js';
import type { CloudEvent, SpecVersion } from './types.js';

export type CheckResult =
  | { readonly ok: true; readonly specversion: SpecVersion; readonly type: string; readonly id: string }
  | { readonly ok: false; readonly reason: string };

/** Which version an object claims to be; `specversion` wins over `cloudEventsVersion`, like RIG. */
export function specversionOf(obj: Record<string, unknown>): SpecVersion | undefined {
  const v = obj['specversion'];
  if (v === '0.2' || v === '0.3' || v === '1.0') return v;
  if (obj['cloudEventsVersion'] === '0.1') return '0.1';
  return undefined;
}

/** Checks the attributes the gateway relies on; never throws. */
export function checkCloudEvent(obj: Record<string, unknown>): CheckResult {
  const specversion = specversionOf(obj);
  if (specversion === undefined) return { ok: false, reason: describeVersionProblem(obj) };
  if (specversion === '0.1') return lenient(obj, specversion, 'eventType', 'eventID');
  if (specversion === '0.2') return lenient(obj, specversion, 'type', 'id');
  for (const name of ['id', 'source', 'type'] as const) {
    const v = obj[name];
    if (typeof v !== 'string' || v === '') {
      return { ok: false, reason: `missing or invalid "${name}" (a non-empty string is required for specversion ${specversion})` };
    }
  }
  return { ok: true, specversion, type: obj['type'] as string, id: obj['id'] as string };
}

/** Parses and checks a structured-mode body; throws GW_ERR_NOT_A_CLOUD_EVENT. */
export function parseStructuredEvent(jsonText: string): CloudEvent {
  let body: unknown;
  try {
    body = JSON.parse(jsonText);
  } catch {
    throw err.notACloudEvent('not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw err.notACloudEvent('not a JSON object');
  const obj = body as Record<string, unknown>;
  const check = checkCloudEvent(obj);
  if (!check.ok) throw err.notACloudEvent(check.reason);
  return { type: check.type, id: check.id, specversion: check.specversion, json: jsonText, body: obj };
}

function lenient(obj: Record<string, unknown>, specversion: SpecVersion, typeName: string, idName: string): CheckResult {
  const type = scalarText(obj[typeName]);
  if (type === undefined) return { ok: false, reason: `missing or invalid "${typeName}"` };
  const id = scalarText(obj[idName]);
  if (id === undefined) return { ok: false, reason: `missing or invalid "${idName}"` };
  return { ok: true, specversion, type, id };
}

// Non-string scalars become their JSON text so the routing key is still a string ("1", "true").
function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  return undefined;
}

function describeVersionProblem(obj: Record<string, unknown>): string {
  if ('specversion' in obj) return `unsupported specversion ${safeJson(obj['specversion'])} (supported: "0.2", "0.3", "1.0")`;
  if ('cloudEventsVersion' in obj) return `unsupported cloudEventsVersion ${safeJson(obj['cloudEventsVersion'])} (supported: "0.1")`;
  return 'missing "specversion"';
}

// Echoes the offending value without letting a huge attribute blow up the error text.
function safeJson(v: unknown): string {
  const s = jsonForMessage(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}
