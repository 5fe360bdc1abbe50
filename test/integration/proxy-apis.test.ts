/**
 * API definitions over the internal API (RIG spec 3.2, 12.2) against the real gateway (2 shards):
 * RIG's apis_test scenarios with their exact bodies for /v3 and /v2, definitions changed at run
 * time and served by every shard (a shard started later included), and malformed input, which
 * gets a 4xx and never a 5xx. Start-up refuses an invalid PROXY_CONFIG_FILE.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGatewayExpectingExit, startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { signJwt, TEST_JWT_SECRET } from '../helpers/jwt.js';
import { freshRequest } from '../helpers/raw-http.js';
import type { FreshAnswer } from '../helpers/raw-http.js';
import { connectionPerShard } from '../helpers/shard-connections.js';
import { startUpstream } from '../helpers/upstream.js';
import type { Upstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';

const INVALID = 'invalid-config';
const JWT_ERROR = '"must be one of [\\"jwt\\"]"';

describe('API definitions over the internal API', () => {
  let up: Upstream;
  let gw: RunningGateway;
  let dir: string;
  /** Every answer, to check at the end that none was a server error. */
  const answers: Array<{ what: string; status: number; body: string }> = [];

  /** A valid definition in the shape of RIG's tests, pointing at the test upstream. */
  const definition = (id: string, endpoints: unknown[] = [], extra: Record<string, unknown> = {}) => ({
    id,
    name: id,
    auth_type: 'none',
    auth: {},
    versioned: false,
    version_data: { default: { endpoints } },
    proxy: { target_url: '127.0.0.1', port: up.port },
    ...extra,
  });

  async function api(what: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<FreshAnswer> {
    const r = await freshRequest(`${gw.apiUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    answers.push({ what, status: r.status, body: r.body });
    return r;
  }

  before(async () => {
    up = await startUpstream(undefined);
    dir = mkdtempSync(join(tmpdir(), 'rig-proxy-apis-'));
    const file = join(dir, 'proxy.json');
    writeFileSync(file, JSON.stringify([
      { id: 'new-service', name: 'new-service', version_data: { default: { endpoints: [{ id: 'e', method: 'get', path_regex: '/new' }] } }, proxy: { target_url: '127.0.0.1', port: up.port } },
    ]));
    gw = await startGateway(undefined, {
      PROXY_CONFIG_FILE: file, JWT_SECRET_KEY: TEST_JWT_SECRET, ENABLE_FAULT_INJECTION: 'true', MAX_REQUEST_BODY_BYTES: '4096', LOG_LEVEL: 'info',
    });
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const v of ['v3', 'v2']) {
    describe(`/${v}/apis`, () => {
      const base = `/${v}/apis`;
      const other = `another-service-${v}`;

      test('GET lists active definitions only; GET by id; 404 for unknown and deleted ids', async () => {
        assert.equal((await api('post other', 'POST', base, definition(other))).status, 201);
        assert.equal((await api('delete other', 'DELETE', `${base}/${other}`)).status, 204);
        const list = await api('list', 'GET', base);
        assert.equal(list.status, 200);
        assert.equal(list.headers['content-type'], 'application/json; charset=utf-8');
        const ids = (JSON.parse(list.body) as Array<{ id: string }>).map((a) => a.id);
        assert.ok(ids.includes('new-service') && !ids.includes(other), ids.join());

        const one = await api('get', 'GET', `${base}/new-service`);
        assert.equal(one.status, 200);
        const stored = JSON.parse(one.body);
        assert.equal(stored.id, 'new-service');
        // Defaults of a file-loaded definition, methods upper-cased, keys in byte order.
        assert.equal(stored.active, true);
        assert.equal(stored.auth_type, 'none');
        assert.deepEqual(stored.auth, { header_name: '', query_name: '', use_header: false, use_query: false });
        assert.equal(stored.versioned, false);
        assert.equal(stored.version_data.default.endpoints[0].method, 'GET');
        assert.deepEqual(Object.keys(stored), [...Object.keys(stored)].sort());

        for (const id of ['fake-service', other]) {
          const r = await api('get missing', 'GET', `${base}/${id}`);
          assert.equal(r.status, 404);
          assert.equal(r.body, `{"message":"API with id=${id} doesn't exists."}`);
        }
      });

      test('POST: 201 ok; 409 for an active id; a deleted id is re-created', async () => {
        const id = `different-id-${v}`;
        const created = await api('post', 'POST', base, definition(id));
        assert.equal(created.status, 201);
        assert.equal(created.body, '{"message":"ok"}');
        const again = await api('post again', 'POST', base, definition(id));
        assert.equal(again.status, 409);
        assert.equal(again.body, `{"message":"API with id=${id} already exists."}`);
        assert.equal((await api('delete', 'DELETE', `${base}/${id}`)).status, 204);
        assert.equal((await api('re-create', 'POST', base, definition(id))).status, 201);
        assert.equal(JSON.parse((await api('get', 'GET', `${base}/${id}`)).body).ref_number, 2);
      });

      test('POST and PUT validation answer RIG\'s exact maps', async () => {
        const ep = (extra: Record<string, unknown>) => ({ id: `${INVALID}1`, method: 'GET', path_regex: '/foo', ...extra });
        const cases: Array<[unknown, string]> = [
          [definition(INVALID, [ep({ target: 'kinesis' })]), `{"${INVALID}/${INVALID}1":[{"topic":"must be present"}]}`],
          [definition(INVALID, [ep({ target: 'kafka' })]), `{"${INVALID}/${INVALID}1":[{"topic":"must be present"}]}`],
          [definition(INVALID, [ep({ schema: 'some-avro-schema' })]), `{"${INVALID}/${INVALID}1":[{"target":"must be present"}]}`],
          [definition(INVALID, [ep({ secured: true })]), `{"${INVALID}/${INVALID}1":[{"auth_type":${JWT_ERROR}}]}`],
          [definition(INVALID, [ep({})], { auth: { use_header: true }, auth_type: 'jwt' }), `{"${INVALID}":[{"header_name":"must be present"}]}`],
          [definition(INVALID, [ep({})], { auth: { use_query: true }, auth_type: 'jwt' }), `{"${INVALID}":[{"query_name":"must be present"}]}`],
          [definition(INVALID, [ep({})], { auth: { use_query: true, query_name: 'test' } }), `{"${INVALID}":[{"auth_type":${JWT_ERROR}}]}`],
          [{ ...definition(INVALID), proxy: {} }, '{"api":[{"proxy":"must be present"},{"target_url":"must be string"},{"target_url":"must have a length of at least 1"},{"port":"must be integer"}]}'],
          [{ ...definition(INVALID), version_data: {} }, '{"api":[{"version_data":"must be present"},{"version_data":"must have at least one version, e.g. default"}]}'],
          [{ ...definition(INVALID), version_data: { default: {} } }, '{"api":[{"endpoints":"must be list"}]}'],
          [{ ...definition(INVALID), version_data: { default: { endpoints: {} } } }, '{"api":[{"endpoints":"must be list"}]}'],
          [definition(INVALID, [{}]), `{"${INVALID}/":[{"id":"must be string"},{"id":"must have a length of at least 1"},{"path_regex":"must be string"},{"path_regex":"must have a length of at least 1"},{"method":"must be string"},{"method":"must have a length of at least 1"}]}`],
          [definition(INVALID, [{ id: `${INVALID}1`, method: 'GET', path_regex: '' }]), `{"${INVALID}/${INVALID}1":[{"path_regex":"must have a length of at least 1"}]}`],
        ];
        for (const [body, expected] of cases) {
          for (const [method, path] of [['POST', base], ['PUT', `${base}/${INVALID}`]] as const) {
            const r = await api(`${method} invalid`, method, path, body);
            assert.equal(r.status, 400, `${method} ${JSON.stringify(body)}`);
            assert.equal(r.body, expected, `${method} ${JSON.stringify(body)}`);
            assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
          }
        }
        // PUT {}: the path id counts, so only name, proxy and version_data are missing.
        const empty = await api('put {}', 'PUT', `${base}/${INVALID}`, {});
        assert.equal(empty.body, '{"api":[{"name":"must be string"},{"name":"must have a length of at least 1"},{"proxy":"must be present"},{"version_data":"must be present"}]}');
        // POST without id: 400 with the id errors (RIG answered 500).
        const noId = await api('post {}', 'POST', base, {});
        assert.equal(noId.status, 400);
        assert.equal(noId.body, '{"api":[{"id":"must be string"},{"id":"must have a length of at least 1"},{"name":"must be string"},{"name":"must have a length of at least 1"},{"proxy":"must be present"},{"version_data":"must be present"}]}');
      });

      test('PUT: 200 ok merges top-level keys; 404 for unknown and deleted ids; the path id wins', async () => {
        const id = `put-service-${v}`;
        assert.equal((await api('post', 'POST', base, definition(id, [], { extra: 'kept' }))).status, 201);
        const put = await api('put', 'PUT', `${base}/${id}`, { ...definition('ignored-body-id'), name: 'renamed' });
        assert.equal(put.status, 200);
        assert.equal(put.body, '{"message":"ok"}');
        const stored = JSON.parse((await api('get', 'GET', `${base}/${id}`)).body);
        assert.equal(stored.id, id);
        assert.equal(stored.name, 'renamed');
        assert.equal(stored.extra, 'kept');
        assert.equal(stored.ref_number, 1);
        assert.equal((await api('get body id', 'GET', `${base}/ignored-body-id`)).status, 404);

        const missing = await api('put missing', 'PUT', `${base}/fake-service`, definition('fake'));
        assert.equal(missing.status, 404);
        assert.equal(missing.body, '{"message":"API with id=fake-service doesn\'t exists."}');
        assert.equal((await api('delete', 'DELETE', `${base}/${id}`)).status, 204);
        assert.equal((await api('put deleted', 'PUT', `${base}/${id}`, definition(id))).status, 404);
      });

      test('DELETE: 204 with an empty body, then 404', async () => {
        const id = `delete-service-${v}`;
        assert.equal((await api('post', 'POST', base, definition(id))).status, 201);
        const del = await api('delete', 'DELETE', `${base}/${id}`);
        assert.equal(del.status, 204);
        assert.equal(del.body, '');
        const again = await api('delete again', 'DELETE', `${base}/${id}`);
        assert.equal(again.status, 404);
        assert.equal(again.body, `{"message":"API with id=${id} doesn't exists."}`);
      });
    });
  }

  test('a definition added at run time is served by every shard; a deleted one by none', async () => {
    const conns = await connectionPerShard(gw);
    try {
      for (const c of conns) assert.equal((await c.request('/runtime/hello')).status, 404, `shard ${c.shard} before`);
      assert.equal((await api('post runtime', 'POST', '/v3/apis', definition('runtime', [{ id: 'r', method: 'get', path_regex: '/runtime/(.+)' }]))).status, 201);
      // Answered 201 only once every shard compiled it: no waiting needed.
      for (const c of conns) {
        const r = await c.request('/runtime/hello');
        assert.equal(r.status, 200, `shard ${c.shard}: ${r.body}`);
        assert.equal(JSON.parse(r.body).url, '/runtime/hello');
      }
      for (let i = 0; i < 30; i++) assert.equal((await freshRequest(`${gw.url}/runtime/x${i}`)).status, 200);

      assert.equal((await api('put runtime', 'PUT', '/v3/apis/runtime', definition('runtime', [{ id: 'r', method: 'GET', path_regex: '/renamed/(.+)' }]))).status, 200);
      for (const c of conns) {
        assert.equal((await c.request('/renamed/x')).status, 200, `shard ${c.shard} after PUT`);
        assert.equal((await c.request('/runtime/x')).status, 404, `shard ${c.shard} old path after PUT`);
      }
      assert.equal((await api('delete runtime', 'DELETE', '/v3/apis/runtime')).status, 204);
      for (const c of conns) assert.equal((await c.request('/renamed/x')).status, 404, `shard ${c.shard} after DELETE`);
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
  });

  test('a shard that restarts serves the definitions of the moment, runtime ones included', async () => {
    assert.equal((await api('post survivor', 'POST', '/v3/apis', definition('survivor', [{ id: 's', method: 'GET', path_regex: '/survivor' }]))).status, 201);
    const outputBefore = gw.output().length;
    assert.equal((await fetch(`${gw.apiUrl}/_fault/shards/0/crash`, { method: 'POST' })).status, 202);
    await waitFor(() => /shard 0 ready/.test(gw.output().slice(outputBefore)), 15_000, 'shard 0 to be restarted');
    const conns = await connectionPerShard(gw);
    try {
      for (const c of conns) {
        assert.equal((await c.request('/survivor')).status, 200, `shard ${c.shard}`);
        assert.equal((await c.request('/new')).status, 200, `shard ${c.shard}: file definitions`);
      }
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
  });

  test('auth settings: auth_type jwt forces the Authorization header on create; a PUT can name an x- header', async () => {
    const secured = [{ id: 's', method: 'GET', path_regex: '/xh/secured', secured: true }];
    assert.equal((await api('post jwt', 'POST', '/v3/apis', definition('xh', secured, { auth_type: 'jwt', auth: { use_header: true, header_name: 'x-api-token' } }))).status, 201);
    const created = JSON.parse((await api('get', 'GET', '/v3/apis/xh')).body);
    assert.deepEqual(created.auth, { header_name: 'Authorization', use_header: true });
    const token = signJwt({ sub: 'x' });
    assert.equal((await freshRequest(`${gw.url}/xh/secured`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    assert.equal((await freshRequest(`${gw.url}/xh/secured`, { headers: { 'x-api-token': token } })).status, 401);

    const put = await api('put x-header', 'PUT', '/v3/apis/xh', definition('xh', secured, { auth_type: 'jwt', auth: { use_header: true, header_name: 'X-Api-Token' } }));
    assert.equal(put.status, 200, put.body);
    assert.equal((await freshRequest(`${gw.url}/xh/secured`, { headers: { 'x-api-token': token } })).status, 200, 'raw token in the x- header');
    assert.equal((await freshRequest(`${gw.url}/xh/secured`, { headers: { 'x-api-token': `Bearer ${token}` } })).status, 401, 'no Bearer prefix there');
    assert.equal((await freshRequest(`${gw.url}/xh/secured`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
    // Any other header name is a raw-token header too (RIG answered 500).
    assert.equal((await api('put token header', 'PUT', '/v3/apis/xh', definition('xh', secured, { auth_type: 'jwt', auth: { use_header: true, header_name: 'token' } }))).status, 200);
    assert.equal((await freshRequest(`${gw.url}/xh/secured`, { headers: { token } })).status, 200);
  });

  test('malformed input gets a clear 4xx', async () => {
    const cases: Array<[string, string, string, string | undefined, Record<string, string>, number, string | RegExp]> = [
      ['broken JSON', 'POST', '/v3/apis', '{"id": "x",', { 'content-type': 'application/json' }, 400, '{"errors":{"detail":"Bad request"}}'],
      ['not JSON at all', 'PUT', '/v3/apis/x', 'id=x', { 'content-type': 'application/json' }, 400, '{"errors":{"detail":"Bad request"}}'],
      ['a JSON array', 'POST', '/v3/apis', '[1,2]', { 'content-type': 'application/json' }, 400, /^\{"api":\[\{"id":"must be string"\}/],
      ['a JSON string', 'POST', '/v3/apis', '"x"', { 'content-type': 'application/json' }, 400, /^\{"api":/],
      ['null', 'PUT', '/v3/apis/x', 'null', { 'content-type': 'application/json' }, 400, /^\{"api":\[\{"name":"must be string"\}/],
      ['form encoded', 'POST', '/v3/apis', 'id=x', { 'content-type': 'application/x-www-form-urlencoded' }, 415, /Unsupported media type/],
      ['text', 'PUT', '/v3/apis/x', '{}', { 'content-type': 'text/plain' }, 415, /Unsupported media type/],
      ['too large', 'POST', '/v3/apis', JSON.stringify({ id: 'x', pad: 'x'.repeat(5000) }), { 'content-type': 'application/json' }, 413, /Request body too large/],
      ['bad percent-encoding', 'GET', '/v3/apis/%E0%A4%A', undefined, {}, 400, '{"errors":{"detail":"Bad request"}}'],
      ['bad percent-encoding on PUT', 'PUT', '/v3/apis/%zz', '{}', { 'content-type': 'application/json' }, 400, '{"errors":{"detail":"Bad request"}}'],
      ['wrong types everywhere', 'POST', '/v3/apis', JSON.stringify({ id: 5, name: {}, auth: 'x', proxy: [], version_data: { default: { endpoints: [null, 'x', { id: [] }] } } }), { 'content-type': 'application/json' }, 400, /^\{"5":\[\{"auth":"must be map"\}\],"5\/":\[/],
      ['a regex that does not compile', 'POST', '/v3/apis', JSON.stringify({ id: 'rx', name: 'rx', version_data: { default: { endpoints: [{ id: 'e', method: 'GET', path_regex: '/a(' }] } }, proxy: { target_url: 'h', port: 1 } }), { 'content-type': 'application/json' }, 400, '{"rx/e":[{"path_regex":"must be a valid regular expression"}]}'],
    ];
    for (const [what, method, path, body, headers, status, expected] of cases) {
      const r = await freshRequest(`${gw.apiUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
      answers.push({ what, status: r.status, body: r.body });
      assert.equal(r.status, status, `${what}: ${r.body}`);
      if (typeof expected === 'string') assert.equal(r.body, expected, what);
      else assert.match(r.body, expected, what);
    }
    // No body at all: an empty definition. JSON without a content type is read as JSON.
    assert.equal((await api('empty POST', 'POST', '/v3/apis', undefined)).status, 400);
    const r = await freshRequest(`${gw.apiUrl}/v3/apis`, { method: 'POST', body: JSON.stringify(definition('no-content-type')) });
    assert.equal(r.status, 201, r.body);
  });

  test('no answer of the internal API was a server error, and the gateway logged none', () => {
    const errors = answers.filter((a) => a.status >= 500);
    assert.deepEqual(errors, []);
    // (The one uncaught error in the log is the crash the restart test asked for.)
    assert.doesNotMatch(gw.output(), /unhandled|API definition request failed|publishing API definitions failed|did not confirm/i);
    assert.equal(gw.output().match(/uncaught error, restarting/g)?.length ?? 0, 1);
  });
});

test('start-up stops on an invalid PROXY_CONFIG_FILE with RIG\'s error map', async () => {
  const bad = JSON.stringify([{ id: 'broken', name: 'broken', version_data: { default: { endpoints: [{ id: 'e', method: 'GET', path_regex: '/x', secured: true }] } }, proxy: { target_url: 'h', port: 1 } }]);
  const { code, output } = await runGatewayExpectingExit({ PROXY_CONFIG_FILE: bad, INBOUND_PORT: '0', API_HTTP_PORT: '0', SHARDS: '1' });
  assert.equal(code, 2, output);
  assert.match(output, /PROXY_CONFIG_FILE: the JSON text has invalid API definitions: definition 1 \(id "broken"\): \{"broken\/e":\[\{"auth_type":"must be one of \[\\"jwt\\"\]"\}\]\}/);
  const notList = await runGatewayExpectingExit({ PROXY_CONFIG_FILE: '{"id":"x"}', INBOUND_PORT: '0', API_HTTP_PORT: '0', SHARDS: '1' });
  assert.equal(notList.code, 2);
  assert.match(notList.output, /PROXY_CONFIG_FILE: the JSON text is not a JSON array of API definitions/);
});
