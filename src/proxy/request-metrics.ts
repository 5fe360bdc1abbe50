/**
 * `rig_proxy_requests_total` on the shard: the proxy counts each request once, where it decides
 * the outcome (./proxy.ts, ./targets/http-target.ts); the shard sends what was counted since the
 * last time to main (`takeDelta`, at most once a second), which keeps the totals. Counting is a
 * string key and a Map lookup; nothing is sent while nothing was counted.
 */
import type { ProxyRequestCount } from '../shared/channel/messages.js';
import { MAX_PROXY_LABEL_SETS, NOT_APPLICABLE, ProxyRequestTable, type ProxyRequestRow } from '../shared/metrics/proxy-request-table.js';

/**
 * RIG's statuses (spec 10.1), plus `unauthorized` (a secured endpoint refused the JWT; RIG did not
 * count these) and `not_implemented` (a target or response_from this version does not serve yet).
 * `ok` means the upstream's response started, whatever its status: the proxy did its part.
 */
export type ProxyRequestStatus =
  | 'ok' | 'bad_request' | 'unauthorized' | 'not_found' | 'unreachable' | 'request_timeout' | 'response_timeout' | 'not_implemented';

export { NOT_APPLICABLE };

export class ProxyRequestCounter {
  /** Label sets seen by this shard; `count` is what was counted since the last delta. */
  private readonly table: ProxyRequestTable;
  /** Rows whose count went from 0 to 1 since the last delta. */
  private dirty: ProxyRequestRow[] = [];

  constructor(maxLabelSets = MAX_PROXY_LABEL_SETS) {
    this.table = new ProxyRequestTable(maxLabelSets);
  }

  count(method: string, path: string, target: string, responseFrom: string, status: ProxyRequestStatus): void {
    const row = this.table.add(method, path, target, responseFrom, status, 1);
    if (row.count === 1) this.dirty.push(row);
  }

  /** What was counted since the previous call, or undefined when nothing was. */
  takeDelta(): ProxyRequestCount[] | undefined {
    if (this.dirty.length === 0) return undefined;
    const out: ProxyRequestCount[] = [];
    for (const row of this.dirty) {
      out.push([row.method, row.path, row.target, row.responseFrom, row.status, row.count]);
      row.count = 0;
    }
    this.dirty = [];
    return out;
  }
}
