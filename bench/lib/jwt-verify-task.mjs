/**
 * The piscina tasks of the reconnect-storm cases (bench/lib/jwt-storm.mjs). `default` verifies one
 * token (or an array of tokens) with the gateway's own verifier (dist/, shared/jwt/verifier.ts,
 * cache off) and returns the claims; `noop` returns its argument, timing the pool itself.
 */
import { workerData } from 'piscina';
import { dist } from './micro-fixtures.mjs';

const { createJwtVerifier } = await dist('shared/jwt/verifier.js');
const verifier = createJwtVerifier({ alg: workerData.alg, secretKey: workerData.secretKey, cacheSize: 0 });

export default function verify(tokens) {
  return Array.isArray(tokens) ? tokens.map((t) => verifier.verify(t)) : verifier.verify(tokens);
}

export function noop(x) {
  return x;
}
