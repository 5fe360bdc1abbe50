/**
 * The headers of a reply to a waiting proxied request (RIG spec 6.9), whichever way it arrives: a
 * record on a PROXY_KAFKA_RESPONSE_TOPICS topic (src/main/kafka/reply-consumer.ts) or a
 * `POST /v3/responses` request (spec 3.5). Both use RIG's "binary mode":
 *
 * - `rig-correlation` (required): the correlation token of the waiting request.
 * - `rig-response-code` (required): the status for the waiting client, a decimal integer 100..599.
 * - every other header: a response header for the waiting client, lower-cased, except headers that
 *   describe the transport the reply came over rather than the reply: hop-by-hop headers (and the
 *   names a `connection` header lists), `content-length` and `transfer-encoding` (the gateway
 *   frames the client response itself), `host`, `expect` and `date` (uWS writes its own). RIG
 *   copied all of them (spec 13, item 12). A name that is not an HTTP token, or a value with
 *   control characters, is dropped too: it cannot be written into a response.
 *
 * Errors carry RIG's texts for the HTTP path, `Failed to parse request body: <inspected error>`,
 * so that clients matching on them keep working. Names are matched in any case.
 */
import { connectionListed, HOP_BY_HOP, HTTP_TOKEN } from '../http/header-rules.js';

export interface ReplyHead {
  correlation: string;
  status: number;
  headers: Array<[string, string]>;
}

export interface ReplyHeadersError {
  reason: 'missing-correlation' | 'missing-response-code' | 'not-an-integer' | 'status-out-of-range';
  /** The 400 body of `POST /v3/responses`. */
  message: string;
}

export type ReplyHeadersResult = ({ ok: true } & ReplyHead) | ({ ok: false } & ReplyHeadersError);

export const CORRELATION_HEADER = 'rig-correlation';
export const RESPONSE_CODE_HEADER = 'rig-response-code';

const NOT_FORWARDED = new Set(['content-length', 'host', 'expect', 'date', CORRELATION_HEADER, RESPONSE_CODE_HEADER]);
/** Control characters other than horizontal tab may not appear in a field value. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

const PREFIX = 'Failed to parse request body: ';

export function parseReplyHeaders(headers: ReadonlyArray<readonly [string, string]>): ReplyHeadersResult {
  const lower = headers.map(([name, value]) => [name.toLowerCase(), value] as const);
  const first = (name: string) => lower.find(([n]) => n === name)?.[1];

  const correlation = first(CORRELATION_HEADER)?.trim();
  // RIG's parser matched on both headers at once and reported a missing one as a bare :error.
  if (correlation === undefined || correlation === '') return fail('missing-correlation', ':error');
  const code = first(RESPONSE_CODE_HEADER);
  if (code === undefined) return fail('missing-response-code', ':error');
  if (!/^[+-]?\d+$/.test(code)) return fail('not-an-integer', `{:error, {:not_an_integer, ${elixirString(code)}}}`);
  const status = Number(code);
  // Not a RIG text: RIG passed any integer on and failed when writing the response.
  if (!(status >= 100 && status <= 599)) return fail('status-out-of-range', `{:error, {:invalid_status, ${BigInt(code)}}}`);

  const dropped = connectionListed(lower.filter(([name]) => name === 'connection').map(([, value]) => value));
  const out: Array<[string, string]> = [];
  for (const [name, raw] of lower) {
    if (HOP_BY_HOP.has(name) || NOT_FORWARDED.has(name) || dropped.has(name) || !HTTP_TOKEN.test(name)) continue;
    const value = raw.trim();
    if (CONTROL.test(value)) continue;
    out.push([name, value]);
  }
  return { ok: true, correlation, status, headers: out };
}

function fail(reason: ReplyHeadersError['reason'], inspected: string): { ok: false } & ReplyHeadersError {
  return { ok: false, reason, message: PREFIX + inspected };
}

/** A string as Elixir's inspect shows it: double-quoted, `"` and `\` escaped, control bytes as \xNN. */
function elixirString(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/gi, (_, hex: string) => `\\x${hex.toUpperCase()}`);
}
