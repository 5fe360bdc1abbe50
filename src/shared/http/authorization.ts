/**
 * RIG's reading of Authorization headers (spec 2.1): every header, split on commas, each item split
 * at its first space into (scheme, token); an item without a space is a bearer token. Shared by
 * the subscriptions PUT and the proxy's JWT check, which read Authorization the same way in RIG.
 */
export interface Credential {
  scheme: string;
  token: string;
}

export function parseAuthorization(values: readonly string[]): Credential[] {
  const out: Credential[] = [];
  for (const value of values) {
    for (const raw of value.split(',')) {
      const item = raw.trim();
      if (item === '') continue;
      const sp = item.indexOf(' ');
      if (sp < 0) out.push({ scheme: 'bearer', token: item });
      else out.push({ scheme: item.slice(0, sp).toLowerCase(), token: item.slice(sp + 1).trim() });
    }
  }
  return out;
}

export function bearerTokens(values: readonly string[]): string[] {
  return parseAuthorization(values)
    .filter((c) => c.scheme === 'bearer')
    .map((c) => c.token);
}
