/**
 * A shard's subscription table: which of its connections want which events (spec 5.4/5.5).
 *
 * Rows (one per constraint object) are bucketed by the same single interest key the main thread
 * routes on (see shared/subscriptions/interest.ts): all-wildcard rows per event type, every other
 * row under (type, first constrained field, value). Matching an event therefore only touches the
 * wildcard bucket and one bucket per non-null field value, and verifies those candidates fully.
 * Field buckets are JS Maps keyed by the raw scalar: Map's SameValueZero equality on JSON scalars
 * is exactly RIG's Erlang `==`, so no string is built per event.
 *
 * A bucket exists exactly while it has rows, so bucket creation/deletion is the 0->1 / 1->0
 * transition of the key's refcount that the main thread needs to hear about.
 */

import type { ExtractorConfig, ExtractorField } from '../shared/extractors/types.js';
import {
  compileRow,
  fieldKey,
  firstConstrained,
  wildcardKey,
  type RowValue,
  type Scalar,
} from '../shared/subscriptions/interest.js';
import type { FieldValue, Subscription } from '../shared/subscriptions/types.js';

/** Per-connection bookkeeping; rows point here so dedupe needs no lookup per candidate. */
interface Owner<C> {
  readonly conn: C;
  /** The last `match` call that delivered to this connection (at-most-once per event). */
  epoch: number;
  /** Set when removed while a `match` is running, so the rest of that call skips it. */
  dead: boolean;
  rows: Row<C>[];
}

interface Row<C> {
  readonly owner: Owner<C>;
  readonly values: readonly RowValue[];
  /** Where verification starts: earlier positions are wildcards or fixed by the bucket. */
  readonly verifyFrom: number;
  readonly bucket: Bucket<C>;
  /** Index in `bucket.rows`, for O(1) swap-removal. */
  pos: number;
}

interface Bucket<C> {
  readonly key: string;
  readonly type: TypeIndex<C>;
  /** -1 for the wildcard bucket. */
  readonly field: number;
  readonly value: Scalar | undefined;
  readonly rows: Row<C>[];
}

interface TypeIndex<C> {
  readonly eventType: string;
  readonly fieldCount: number;
  wildcard: Bucket<C> | undefined;
  readonly byField: Map<Scalar, Bucket<C>>[];
  rowCount: number;
}

const NO_FIELDS: readonly ExtractorField[] = [];

export class SubscriptionIndex<C extends object> {
  private readonly types = new Map<string, TypeIndex<C>>();
  private readonly owners = new Map<C, Owner<C>>();
  private epoch = 0;
  private rowTotal = 0;
  private keyTotal = 0;
  /** Nesting depth of `match`; mutations requested by a visitor are deferred until it is 0. */
  private matching = 0;
  private deferred: (() => void)[] = [];

  /**
   * `onInterest` is told when a key gains its first or loses its last row here; it must not call
   * back into this index.
   */
  constructor(
    private readonly cfg: ExtractorConfig,
    private readonly onInterest: (key: string, added: boolean) => void,
  ) {}

  /** Connections with at least one row. */
  get connectionCount(): number {
    return this.owners.size;
  }

  /** Rows across all connections (one per distinct constraint object of a connection). */
  get rowCount(): number {
    return this.rowTotal;
  }

  /** Distinct interest keys currently registered with the main thread. */
  get keyCount(): number {
    return this.keyTotal;
  }

  /**
   * Replaces all rows of `conn` at once. New rows are added before old ones are removed, so a key
   * both sets share never drops to zero and only real 0->1 / 1->0 changes are announced.
   */
  set(conn: C, subs: readonly Subscription[]): void {
    if (this.matching > 0) {
      this.deferred.push(() => this.set(conn, subs));
      return;
    }
    const old = this.owners.get(conn);
    const owner: Owner<C> = { conn, epoch: 0, dead: false, rows: [] };
    // Identical rows of one connection would only ever be skipped by the dedupe; RIG's ETS bag
    // stored them once as well.
    const seen = new Set<string>();
    for (const sub of subs) {
      const fields = this.cfg.get(sub.eventType) ?? NO_FIELDS;
      const constraints = sub.oneOf.length === 0 ? [{}] : sub.oneOf;
      for (const constraint of constraints) {
        const values = compileRow(fields, constraint);
        if (values === null) continue;
        const id = JSON.stringify([sub.eventType, values]);
        if (seen.has(id)) continue;
        seen.add(id);
        owner.rows.push(this.addRow(owner, sub.eventType, fields.length, values));
      }
    }
    if (old !== undefined) {
      old.dead = true;
      for (const row of old.rows) this.removeRow(row);
    }
    if (owner.rows.length > 0) this.owners.set(conn, owner);
    else this.owners.delete(conn);
  }

