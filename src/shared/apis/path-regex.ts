/**
 * `path_regex` as RIG compiled it (spec 6.2): anchored (a `^` is prepended unless the pattern
 * starts with one, a `$` appended unless it ends with one), case-insensitive and unicode.
 *
 * RIG's patterns are PCRE. JavaScript's unicode mode is stricter than PCRE about escapes and lone
 * braces (`/foo/{id}` is a literal in PCRE but a syntax error under the `u` flag), so a pattern that
 * does not compile with `u` is compiled without it; such patterns are plain ASCII in practice, where
 * the two modes match alike. A pattern that compiles neither way is refused when the definition is
 * validated, so it never reaches a request.
 *
 * Patterns run in the shard thread on every request, so a pattern that makes V8's backtracking
 * engine try exponentially (or high-polynomially) many ways would stall every client of the shard.
 * Each pattern therefore gets an engine by its worst case (./regex-cost.ts):
 * - V8's RegExp, fastest, for every path when that worst case grows at most linearly with the
 *   path (`/books/([^/]+)`, `/items/(.+)`: the common patterns);
 * - when it grows polynomially (`/docs/(.+)/tables/(.+)` is quadratic), V8 for paths up to the
 *   length where it stays within BACKTRACKING_BUDGET steps and RE2 (the re2js package: no
 *   backtracking, time linear in the path) for longer ones;
 * - RE2 for every path when it grows exponentially (`(a+)+`) or too steeply;
 * - refused when RE2 is needed but cannot run the pattern (backreferences, lookaround, a pattern
 *   too large for RE2's cost to stay small): such a pattern could not be matched in bounded time.
 * The two engines agree on what matches and on the capture groups (test/unit/shared/apis).
 */
import { RE2JS } from 're2js';
import { backtrackingCost, linearSize, longestPathWithin, type Cost } from './regex-cost.js';
import { toRe2, UnsupportedByRe2 } from './regex-re2.js';
import { parseRegex, RegexSyntaxLimit, type Node } from './regex-syntax.js';

/** Worst-case steps allowed to V8 for one pattern and path: well under a millisecond. */
export const BACKTRACKING_BUDGET = 1 << 17;
/**
 * A worst case of up to this many steps per path character is left to V8 for every path: RE2
 * takes more than that per character (it follows every possibility at once).
 */
const LINEAR_FACTOR_MAX = 32;
/** Below this the backtracking engine would rarely be used: RE2 takes every path. */
const SHORTEST_USEFUL_LIMIT = 32;
/**
 * RE2's time grows with the path times the pattern's size (./regex-cost.ts linearSize: about
 * 50-100 ns per unit and path character for capture groups): bounded so "linear" stays cheap.
 */
const LINEAR_MAX_SOURCE = 1000;
const LINEAR_MAX_SIZE = 300;

/** Index 0 is the whole match, then the capture groups (undefined when a group took no part). */
export type PathMatch = ArrayLike<string | undefined>;

export interface PathMatcher {
  /**
   * backtracking: V8 for every path; linear: RE2 for every path; mixed: V8 for paths of up to
   * backtrackingMaxLength characters, RE2 for longer ones.
   */
  readonly engine: 'backtracking' | 'linear' | 'mixed';
  readonly backtrackingMaxLength: number;
  test(path: string): boolean;
  exec(path: string): PathMatch | null;
}

export type CompiledPathRegex = { ok: true; matcher: PathMatcher } | { ok: false; reason: string };

export const INVALID_REGEX = 'must be a valid regular expression';

export function anchoredSource(pattern: string): string {
  const body = pattern.startsWith('^') ? pattern.slice(1) : pattern;
  return `^${body.endsWith('$') ? body : `${body}$`}`;
}

/**
 * The matcher of a pattern, or why it is refused (the message of RIG's validation error map).
 * `budget` is for tests: 0 puts every pattern RE2 can run on RE2, Infinity every one on V8.
 */
