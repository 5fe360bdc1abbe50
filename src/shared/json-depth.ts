/**
 * JSON.parse accepts any nesting depth, but JSON.stringify, structured clone and every recursive
 * walk overflow the stack at a few thousand levels, and a 1 MiB body holds half a million. Code
 * that echoes or walks client JSON checks the depth first with these.
 */

/** True when `v` nests deeper than `max` levels; recursion stops at `max`, so the stack is bounded. */
export function nestsDeeperThan(v: unknown, max: number): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (max === 0) return true;
  for (const child of Array.isArray(v) ? v : Object.values(v)) if (nestsDeeperThan(child, max - 1)) return true;
  return false;
}

/**
 * Deepest JSON the gateway re-serialises (binary-mode CloudEvents are assembled from headers and
 * body with JSON.stringify). Far below the few thousand levels where the stack runs out.
 */
export const MAX_JSON_DEPTH = 512;

/** Depth up to which client JSON is echoed in error texts. */
export const ECHO_MAX_DEPTH = 64;

/** JSON text of a client value for an error message; a value too deep to stringify is described instead. */
export function jsonForMessage(v: unknown): string {
  return nestsDeeperThan(v, ECHO_MAX_DEPTH) ? `(a JSON value nested deeper than ${ECHO_MAX_DEPTH} levels)` : JSON.stringify(v);
}
