/**
 * path_regex (spec 6.2): anchoring, case-insensitivity, replacement templates, and the choice of
 * engine that keeps a pattern from stalling a shard. No timings: the tests assert which engine a
 * pattern gets, and that both engines answer alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anchoredSource, BACKTRACKING_BUDGET, compilePathRegex, renderReplacement, type PathMatch, type PathMatcher } from '../../../../src/shared/apis/path-regex.js';

function matcher(pattern: string, budget?: number): PathMatcher {
  const compiled = compilePathRegex(pattern, budget);
  assert.ok(compiled.ok, `${pattern}: ${compiled.ok ? '' : compiled.reason}`);
  return compiled.matcher;
}

const groups = (m: PathMatch | null) => (m === null ? null : Array.from(m));

test('path_regex: anchored, case-insensitive, PCRE-style patterns that unicode mode refuses still compile', () => {
  assert.equal(anchoredSource('/a'), '^/a$');
  assert.equal(anchoredSource('^/a$'), '^/a$');
  assert.equal(anchoredSource('^/a'), '^/a$');
  assert.equal(anchoredSource('/a$'), '^/a$');
  const re = matcher('/myapi/detail/(.+)');
  assert.ok(re.test('/MyApi/detail/first.user'));
  assert.ok(!re.test('/x/myapi/detail/1'), 'anchored at the start');
  assert.ok(!matcher('/myapi').test('/myapi/more'), 'anchored at the end');
  assert.ok(matcher('/foo/{id}').test('/foo/{id}'), 'a lone brace is a literal, as in PCRE');
  assert.deepEqual(compilePathRegex('/a(b'), { ok: false, reason: 'must be a valid regular expression' });
});

test('path_replacement: \\N, \\g{N}, \\0, \\\\ and missing groups', () => {
  const m = matcher('/docs/([^/]+)/tables/([^/]+)').exec('/docs/123/tables/456')!;
  assert.equal(renderReplacement('/mytables/\\1/\\2', m), '/mytables/123/456');
  assert.equal(renderReplacement('/x/\\g{2}-\\1', m), '/x/456-123');
  assert.equal(renderReplacement('\\0', m), '/docs/123/tables/456');
  assert.equal(renderReplacement('/a\\\\b/\\9/\\q', m), '/a\\b//\\q');
  assert.equal(renderReplacement('\\g{x}\\', m), '\\g{x}\\');
});

test('patterns whose worst case does not grow faster than the path stay on V8', () => {
  for (const p of [
    '/myapi/books', '/myapi/books/(.+)', '/books/([^/]+)', '/foo/{id}', '/myapi/(books|authors)/(.+)', '/a.b',
    '/items/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '/files/(.+)\\.(json|xml)', '/(abc)+',
    '/(?!admin/)(.+)', '/v1/(a+)?',
  ]) {
    assert.equal(matcher(p).engine, 'backtracking', p);
  }
});

test('quadratic patterns use V8 for paths up to the length that keeps them within budget, RE2 beyond', () => {
  const m = matcher('/docs/(.+)/tables/(.+)');
  assert.equal(m.engine, 'mixed');
  // (n + 1)^2 <= 2^17
  assert.equal(m.backtrackingMaxLength, Math.floor(Math.sqrt(BACKTRACKING_BUDGET)) - 1);
  const long = `/docs/${'x'.repeat(1000)}/tables/y`;
  assert.deepEqual(groups(m.exec(long)), [long, 'x'.repeat(1000), 'y']);
  assert.equal(matcher('/x/(.+)|/y/(.+)').engine, 'mixed', 'an alternative without ^ is tried at every start');
  assert.equal(matcher('/x|/y').engine, 'backtracking', 'which is linear when the alternative is');
});

test('exponential and steeply polynomial patterns run on the linear-time engine', () => {
  for (const p of ['/(a+)+$', '/(a|a)*', '/(x+x+)+y', '/(.*a){12}', '/(.+)(.+)(.+)(.+)(.+)(.+)', '/([^/]+/?)*', '((a|b)+)+c']) {
    assert.equal(matcher(p).engine, 'linear', p);
  }
  const m = matcher('/(a+)+$');
  assert.equal(m.exec(`/${'a'.repeat(40)}b`), null);
  assert.equal(m.test(`/${'a'.repeat(5000)}b`), false);
  assert.deepEqual(groups(m.exec('/aaa')), ['/aaa', 'aaa']);
});

test('a pattern that needs the linear-time engine but uses what it cannot run is refused, saying why', () => {
  const refused = (p: string) => {
    const c = compilePathRegex(p);
    assert.ok(!c.ok, p);
    return c.reason;
  };
  assert.equal(refused('/(a+)+\\1'), 'must not use backreferences together with nested or repeated quantifiers (its matching time could not be bounded)');
  assert.equal(refused('/(.+)/(.+)/\\1'), 'must not use backreferences together with nested or repeated quantifiers (its matching time could not be bounded)');
  assert.equal(refused('/((?=a)a+)+x'), 'must not use lookaround together with nested or repeated quantifiers (its matching time could not be bounded)');
  assert.match(refused('/(\\p{Letter}+)+'), /^is too complex to be matched in bounded time \(.*\\p\{Letter\}/);
  assert.match(refused('/(a+){1001}'), /^is too complex to be matched in bounded time \(it expands to about \d+ states/);
  assert.equal(refused(`${'('.repeat(600)}a${')'.repeat(600)}`), 'must not nest groups more than 500 deep');
  assert.equal(refused(`/(a+)+${'x'.repeat(1000)}`), 'is too complex to be matched in bounded time (longer than 1000 characters)');
  assert.equal(refused(`/(a+)+${'(x)'.repeat(150)}`), 'is too complex to be matched in bounded time (it expands to about 458 states, at most 300)');
  assert.equal(refused('/(.*a){12}(.*a){12}(.*a){12}(.*a){12}(.*a){12}'), 'is too complex to be matched in bounded time (it expands to about 308 states, at most 300)');
  assert.equal(matcher(`/(a+)+${'(x)'.repeat(50)}`).engine, 'linear');
  // backreferences and lookaround alone are fine: V8 runs them in time linear in the path
  assert.equal(matcher('/(a)/\\1').engine, 'backtracking');
  assert.equal(matcher('/(?<=/)x(?=y)y').engine, 'backtracking');
});

const TABLE: Array<[string, string[]]> = [
  ['/myapi/books', ['/myapi/books', '/MYAPI/Books', '/myapi/books/1', '/x/myapi/books']],
  ['/myapi/books/(.+)', ['/myapi/books/1', '/myapi/books/', '/MyApi/books/a/b?']],
  ['/docs/(.+)/tables/(.+)', ['/docs/123/tables/456', '/docs/1/tables/2/tables/3', '/docs//tables/x']],
  ['/docs/([^/]+)/tables/([^/]+)', ['/docs/123/tables/456', '/docs/1/tables/2/tables/3']],
  ['/foo/{id}', ['/foo/{id}', '/foo/{ID}', '/foo/1']],
  ['/foo/{id}/(\\d+)', ['/foo/{id}/42', '/foo/{id}/x']],
  ['/myapi/detail/(.+)', ['/myapi/detail/first.user', '/myapi/detail/95258830-28c6-11e7-a7ed-a1b56e729040']],
  ['/items/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})', ['/items/95258830-28c6-11e7-a7ed-a1b56e729040', '/items/95258830-28C6-11E7-A7ED-A1B56E729040', '/items/95258830-28c6-11e7-a7ed-a1b56e72904']],
  ['/files/(.+)\\.(json|xml)', ['/files/a.b.json', '/files/a.XML', '/files/a.txt']],
  ['/v1/(?:users|groups)/(\\w+)(/.*)?', ['/v1/users/joe/x', '/v1/Groups/g', '/v1/teams/t']],
  ['/a.b', ['/a.b', '/axb', '/a/b', '/a\rb', '/a\nb']],
  ['/a\\.b', ['/a.b', '/axb']],
  ['/x|/y', ['/x', '/y', '/z/y', '/x/z']],
  ['/caf\\u00e9/(\\S+)\\s?', ['/café/x', '/CAFÉ/y ', '/cafe/x', '/café/a\u00a0']],
  ['/(?<id>[^/]+)/x', ['/abc/x', '/abc/y']],
  ['/(.+?)(\\d*)', ['/abc123', '/123']],
  ['/(a+)+$', ['/aaaa', `/${'a'.repeat(16)}b`, '/']],
  ['/(a|ab)(c|bcd)(d*)', ['/abcd', '/acd']],
  ['/(x+x+)+y', ['/xxxy', '/xxxxx', '/xy']],
  ['/(.*a){3}', ['/abacada', '/abab']],
  ['/x[]', ['/x', '/x[]']],
  ['/[^]', ['/x', '/\n']],
  ['/[\\d-z]+', ['/1-z', '/a']],
  ['/\\x41\\101\\8', ['/aA8', '/AA8']],
];

test('V8 and the linear-time engine give the same matches and capture groups', () => {
  for (const [pattern, paths] of TABLE) {
    const v8 = matcher(pattern, Infinity);
    const linear = matcher(pattern, 0);
    assert.equal(v8.engine, 'backtracking', pattern);
    assert.equal(linear.engine, 'linear', pattern);
    for (const path of paths) {
      assert.deepEqual(groups(linear.exec(path)), groups(v8.exec(path)), `${pattern} on ${JSON.stringify(path)}`);
      assert.equal(linear.test(path), v8.test(path), `${pattern} on ${JSON.stringify(path)}`);
    }
  }
});
