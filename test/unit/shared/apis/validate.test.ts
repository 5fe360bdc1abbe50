/**
 * RIG's validation maps (spec 6.1.3, 12.2): every map of RIG's apis_test, compared as the exact
 * JSON text the internal API answers with, plus the order and merge rules behind them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorMapJson, validateApi } from '../../../../src/shared/apis/validate.js';
import type { JsonObject } from '../../../../src/shared/apis/types.js';

const ID = 'invalid-config';

/** RIG's test helper: a valid API whose endpoints, auth and auth_type the test chooses. */
function proxyConfig(endpoints: unknown[], auth: JsonObject = {}, authType = 'none'): JsonObject {
  return {
    id: ID,
    name: ID,
    auth_type: authType,
    auth,
    versioned: false,
    version_data: { default: { endpoints: endpoints as JsonObject[] } },
    proxy: { use_env: true, target_url: 'API_HOST', port: 7070 },
  };
}

const endpoint = (extra: JsonObject): JsonObject => ({ id: `${ID}1`, method: 'GET', path_regex: '/foo', ...extra });

function body(api: JsonObject): string | undefined {
  const map = validateApi(api);
  return map && errorMapJson(map);
}

test('a valid definition has no errors', () => {
  assert.equal(validateApi(proxyConfig([endpoint({})])), undefined);
  assert.equal(validateApi(proxyConfig([endpoint({ secured: true })], { use_query: true, query_name: 'token' }, 'jwt')), undefined);
  assert.equal(validateApi(proxyConfig([])), undefined, 'an API without endpoints is valid');
});

test('kafka or kinesis target without topic', () => {
  for (const target of ['kinesis', 'kafka']) {
    assert.equal(body(proxyConfig([endpoint({ target })])), '{"invalid-config/invalid-config1":[{"topic":"must be present"}]}');
  }
  assert.equal(body(proxyConfig([endpoint({ target: 'kafka', topic: 't' })])), undefined);
  assert.equal(body(proxyConfig([endpoint({ target: 'nats' })])), undefined, 'NATS is not checked');
});

test('schema without target', () => {
  assert.equal(body(proxyConfig([endpoint({ schema: 'some-avro-schema' })])), '{"invalid-config/invalid-config1":[{"target":"must be present"}]}');
});

test('secured endpoint without auth_type jwt', () => {
  assert.equal(
    body(proxyConfig([endpoint({ secured: true })])),
    '{"invalid-config/invalid-config1":[{"auth_type":"must be one of [\\"jwt\\"]"}]}',
  );
});

test('use_header without header_name, use_query without query_name', () => {
  assert.equal(body(proxyConfig([endpoint({})], { use_header: true }, 'jwt')), '{"invalid-config":[{"header_name":"must be present"}]}');
  assert.equal(body(proxyConfig([endpoint({})], { use_query: true }, 'jwt')), '{"invalid-config":[{"query_name":"must be present"}]}');
});

test('auth set but auth_type not jwt', () => {
  assert.equal(
    body(proxyConfig([endpoint({})], { use_query: true, query_name: 'test' })),
    '{"invalid-config":[{"auth_type":"must be one of [\\"jwt\\"]"}]}',
  );
  const noType = proxyConfig([endpoint({})], { use_header: true, header_name: 'x-token' });
  delete noType['auth_type'];
  assert.equal(body(noType), '{"invalid-config":[{"auth_type":"must be one of [\\"jwt\\"]"}]}');
});

test('PUT {} (the path id merged in): name, proxy and version_data', () => {
  assert.equal(
    body({ id: ID }),
    '{"api":[{"name":"must be string"},{"name":"must have a length of at least 1"},{"proxy":"must be present"},{"version_data":"must be present"}]}',
  );
});

test('POST without id answers the id errors too (RIG crashed with 500)', () => {
  assert.equal(
    body({}),
    '{"api":[{"id":"must be string"},{"id":"must have a length of at least 1"},{"name":"must be string"},{"name":"must have a length of at least 1"},{"proxy":"must be present"},{"version_data":"must be present"}]}',
  );
});

test('empty proxy object', () => {
  const api = { ...proxyConfig([]), id: 'invalid_proxy', name: 'invalid_proxy', proxy: {} };
  assert.equal(
    body(api),
    '{"api":[{"proxy":"must be present"},{"target_url":"must be string"},{"target_url":"must have a length of at least 1"},{"port":"must be integer"}]}',
  );
});

test('version_data without versions', () => {
  const api = { ...proxyConfig([]), version_data: {} };
  assert.equal(
    body(api),
    '{"api":[{"version_data":"must be present"},{"version_data":"must have at least one version, e.g. default"}]}',
  );
});

test('default version without endpoints, or endpoints not a list', () => {
  assert.equal(body({ ...proxyConfig([]), version_data: { default: {} } }), '{"api":[{"endpoints":"must be list"}]}');
  assert.equal(body({ ...proxyConfig([]), version_data: { default: { endpoints: {} } } }), '{"api":[{"endpoints":"must be list"}]}');
});

test('empty endpoint object', () => {
  assert.equal(
    body(proxyConfig([{}])),
    '{"invalid-config/":[{"id":"must be string"},{"id":"must have a length of at least 1"},{"path_regex":"must be string"},{"path_regex":"must have a length of at least 1"},{"method":"must be string"},{"method":"must have a length of at least 1"}]}',
  );
});

