/**
 * The value of SUBSCRIPTION_CHECK / SUBMISSION_CHECK (RIG spec 7.5), read case-insensitively:
 * empty or NO_CHECK allows everything, JWT_VALIDATION allows a request carrying at least one valid
 * token, anything else is the URL of an external decision service. The config schema has already
 * refused values that are none of these (a URL must be http(s) and parse).
 */
export type CheckSetting =
  | { readonly kind: 'none' }
  | { readonly kind: 'jwt' }
  | { readonly kind: 'url'; readonly url: URL };

export function parseCheckSetting(value: string): CheckSetting {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'no_check') return { kind: 'none' };
  if (v === 'jwt_validation') return { kind: 'jwt' };
  return { kind: 'url', url: new URL(value.trim()) };
}
