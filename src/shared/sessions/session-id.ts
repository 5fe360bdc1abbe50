/**
 * A session is the value of the claim JWT_SESSION_FIELD points to (RIG spec 7.2; default `/jti`).
 * The same rule names the session for kills and for rejecting blacklisted tokens (RIG used `jti`
 * for rejection whatever the field said, spec 13 item 16). Strings are taken as they are, numbers
 * as their decimal text (a numeric user id); any other value names no session.
 */
import { parsePointer, resolvePointer } from '../extractors/pointer.js';

export type SessionField = readonly string[];

/** Parses JWT_SESSION_FIELD once (the config schema has already checked its syntax). */
export function parseSessionField(pointer: string): SessionField {
  return parsePointer(pointer);
}

export function sessionIdOf(claims: Readonly<Record<string, unknown>>, field: SessionField): string | undefined {
  const v = resolvePointer(claims, field);
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}