  /** Drops every row of `conn` (disconnect). */
  remove(conn: C): void {
    const owner = this.owners.get(conn);
    if (this.matching > 0) {
      // Deferred even when absent now: a `set` for this connection may be queued before us.
      if (owner !== undefined) owner.dead = true;
      this.deferred.push(() => this.remove(conn));
      return;
    }
    if (owner === undefined) return;
    owner.dead = true;
    this.owners.delete(conn);
    for (const row of owner.rows) this.removeRow(row);
  }

  /**
   * Calls `visit` once for every connection with at least one row matching the event, and
   * returns how many were visited. `values` is `extractFieldValues`' result for the event.
   * `visit` may call `set`/`remove`; those take effect when this call returns.
   */
  match(eventType: string, values: readonly FieldValue[] | undefined, visit: (conn: C) => void): number {
    const type = this.types.get(eventType);
    if (type === undefined) return 0;
    const epoch = ++this.epoch;
    let count = 0;
    this.matching++;
    try {
      if (type.wildcard !== undefined) count += this.deliver(type.wildcard.rows, values, epoch, visit);
      if (values !== undefined) {
        const n = Math.min(type.fieldCount, values.length);
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (v === null || v === undefined) continue;
          const bucket = type.byField[i]!.get(v);
          if (bucket !== undefined) count += this.deliver(bucket.rows, values, epoch, visit);
        }
      }
    } finally {
      if (--this.matching === 0 && this.deferred.length > 0) this.runDeferred();
    }
    return count;
  }

  private deliver(
    rows: readonly Row<C>[],
    values: readonly FieldValue[] | undefined,
    epoch: number,
    visit: (conn: C) => void,
  ): number {
    let count = 0;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      const owner = row.owner;
      if (owner.epoch === epoch || owner.dead) continue;
      // The bucket already guarantees every field before `verifyFrom`.
      const rv = row.values;
      let ok = true;
      for (let i = row.verifyFrom; i < rv.length; i++) {
        const want = rv[i];
        if (want !== undefined && (values === undefined || values[i] !== want)) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      owner.epoch = epoch;
      count++;
      visit(owner.conn);
    }
    return count;
  }

  private runDeferred(): void {
    const queue = this.deferred;
    this.deferred = [];
    for (const op of queue) op();
  }

  private addRow(owner: Owner<C>, eventType: string, fieldCount: number, values: RowValue[]): Row<C> {
    let type = this.types.get(eventType);
    if (type === undefined) {
      type = { eventType, fieldCount, wildcard: undefined, byField: [], rowCount: 0 };
      for (let i = 0; i < fieldCount; i++) type.byField.push(new Map());
      this.types.set(eventType, type);
    }
    const first = firstConstrained(values);
    let bucket: Bucket<C> | undefined;
    if (first < 0) {
      bucket = type.wildcard;
      if (bucket === undefined) {
        bucket = this.newBucket(type, wildcardKey(eventType), -1, undefined);
        type.wildcard = bucket;
      }
    } else {
      const value = values[first]!;
      const map = type.byField[first]!;
      bucket = map.get(value);
      if (bucket === undefined) {
        bucket = this.newBucket(type, fieldKey(eventType, first, value), first, value);
        map.set(value, bucket);
      }
    }
    // All-wildcard rows need no verification at all.
    const verifyFrom = first < 0 ? values.length : first + 1;
    const row: Row<C> = { owner, values, verifyFrom, bucket, pos: bucket.rows.length };
    bucket.rows.push(row);
    type.rowCount++;
    this.rowTotal++;
    return row;
  }

  private newBucket(type: TypeIndex<C>, key: string, field: number, value: Scalar | undefined): Bucket<C> {
    this.keyTotal++;
    this.onInterest(key, true);
    return { key, type, field, value, rows: [] };
  }

  private removeRow(row: Row<C>): void {
    const bucket = row.bucket;
    const rows = bucket.rows;
    const last = rows.pop()!;
    if (last !== row) {
      rows[row.pos] = last;
      last.pos = row.pos;
    }
    const type = bucket.type;
    type.rowCount--;
    this.rowTotal--;
    if (rows.length === 0) {
      if (bucket.field < 0) type.wildcard = undefined;
      else type.byField[bucket.field]!.delete(bucket.value!);
      this.keyTotal--;
      this.onInterest(bucket.key, false);
    }
    // Event types nobody subscribes to any more are forgotten (cheap drop path in `match`).
    if (type.rowCount === 0) this.types.delete(type.eventType);
  }
}
