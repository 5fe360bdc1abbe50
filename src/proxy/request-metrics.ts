/**
 * `rig_proxy_requests_total` on the shard: the proxy counts each request once, where it decides
 * the outcome (./proxy.ts, ./targets/http-target.ts); the shard sends what was counted since the
 * last time to main (`takeDelta`, at most once a second), which keeps the totals. Counting is a
 * string key and a Map lookup; nothing is sent while nothing was counted.
 */
import type { ProxyRequestCount } from '../shared/channel/messages.js';
import { MAX_PROXY_LABEL_SETS, NOT_APPLICABLE, ProxyRequestTable } from '../shared/metrics/proxy-request-table.js';

/**
 * RIG's statuses (spec 10.1), plus `unauthorized` (a secured endpoint refused the JWT; RIG did not
 * count these) and `not_implemented` (a target or response_from this version does not serve yet).
 * `ok` means the upstream's response started, whatever its status: the proxy did its part.
 */
export type ProxyRequestStatus =
  | 'ok' | 'bad_request' | 'unauthorized' | 'not_found' | 'unreachable' | 'request_timeout' | 'response_timeout' | 'not_implemented';

export { NOT_APPLICABLE };

/**
 * Holds only what was counted since the last report: main keeps the totals and applies the cap
 * that matters (label sets ever seen). The cap here bounds one report: more distinct label sets
 * than that within one second fold into path "(other)" already in the shard.
 */
export class ProxyRequestCounter {
  private readonly table: ProxyRequestTable;

  constructor(maxLabelSets = MAX_PROXY_LABEL_SETS) {
    this.table = new ProxyRequestTable(maxLabelSets);
  }

  count(method: string, path: string, target: string, responseFrom: string, status: ProxyRequestStatus): void {
    this.table.add(method, path, target, responseFrom, status, 1);
  }

  /** What was counted since the previous call, or undefined when nothing was. */
  takeDelta(): ProxyRequestCount[] | undefined {
    if (this.table.size === 0) return undefined;
    const out: ProxyRequestCount[] = [];
    for (const row of this.table.rows()) out.push([row.method, row.path, row.target, row.responseFrom, row.status, row.count]);
    this.table.clear();
    return out;
  }
}
