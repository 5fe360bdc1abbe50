/** Signs test JWTs the gateway will accept (HS256 with the secret the tests configure). */
import { createSigner } from 'fast-jwt';

export const TEST_JWT_SECRET = 'mysecret';

export function signJwt(claims: Record<string, unknown>, opts: { secret?: string; expiresInS?: number } = {}): string {
  const sign = createSigner({ key: opts.secret ?? TEST_JWT_SECRET, algorithm: 'HS256', expiresIn: (opts.expiresInS ?? 3600) * 1000 });
  return sign(claims);
}

/** Signs with a private key (PEM) in an asymmetric algorithm, naming `kid` in the header if given. */
export function signJwtWithKey(
  claims: Record<string, unknown>,
  opts: { privateKey: string; algorithm: 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512'; kid?: string; expiresInS?: number },
): string {
  const sign = createSigner({
    key: opts.privateKey,
    algorithm: opts.algorithm,
    expiresIn: (opts.expiresInS ?? 3600) * 1000,
    ...(opts.kid !== undefined && { kid: opts.kid }),
  });
  return sign(claims);
}
