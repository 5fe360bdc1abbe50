/**
 * Parsing of client-supplied subscription lists (spec 5.1): the `subscriptions` query parameter of
 * SSE/WS/long-polling connects and the body of the subscriptions PUT. Key aliases, the order in
 * which they are looked up and the error texts are RIG's, because clients may match on them.
 * A list is all-or-nothing: the first invalid entry rejects the whole request.
 */

import { err } from '../errors.js';
import { jsonForMessage, nestsDeeperThan } from '../json-depth.js';
import type { Subscription } from './types.js';

/**
 * Bounds on what one list may ask for (MAX_SUBSCRIPTIONS_PER_CONNECTION and friends): a list is
 * parsed once but its rows live in the subscription index for the connection's lifetime and are
 * verified per event, so their number is memory and CPU a client could otherwise claim at will.
 */
export interface SubscriptionLimits {
  readonly maxSubscriptions: number;
  readonly maxConstraints: number;
  readonly maxFields: number;
}

/** The limits as configured. */
export function subscriptionLimitsOf(config: {
  maxSubscriptionsPerConnection: number;
  maxConstraintsPerSubscription: number;
  maxFieldsPerConstraint: number;
}): SubscriptionLimits {
  return {
    maxSubscriptions: config.maxSubscriptionsPerConnection,
    maxConstraints: config.maxConstraintsPerSubscription,
    maxFields: config.maxFieldsPerConstraint,
  };
}

const NO_LIMITS: SubscriptionLimits = { maxSubscriptions: Infinity, maxConstraints: Infinity, maxFields: Infinity };

/** A subscription list (or one of its entries) that RIG would have rejected. */
export class SubscriptionParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SubscriptionParseError';
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Thrown inside `parseEntry` and turned into RIG's "invalid subscription" message. */
class EntryError {
  constructor(readonly reason: string) {}
}

// RIG checks the snake_case spellings first, so they win when an entry has both.
const EVENT_TYPE_KEYS = ['event_type', 'eventType'] as const;
const CONSTRAINT_KEYS = ['constraints', 'one_of', 'oneOf'] as const;

/**
 * Deepest nesting accepted inside a list entry. JSON.parse takes any depth, but everything after
 * it that walks a value (JSON.stringify for error texts, de-duplication, the structured clone of a
 * PUT forwarded to another shard) recurses and overflows the stack at a few thousand levels. Match
 * values are scalars, so no real subscription comes near this.
 */
export const MAX_ENTRY_DEPTH = 32;

function firstPresent(entry: Record<string, unknown>, keys: readonly string[]): { value: unknown } | undefined {
  for (const k of keys) if (hasOwn.call(entry, k)) return { value: entry[k] };
  return undefined;
}

function parseEntry(entry: unknown, limits: SubscriptionLimits): Subscription {
  if (!isObject(entry)) throw new EntryError('not a map');
  if (nestsDeeperThan(entry, MAX_ENTRY_DEPTH)) throw new EntryError(`nested deeper than ${MAX_ENTRY_DEPTH} levels`);

  const eventType = firstPresent(entry, EVENT_TYPE_KEYS);
  if (eventType === undefined) throw new EntryError('event-type not found');
  // A present but non-string event type (e.g. 123 or null) is reported as "empty", as in RIG.
  if (typeof eventType.value !== 'string' || eventType.value === '') throw new EntryError('event-type empty');

  // Absent means "all events of the type"; an explicit `null` is not absent and is rejected.
  const given = firstPresent(entry, CONSTRAINT_KEYS);
  const oneOf: unknown = given === undefined ? [] : given.value;
  if (!Array.isArray(oneOf)) throw new EntryError('constraints expected to be a list of disjunctive clauses');
  if (oneOf.length > limits.maxConstraints) {
    throw err.subscriptionLimit(`a subscription of "${eventType.value.slice(0, 40)}" has ${oneOf.length} constraint objects, the limit is ${limits.maxConstraints} (MAX_CONSTRAINTS_PER_SUBSCRIPTION)`);
  }
  for (const clause of oneOf) {
    if (!isObject(clause)) {
      throw new EntryError('a disjunctive clause expected to be a conjunction represented by a map');
    }
    // JSON object keys are always strings, so the only way to fail RIG's key check is "".
    if (hasOwn.call(clause, '')) {
      throw new EntryError('conjunctive clauses expected to be a map with nonempty strings as keys');
    }
    const fields = Object.keys(clause).length;
    if (fields > limits.maxFields) {
      throw err.subscriptionLimit(`a constraint object of "${eventType.value.slice(0, 40)}" has ${fields} fields, the limit is ${limits.maxFields} (MAX_FIELDS_PER_CONSTRAINT)`);
    }
  }
  return { eventType: eventType.value, oneOf: oneOf as Subscription['oneOf'] };
}

/**
 * Parses decoded JSON: a bare array (query-parameter form) or `{"subscriptions": [...]}` (body
 * form). `null`/`undefined` means "no subscriptions given". Output entries are normalized to
 * `{eventType, oneOf}`; constraint objects are kept as given.
 *
 * Over a limit it throws the GatewayError GW_ERR_SUBSCRIPTION_LIMIT (not a SubscriptionParseError:
 * the list is valid, just too big, and the answer says which limit). The gateway's handlers always
 * pass the configured limits; without them nothing is bounded.
 */
export function parseSubscriptionList(value: unknown, limits: SubscriptionLimits = NO_LIMITS): Subscription[] {
  if (value === null || value === undefined) return [];
  let list: unknown = value;
  if (isObject(value)) list = hasOwn.call(value, 'subscriptions') ? value['subscriptions'] : undefined;
  if (!Array.isArray(list)) throw new SubscriptionParseError('subscriptions is expected to be a JSON encoded list');
  // Checked before any entry is looked at, so an oversized list costs no per-entry work.
  if (list.length > limits.maxSubscriptions) {
    throw err.subscriptionLimit(`${list.length} subscriptions given, the limit is ${limits.maxSubscriptions} (MAX_SUBSCRIPTIONS_PER_CONNECTION)`);
  }

  return list.map((entry: unknown) => {
    try {
      return parseEntry(entry, limits);
    } catch (e) {
      if (!(e instanceof EntryError)) throw e;
      throw new SubscriptionParseError(`invalid subscription: ${e.reason} when parsing ${jsonForMessage(entry)}`);
    }
  });
}

/** JSON text with object keys sorted, so structurally equal values compare equal as strings. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * Drops every subscription deep-equal to an earlier one (first occurrence wins, order kept), as
 * RIG does for the JWT-inferred ++ query-parameter list of a connect. Key order inside constraint
 * objects does not matter; the order of `oneOf` entries does.
 */
export function dedupeSubscriptions(list: Subscription[]): Subscription[] {
  const seen = new Set<string>();
  const out: Subscription[] = [];
  for (const s of list) {
    const id = `${JSON.stringify(s.eventType)}:${stableJson(s.oneOf)}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(s);
  }
  return out;
}
