/**
 * API definitions of the proxy (RIG spec 6.1), as JSON. Main owns them (PROXY_CONFIG_FILE and the
 * internal API's /v3/apis) and sends them to every shard, which compiles its routes from them.
 *
 * A definition is kept as the JSON object it arrived as, unknown keys included, because the
 * internal API returns it the way it was given (RIG did the same). The fields the gateway reads
 * are described by `ApiFields`; validation (./validate.ts) guarantees their types before a
 * definition is stored, so readers may rely on them.
 */

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** A stored API definition: the user's JSON plus the meta fields of ./defaults.ts. */
export type ApiDefinition = JsonObject;

/** The fields of an API definition the gateway reads (spec 6.1.1). */
export interface ApiFields {
  id: string;
  name: string;
  /** "jwt" enables token checks on endpoints marked `secured`. Default "none". */
  auth_type?: string;
  auth?: { use_header?: Json; header_name?: Json; use_query?: Json; query_name?: Json };
  /** Truthy: the router ignores the API ("not supported yet" in RIG as well). */
  versioned?: Json;
  version_data: Record<string, { endpoints?: EndpointFields[]; transform_request_headers?: { add_headers?: Record<string, Json> } }>;
  proxy: { target_url: string; port: number; use_env?: Json };
  /** Meta: false once deleted (soft delete). */
  active?: boolean;
  ref_number?: number;
  timestamp?: string;
  node_name?: string;
}

/** An endpoint of `version_data.default.endpoints` (spec 6.1.1). */
export interface EndpointFields {
  id: string;
  method: string;
  path_regex: string;
  path_replacement?: Json;
  secured?: Json;
  transform_request_headers?: Json;
  target?: Json;
  topic?: Json;
  schema?: Json;
  response_from?: Json;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function fields(api: ApiDefinition): ApiFields {
  return api as unknown as ApiFields;
}
