/**
 * How much a backtracking engine (V8's) may have to try to match a pattern against a path of
 * length n, as an upper bound of the form `factor * (n + 1) ^ degree`:
 * - a quantifier over a single character, class or fixed text (`.+`, `[^/]*`, `(abc)+`) can stop
 *   at any of n + 1 places: degree 1; a bounded one (`\d{2,4}`) has max - min + 1 choices;
 * - choices in sequence multiply (`(.+)/tables/(.+)` is degree 2), alternatives add up;
 * - a backreference compares up to n characters: degree 1;
 * - a branch of a top-level alternation without `^` is tried at every start: degree + 1;
 * - an unbounded quantifier over something that itself has choices (`(a+)+`, `(a|ab)*`,
 *   `(x+x+)+y`) can split the path in exponentially many ways: degree Infinity.
 * It is a bound, not an estimate: `[a-z]+/[a-z]+` is degree 2 although V8 tries far less.
 */
import type { Node } from './regex-syntax.js';

export interface Cost {
  degree: number;
  factor: number;
}

const FIXED: Cost = { degree: 0, factor: 1 };

export function backtrackingCost(root: Node): Cost {
  const cost = costOf(root);
  const branches = root.kind === 'alt' ? root.branches : [root];
  const anchored = branches.every((b) => b.kind === 'seq' && b.items[0]?.kind === 'assert' && b.items[0].name === '^');
  return anchored ? cost : { degree: cost.degree + 1, factor: cost.factor };
}

/**
 * The longest path whose match stays within `budget` steps by the bound above: Infinity when the
 * cost does not grow with the path, 0 when not even an empty path is within it.
 */
export function longestPathWithin(cost: Cost, budget: number): number {
  if (budget === Infinity) return Infinity;
  if (cost.factor > budget) return 0;
  if (cost.degree === 0) return Infinity;
  if (!Number.isFinite(cost.degree)) return 0;
  return Math.max(0, Math.floor((budget / cost.factor) ** (1 / cost.degree)) - 1);
}

function costOf(node: Node): Cost {
  switch (node.kind) {
    case 'seq':
      return node.items.reduce((acc, item) => {
        const c = costOf(item);
        return { degree: acc.degree + c.degree, factor: acc.factor * c.factor };
      }, FIXED);
    case 'alt': {
      return node.branches.reduce((acc, branch) => {
        const c = costOf(branch);
        return { degree: Math.max(acc.degree, c.degree), factor: acc.factor + c.factor };
      }, { degree: 0, factor: 0 });
    }
    case 'group':
      return costOf(node.body);
    case 'repeat':
      return repeatCost(node.min, node.max, costOf(node.body));
    case 'backref':
      return { degree: 1, factor: 1 };
    default:
      return FIXED;
  }
}

function repeatCost(min: number, max: number, body: Cost): Cost {
  if (max === 0) return FIXED;
  if (max === 1) return min === 1 ? body : { degree: body.degree, factor: body.factor + 1 };
  const fixedBody = body.degree === 0 && body.factor === 1;
  if (max === Infinity) return fixedBody ? { degree: 1, factor: 1 } : { degree: Infinity, factor: Infinity };
  if (fixedBody) return { degree: 0, factor: max - min + 1 };
  // each of up to `max` repetitions chooses anew
  return { degree: body.degree * max, factor: body.factor ** max * (max - min + 1) };
}

/**
 * Roughly how many automaton states RE2 makes of the pattern (a repeat count copies its body),
 * which is what RE2 may step through for each character of the path.
 */
export function linearSize(node: Node): number {
  switch (node.kind) {
    case 'seq':
      return node.items.reduce((sum, item) => sum + linearSize(item), 0);
    case 'alt':
      return node.branches.reduce((sum, branch) => sum + linearSize(branch) + 1, 0);
    case 'group':
      return linearSize(node.body) + (node.capture ? 2 : 0);
    case 'repeat':
      return linearSize(node.body) * (Number.isFinite(node.max) ? Math.max(node.max, 1) : Math.max(node.min, 1)) + 1;
    default:
      return 1;
  }
}
