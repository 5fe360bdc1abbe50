/**
 * JSON output the way RIG's internal API wrote it. RIG's JSON objects were Elixir maps, which are
 * ordered by key (byte order), so every object it returned (API definitions, validation error
 * maps) had its keys sorted. Clients comparing bodies byte for byte see the same bytes here.
 * JSON.stringify cannot be used for this: it puts integer-like keys ("10", "2") first, in numeric
 * order, whatever the insertion order.
 */
import type { Json } from './types.js';

export function sortedJson(value: Json | undefined): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => sortedJson(v)).join(',')}]`;
  const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort(compareBytes);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${sortedJson(value[k])}`).join(',')}}`;
}

/** Byte order of the UTF-8 encodings, as Erlang compares binaries. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