test('empty path_regex', () => {
  assert.equal(
    body(proxyConfig([{ id: `${ID}1`, method: 'GET', path_regex: '' }])),
    '{"invalid-config/invalid-config1":[{"path_regex":"must have a length of at least 1"}]}',
  );
  // 3.0 removed `path`: an endpoint that still uses it has no path_regex.
  assert.match(body(proxyConfig([{ id: 'e', method: 'GET', path: '/foo' }]))!, /"path_regex":"must be string"/);
});

test('scopes come out in byte order, later duplicates replace earlier ones, all problems at once', () => {
  const api = proxyConfig([endpoint({ id: 'b', target: 'kafka' }), endpoint({ id: 'a', secured: true })], { use_header: true });
  delete api['name'];
  assert.equal(
    body(api),
    '{"api":[{"name":"must be string"},{"name":"must have a length of at least 1"}],' +
      '"invalid-config":[{"header_name":"must be present"},{"auth_type":"must be one of [\\"jwt\\"]"}],' +
      '"invalid-config/a":[{"auth_type":"must be one of [\\"jwt\\"]"}],' +
      '"invalid-config/b":[{"topic":"must be present"}]}',
  );
  // Two endpoints with the same id: one scope, the later endpoint's errors.
  const twice = proxyConfig([endpoint({ id: 'x', target: 'kafka' }), endpoint({ id: 'x', schema: 's' })]);
  assert.equal(body(twice), '{"invalid-config/x":[{"target":"must be present"}]}');
  // Integer-like scopes are not moved to the front (JSON.stringify would).
  assert.equal(
    body({ ...proxyConfig([endpoint({ id: '2', target: 'kafka' })]), id: '10' }),
    '{"10/2":[{"topic":"must be present"}]}',
  );
});

test('values of the wrong JSON type answer a map, never an exception', () => {
  const cases: Array<[JsonObject, string]> = [
    [{ ...proxyConfig([]), name: 5 }, '{"api":[{"name":"must be string"}]}'],
    [{ ...proxyConfig([]), name: [] }, '{"api":[{"name":"must be string"},{"name":"must have a length of at least 1"}]}'],
    [{ ...proxyConfig([]), proxy: 'x' }, '{"api":[{"target_url":"must be string"},{"target_url":"must have a length of at least 1"},{"port":"must be integer"}]}'],
    [{ ...proxyConfig([]), proxy: { target_url: 'h', port: '80' } }, '{"api":[{"port":"must be integer"}]}'],
    [{ ...proxyConfig([]), proxy: { target_url: 'h', port: 80.5 } }, '{"api":[{"port":"must be integer"}]}'],
    [{ ...proxyConfig([]), version_data: 'v1' }, '{"api":[{"version_data":"must have at least one version, e.g. default"}]}'],
    [{ ...proxyConfig([]), version_data: { default: 'x' } }, '{"api":[{"endpoints":"must be list"}]}'],
    [{ ...proxyConfig([]), auth: 'jwt' }, '{"invalid-config":[{"auth":"must be map"}]}'],
    [{ ...proxyConfig([]), auth: null }, '{"invalid-config":[{"auth":"must be map"}]}'],
    [proxyConfig(['not an object']), '{"invalid-config/":[{"id":"must be string"},{"id":"must have a length of at least 1"},{"path_regex":"must be string"},{"path_regex":"must have a length of at least 1"},{"method":"must be string"},{"method":"must have a length of at least 1"}]}'],
    [proxyConfig([endpoint({ id: 7 })]), '{"invalid-config/7":[{"id":"must be string"}]}'],
    [proxyConfig([endpoint({ path_regex: '/a(' })]), '{"invalid-config/invalid-config1":[{"path_regex":"must be a valid regular expression"}]}'],
    [proxyConfig([endpoint({ path_regex: '/(a+)+\\1' })]), '{"invalid-config/invalid-config1":[{"path_regex":"must not use backreferences together with nested or repeated quantifiers (its matching time could not be bounded)"}]}'],
  ];
  for (const [api, expected] of cases) assert.equal(body(api), expected, JSON.stringify(api));
});

test('presence follows RIG: false, "", [] and {} are blank; other values are present', () => {
  assert.equal(body(proxyConfig([], { use_header: 'yes', header_name: '' }, 'jwt')), '{"invalid-config":[{"header_name":"must be present"}]}');
  assert.equal(body(proxyConfig([], { use_header: false, use_query: 0 }, 'jwt')), '{"invalid-config":[{"query_name":"must be present"}]}');
  // use_header "yes" needs a header name but, unlike `true`, not auth_type jwt (RIG's pattern match).
  assert.equal(body(proxyConfig([], { use_header: 'yes', header_name: 'x-a' })), undefined);
  assert.equal(body(proxyConfig([endpoint({ schema: '' })])), undefined);
  assert.equal(body(proxyConfig([endpoint({ target: 'KAFKA' })])), undefined, 'the target check is case-sensitive, as in RIG');
});

test('auth and endpoint checks need an id key, as RIG\'s pattern matches did', () => {
  const api = proxyConfig([endpoint({ target: 'kafka' })], { use_header: true });
  delete api['id'];
  assert.equal(body(api), '{"api":[{"id":"must be string"},{"id":"must have a length of at least 1"}]}');
  assert.equal(body({ ...proxyConfig([endpoint({ target: 'kafka' })]), id: null }), '{"/invalid-config1":[{"topic":"must be present"}],"api":[{"id":"must be string"},{"id":"must have a length of at least 1"}]}');
});