export function compilePathRegex(pattern: string, budget = BACKTRACKING_BUDGET): CompiledPathRegex {
  const source = anchoredSource(pattern);
  const v8 = compileV8(source);
  if (!v8) return { ok: false, reason: INVALID_REGEX };
  let tree: Node;
  let cost: Cost;
  let re2Source: string | Error;
  try {
    tree = parseRegex(source, v8.unicode);
    cost = backtrackingCost(tree);
    re2Source = attempt(() => toRe2(tree));
  } catch (e) {
    if (e instanceof RegexSyntaxLimit) return { ok: false, reason: `must not ${e.message}` };
    throw e;
  }
  const limit = longestPathWithin(cost, budget);
  const cheapForV8 = limit === Infinity || (cost.degree <= 1 && cost.factor <= Math.min(LINEAR_FACTOR_MAX, budget));
  if (cheapForV8) return { ok: true, matcher: backtracking(v8.regex) };
  const re2 = typeof re2Source === 'string' ? compileRe2(pattern, tree, re2Source) : re2Source;
  if (!(re2 instanceof Error)) {
    return { ok: true, matcher: limit < SHORTEST_USEFUL_LIMIT ? linear(re2) : mixed(v8.regex, re2, limit) };
  }
  // Growing linearly with the path, V8 stays as fast as RE2 would be.
  if (cost.degree <= 1 && cost.factor <= budget) return { ok: true, matcher: backtracking(v8.regex) };
  const reason = re2 instanceof UnsupportedByRe2
    ? `must not use ${re2.message} together with nested or repeated quantifiers (its matching time could not be bounded)`
    : `is too complex to be matched in bounded time (${re2.message})`;
  return { ok: false, reason };
}

/** RE2 for the pattern, unless it is too large to run cheaply (checked first: compiling takes time too). */
function compileRe2(pattern: string, tree: Node, re2Source: string): RE2JS | Error {
  if (pattern.length > LINEAR_MAX_SOURCE) return new Error(`longer than ${LINEAR_MAX_SOURCE} characters`);
  const size = linearSize(tree);
  if (size > LINEAR_MAX_SIZE) return new Error(`it expands to about ${size} states, at most ${LINEAR_MAX_SIZE}`);
  return attempt(() => RE2JS.compile(re2Source, RE2JS.CASE_INSENSITIVE));
}

function compileV8(source: string): { regex: RegExp; unicode: boolean } | undefined {
  for (const unicode of [true, false]) {
    try {
      return { regex: new RegExp(source, unicode ? 'iu' : 'i'), unicode };
    } catch {
      // try without `u`
    }
  }
  return undefined;
}

function attempt<T>(f: () => T): T | Error {
  try {
    return f();
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

function backtracking(regex: RegExp): PathMatcher {
  return { engine: 'backtracking', backtrackingMaxLength: Infinity, test: (path) => regex.test(path), exec: (path) => regex.exec(path) };
}

function linear(re2: RE2JS): PathMatcher {
  return { engine: 'linear', backtrackingMaxLength: 0, test: (path) => re2.test(path), exec: (path) => re2Exec(re2, path) };
}

function mixed(regex: RegExp, re2: RE2JS, limit: number): PathMatcher {
  return {
    engine: 'mixed',
    backtrackingMaxLength: limit,
    test: (path) => (path.length <= limit ? regex.test(path) : re2.test(path)),
    exec: (path) => (path.length <= limit ? regex.exec(path) : re2Exec(re2, path)),
  };
}

function re2Exec(re2: RE2JS, path: string): PathMatch | null {
  // RE2 finds capture groups with a slower automaton than the one that only answers whether the
  // path matches: paths that do not match (most of what a route sees) take only the fast one.
  if (!re2.test(path)) return null;
  const m = re2.matcher(path);
  if (!m.find()) return null;
  const groups: Array<string | undefined> = [];
  for (let i = 0; i <= m.groupCount(); i++) groups.push(m.group(i) ?? undefined);
  return groups;
}

/**
 * Renders `path_replacement` for a match the way Elixir's Regex.replace reads its template:
 * `\N` (one or more digits) and `\g{N}` insert capture group N (0 = the whole match; a group that
 * did not take part, or does not exist, inserts nothing), `\\` is a backslash, anything else is
 * literal.
 */
export function renderReplacement(template: string, match: PathMatch): string {
  const braced = /g\{(\d+)\}/y;
  const plain = /\d+/y;
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '\\' || i + 1 >= template.length) {
      out += c;
      continue;
    }
    if (template[i + 1] === '\\') {
      out += '\\';
      i++;
      continue;
    }
    braced.lastIndex = plain.lastIndex = i + 1;
    const b = braced.exec(template);
    const p = b ? null : plain.exec(template);
    const digits = b ? b[1]! : p ? p[0] : undefined;
    if (digits === undefined) {
      out += c;
      continue;
    }
    out += match[Number(digits)] ?? '';
    i += (b ?? p)![0].length;
  }
  return out;
}
