/**
 * Where an API's requests go (RIG spec 6.5): `proxy.target_url` and `proxy.port`, or with
 * `use_env: true` the environment variable named by `target_url` (unset: localhost). A value
 * without a scheme is a host name and means http; with a scheme only scheme and host are used (a
 * path in it is ignored, as RIG did). Resolved when routes are compiled, not per request: the
 * environment does not change while the gateway runs.
 */
import { isObject, type Json } from '../shared/apis/types.js';

export type Upstream =
  | { ok: true; origin: string; /** `<host>:<port>`, the Host header upstream sees. */ hostHeader: string }
  | { ok: false; reason: string };

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

export function resolveUpstream(proxy: Json | undefined, env: NodeJS.ProcessEnv): Upstream {
  if (!isObject(proxy) || typeof proxy['target_url'] !== 'string' || !Number.isInteger(proxy['port'])) {
    return { ok: false, reason: 'proxy.target_url or proxy.port is missing' };
  }
  const port = proxy['port'] as number;
  const target = proxy['use_env'] === true ? env[proxy['target_url']] ?? 'localhost' : proxy['target_url'];
  let scheme = 'http';
  let host: string;
  if (SCHEME.test(target)) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return { ok: false, reason: `target ${JSON.stringify(target)} is not a URL` };
    }
    scheme = url.protocol.slice(0, -1).toLowerCase();
    host = url.hostname;
  } else {
    // A bare host, perhaps with a path (dropped) or a port (proxy.port is the one used).
    host = target.split(/[/?#]/)[0]!;
    const colon = host.lastIndexOf(':');
    if (colon > 0 && !host.includes(']') && host.indexOf(':') === colon) host = host.slice(0, colon);
  }
  if (scheme !== 'http' && scheme !== 'https') return { ok: false, reason: `scheme ${scheme} is not supported (http, https)` };
  if (host === '') return { ok: false, reason: `target ${JSON.stringify(target)} names no host` };
  if (port < 0 || port > 65535) return { ok: false, reason: `port ${port} is out of range` };
  const origin = `${scheme}://${host}:${port}`;
  try {
    new URL(origin);
  } catch {
    return { ok: false, reason: `${JSON.stringify(origin)} is not a valid origin` };
  }
  return { ok: true, origin, hostHeader: `${host}:${port}` };
}
