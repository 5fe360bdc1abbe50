/**
 * Validation of the EXTRACTORS configuration (spec 5.2). The checks, their order and their texts
 * follow RIG so operators see the messages they already know; each message is prefixed with the
 * event type it concerns. The result is the parsed form every other module uses: pointers decoded
 * once, fields sorted by `stable_field_index` (which fixes each field's position in value arrays).
 */

import { parsePointer } from './pointer.js';
import type { ExtractorConfig, ExtractorField } from './types.js';

const INDEX_FIELD = 'stable_field_index';
const hasOwn = Object.prototype.hasOwnProperty;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Renders a list of field names the way RIG's `inspect/1` does: `["a", "b"]`. */
function inspectNames(names: readonly string[]): string {
  return `[${names.map((n) => JSON.stringify(n)).join(', ')}]`;
}

/** Identity of an index value for the duplicate check, which RIG runs before any type check. */
function indexIdentity(v: unknown): string {
  return `${typeof v}:${JSON.stringify(v)}`;
}

/** A pointer RIG accepts and we can resolve: a non-empty, well-formed RFC 6901 string. */
function pointerTokens(p: unknown): string[] | undefined {
  if (typeof p !== 'string' || p === '') return undefined;
  try {
    return parsePointer(p);
  } catch {
    return undefined;
  }
}

/** Checks one event type's fields; returns the error text, or the parsed fields. */
function checkEventType(typeCfg: Record<string, unknown>): string | ExtractorField[] {
  // RIG iterates Elixir maps, i.e. field names in sorted order; the messages list them that way.
  const names = Object.keys(typeCfg).sort();

  const missing = names.filter((n) => {
    const f = typeCfg[n];
    return isObject(f) && !hasOwn.call(f, INDEX_FIELD);
  });
  if (missing.length > 0) {
    return `${INDEX_FIELD} is required, but missing for fields: ${inspectNames(missing)}`;
  }

  // Non-object field definitions carry no index; they are reported as invalid further down.
  const indices = names.map((n) => typeCfg[n]).filter(isObject).map((f) => f[INDEX_FIELD]);
  if (new Set(indices.map(indexIdentity)).size !== indices.length) {
    return `Duplicate index - please use a different ${INDEX_FIELD} value for each field`;
  }
  // In Erlang's term order every non-number is greater than 0, so only negative numbers fail here.
  if (indices.some((i) => typeof i === 'number' && i < 0)) {
    return `Negative index - please use only non-negative values for ${INDEX_FIELD}`;
  }

  const invalid: string[] = [];
  const fields: ExtractorField[] = [];
  for (const name of names) {
    const f = typeCfg[name];
    const field = isObject(f) ? parseField(name, f) : undefined;
    if (field === undefined) invalid.push(name);
    else fields.push(field);
  }
  if (invalid.length > 0) return `Invalid configuation for fields: ${inspectNames(invalid)}`;

  return fields.sort((a, b) => a.stableFieldIndex - b.stableFieldIndex);
}

function parseField(name: string, f: Record<string, unknown>): ExtractorField | undefined {
  const index = f[INDEX_FIELD];
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) return undefined;

  const event = f['event'];
  const eventPointer = isObject(event) ? pointerTokens(event['json_pointer']) : undefined;
  if (eventPointer === undefined) return undefined;

  // `jwt` is optional; when given it has to be usable, rather than silently never matching.
  const jwt = f['jwt'];
  if (jwt === undefined || jwt === null) return { name, stableFieldIndex: index, eventPointer };
  const jwtPointer = isObject(jwt) ? pointerTokens(jwt['json_pointer']) : undefined;
  if (jwtPointer === undefined) return undefined;
  return { name, stableFieldIndex: index, eventPointer, jwtPointer };
}

/**
 * Parses decoded EXTRACTORS JSON. `null`/`undefined` means "not configured" (no fields anywhere).
 * Throws an `Error` listing every invalid event type; event types without fields are left out.
 */
export function parseExtractorConfig(value: unknown): ExtractorConfig {
  const config = new Map<string, readonly ExtractorField[]>();
  if (value === null || value === undefined) return config;
  if (!isObject(value)) {
    throw new Error('extractor configuration is expected to be a JSON object keyed by event type');
  }

  const errors: string[] = [];
  for (const [eventType, typeCfg] of Object.entries(value)) {
    if (!isObject(typeCfg)) {
      errors.push(`${eventType}: expected a JSON object keyed by field name`);
      continue;
    }
    const result = checkEventType(typeCfg);
    if (typeof result === 'string') errors.push(`${eventType}: ${result}`);
    else if (result.length > 0) config.set(eventType, result);
  }
  if (errors.length > 0) throw new Error(errors.join('; '));
  return config;
}
