/**
 * Signing keys published as a JSON Web Key Set (RFC 7517) at JWKS_URL, as identity providers do.
 *
 * - Fetched when the verifier is built, then every JWKS_REFRESH_INTERVAL_MS, and again when a
 *   token names a key id (`kid`) the set does not hold (a provider rotated its keys) - but at most
 *   once per JWKS_MIN_REFRESH_INTERVAL_MS, so tokens with made-up key ids cannot turn the gateway
 *   into a load generator against the provider. Everyone asking meanwhile shares one fetch.
 * - Only RSA and EC signature keys are taken; each key is bound to exactly one algorithm (its
 *   `alg`, else derived from its type, see keyAlgorithm), so a token cannot pick how a key's bytes
 *   are interpreted. Keys that cannot be used are skipped with a warning; the rest of the set counts.
 * - A fetch that fails (network, timeout, status, not a key set, no usable key) keeps the last good
 *   keys: an outage of the provider must not log everybody out.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import type { JwtAlgorithm } from '../config/types.js';
import type { Logger } from '../logger.js';

/** The asymmetric algorithms a JWKS key may be bound to. */
export type JwksAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512';

const RSA_ALGS: ReadonlySet<string> = new Set(['RS256', 'RS384', 'RS512']);
/** EC algorithms by curve: the curve decides the algorithm (RFC 7518 3.4). */
const EC_ALG_OF_CURVE: Readonly<Record<string, JwksAlgorithm>> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };

/** A bigger key set is not a key set; nothing legitimate comes close. */
const MAX_JWKS_BYTES = 1024 * 1024;

export interface JwksKey {
  /** The key id, if the JWK has one. */
  readonly kid: string | undefined;
  /** The one algorithm tokens verified with this key must name. */
  readonly alg: JwksAlgorithm;
  /** SPKI PEM of the public key (the form the verifier takes for every algorithm). */
  readonly pem: string;
}

/**
 * The usable signature keys of a key set, in order, and a warning per JWK that was skipped for a
 * reason an operator should know. `defaultAlg` (JWT_ALG) is the algorithm of RSA keys without `alg`
 * when it is an RS algorithm. Throws when `body` is not a key set at all.
 */
