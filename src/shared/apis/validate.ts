/**
 * Validation of an API definition (RIG spec 6.1.3), producing RIG's error map byte for byte:
 * `{"<scope>":[{"<field>":"<message>"}, ...], ...}` where the scope is "api" for top-level
 * problems, the API id for `auth` problems and "<api id>/<endpoint id>" for endpoint problems.
 *
 * RIG built the map with the Vex library; what is reproduced here, so the maps come out the same:
 * - "present" means not blank: null, missing, false, "", [] and {} are all blank;
 * - string checks report "must be string" and then "must have a length of at least 1" (missing
 *   and [] have length 0, so they get both);
 * - the list of (scope, errors) pairs is endpoint scopes first, then "api", then the auth scope;
 *   consecutive equal pairs are dropped, a later pair replaces an earlier one with the same
 *   scope, and the scopes are emitted in byte order (Elixir maps are sorted).
 *
 * Where RIG crashed with a 500 instead of answering (a value of the wrong JSON type where an
 * object or a list was expected, a string check on a number), the value is checked as if it were
 * absent, or reported with "must be string" alone, so the answer is always a 400 with a map. Two
 * checks RIG did not have: `auth` must be an object, and `path_regex` must compile (a pattern that
 * does not would fail every request later) and be matchable in bounded time (see path-regex.ts).
 */
import { compareBytes, sortedJson } from './json.js';
import { compilePathRegex } from './path-regex.js';
import { isObject, type Json, type JsonObject } from './types.js';

export type FieldError = Record<string, string>;
export type ErrorMap = Record<string, FieldError[]>;

const PRESENT = 'must be present';
const ONE_OF_JWT = 'must be one of ["jwt"]';

/** The error map for `api`, or undefined when it is valid. */
export function validateApi(api: JsonObject): ErrorMap | undefined {
  const list: Array<[string, FieldError[]]> = [];
  const add = (scope: string, errors: FieldError[]) => {
    if (errors.length > 0) list.push([scope, errors]);
  };
  const hasId = has(api, 'id');

  // RIG collected the endpoint errors first and appended the earlier ones after them.
  if (hasId) {
    const endpoints = defaultEndpoints(api);
    if (Array.isArray(endpoints)) {
      for (const raw of endpoints) {
        const endpoint = isObject(raw) ? raw : {};
        add(`${scopeName(api['id'])}/${scopeName(endpoint['id'])}`, endpointErrors(api, endpoint));
      }
    }
  }
  add('api', requiredProps(api));
  if (hasId && has(api, 'auth')) add(scopeName(api['id']), authErrors(api));

  const map: ErrorMap = {};
  let previous: string | undefined;
  for (const [scope, errors] of list) {
    const key = JSON.stringify([scope, errors]);
    if (key === previous) continue; // Enum.dedup: consecutive duplicates only
    previous = key;
    map[scope] = errors;
  }
  const scopes = Object.keys(map).sort(compareBytes);
  if (scopes.length === 0) return undefined;
  const sorted: ErrorMap = {};
  for (const s of scopes) sorted[s] = map[s]!;
  return sorted;
}

/**
 * PROXY_CONFIG_FILE's content (spec 6.1): a JSON array of valid definitions with distinct ids.
 * Returns what is wrong, naming each bad definition by position and id, or undefined.
 */
export function apiListProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'is not a JSON array of API definitions';
  const problems: string[] = [];
  const seen = new Set<string>();
  value.forEach((def, i) => {
    const name = `definition ${i + 1}${isObject(def) && typeof def['id'] === 'string' ? ` (id ${JSON.stringify(def['id'])})` : ''}`;
    if (!isObject(def)) {
      problems.push(`${name} is not a JSON object`);
      return;
    }
    const map = validateApi(def);
    if (map) problems.push(`${name}: ${errorMapJson(map)}`);
    else if (seen.has(def['id'] as string)) problems.push(`${name}: the id is used by an earlier definition`);
    seen.add(def['id'] as string);
  });
  return problems.length === 0 ? undefined : `has invalid API definitions: ${problems.join('; ')}`;
}

