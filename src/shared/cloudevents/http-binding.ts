/**
 * The CloudEvents HTTP binding for event submission (`POST /_rig/v1/events`, `POST /v3/messages`):
 * chooses structured or binary mode from the Content-Type the way RIG 3.0 does, and turns a
 * binary-mode request (ce-* headers + body) into the structured JSON that clients receive.
 *
 * Departures from RIG, all turning crashes or rejections into defined answers: a missing
 * Content-Type is 415 (or binary mode when ce-specversion is present) instead of 500; binary mode
 * accepts 0.3 and 1.0 next to 0.2; a body that is not JSON under a JSON media type is 400, not 500.
 */

import { MAX_JSON_DEPTH, nestsDeeperThan } from '../json-depth.js';
import { isUtf8 } from 'node:buffer';
import { err } from '../errors.js';
import { checkCloudEvent, parseStructuredEvent } from './structured.js';
import type { CloudEvent } from './types.js';

export interface HttpEventRequest {
  contentType: string | undefined;
  /** Every request header, names lower-cased, in arrival order. */
  headers: ReadonlyArray<readonly [string, string]>;
  body: Buffer;
}

export const BINARY_SPECVERSIONS: readonly string[] = ['0.2', '0.3', '1.0'];

// Context attributes whose header values are plain strings; any other ce-* header is an extension
// whose value may carry JSON (RIG decodes it when it can).
const STRING_ATTRIBUTES = new Set([
  'specversion', 'type', 'source', 'id', 'time', 'schemaurl', 'dataschema', 'subject', 'datacontenttype',
]);
// Emitted first, in this order, so the assembled JSON is the same whatever the header order.
const LEADING_ATTRIBUTES = ['specversion', 'type', 'source', 'id', 'time'] as const;
// The payload comes from the body only; a header must not be able to forge or shadow it.
const BODY_ATTRIBUTES = new Set(['data', 'data_base64']);

export function parseHttpEvent(req: HttpEventRequest): CloudEvent {
  // An empty Content-Type says no more than a missing one.
  const mediaType = req.contentType === undefined ? '' : mediaTypeOf(req.contentType);
  if (mediaType === '') {
    if (hasHeader(req.headers, 'ce-specversion')) return parseBinary(req, undefined);
    throw err.unsupportedMediaType();
  }
  if (mediaType.startsWith('application/cloudevents-batch')) throw err.batchUnsupported();
  if (mediaType === 'application/cloudevents' || mediaType === 'application/cloudevents+json') return parseStructured(req.body);
  if (mediaType.startsWith('application/cloudevents+')) {
    throw err.structuredFormatUnsupported('application', mediaType.slice('application/'.length));
  }
  if (mediaType === 'application/json' && !hasHeader(req.headers, 'ce-specversion')) return parseStructured(req.body);
  return parseBinary(req, mediaType);
}

/** `type/subtype` lower-cased, parameters dropped. */
export function mediaTypeOf(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

function parseStructured(body: Buffer): CloudEvent {
  if (!isUtf8(body)) throw err.invalidUtf8('Request body');
  return parseStructuredEvent(body.toString('utf8'));
}

function parseBinary(req: HttpEventRequest, mediaType: string | undefined): CloudEvent {
  const specversions = headerValues(req.headers, 'ce-specversion');
  const specversion = specversions.length === 1 ? specversions[0]! : undefined;
  if (specversion === undefined || !BINARY_SPECVERSIONS.includes(specversion)) {
    throw err.binarySpecversion(specversions, [...BINARY_SPECVERSIONS]);
  }

  // A Map keeps insertion order for every key (a plain object would hoist integer-like names and
  // treat "__proto__" specially).
  const attrs = new Map<string, unknown>();
  for (const name of LEADING_ATTRIBUTES) attrs.set(name, undefined);
  for (const [header, value] of req.headers) {
    if (!header.startsWith('ce-') || header.length === 3) continue;
    const name = header.slice(3);
    if (BODY_ATTRIBUTES.has(name)) continue;
    attrs.set(name, STRING_ATTRIBUTES.has(name) ? value : decodeExtension(value));
  }

  const contentTypeAttr = specversion === '0.2' ? 'contenttype' : 'datacontenttype';
  const isJson = mediaType !== undefined && isJsonMediaType(mediaType);
  if (mediaType === 'application/json') {
    // RIG drops the attribute for JSON data; its absence means application/json anyway.
    attrs.delete(contentTypeAttr);
  } else if (mediaType !== undefined) {
    attrs.set(contentTypeAttr, req.contentType);
  }

  if (req.body.length > 0) {
    if (isJson) {
      if (!isUtf8(req.body)) throw err.invalidUtf8('Request body');
      attrs.set('data', decodeJsonBody(req.body.toString('utf8'), mediaType));
    } else if (isUtf8(req.body)) {
      attrs.set('data', req.body.toString('utf8'));
    } else if (specversion === '0.2') {
      throw err.invalidUtf8('Request body');
    } else {
      attrs.set('data_base64', req.body.toString('base64'));
    }
  }

  const json = serialize(attrs);
  const body = JSON.parse(json) as Record<string, unknown>;
  const check = checkCloudEvent(body);
  if (!check.ok) throw err.binaryInvalid(check.reason);
  return { type: check.type, id: check.id, specversion: check.specversion, json, body };
}

function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

function decodeJsonBody(text: string, mediaType: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw err.binaryInvalid(`body is not valid JSON for content-type ${mediaType}`);
  }
  if (nestsDeeperThan(value, MAX_JSON_DEPTH)) throw err.binaryInvalid(`body is JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  return value;
}

function decodeExtension(value: string): unknown {
  let decoded: unknown;
  try {
    decoded = JSON.parse(value);
  } catch {
    return value;
  }
  // Too deep to serialise again: kept as the text it came as, like any other non-JSON value.
  return nestsDeeperThan(decoded, MAX_JSON_DEPTH) ? value : decoded;
}

function serialize(attrs: ReadonlyMap<string, unknown>): string {
  const parts: string[] = [];
  for (const [name, value] of attrs) {
    if (value !== undefined) parts.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
  }
  return `{${parts.join(',')}}`;
}

function hasHeader(headers: HttpEventRequest['headers'], name: string): boolean {
  for (const [n] of headers) if (n === name) return true;
  return false;
}

function headerValues(headers: HttpEventRequest['headers'], name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) if (n === name) out.push(v);
  return out;
}
