/**
 * Turns a consumed Kafka record into a CloudEvent, following the CloudEvents Kafka protocol binding
 * the way RIG 3.0 chose the content mode, with RIG's defects fixed.
 *
 * Content mode, from the `content-type` header (name case-insensitive, value lower-cased,
 * parameters ignored):
 *  - absent or empty: structured JSON; but binary mode when a `ce_specversion` header is present
 *    (the binding lets binary-mode producers omit the content type; HTTP decides the same way).
 *    A structured value starting with the Confluent Avro magic byte 0x00 is refused.
 *  - `application/cloudevents`, `application/cloudevents+json`: structured JSON.
 *  - `application/cloudevents+avro`: refused (Avro is not supported).
 *  - `application/cloudevents+<other>`: refused (no decoder for that event format).
 *  - `application/cloudevents-batch...`: refused.
 *  - anything else: binary mode.
 *
 * Structured mode accepts exactly what HTTP accepts (`checkCloudEvent`): 0.1, 0.2, 0.3 and 1.0, any
 * extension names. The record value is forwarded byte-for-byte: RIG re-serialised Kafka events,
 * which reordered them and dropped `contenttype`/`schemaurl`. The event is not normalised either:
 * RIG Base64-decoded `data_base64` into `data`, JSON-decoded string `data` declared as
 * application/json and defaulted a missing content type to application/json; here the attributes,
 * `data_base64` and string `data` reach clients exactly as the producer wrote them.
 *
 * Binary mode: attributes come from `ce_<name>` headers (`ce-<name>` is accepted too; the first
 * header naming an attribute wins); `ce_specversion` must be 0.2, 0.3 or 1.0 (0.1 predates the
 * Kafka binding). Standard attributes are strings; extension values are JSON-decoded when they
 * parse. The content-type header becomes `contenttype` (0.2) or `datacontenttype` (0.3, 1.0). The
 * value becomes `data`: JSON media types (application/json, *+json) as JSON, other UTF-8 values as
 * a string, other bytes as `data_base64` (0.3, 1.0; 0.2 has no such attribute). The event is
 * delivered in structured form: specversion, type, source, id, time, the other attributes in
 * header order, the content type, data. JSON data is embedded as the producer's text.
 *
 * Every failure is a KafkaDecodeError, whatever the record holds; the consumer logs and counts it
 * and moves on. This runs for every record on the main thread, so structured values are decoded
 * once and parsed once.
 */

import { isUtf8 } from 'node:buffer';
import { mediaTypeOf } from '../../shared/cloudevents/http-binding.js';
import { checkCloudEvent } from '../../shared/cloudevents/structured.js';
import type { CloudEvent } from '../../shared/cloudevents/types.js';

/** The parts of a kafkajs message the decoder reads. */
export interface KafkaRecordInput {
  value: Buffer | null;
  /** kafkajs message headers: Buffers (UTF-8) or strings; a repeated header is an array. */
  headers: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;
}

export class KafkaDecodeError extends Error {
  /** Short text saying why the record is not an event, e.g. "not valid JSON". */
  readonly reason: string;

