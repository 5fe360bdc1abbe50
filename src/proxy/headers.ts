/**
 * Headers on the way to the upstream and back (RIG spec 6.4), as pure functions.
 *
 * Request: the client's headers (uWS gives them lower-case) minus the hop-by-hop ones (RIG's list
 * plus RFC 9110's `te` and `trailer`, and every name the Connection header lists), minus `expect`
 * (the gateway answers 100-continue itself) and, when no body is forwarded, `content-length`;
 * then `host: <upstream host>:<port>` and `forwarded: for=<client>;by=<HOST's address>` (plus
 * `;proto=https` for requests that came in over TLS) replace
 * whatever the client sent; then the endpoint's `add_headers` replace or add their headers.
 * add_headers come last so that a configured `host` reaches the upstream, as RIG's test of the
 * feature expects. Everything else, Authorization and cookies included, is forwarded.
 *
 * Response: the upstream's headers minus hop-by-hop ones, minus `content-length` and `date`,
 * which uWS writes itself for the framing it uses.
 */
import { connectionListed, HOP_BY_HOP } from '../shared/http/header-rules.js';
import type { Headers } from '../shared/http/uws-http.js';

export interface UpstreamHeaderOptions {
  hostHeader: string;
  forwarded: string;
  addHeaders: ReadonlyArray<readonly [string, string]>;
  /** false: the request body is not forwarded, so its length must not be announced either. */
  withBody: boolean;
}

/** The upstream request's headers, flat (`[name, value, name, value, ...]`) as undici takes them. */
export function upstreamRequestHeaders(client: Headers, o: UpstreamHeaderOptions): string[] {
  const dropped = connectionListed(client.filter(([k]) => k === 'connection').map(([, v]) => v));
  for (const name of ['host', 'forwarded', 'expect']) dropped.add(name);
  if (!o.withBody) dropped.add('content-length');
  const out: Array<readonly [string, string]> = client.filter(([k]) => !dropped.has(k) && !HOP_BY_HOP.has(k));
  out.push(['host', o.hostHeader], ['forwarded', o.forwarded]);
  for (const [name, value] of o.addHeaders) {
    // Framing headers are the gateway's business; a configured one would break the exchange.
    if (HOP_BY_HOP.has(name) || name === 'content-length' || name === 'expect') continue;
    for (let i = out.length - 1; i >= 0; i--) if (out[i]![0] === name) out.splice(i, 1);
    out.push([name, value]);
  }
  return out.flat();
}

/** The upstream response's headers for the client, lower-case names, repeated ones kept. */
export function clientResponseHeaders(upstream: Record<string, string | string[] | undefined>): Array<[string, string]> {
  const connection = upstream['connection'];
  const dropped = connectionListed(connection === undefined ? [] : [connection].flat());
  dropped.add('content-length');
  dropped.add('date');
  const out: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name) || dropped.has(name)) continue;
    for (const v of [value].flat()) out.push([name, v]);
  }
  return out;
}

/**
 * `forwarded: for=<client>;by=<gateway>` (RFC 7239: IPv6 addresses bracketed and quoted), as RIG
 * sent it; a request that came in over TLS adds `;proto=https`, so the upstream knows the client
 * used HTTPS (RIG's header said nothing about the scheme; plain HTTP keeps RIG's exact value).
 */
export function forwardedHeader(clientIp: string, hostIp: string, scheme: 'http' | 'https' = 'http'): string {
  const base = `for=${forwardedNode(clientIp)};by=${forwardedNode(hostIp)}`;
  return scheme === 'https' ? `${base};proto=https` : base;
}

function forwardedNode(ip: string): string {
  const address = clientAddress(ip);
  if (address === '' || address === 'unknown') return 'unknown';
  return address.includes(':') ? `"[${address}]"` : address;
}

/** A peer address as people write it: an IPv4 client on a dual-stack socket (::ffff:a.b.c.d) as a.b.c.d. */
export function clientAddress(ip: string): string {
  if (!ip.includes(':')) return ip;
  const mapped = /^(?:0{0,4}:){0,5}(?:0{0,4}:)?ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1]! : ip;
}
