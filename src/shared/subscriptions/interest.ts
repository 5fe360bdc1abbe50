/**
 * Interest keys: the contract between the main thread (which routes each event only to shards
 * that may have a matching subscription) and the shards (which announce the keys their
 * subscription rows need). The invariant: every key a row is registered under is among the
 * `eventInterestKeys` of each event that row matches. Over-approximation is fine (the shard still
 * matches exactly); under-approximation would lose events.
 *
 * A row registers ONE key: the type's wildcard key when it constrains no configured field,
 * otherwise the key of its first constrained field, because a matching event must carry exactly
 * that value there.
 */

import type { ExtractorField } from '../extractors/types.js';
import type { FieldValue } from './types.js';

/** A scalar a row can require; equality of these is RIG's (Erlang term) equality. */
export type Scalar = string | number | boolean;

/** A compiled row value per configured field: `undefined` is the wildcard. */
export type RowValue = Scalar | undefined;

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Equal strings exactly for values RIG considers equal. JSON scalars in Erlang compare like JS's
 * SameValueZero: 1 == 1.0 (one JS number anyway, and `String(-0)` is "0" just as 0 == -0.0),
 * "1" differs from 1, `true` from "true". The type tag keeps the domains apart.
 */
export function canonicalValue(v: Scalar): string {
  switch (typeof v) {
    case 'string':
      return 's' + v;
    case 'number':
      return 'n' + String(v);
    default:
      return v ? 't' : 'f';
  }
}

// Keys start with the event type's length, so no event type or value, whatever characters it
// contains, can make two different (type, field, value) triples produce the same string.

/** The key under which rows constraining no configured field of `eventType` are registered. */
export function wildcardKey(eventType: string): string {
  return `${eventType.length}:${eventType}*`;
}

/** The key of rows whose first constrained field is at `fieldPos` and requires `value`. */
export function fieldKey(eventType: string, fieldPos: number, value: Scalar): string {
  return `${eventType.length}:${eventType}${fieldPos}=${canonicalValue(value)}`;
}

/**
 * All keys a row matching this event can be registered under: the wildcard key plus one key per
 * non-null field value. `values` is `extractFieldValues`' result (`undefined`: no fields).
 */
export function eventInterestKeys(eventType: string, values: readonly FieldValue[] | undefined): string[] {
  const keys = [wildcardKey(eventType)];
  if (values !== undefined) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v !== null && v !== undefined) keys.push(fieldKey(eventType, i, v));
    }
  }
  return keys;
}

/**
 * Compiles one constraint object into a row: one value per configured field (in field order).
 * A missing or `null` constraint value is a wildcard; keys that are not configured fields are
 * ignored. Returns `null` for a row that can never match, i.e. one requiring an object or array
 * (extraction never yields those).
 */
export function compileRow(
  fields: readonly ExtractorField[] | undefined,
  constraint: Readonly<Record<string, unknown>>,
): RowValue[] | null {
  const n = fields === undefined ? 0 : fields.length;
  const row = new Array<RowValue>(n);
  for (let i = 0; i < n; i++) {
    const name = fields![i]!.name;
    // Own properties only: a field named e.g. "constructor" must not read Object.prototype.
    const v = hasOwn.call(constraint, name) ? constraint[name] : undefined;
    if (v === undefined || v === null) {
      row[i] = undefined;
    } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      row[i] = v;
    } else {
      return null;
    }
  }
  return row;
}

/** Position of the row's first constrained field, or -1 for an all-wildcard row. */
export function firstConstrained(row: readonly RowValue[]): number {
  for (let i = 0; i < row.length; i++) if (row[i] !== undefined) return i;
  return -1;
}

/** The single interest key a compiled row is registered under. */
export function rowInterestKey(eventType: string, row: readonly RowValue[]): string {
  const p = firstConstrained(row);
  return p < 0 ? wildcardKey(eventType) : fieldKey(eventType, p, row[p]!);
}

/** Spec 5.4, step 4: every field is a wildcard or equals the event's (non-null) value. */
export function rowMatches(row: readonly RowValue[], values: readonly FieldValue[] | undefined): boolean {
  for (let i = 0; i < row.length; i++) {
    const r = row[i];
    if (r === undefined) continue;
    // `===` on JS scalars is SameValueZero here (no NaN in JSON): exactly Erlang's `==` for them.
    if (values === undefined || values[i] !== r) return false;
  }
  return true;
}
