/**
 * Which headers belong to one connection rather than to the message (RFC 9110 7.6.1), and what a
 * header name may look like: the rules the proxy (both directions) and asynchronous replies
 * (POST /v3/responses, Kafka reply records) apply when they pass headers on.
 */

/** RIG's hop-by-hop list plus RFC 9110's `te` and `trailer`. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'te', 'trailer',
]);

/** RFC 9110 token: the characters a field name may have. */
export const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The header names the given `connection` header values list (lower-case): hop-by-hop too. */
export function connectionListed(values: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const v of values) for (const n of v.split(',')) if (n.trim() !== '') names.add(n.trim().toLowerCase());
  return names;
}
