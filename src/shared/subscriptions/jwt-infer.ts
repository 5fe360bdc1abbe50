/**
 * "Automatic" subscriptions inferred from a validated JWT (spec 5.3): extractor fields with a
 * `jwt.json_pointer` turn the caller's own claims into constraints, e.g. a user only receives the
 * events whose `/data/name` equals their `username` claim.
 */

import { resolvePointer } from '../extractors/pointer.js';
import type { ExtractorConfig } from '../extractors/types.js';
import type { Subscription } from './types.js';

/**
 * One subscription per event type that has at least one JWT-backed field resolving in `claims`,
 * holding a single conjunctive constraint with every resolved field (claim values as found, so a
 * JSON `null` claim becomes a wildcard). Fields whose pointer resolves to nothing are left out.
 */
export function inferSubscriptionsFromClaims(
  cfg: ExtractorConfig,
  claims: Record<string, unknown>,
): Subscription[] {
  const subs: Subscription[] = [];
  for (const [eventType, fields] of cfg) {
    let constraint: Record<string, unknown> | undefined;
    for (const field of fields) {
      if (field.jwtPointer === undefined) continue;
      const value = resolvePointer(claims, field.jwtPointer);
      if (value === undefined) continue;
      constraint ??= {};
      // defineProperty, not assignment: a field may legitimately be named "__proto__".
      Object.defineProperty(constraint, field.name, { value, enumerable: true, writable: true, configurable: true });
    }
    if (constraint !== undefined) subs.push({ eventType, oneOf: [constraint] });
  }
  return subs;
}
