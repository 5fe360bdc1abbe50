/**
 * How a valid API definition becomes a stored one (RIG spec 6.1.2 and 3.2): defaults on create,
 * a shallow merge on update, a tombstone on delete. Each returns a new object; inputs are not
 * changed (they may be frozen configuration).
 *
 * One deliberate difference from RIG (spec 13, item 18): endpoint methods are upper-cased however
 * the definition arrives. RIG did it only for PROXY_CONFIG_FILE, so a method "get" posted to the
 * internal API never matched a request.
 */
import { isObject, type ApiDefinition, type Json, type JsonObject } from './types.js';

export interface WriteMeta {
  /** This node's name (NODE_ID), recorded as `node_name`. */
  nodeName: string;
  /** ISO-8601 time of the change, recorded as `timestamp`. */
  now: string;
}

/**
 * Create (file load, POST, re-create of a deleted id): the definition shallow-merged over the
 * defaults, `node_name` set. With `auth_type: "jwt"` the header is forced to Authorization; the
 * query settings are kept (RIG's rule: an `auth.header_name` given on create is overwritten, only
 * an update can change it).
 */
export function withDefaults(def: JsonObject, meta: WriteMeta): ApiDefinition {
  const api: ApiDefinition = {
    active: true,
    auth_type: 'none',
    auth: { use_header: false, header_name: '', use_query: false, query_name: '' },
    proxy: { use_env: false },
    ref_number: 0,
    timestamp: meta.now,
    versioned: false,
    ...clone(def),
    node_name: meta.nodeName,
  };
  const auth: JsonObject = isObject(api['auth']) ? { ...api['auth'] } : {};
  if (api['auth_type'] === 'jwt') {
    auth['use_header'] = true;
    auth['header_name'] = 'Authorization';
  }
  api['auth'] = auth;
  return upperCaseMethods(api);
}

/** Re-create over a deleted definition: defaults again, `ref_number` one past the old one. */
export function replaced(previous: ApiDefinition, def: JsonObject, meta: WriteMeta): ApiDefinition {
  return { ...withDefaults(def, meta), ref_number: refNumber(previous) + 1 };
}

/**
 * Update: the top-level keys of `params` replace the stored ones (no defaults), `ref_number` is
 * incremented (from the merged value, as RIG did, so a client sending back a fetched definition
 * bumps its number), `timestamp` and `node_name` are set.
 */
export function updated(current: ApiDefinition, params: JsonObject, meta: WriteMeta): ApiDefinition {
  const merged: ApiDefinition = { ...current, ...clone(params) };
  const base = typeof merged['ref_number'] === 'number' ? merged['ref_number'] : refNumber(current);
  return upperCaseMethods({ ...merged, ref_number: base + 1, timestamp: meta.now, node_name: meta.nodeName });
}

/** Soft delete: kept as a tombstone with `active: false`, so the id answers 404 and can be re-created. */
export function deactivated(current: ApiDefinition, meta: WriteMeta): ApiDefinition {
  return { ...current, active: false, ref_number: refNumber(current) + 1, timestamp: meta.now };
}

function refNumber(api: ApiDefinition): number {
  const n = api['ref_number'];
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
}

function upperCaseMethods(api: ApiDefinition): ApiDefinition {
  const versionData = api['version_data'];
  if (!isObject(versionData)) return api;
  const versions: JsonObject = {};
  for (const [name, version] of Object.entries(versionData)) {
    const endpoints = isObject(version) ? version['endpoints'] : undefined;
    if (!isObject(version) || !Array.isArray(endpoints)) {
      versions[name] = version;
      continue;
    }
    versions[name] = {
      ...version,
      endpoints: endpoints.map((e) =>
        isObject(e) && typeof e['method'] === 'string' ? { ...e, method: e['method'].toUpperCase() } : e,
      ),
    };
  }
  return { ...api, version_data: versions };
}

function clone<T extends Json>(v: T): T {
  return structuredClone(v);
}
