/**
 * JWT verification as RIG 3.0 does it (spec 7.1), on top of fast-jwt.
 *
 * Every place that reads a token (SSE/WS/long-poll connect, subscriptions PUT, event submission,
 * proxy auth) goes through one verifier built from JWT_ALG / JWT_SECRET_KEY and, if set, the keys
 * of JWKS_URL (./jwks.ts), so the rules live here once: every key verifies exactly one algorithm
 * and the header `alg` must name it (JWT_ALG for JWT_SECRET_KEY; no algorithm confusion), `exp` is required, and
 * failures carry RIG's short cause texts ("Invalid signature", "token expired", ...) that callers
 * wrap into `could not decode JWT: <reason>`. A verified-token cache absorbs reconnect storms, where
 * thousands of clients present the same few tokens again within seconds.
 */
import { createPublicKey } from 'node:crypto';
import { createVerifier, type Algorithm, type TokenError } from 'fast-jwt';
import type { JwtAlgorithm } from '../config/types.js';
import type { JwksKeySource } from './jwks.js';

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
/** A token whose `kid` is not in the JWKS, also after the refresh it may have caused. */
export const UNKNOWN_KID_REASON = 'unknown key id';
/** No `kid`, no JWT_SECRET_KEY, and the JWKS holds more than one key: which one is meant? */
export const NO_KID_REASON = 'token names no key id';

type VerifyFn = (token: string) => Record<string, unknown>;

export interface JwtVerifierOptions {
  alg: JwtAlgorithm;
  secretKey: string;
  cacheSize: number;
  /**
   * JWKS_URL's keys. Tokens naming a `kid` are verified with the JWKS key of that id (and its
   * algorithm) only; tokens without one with JWT_SECRET_KEY, or without that, with the only key
   * of the set.
   */
  jwks?: JwksKeySource;
}

export function createJwtVerifier(opts: JwtVerifierOptions): JwtVerifier {
  const { alg, secretKey, cacheSize, jwks } = opts;
  const staticVerify = secretKey === '' ? undefined : staticVerifier(alg, secretKey, cacheSize);
  if (!jwks) {
    // RIG starts without a key and fails every token; keep that rather than refusing to start, so
    // deployments that never send JWTs need no key.
    const verify: VerifyFn = staticVerify ?? (() => { throw new JwtError(NO_SECRET_REASON); });
    return { verify, pending: () => undefined };
  }
  const keyVerifiers = new JwksVerifiers(jwks, cacheSize);
  return {
    verify(token) {
      const { kid } = tokenHeader(token);
      if (kid !== undefined) return keyVerifiers.forKid(kid)(token);
      if (staticVerify) return staticVerify(token);
      return keyVerifiers.onlyKey()(token);
    },
    pending(token) {
      let kid: string | undefined;
      try {
        ({ kid } = tokenHeader(token));
      } catch {
        return undefined; // verify answers "Invalid token" at once
      }
      if (kid !== undefined) return jwks.lookUp(kid);
      return staticVerify ? undefined : jwks.firstFetch();
    },
  };
}

function staticVerifier(alg: JwtAlgorithm, secretKey: string, cacheSize: number): VerifyFn {
  const key = alg.startsWith('HS') ? secretKey : publicKeyPem(secretKey);
  try {
    return fastVerifier(key, alg, cacheSize);
  } catch (e) {
    // fast-jwt rejects a key that does not fit the algorithm (an RSA key for ES256, a P-384 key for ES256).
    throw new Error(`JWT_SECRET_KEY: the key does not fit JWT_ALG=${alg} (${(e as Error).message})`, { cause: e });
  }
}

/** One key, one algorithm: a token whose header names another algorithm fails ("Invalid algorithm"). */
function fastVerifier(key: string, alg: string, cacheSize: number): VerifyFn {
  const verifyFast = createVerifier({
    key,
    algorithms: [alg as Algorithm],
    requiredClaims: ['exp'],
    cache: cacheSize > 0 ? cacheSize : false,
  });
  return (token) => {
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
  };
}

/**
 * A verifier per JWKS key, each with its own verified-token cache. Rebuilt when the key set
 * changes: a key that stays keeps its verifier (and cache); a removed key takes its cache along,
 * so a cached token never outlives its key. Failures are not remembered across refreshes at all:
 * an unknown kid is looked up in the current set every time.
 */
class JwksVerifiers {
  private built = -1;
  private byKid = new Map<string, VerifyFn>();
  private only: VerifyFn | undefined;
  private byIdentity = new Map<string, VerifyFn>();

  constructor(
    private readonly jwks: JwksKeySource,
    private readonly cacheSize: number,
  ) {}

  forKid(kid: string): VerifyFn {
    this.sync();
    const v = this.byKid.get(kid);
    if (!v) throw new JwtError(UNKNOWN_KID_REASON);
    return v;
  }

  onlyKey(): VerifyFn {
    this.sync();
    if (!this.only) throw new JwtError(this.jwks.keys.length === 0 ? UNKNOWN_KID_REASON : NO_KID_REASON);
    return this.only;
  }

  private sync(): void {
    if (this.built === this.jwks.generation) return;
    const next = new Map<string, VerifyFn>();
    this.byKid = new Map();
    for (const key of this.jwks.keys) {
      const identity = `${key.kid ?? ''}\n${key.alg}\n${key.pem}`;
      const v = this.byIdentity.get(identity) ?? fastVerifier(key.pem, key.alg, this.cacheSize);
      next.set(identity, v);
      if (key.kid !== undefined) this.byKid.set(key.kid, v);
    }
    this.byIdentity = next;
    this.only = this.jwks.keys.length === 1 ? [...next.values()][0] : undefined;
    this.built = this.jwks.generation;
  }
}

/** The header members that pick the key. Throws "Invalid token" for anything that is not a JWT header. */
function tokenHeader(token: string): { kid: string | undefined } {
  const dot = token.indexOf('.');
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(token.slice(0, dot < 0 ? token.length : dot), 'base64url').toString('utf8'));
  } catch {
    throw new JwtError('Invalid token');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new JwtError('Invalid token');
  const kid = (header as { kid?: unknown }).kid;
  if (kid !== undefined && typeof kid !== 'string') throw new JwtError('Invalid token');
  return { kid };
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
