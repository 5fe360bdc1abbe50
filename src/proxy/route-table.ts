/**
 * The shard's routes, compiled once per change of the API definitions (RIG spec 6.2):
 * - candidates are active APIs that are not `versioned`, endpoints of `version_data.default`;
 * - an endpoint matches when its method equals the request's and its anchored, case-insensitive
 *   `path_regex` matches the request path (without the query string);
 * - the first match wins, in API order, then endpoint order;
 * - `path_replacement` rewrites the path with the match's capture groups.
 *
 * HEAD: RIG turned HEAD into GET before routing (and forwarded it as GET). Here a HEAD request
 * matches HEAD endpoints first and GET endpoints otherwise, and is forwarded as HEAD (spec 13,
 * item 17).
 */
import { HTTP_TOKEN } from '../shared/http/header-rules.js';
import { compilePathRegex, renderReplacement, type PathMatcher } from '../shared/apis/path-regex.js';
import { isObject, type ApiDefinition, type Json, type JsonObject } from '../shared/apis/types.js';
import { resolveUpstream, type Upstream } from './upstream.js';

/** Where a secured endpoint takes its JWTs from (spec 6.3). */
export interface AuthPolicy {
  useHeader: boolean;
  /** Lower-case. */
  headerName: string;
  useQuery: boolean;
  queryName: string;
}

export interface Route {
  apiId: string;
  endpointId: string;
  method: string;
  /** The anchored, case-insensitive `path_regex` on the engine that bounds its cost. */
  matcher: PathMatcher;
  /** `path_replacement`, when non-empty. */
  replacement?: string;
  /** Present when the API has `auth_type: "jwt"` and the endpoint `secured: true`. */
  auth?: AuthPolicy;
  /** Lower-case; "http" unless the endpoint says otherwise. */
  target: string;
  responseFrom: string;
  /** `topic` of a kafka target ("" when absent: validation requires it for kafka). */
  topic: string;
  upstream: Upstream;
  /** `transform_request_headers.add_headers`, lower-case names, when the endpoint asks for them. */
  addHeaders: ReadonlyArray<readonly [string, string]>;
  /** The endpoint as configured and the API's `proxy.target_url`: what the request log names. */
  endpoint: JsonObject;
  targetUrl: string;
}

export interface RouteMatch {
  route: Route;
  /** The path to forward: the request path, or its rewrite. */
  path: string;
}

const UNSAFE_VALUE = /[\r\n\0]/;

export class RouteTable {
  private readonly byMethod = new Map<string, Route[]>();

  constructor(readonly routes: readonly Route[]) {
    for (const r of routes) {
      const list = this.byMethod.get(r.method);
      if (list) list.push(r);
      else this.byMethod.set(r.method, [r]);
    }
  }

  match(method: string, path: string): RouteMatch | undefined {
    return this.find(method, path) ?? (method === 'HEAD' ? this.find('GET', path) : undefined);
  }

  private find(method: string, path: string): RouteMatch | undefined {
    const candidates = this.byMethod.get(method);
    if (!candidates) return undefined;
    for (const route of candidates) {
      if (route.replacement === undefined) {
        if (route.matcher.test(path)) return { route, path };
        continue;
      }
      const m = route.matcher.exec(path);
      if (m) return { route, path: renderReplacement(route.replacement, m) };
    }
    return undefined;
  }
}

/**
 * Routes of the given definitions. Definitions were validated by main, so what is skipped here
 * (with a warning) is only what validation cannot know: an upstream whose use_env variable holds
 * no usable URL is kept and answered 502, a header that cannot be sent is left out.
 */
export function compileRoutes(apis: readonly ApiDefinition[], env: NodeJS.ProcessEnv): { table: RouteTable; warnings: string[] } {
  const routes: Route[] = [];
  const warnings: string[] = [];
  for (const api of apis) {
    if (api['active'] !== true || isTruthy(api['versioned'])) continue;
    const apiId = String(api['id']);
    const versionData = isObject(api['version_data']) ? api['version_data'] : {};
    const version = isObject(versionData['default']) ? versionData['default'] : {};
    const endpoints = Array.isArray(version['endpoints']) ? version['endpoints'] : [];
    const upstream = resolveUpstream(api['proxy'], env);
    if (!upstream.ok && endpoints.length > 0) warnings.push(`API ${apiId}: ${upstream.reason}; its requests are answered 502`);
    const auth = api['auth_type'] === 'jwt' ? authPolicy(api['auth']) : undefined;
    const headers = addHeaders(version, apiId, warnings);
    for (const raw of endpoints) {
      if (!isObject(raw) || typeof raw['method'] !== 'string' || typeof raw['path_regex'] !== 'string') continue;
      const compiled = compilePathRegex(raw['path_regex']);
      if (!compiled.ok) {
        warnings.push(`API ${apiId}, endpoint ${String(raw['id'])}: path_regex ${compiled.reason}; skipped`);
        continue;
      }
      const replacement = raw['path_replacement'];
      routes.push({
        apiId,
        endpointId: String(raw['id']),
        method: raw['method'].toUpperCase(),
        matcher: compiled.matcher,
        ...(typeof replacement === 'string' && replacement !== '' ? { replacement } : {}),
        ...(auth && raw['secured'] === true ? { auth } : {}),
        target: lowerOr(raw['target'], 'http'),
        responseFrom: lowerOr(raw['response_from'], 'http'),
        topic: typeof raw['topic'] === 'string' ? raw['topic'] : '',
        upstream,
        addHeaders: raw['transform_request_headers'] === true ? headers : [],
        endpoint: raw,
        targetUrl: isObject(api['proxy']) && typeof api['proxy']['target_url'] === 'string' ? api['proxy']['target_url'] : '',
      });
    }
  }
  return { table: new RouteTable(routes), warnings };
}

function authPolicy(auth: Json | undefined): AuthPolicy {
  const a: JsonObject = isObject(auth) ? auth : {};
  return {
    useHeader: a['use_header'] === true,
    headerName: typeof a['header_name'] === 'string' ? a['header_name'].toLowerCase() : '',
    useQuery: a['use_query'] === true,
    queryName: typeof a['query_name'] === 'string' ? a['query_name'] : '',
  };
}

function addHeaders(version: JsonObject, apiId: string, warnings: string[]): Array<readonly [string, string]> {
  const transform = version['transform_request_headers'];
  const add = isObject(transform) ? transform['add_headers'] : undefined;
  if (!isObject(add)) return [];
  const out: Array<readonly [string, string]> = [];
  for (const [name, raw] of Object.entries(add)) {
    const value = typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : undefined;
    if (!HTTP_TOKEN.test(name) || value === undefined || UNSAFE_VALUE.test(value)) {
      warnings.push(`API ${apiId}: add_headers entry ${JSON.stringify(name)} is not a valid header; left out`);
      continue;
    }
    out.push([name.toLowerCase(), value]);
  }
  return out;
}

function lowerOr(v: Json | undefined, fallback: string): string {
  return typeof v === 'string' ? v.toLowerCase() : fallback;
}

/** RIG dropped an API whose `versioned` was anything but absent, null or false. */
function isTruthy(v: Json | undefined): boolean {
  return v !== undefined && v !== null && v !== false;
}
