/**
 * Counts of `rig_proxy_requests_total` by label set, with a cap on the number of label sets.
 * Used on both sides of the channel: a shard counts here what it reports next (proxy/request-
 * metrics.ts; emptied after each report), main keeps the totals here (main/metrics/registry.ts).
 *
 * The path label is the raw request path, so a scanner trying random URLs would add a label set
 * per request and grow memory (and every scrape) without end. Once `maxLabelSets` label sets
 * exist, a new one is folded into path "(other)", and its method into "(other)" too unless it is
 * a standard HTTP method (any token is a method to uWS). The folded sets are few (methods x
 * targets x response_from values x statuses) and always accepted, so no request goes uncounted.
 */

/** Label value of `target` and `response_from` when no route matched. */
export const NOT_APPLICABLE = 'N/A';
/** Path (and non-standard method) of the label sets counted beyond the cap. */
export const OTHER = '(other)';
/** Distinct label sets kept (in main; in a shard per report) before new ones are folded. */
export const MAX_PROXY_LABEL_SETS = 1000;

const STANDARD_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

export interface ProxyRequestRow {
  readonly method: string;
  readonly path: string;
  readonly target: string;
  readonly responseFrom: string;
  readonly status: string;
  count: number;
}

export class ProxyRequestTable {
  private readonly byKey = new Map<string, ProxyRequestRow>();

  constructor(private readonly maxLabelSets: number = MAX_PROXY_LABEL_SETS) {}

  /** Adds `n` to the label set's row (created, or folded when the cap is reached); returns the row. */
  add(method: string, path: string, target: string, responseFrom: string, status: string, n: number): ProxyRequestRow {
    // Method (an HTTP token) and status (a fixed word) hold no spaces; target and response_from
    // come from API definitions and may, so they carry their length. The key is unambiguous.
    const key = `${method} ${status} ${target.length}:${target} ${responseFrom.length}:${responseFrom} ${path}`;
    let row = this.byKey.get(key);
    if (row === undefined) {
      if (this.byKey.size >= this.maxLabelSets) {
        const foldedMethod = STANDARD_METHODS.has(method) ? method : OTHER;
        if (path !== OTHER || method !== foldedMethod) return this.add(foldedMethod, OTHER, target, responseFrom, status, n);
      }
      row = { method, path, target, responseFrom, status, count: 0 };
      this.byKey.set(key, row);
    }
    row.count += n;
    return row;
  }

  rows(): IterableIterator<ProxyRequestRow> {
    return this.byKey.values();
  }

  clear(): void {
    this.byKey.clear();
  }

  get size(): number {
    return this.byKey.size;
  }
}