export function parseJwks(body: unknown, defaultAlg: JwtAlgorithm): { keys: JwksKey[]; warnings: string[] } {
  if (body === null || typeof body !== 'object' || !Array.isArray((body as { keys?: unknown }).keys)) {
    throw new Error('not a JWK set (an object with a "keys" array)');
  }
  const keys: JwksKey[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  ((body as { keys: unknown[] }).keys).forEach((jwk, i) => {
    const result = parseKey(jwk, defaultAlg);
    const name = `key ${i}${isObject(jwk) && typeof jwk['kid'] === 'string' ? ` (kid ${JSON.stringify(jwk['kid'])})` : ''}`;
    if (result === 'not-for-signatures') return;
    if (typeof result === 'string') {
      warnings.push(`${name} skipped: ${result}`);
      return;
    }
    if (result.kid !== undefined) {
      if (seen.has(result.kid)) {
        warnings.push(`${name} skipped: an earlier key has the same kid`);
        return;
      }
      seen.add(result.kid);
    }
    keys.push(result);
  });
  return { keys, warnings };
}

/** A usable key, 'not-for-signatures' (quietly skipped: `use` or `key_ops` say so), or why not. */
function parseKey(jwk: unknown, defaultAlg: JwtAlgorithm): JwksKey | 'not-for-signatures' | string {
  if (!isObject(jwk)) return 'not an object';
  const { kty, kid, use, alg } = jwk;
  if (use !== undefined && use !== 'sig') return 'not-for-signatures';
  if (Array.isArray(jwk['key_ops']) && !jwk['key_ops'].includes('verify')) return 'not-for-signatures';
  if (kid !== undefined && typeof kid !== 'string') return '"kid" is not a string';
  if (alg !== undefined && typeof alg !== 'string') return '"alg" is not a string';
  if (kty !== 'RSA' && kty !== 'EC') return `key type ${JSON.stringify(kty)} is not supported (RSA and EC are)`;
  const bound = keyAlgorithm(kty, jwk['crv'], alg, defaultAlg);
  if (!bound.ok) return bound.problem;
  let pem: string;
  try {
    // Only the public members: a JWKS that (wrongly) publishes a private key must not make us hold it.
    const pub: JsonWebKey = kty === 'RSA'
      ? { kty, n: jwk['n'] as string, e: jwk['e'] as string }
      : { kty, crv: jwk['crv'] as string, x: jwk['x'] as string, y: jwk['y'] as string };
    pem = createPublicKey({ key: pub, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
  } catch (e) {
    return `not a valid ${kty} public key (${(e as Error).message})`;
  }
  return { kid, alg: bound.alg, pem };
}

/**
 * The algorithm a key verifies: its `alg` when present (it must fit the key type); else for RSA
 * keys JWT_ALG when that is an RS algorithm, otherwise RS256; for EC keys the curve's algorithm.
 */
export function keyAlgorithm(
  kty: 'RSA' | 'EC',
  crv: unknown,
  alg: string | undefined,
  defaultAlg: JwtAlgorithm,
): { ok: true; alg: JwksAlgorithm } | { ok: false; problem: string } {
  if (kty === 'RSA') {
    if (alg === undefined) return { ok: true, alg: RSA_ALGS.has(defaultAlg) ? (defaultAlg as JwksAlgorithm) : 'RS256' };
    return RSA_ALGS.has(alg) ? { ok: true, alg: alg as JwksAlgorithm } : { ok: false, problem: `"alg" ${JSON.stringify(alg)} does not fit an RSA key (allowed: RS256, RS384, RS512)` };
  }
  const curveAlg = typeof crv === 'string' ? EC_ALG_OF_CURVE[crv] : undefined;
  if (curveAlg === undefined) return { ok: false, problem: `curve ${JSON.stringify(crv)} is not supported (P-256, P-384, P-521 are)` };
  if (alg !== undefined && alg !== curveAlg) return { ok: false, problem: `"alg" ${JSON.stringify(alg)} does not fit curve ${String(crv)} (${curveAlg})` };
  return { ok: true, alg: curveAlg };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export interface JwksOptions {
  url: string;
  /** JWT_ALG: the algorithm of RSA keys that name none. */
  defaultAlg: JwtAlgorithm;
  refreshIntervalMs: number;
  minRefreshIntervalMs: number;
  timeoutMs: number;
  log: Logger;
  /** The clock (tests). */
  now?: () => number;
}

/**
 * The keys of one JWKS_URL as this thread knows them. `generation` changes whenever the key set
 * was replaced, so users can rebuild what they derived from it.
 */
export class JwksKeySource {
  private byKid = new Map<string, JwksKey>();
  private all: readonly JwksKey[] = [];
  private gen = 0;
  private inFlight: Promise<void> | undefined;
  /** When the last fetch started (ms); unknown-kid refreshes wait JWKS_MIN_REFRESH_INTERVAL_MS after it. */
  private lastFetchAt = -Infinity;
  private fetched = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: JwksOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** First fetch now, then every JWKS_REFRESH_INTERVAL_MS. */
  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.opts.refreshIntervalMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  get generation(): number {
    return this.gen;
  }

  get keys(): readonly JwksKey[] {
    return this.all;
  }

  /** Whether the first fetch has completed (successfully or not). */
  get settled(): boolean {
    return this.fetched;
  }

  find(kid: string): JwksKey | undefined {
    return this.byKid.get(kid);
  }

  /** The first fetch while it runs; undefined once it has completed. */
  firstFetch(): Promise<void> | undefined {
    return this.fetched ? undefined : this.inFlight;
  }

  /**
   * A token names `kid`, which the set does not hold: the fetch that may bring it (one running, or a
   * new one if the rate limit allows), or undefined when the answer is "unknown" for now.
   */
  lookUp(kid: string): Promise<void> | undefined {
    if (this.byKid.has(kid)) return undefined;
    if (this.inFlight) return this.inFlight;
    if (this.now() - this.lastFetchAt < this.opts.minRefreshIntervalMs) return undefined;
    return this.refresh();
  }

  /** Fetches the set now (sharing a fetch already running). Never rejects. */
  refresh(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.lastFetchAt = this.now();
    const run = this.fetchAndApply().finally(() => {
      this.fetched = true;
      this.inFlight = undefined;
    });
    this.inFlight = run;
    return run;
  }

  private async fetchAndApply(): Promise<void> {
    const { url, log } = this.opts;
    let parsed: { keys: JwksKey[]; warnings: string[] };
    try {
      parsed = parseJwks(await this.fetchJson(), this.opts.defaultAlg);
    } catch (e) {
      log.warn(`JWKS_URL: fetching the keys failed, keeping the ${this.all.length} known key(s)`, { url, reason: (e as Error).message });
      return;
    }
    for (const w of parsed.warnings) log.warn(`JWKS_URL: ${w}`, { url });
    if (parsed.keys.length === 0) {
      log.warn(`JWKS_URL: the key set holds no usable signature key, keeping the ${this.all.length} known key(s)`, { url });
      return;
    }
    if (!sameKeys(parsed.keys, this.all)) {
      this.all = parsed.keys;
      this.byKid = new Map(parsed.keys.filter((k) => k.kid !== undefined).map((k) => [k.kid!, k]));
      this.gen++;
      log.info(`JWKS_URL: ${parsed.keys.length} key(s) loaded`, { url, kids: parsed.keys.map((k) => k.kid ?? '(none)').join(',') });
    }
  }

  private async fetchJson(): Promise<unknown> {
    const res = await fetch(this.opts.url, {
      headers: { accept: 'application/jwk-set+json, application/json' },
      signal: AbortSignal.timeout(this.opts.timeoutMs),
      redirect: 'follow',
    });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`status ${res.status}`);
    }
    const text = await readLimited(res, MAX_JWKS_BYTES);
    try {
      return JSON.parse(text);
    } catch {
      throw new Error('the answer is not JSON');
    }
  }
}

async function readLimited(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`the answer is larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function sameKeys(a: readonly JwksKey[], b: readonly JwksKey[]): boolean {
  return a.length === b.length && a.every((k, i) => k.kid === b[i]!.kid && k.alg === b[i]!.alg && k.pem === b[i]!.pem);
}
