/**
 * RFC 6901 JSON pointers as RIG's extractors use them. Pointers are parsed once at start-up (so a
 * malformed one fails the config, not every event) and resolved per event.
 *
 * Resolution deliberately does not index arrays: RIG's extractor crashed its per-type filter on a
 * pointer reaching into an array (spec 13 item 26); treating that as "not found" is the fix, and it
 * keeps the outcome identical for every pointer RIG could actually resolve.
 */

const hasOwn = Object.prototype.hasOwnProperty;
const objectProto = Object.prototype;

/** Decodes a pointer into its reference tokens; `""` (the whole document) yields no tokens. */
export function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (p.charCodeAt(0) !== 0x2f /* '/' */) {
    throw new Error(`invalid JSON pointer ${JSON.stringify(p)}: must be empty or start with "/"`);
  }
  // '~' is only legal as the start of the escapes "~0" and "~1".
  if (/~(?![01])/.test(p)) {
    throw new Error(`invalid JSON pointer ${JSON.stringify(p)}: "~" must be followed by "0" or "1"`);
  }
  // "~1" must be unescaped before "~0", otherwise "~01" would wrongly become "/".
  return p
    .slice(1)
    .split('/')
    .map((t) => (t.includes('~') ? t.replace(/~1/g, '/').replace(/~0/g, '~') : t));
}

/**
 * Walks `tokens` through own properties of plain objects. Returns `undefined` when a step is
 * missing or would have to enter an array or a non-object; a JSON `null` that is found is returned
 * as `null`, so callers can tell "present but null" from "absent" where that matters.
 */
export function resolvePointer(doc: unknown, tokens: readonly string[]): unknown {
  let cur: unknown = doc;
  for (let i = 0; i < tokens.length; i++) {
    if (cur === null || typeof cur !== 'object') return undefined;
    // Plain (JSON-like) objects only; this also excludes arrays, whose prototype is Array's.
    const proto: unknown = Object.getPrototypeOf(cur);
    if (proto !== objectProto && proto !== null) return undefined;
    // Own properties only: a pointer such as "/constructor" must not reach Object.prototype.
    const key = tokens[i]!;
    if (!hasOwn.call(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}
