/**
 * `path_regex` as RIG compiled it (spec 6.2): anchored (a `^` is prepended unless the pattern
 * starts with one, a `$` appended unless it ends with one), case-insensitive and unicode.
 *
 * RIG's patterns are PCRE. JavaScript's unicode mode is stricter than PCRE about escapes and lone
 * braces (`/foo/{id}` is a literal in PCRE but a syntax error under the `u` flag), so a pattern that
 * does not compile with `u` is compiled without it; such patterns are plain ASCII in practice, where
 * the two modes match alike. A pattern that compiles neither way is refused when the definition is
 * validated, so it never reaches a request.
 */

export function anchoredSource(pattern: string): string {
  const body = pattern.startsWith('^') ? pattern.slice(1) : pattern;
  return `^${body.endsWith('$') ? body : `${body}$`}`;
}

/** The compiled pattern, or undefined when it is not a regular expression JavaScript understands. */
export function compilePathRegex(pattern: string): RegExp | undefined {
  const source = anchoredSource(pattern);
  for (const flags of ['iu', 'i']) {
    try {
      return new RegExp(source, flags);
    } catch {
      // try the next flag set
    }
  }
  return undefined;
}

/**
 * Renders `path_replacement` for a match the way Elixir's Regex.replace reads its template:
 * `\N` (one or more digits) and `\g{N}` insert capture group N (0 = the whole match; a group that
 * did not take part, or does not exist, inserts nothing), `\\` is a backslash, anything else is
 * literal.
 */
export function renderReplacement(template: string, match: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '\\' || i + 1 >= template.length) {
      out += c;
      continue;
    }
    const next = template[i + 1]!;
    if (next === '\\') {
      out += '\\';
      i++;
      continue;
    }
    const braced = /^g\{(\d+)\}/.exec(template.slice(i + 1));
    const plain = /^\d+/.exec(template.slice(i + 1));
    const digits = braced ? braced[1]! : plain ? plain[0] : undefined;
    if (digits === undefined) {
      out += c;
      continue;
    }
    out += match[Number(digits)] ?? '';
    i += braced ? braced[0].length : digits.length;
  }
  return out;
}
