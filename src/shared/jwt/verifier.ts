/**
 * JWT verification as RIG 3.0 does it (spec 7.1), on top of fast-jwt.
 *
 * Every place that reads a token (SSE/WS/long-poll connect, subscriptions PUT, event submission,
 * proxy auth) goes through one verifier built from JWT_ALG / JWT_SECRET_KEY, so the rules live
 * here once: the header `alg` must equal JWT_ALG (no algorithm confusion), `exp` is required, and
 * failures carry RIG's short cause texts ("Invalid signature", "token expired", ...) that callers
 * wrap into `could not decode JWT: <reason>`. A verified-token cache absorbs reconnect storms, where
 * thousands of clients present the same few tokens again within seconds.
 */
import { createPublicKey } from 'node:crypto';
import { createVerifier, type TokenError } from 'fast-jwt';
import type { JwtAlgorithm } from '../config/types.js';

export interface JwtVerifier {
  /** Verified claims (frozen: with the cache on, the same object is handed to every caller). Throws JwtError. */
  verify(token: string): Record<string, unknown>;
  /**
   * With keys fetched from JWKS_URL: a promise that settles once keys for the token's `kid` were
   * looked up (verify can then answer), or undefined when verify can answer now. Static keys
   * (JWT_SECRET_KEY) always answer undefined.
   */
  pending(token: string): Promise<void> | undefined;
}

/** A token that did not verify. `reason` is RIG's cause text, without the "could not decode JWT: " prefix. */
export class JwtError extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(reason);
    this.name = 'JwtError';
    this.reason = reason;
  }
}

export const NO_SECRET_REASON = 'no JWT_SECRET_KEY configured';

export function createJwtVerifier(opts: { alg: JwtAlgorithm; secretKey: string; cacheSize: number }): JwtVerifier {
  const { alg, secretKey, cacheSize } = opts;
  if (secretKey === '') {
    // RIG starts without a key and fails every token; keep that rather than refusing to start, so
    // deployments that never send JWTs need no key.
    return {
      verify() {
        throw new JwtError(NO_SECRET_REASON);
      },
      pending: () => undefined,
    };
  }
  const key = alg.startsWith('HS') ? secretKey : publicKeyPem(secretKey);
  let verifyFast: (token: string) => unknown;
  try {
    verifyFast = createVerifier({
      key,
      algorithms: [alg],
      requiredClaims: ['exp'],
      cache: cacheSize > 0 ? cacheSize : false,
    });
  } catch (e) {
    // fast-jwt rejects a key that does not fit the algorithm (an RSA key for ES256, a P-384 key for ES256).
    throw new Error(`JWT_SECRET_KEY: the key does not fit JWT_ALG=${alg} (${(e as Error).message})`, { cause: e });
  }
  return {
    pending: () => undefined,
    verify(token) {
      let claims: unknown;
      try {
        claims = verifyFast(token);
      } catch (e) {
        throw new JwtError(reasonFor(e));
      }
      if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new JwtError('Invalid token');
      // Frozen once; cache hits return the already frozen object, so the check keeps them cheap.
      if (!Object.isFrozen(claims)) deepFreeze(claims);
      return claims as Record<string, unknown>;
    },
  };
}

/**
 * RS and ES keys come as a PEM public key or an X.509 certificate (RIG's own tests use a
 * certificate). Both are normalised to an SPKI public key, the one form fast-jwt accepts for every
 * algorithm. Env vars often carry PEM text with literal "\n" sequences instead of line breaks.
 */
function publicKeyPem(secretKey: string): string {
  const pem = secretKey.replace(/\\n/g, '\n').trim();
  try {
    return createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
  } catch (e) {
    throw new Error(`JWT_SECRET_KEY: not a PEM public key or X.509 certificate (${(e as Error).message})`, { cause: e });
  }
}

// fast-jwt error code -> RIG's cause text. Codes not listed become "Invalid token".
const REASONS: Readonly<Record<string, string>> = {
  FAST_JWT_INVALID_SIGNATURE: 'Invalid signature',
  FAST_JWT_MISSING_SIGNATURE: 'Invalid signature',
  FAST_JWT_VERIFY_ERROR: 'Invalid signature',
  // RIG treats a token without `exp` exactly like an expired one.
  FAST_JWT_EXPIRED: 'token expired',
  FAST_JWT_MISSING_REQUIRED_CLAIM: 'token expired',
  FAST_JWT_INVALID_ALGORITHM: 'Invalid algorithm',
  FAST_JWT_INACTIVE: 'token not yet valid',
  FAST_JWT_MALFORMED: 'Invalid token',
};

function reasonFor(e: unknown): string {
  const code = (e as Partial<TokenError> | null)?.code;
  return (typeof code === 'string' && REASONS[code]) || 'Invalid token';
}

function deepFreeze(value: object): void {
  Object.freeze(value);
  for (const v of Object.values(value)) {
    if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) deepFreeze(v);
  }
}
