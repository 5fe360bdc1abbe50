/** Signs test JWTs the gateway will accept (HS256 with the secret the tests configure). */
import { createSigner } from 'fast-jwt';

export const TEST_JWT_SECRET = 'mysecret';

export function signJwt(claims: Record<string, unknown>, opts: { secret?: string; expiresInS?: number } = {}): string {
  const sign = createSigner({ key: opts.secret ?? TEST_JWT_SECRET, algorithm: 'HS256', expiresIn: (opts.expiresInS ?? 3600) * 1000 });
  return sign(claims);
}
