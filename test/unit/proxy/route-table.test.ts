/** Route compilation and matching (spec 6.2), upstream resolution (6.5), header rules (6.4), token sources (6.3). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withDefaults } from '../../../src/shared/apis/defaults.js';
import type { JsonObject } from '../../../src/shared/apis/types.js';
import { compileRoutes } from '../../../src/proxy/route-table.js';
import { resolveUpstream } from '../../../src/proxy/upstream.js';
import { clientResponseHeaders, forwardedHeader, upstreamRequestHeaders } from '../../../src/proxy/headers.js';
import { isAuthenticated, requestTokens } from '../../../src/proxy/auth.js';
import { createJwtVerifier } from '../../../src/shared/jwt/verifier.js';
import { NO_SESSION_BLACKLIST } from '../../../src/shared/sessions/blacklist.js';
import { parseSessionField } from '../../../src/shared/sessions/session-id.js';
import { signJwt, TEST_JWT_SECRET } from '../../helpers/jwt.js';

const META = { nodeName: 'n', now: '2024-01-01T00:00:00.000Z' };

function api(id: string, endpoints: JsonObject[], extra: JsonObject = {}): JsonObject {
  return withDefaults({ id, name: id, version_data: { default: { endpoints } }, proxy: { target_url: 'localhost', port: 7070 }, ...extra }, META);
}

test('no APIs, no match; exact anchored case-insensitive matching on method and path', () => {
  assert.equal(compileRoutes([], {}).table.match('GET', '/'), undefined);
  const { table } = compileRoutes([api('a', [{ id: 'e', method: 'GET', path_regex: '/myapi/books' }])], {});
  assert.equal(table.match('GET', '/myapi/books')?.route.endpointId, 'e');
  assert.equal(table.match('GET', '/MYAPI/Books')?.path, '/MYAPI/Books', 'case-insensitive, path kept as sent');
  assert.equal(table.match('GET', '/myapi/books/1'), undefined);
  assert.equal(table.match('GET', '/x/myapi/books'), undefined);
  assert.equal(table.match('POST', '/myapi/books'), undefined);
});

test('first match wins, across APIs in order; regex chosen over a literal that does not match; rewrite', () => {
  const { table } = compileRoutes([
    api('a', [{ id: 'literal', method: 'GET', path_regex: '/docs/x/tables/y' }]),
    api('b', [
      { id: 'regex', method: 'GET', path_regex: '/docs/(.+)/tables/(.+)', path_replacement: '/mytables/\\1/\\2' },
      { id: 'later', method: 'GET', path_regex: '/docs/.*' },
    ]),
  ], {});
  const m = table.match('GET', '/docs/123/tables/456')!;
  assert.equal(m.route.endpointId, 'regex');
  assert.equal(m.path, '/mytables/123/456');
  assert.equal(table.match('GET', '/docs/x/tables/y')!.route.endpointId, 'literal');
  assert.equal(table.match('GET', '/docs/other')!.route.endpointId, 'later');
});

test('dotted and UUID path parameters match (.+)', () => {
  const { table } = compileRoutes([api('a', [{ id: 'd', method: 'GET', path_regex: '/myapi/detail/(.+)' }])], {});
  assert.ok(table.match('GET', '/myapi/detail/first.user'));
  assert.ok(table.match('GET', '/myapi/detail/95258830-28c6-11e7-a7ed-a1b56e729040'));
});

test('a pattern that backtracks exponentially runs on the linear-time engine; later routes still match', { timeout: 10_000 }, () => {
  const { table, warnings } = compileRoutes([
    api('a', [
      { id: 'evil', method: 'GET', path_regex: '/(a+)+$', path_replacement: '/\\1' },
      { id: 'tables', method: 'GET', path_regex: '/docs/(.+)/tables/(.+)', path_replacement: '/t/\\2' },
      { id: 'fallback', method: 'GET', path_regex: '/.*' },
    ]),
  ], {});
  assert.deepEqual(warnings, []);
  assert.equal(table.routes[0]!.matcher.engine, 'linear');
  assert.equal(table.routes[1]!.matcher.engine, 'mixed');
  assert.equal(table.routes[2]!.matcher.engine, 'backtracking');
  const adversarial = `/${'a'.repeat(40)}b`;
  assert.equal(table.match('GET', adversarial)!.route.endpointId, 'fallback');
  assert.deepEqual(table.match('GET', '/aaa'), { route: table.routes[0], path: '/aaa' });
  const long = `/docs/${'x/tables/'.repeat(500)}y`;
  assert.equal(table.match('GET', long)!.path, '/t/y', 'a path beyond V8\'s length goes to RE2, same groups');
  assert.equal(table.match('GET', '/docs/1/tables/2')!.path, '/t/2');
});

test('a path_regex refused by validation is skipped with a warning', () => {
  const { table, warnings } = compileRoutes([api('a', [{ id: 'bad', method: 'GET', path_regex: '/(a+)+\\1' }, { id: 'ok', method: 'GET', path_regex: '/ok' }])], {});
  assert.deepEqual(table.routes.map((r) => r.endpointId), ['ok']);
  assert.match(warnings[0]!, /endpoint bad: path_regex must not use backreferences/);
});

test('HEAD matches HEAD endpoints first, then GET ones; inactive and versioned APIs are ignored', () => {
  const { table } = compileRoutes([
    api('a', [{ id: 'get', method: 'GET', path_regex: '/r' }, { id: 'head', method: 'HEAD', path_regex: '/h' }, { id: 'get-h', method: 'GET', path_regex: '/h' }]),
    { ...api('gone', [{ id: 'x', method: 'GET', path_regex: '/gone' }]), active: false },
    api('v', [{ id: 'x', method: 'GET', path_regex: '/v' }], { versioned: true }),
  ], {});
  assert.equal(table.match('HEAD', '/r')!.route.endpointId, 'get');
  assert.equal(table.match('HEAD', '/h')!.route.endpointId, 'head');
  assert.equal(table.match('GET', '/gone'), undefined);
  assert.equal(table.match('GET', '/v'), undefined);
});

test('auth policy only for secured endpoints of jwt APIs; targets and add_headers compiled per endpoint', () => {
  const a = api('a', [
    { id: 's', method: 'GET', path_regex: '/s', secured: true, transform_request_headers: true },
    { id: 'open', method: 'GET', path_regex: '/o', target: 'Kafka', topic: 't' },
  ], { auth_type: 'jwt' });
  (a['version_data'] as JsonObject)['default'] = {
    ...((a['version_data'] as JsonObject)['default'] as JsonObject),
    transform_request_headers: { add_headers: { Host: 'different', john: 'doe', 'bad header': 'x', n: 5 } },
  };
  const { table, warnings } = compileRoutes([a], {});
  const s = table.match('GET', '/s')!.route;
  assert.deepEqual(s.auth, { useHeader: true, headerName: 'authorization', useQuery: false, queryName: '' });
  assert.deepEqual(s.addHeaders, [['host', 'different'], ['john', 'doe'], ['n', '5']]);
  const o = table.match('GET', '/o')!.route;
  assert.equal(o.auth, undefined);
  assert.equal(o.target, 'kafka', 'target is case-insensitive');
  assert.deepEqual(o.addHeaders, [], 'not asked for');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /bad header/);
});

test('upstream: target_url with and without scheme, use_env, unusable values', () => {
  assert.deepEqual(resolveUpstream({ use_env: false, target_url: 'https://example.com/ignored', port: 81 }, {}), {
    ok: true, origin: 'https://example.com:81', hostHeader: 'example.com:81',
  });
  assert.deepEqual(resolveUpstream({ target_url: 'localhost', port: 7070 }, {}), { ok: true, origin: 'http://localhost:7070', hostHeader: 'localhost:7070' });
  assert.deepEqual(resolveUpstream({ use_env: true, target_url: 'SOME_HOST', port: 8080 }, {}), {
    ok: true, origin: 'http://localhost:8080', hostHeader: 'localhost:8080',
  }, 'unset variable: localhost');
  assert.deepEqual(resolveUpstream({ use_env: true, target_url: 'API_HOST', port: 8080 }, { API_HOST: 'http://backend.internal' }), {
    ok: true, origin: 'http://backend.internal:8080', hostHeader: 'backend.internal:8080',
  });
  assert.equal(resolveUpstream({ target_url: 'ftp://x', port: 1 }, {}).ok, false);
  assert.equal(resolveUpstream({ target_url: 'h', port: 70000 }, {}).ok, false);
  assert.equal(resolveUpstream({ target_url: 'http://', port: 1 }, {}).ok, false);
});

test('upstream request headers: hop-by-hop out, host and forwarded replaced, add_headers last', () => {
  const client: Array<[string, string]> = [
    ['host', 'rig.local'], ['forwarded', 'for=evil'], ['connection', 'keep-alive, x-private'], ['x-private', '1'],
    ['keep-alive', 'timeout=5'], ['te', 'trailers'], ['expect', '100-continue'], ['authorization', 'Bearer t'],
    ['cookie', 'a=1'], ['content-length', '5'], ['transfer-encoding', 'chunked'], ['john', 'smith'],
  ];
  const flat = upstreamRequestHeaders(client, { hostHeader: 'localhost:7070', forwarded: 'for=1.2.3.4;by=5.6.7.8', addHeaders: [['john', 'doe'], ['connection', 'close']], withBody: true });
  const pairs = Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]);
  assert.deepEqual(pairs, [
    ['authorization', 'Bearer t'], ['cookie', 'a=1'], ['content-length', '5'],
    ['host', 'localhost:7070'], ['forwarded', 'for=1.2.3.4;by=5.6.7.8'], ['john', 'doe'],
  ]);
  const noBody = upstreamRequestHeaders([['content-length', '3']], { hostHeader: 'h:1', forwarded: 'f', addHeaders: [['host', 'different']], withBody: false });
  assert.deepEqual(noBody, ['forwarded', 'f', 'host', 'different'], 'a configured host reaches the upstream');
});

test('response headers: hop-by-hop, content-length and date left to uWS; repeated ones kept', () => {
  assert.deepEqual(
    clientResponseHeaders({ 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'content-length': '3', date: 'x', 'transfer-encoding': 'chunked', connection: 'close, x-hop', 'x-hop': '1' }),
    [['content-type', 'text/plain'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']],
  );
});

test('forwarded: IPv4 plain, IPv4-mapped unwrapped, IPv6 quoted and bracketed', () => {
  assert.equal(forwardedHeader('127.0.0.1', '10.0.0.1'), 'for=127.0.0.1;by=10.0.0.1');
  assert.equal(forwardedHeader('::ffff:192.168.1.2', 'unknown'), 'for=192.168.1.2;by=unknown');
  assert.equal(forwardedHeader('::1', '10.0.0.1'), 'for="[::1]";by=10.0.0.1');
  assert.equal(forwardedHeader('127.0.0.1', '10.0.0.1', 'http'), 'for=127.0.0.1;by=10.0.0.1', 'plain HTTP: RIG\'s value');
  assert.equal(forwardedHeader('127.0.0.1', '10.0.0.1', 'https'), 'for=127.0.0.1;by=10.0.0.1;proto=https');
});

test('tokens: Authorization bearer credentials, raw x- header, any other header raw, comma-separated query values', () => {
  const headers: Array<[string, string]> = [['authorization', 'Bearer a, Basic b'], ['authorization', 'c'], ['x-token', 'd'], ['token', 'e']];
  assert.deepEqual(requestTokens({ useHeader: true, headerName: 'authorization', useQuery: false, queryName: '' }, headers, ''), ['a', 'c']);
  assert.deepEqual(requestTokens({ useHeader: true, headerName: 'x-token', useQuery: false, queryName: '' }, headers, ''), ['d']);
  assert.deepEqual(requestTokens({ useHeader: true, headerName: 'token', useQuery: false, queryName: '' }, headers, ''), ['e']);
  assert.deepEqual(requestTokens({ useHeader: false, headerName: '', useQuery: true, queryName: 'jwt' }, headers, 'jwt=f,g&x=1&jwt=h'), ['f', 'g', 'h']);

  const jwt = createJwtVerifier({ alg: 'HS256', secretKey: TEST_JWT_SECRET, cacheSize: 0 });
  const policy = { useHeader: false, headerName: '', useQuery: true, queryName: 'jwt' };
  const good = signJwt({ jti: 's1' });
  const check = { jwt, blacklist: NO_SESSION_BLACKLIST, sessionField: parseSessionField('/jti') };
  assert.equal(isAuthenticated(policy, [], `jwt=junk,${good}`, check), true, 'one valid token suffices');
  assert.equal(isAuthenticated(policy, [], 'jwt=junk', check), false);
  assert.equal(isAuthenticated(policy, [], `jwt=${signJwt({}, { secret: 'other' })}`, check), false);
  const listed = { ...check, blacklist: { has: (id: string) => id === 's1' } };
  assert.equal(isAuthenticated(policy, [], `jwt=${good}`, listed), false, 'the blacklist is consulted');
});