/** The JSON body RIG answered a failed validation with (keys in byte order). */
export function errorMapJson(map: ErrorMap): string {
  return sortedJson(map as unknown as Json);
}

function requiredProps(api: JsonObject): FieldError[] {
  const errors = [...stringErrors(api, 'id'), ...stringErrors(api, 'name'), ...presence(api, 'proxy')];
  if (has(api, 'proxy')) {
    const proxy = objectOrEmpty(api['proxy']);
    errors.push(...stringErrors(proxy, 'target_url'), ...integerErrors(proxy, 'port'));
  }
  errors.push(...presence(api, 'version_data'));
  if (has(api, 'version_data')) {
    const versionData = objectOrEmpty(api['version_data']);
    const versions = Object.keys(versionData).sort(compareBytes);
    if (versions.length === 0) {
      errors.push({ version_data: 'must have at least one version, e.g. default' });
    }
    for (const v of versions) {
      if (!Array.isArray(objectOrEmpty(versionData[v])['endpoints'])) errors.push({ endpoints: 'must be list' });
    }
  }
  return errors;
}

function authErrors(api: JsonObject): FieldError[] {
  const auth = api['auth'];
  if (!isObject(auth)) return [{ auth: 'must be map' }];
  const errors: FieldError[] = [];
  if (!isBlank(auth['use_header'])) errors.push(...presence(auth, 'header_name'));
  if (!isBlank(auth['use_query'])) errors.push(...presence(auth, 'query_name'));
  // Only a literal `true` asks for auth_type "jwt" (RIG's pattern match), unlike the checks above.
  if (auth['use_header'] === true || auth['use_query'] === true) errors.push(...jwtAuthType(api));
  return errors;
}

function endpointErrors(api: JsonObject, endpoint: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  if (endpoint['secured'] === true) errors.push(...jwtAuthType(api));
  if (endpoint['target'] === 'kafka' || endpoint['target'] === 'kinesis') errors.push(...presence(endpoint, 'topic'));
  if (!isBlank(endpoint['schema'])) errors.push(...presence(endpoint, 'target'));
  errors.push(...stringErrors(endpoint, 'id'));
  const regexErrors = stringErrors(endpoint, 'path_regex');
  errors.push(...regexErrors);
  const pattern = endpoint['path_regex'];
  if (regexErrors.length === 0 && typeof pattern === 'string') {
    const compiled = compilePathRegex(pattern);
    if (!compiled.ok) errors.push({ path_regex: compiled.reason });
  }
  errors.push(...stringErrors(endpoint, 'method'));
  return errors;
}

function defaultEndpoints(api: JsonObject): Json | undefined {
  const versionData = api['version_data'];
  if (!isObject(versionData)) return undefined;
  const def = versionData['default'];
  return isObject(def) ? def['endpoints'] : undefined;
}

function jwtAuthType(api: JsonObject): FieldError[] {
  return api['auth_type'] === 'jwt' ? [] : [{ auth_type: ONE_OF_JWT }];
}

function presence(map: JsonObject, key: string): FieldError[] {
  return isBlank(map[key]) ? [{ [key]: PRESENT }] : [];
}

function stringErrors(map: JsonObject, key: string): FieldError[] {
  const v = map[key];
  const errors: FieldError[] = [];
  if (typeof v !== 'string') errors.push({ [key]: 'must be string' });
  const length = typeof v === 'string' ? v.length : Array.isArray(v) ? v.length : v === undefined || v === null ? 0 : undefined;
  if (length !== undefined && length < 1) errors.push({ [key]: 'must have a length of at least 1' });
  return errors;
}

function integerErrors(map: JsonObject, key: string): FieldError[] {
  return Number.isInteger(map[key]) ? [] : [{ [key]: 'must be integer' }];
}

export function isBlank(v: Json | undefined): boolean {
  if (v === undefined || v === null || v === false || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return isObject(v) && Object.keys(v).length === 0;
}

function has(map: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(map, key);
}

function objectOrEmpty(v: Json | undefined): JsonObject {
  return isObject(v) ? v : {};
}

/** A value as Elixir's string interpolation renders it in a scope name ("#{id}"). */
function scopeName(v: Json | undefined): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
