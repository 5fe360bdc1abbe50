/**
 * The events the gateway itself sends to clients (connection created, subscriptions set, session
 * killed, connection closed). RIG emits them as CloudEvents 0.2 with alphabetically ordered keys
 * and a microsecond RFC 3339 time; clients written against RIG parse exactly that shape, so the
 * JSON text is built by hand in that order rather than left to object-key order.
 */

import { randomUUID } from 'node:crypto';

export const RIG_EVENT_TYPES = {
  connectionCreate: 'rig.connection.create',
  subscriptionsSet: 'rig.subscriptions_set',
  sessionKilled: 'rig.session_killed',
  connectionClosed: 'rig.connection.closed',
} as const;

export interface SubscriptionSummary {
  readonly eventType: string;
  readonly oneOf: ReadonlyArray<unknown>;
}

/** A 0.2 event from source "rig"; `data` is omitted when undefined. */
export function rigEvent(type: string, data?: unknown): string {
  const head = data === undefined ? '{' : `{"data":${JSON.stringify(data)},`;
  return `${head}"id":"${randomUUID()}","source":"rig","specversion":"0.2","time":"${rfc3339Micros()}","type":${JSON.stringify(type)}}`;
}

export function connectionCreateEvent(token: string): string {
  return rigEvent(RIG_EVENT_TYPES.connectionCreate, { connection_token: token });
}

export function subscriptionsSetEvent(subs: ReadonlyArray<SubscriptionSummary>): string {
  return rigEvent(
    RIG_EVENT_TYPES.subscriptionsSet,
    subs.map((s) => ({ eventType: s.eventType, oneOf: s.oneOf })),
  );
}

export function sessionKilledEvent(): string {
  return rigEvent(RIG_EVENT_TYPES.sessionKilled);
}

/** Not in RIG: tells the client why the gateway is ending its stream (slow consumer, shutdown). */
export function connectionClosedEvent(reason: string, message: string): string {
  return rigEvent(RIG_EVENT_TYPES.connectionClosed, { reason, message });
}

// performance.now() gives the sub-millisecond digits Date lacks, but it is monotonic: after a wall
// clock step the two drift apart, so the origin is re-anchored to Date.now() when they disagree.
let origin = performance.timeOrigin;

/** e.g. `2019-03-27T11:53:18.435690+00:00` */
export function rfc3339Micros(): string {
  const mono = performance.now();
  const wall = Date.now();
  let ms = origin + mono;
  if (ms < wall - 1 || ms > wall + 2) {
    origin = wall - mono;
    ms = wall;
  }
  const micros = Math.floor(ms * 1000);
  const seconds = new Date(Math.floor(micros / 1_000_000) * 1000).toISOString().slice(0, 19);
  return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}+00:00`;
}