  constructor(reason: string, options?: { cause?: unknown }) {
    super(`cannot decode Kafka record: ${reason}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KafkaDecodeError';
    this.reason = reason;
  }
}

export const KAFKA_BINARY_SPECVERSIONS: readonly string[] = ['0.2', '0.3', '1.0'];

// Context attributes whose header values are plain strings; any other ce_ header is an extension
// whose value may carry JSON.
const STRING_ATTRIBUTES = new Set([
  'specversion', 'type', 'source', 'id', 'time', 'schemaurl', 'dataschema', 'subject', 'datacontenttype', 'contenttype',
]);
// Emitted first, in this order, so the assembled JSON does not depend on the header order.
const LEADING_ATTRIBUTES = ['specversion', 'type', 'source', 'id', 'time'] as const;
// The payload comes from the value only; a header must not forge or shadow it.
const VALUE_ATTRIBUTES = new Set(['data', 'data_base64']);
const AVRO_MAGIC_BYTE = 0x00;

export function decodeKafkaRecord(rec: KafkaRecordInput): CloudEvent {
  try {
    return decode(rec);
  } catch (e) {
    if (e instanceof KafkaDecodeError) throw e;
    // A value too large for a string, nesting too deep to serialise, a header object that throws:
    // still a record we cannot use, never a crash of the consumer.
    throw new KafkaDecodeError(`undecodable record (${errorName(e)})`, { cause: e });
  }
}

function decode(rec: KafkaRecordInput): CloudEvent {
  if (typeof rec !== 'object' || rec === null) throw new KafkaDecodeError('not a record');
  const value = rec.value;
  if (value !== null && value !== undefined && !Buffer.isBuffer(value)) throw new KafkaDecodeError('value is not a byte buffer');
  const headers = headerEntries(rec.headers);

  const contentType = findHeader(headers, 'content-type');
  const mediaType = contentType === undefined ? '' : mediaTypeOf(contentType);
  if (mediaType === '') {
    if (findCeHeader(headers, 'specversion') !== undefined) return decodeBinary(value, headers, undefined);
    if (value !== null && value !== undefined && value.length > 0 && value[0] === AVRO_MAGIC_BYTE) {
      throw new KafkaDecodeError('avro is not supported');
    }
    return decodeStructured(value);
  }
  if (mediaType.startsWith('application/cloudevents-batch')) throw new KafkaDecodeError('batch mode is not supported');
  if (mediaType === 'application/cloudevents' || mediaType === 'application/cloudevents+json') return decodeStructured(value);
  if (mediaType.startsWith('application/cloudevents+')) {
    const format = mediaType.slice('application/cloudevents+'.length);
    if (format === 'avro') throw new KafkaDecodeError('avro is not supported');
    throw new KafkaDecodeError(`no decoder for event format ${format}`);
  }
  return decodeBinary(value, headers, contentType);
}

// --- structured mode ------------------------------------------------------------------------------

function decodeStructured(value: Buffer | null | undefined): CloudEvent {
  if (value === null || value === undefined || value.length === 0) throw new KafkaDecodeError('empty value');
  if (!isUtf8(value)) throw new KafkaDecodeError('not valid UTF-8');
  const json = value.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new KafkaDecodeError('not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new KafkaDecodeError('not a JSON object');
  const body = parsed as Record<string, unknown>;
  const check = checkCloudEvent(body);
  if (!check.ok) throw new KafkaDecodeError(`not a CloudEvent: ${check.reason}`);
  return { type: check.type, id: check.id, specversion: check.specversion, json, body };
}

// --- binary mode ----------------------------------------------------------------------------------

interface Attribute {
  /** The value as the event body holds it. */
  readonly value: unknown;
  /** The value's JSON text in the delivered event. */
  readonly text: string;
}

function decodeBinary(value: Buffer | null | undefined, headers: HeaderEntry[], contentType: string | undefined): CloudEvent {
  const specversion = findCeHeader(headers, 'specversion');
  if (specversion === undefined) throw new KafkaDecodeError('binary mode without a ce_specversion header');
  if (!KAFKA_BINARY_SPECVERSIONS.includes(specversion)) {
    throw new KafkaDecodeError(
      specversion === '0.1'
        ? 'specversion 0.1 has no Kafka binary mode'
        : `unsupported ce_specversion ${shorten(JSON.stringify(specversion))} (supported: 0.2, 0.3, 1.0)`,
    );
  }
  const contentTypeAttr = specversion === '0.2' ? 'contenttype' : 'datacontenttype';

  // A Map keeps insertion order for every key (a plain object would hoist integer-like names).
  const attrs = new Map<string, Attribute | undefined>();
  for (const name of LEADING_ATTRIBUTES) attrs.set(name, undefined);
  for (const h of headers) {
    const name = ceAttributeName(h.name);
    if (name === undefined || VALUE_ATTRIBUTES.has(name) || attrs.get(name) !== undefined) continue;
    const text = headerText(h);
    if (text === undefined) continue;
    attrs.set(name, STRING_ATTRIBUTES.has(name) ? stringAttribute(text) : extensionAttribute(text));
  }

  // The content-type header is the data's content type; without one, a ce_ header may say it.
  let effectiveType = contentType;
  if (effectiveType === undefined) {
    const declared = attrs.get(contentTypeAttr)?.value;
    if (typeof declared === 'string') effectiveType = declared;
  }
  attrs.delete(contentTypeAttr);
  if (effectiveType !== undefined) attrs.set(contentTypeAttr, stringAttribute(effectiveType));

  if (value !== null && value !== undefined && value.length > 0) {
    const mediaType = effectiveType === undefined ? '' : mediaTypeOf(effectiveType);
    const utf8 = isUtf8(value);
    if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
      if (!utf8) throw new KafkaDecodeError('data is not valid JSON (not UTF-8)');
      const text = value.toString('utf8');
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch {
        throw new KafkaDecodeError('data is not valid JSON');
      }
      attrs.set('data', { value: data, text: text.trim() });
    } else if (utf8) {
      attrs.set('data', stringAttribute(value.toString('utf8')));
    } else if (specversion === '0.2') {
      throw new KafkaDecodeError('data is not valid UTF-8 (specversion 0.2 has no data_base64)');
    } else {
      attrs.set('data_base64', stringAttribute(value.toString('base64')));
    }
  }

  const parts: string[] = [];
  const body: Record<string, unknown> = {};
  for (const [name, attr] of attrs) {
    if (attr === undefined) continue;
    parts.push(`${JSON.stringify(name)}:${attr.text}`);
    setOwn(body, name, attr.value);
  }
  const check = checkCloudEvent(body);
  if (!check.ok) throw new KafkaDecodeError(`not a CloudEvent: ${check.reason}`);
  return { type: check.type, id: check.id, specversion: check.specversion, json: `{${parts.join(',')}}`, body };
}

function stringAttribute(s: string): Attribute {
  return { value: s, text: JSON.stringify(s) };
}

// Extension values carry JSON when they parse as JSON (RIG's rule); the header's own text is what
// clients receive, so numbers keep their spelling.
function extensionAttribute(s: string): Attribute {
  const text = s.trim();
  if (text !== '' && mayBeJson(text.charCodeAt(0))) {
    try {
      return { value: JSON.parse(text) as unknown, text };
    } catch {
      // not JSON: a plain string
    }
  }
  return stringAttribute(s);
}

// First characters a JSON text can start with; skips the cost of a failing JSON.parse for the
// common plain-word extension values.
function mayBeJson(c: number): boolean {
  return c === 0x7b /* { */ || c === 0x5b /* [ */ || c === 0x22 /* " */ || c === 0x2d /* - */ ||
    (c >= 0x30 && c <= 0x39) || c === 0x74 /* t */ || c === 0x66 /* f */ || c === 0x6e /* n */;
}

// Assigning "__proto__" would replace the prototype instead of adding a property, as JSON.parse does.
function setOwn(obj: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') Object.defineProperty(obj, name, { value, enumerable: true, writable: true, configurable: true });
  else obj[name] = value;
}

// --- headers --------------------------------------------------------------------------------------

interface HeaderEntry {
  /** Lower-cased header name. */
  readonly name: string;
  readonly raw: unknown;
}

function headerEntries(headers: unknown): HeaderEntry[] {
  if (typeof headers !== 'object' || headers === null) return [];
  const out: HeaderEntry[] = [];
  const record = headers as Record<string, unknown>;
  for (const key of Object.keys(record)) out.push({ name: key.toLowerCase(), raw: record[key] });
  return out;
}

/** A header's text: Buffers as UTF-8, arrays by their first value; undefined for anything else. */
function headerText(h: HeaderEntry): string | undefined {
  let v = h.raw;
  if (Array.isArray(v)) v = v.length > 0 ? v[0] : undefined;
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) {
    if (!isUtf8(v)) throw new KafkaDecodeError(`header ${shorten(JSON.stringify(h.name))} is not valid UTF-8`);
    return v.toString('utf8');
  }
  return undefined;
}

function findHeader(headers: HeaderEntry[], name: string): string | undefined {
  for (const h of headers) {
    if (h.name === name) {
      const text = headerText(h);
      if (text !== undefined) return text;
    }
  }
  return undefined;
}

function findCeHeader(headers: HeaderEntry[], attr: string): string | undefined {
  for (const h of headers) {
    if (ceAttributeName(h.name) === attr) {
      const text = headerText(h);
      if (text !== undefined) return text;
    }
  }
  return undefined;
}

/** `ce_<attr>` (the binding's spelling) or `ce-<attr>` → `<attr>`; undefined for other headers. */
function ceAttributeName(header: string): string | undefined {
  if (header.length <= 3 || header.charCodeAt(0) !== 0x63 /* c */ || header.charCodeAt(1) !== 0x65 /* e */) return undefined;
  const sep = header.charCodeAt(2);
  return sep === 0x5f /* _ */ || sep === 0x2d /* - */ ? header.slice(3) : undefined;
}

function shorten(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

function errorName(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' ? code : e.name;
  }
  return typeof e;
}
