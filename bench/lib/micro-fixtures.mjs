/**
 * Inputs shared by the main-thread micro-benchmarks (bench/micro.mjs) and their worker threads:
 * the built gateway modules (dist/), CloudEvents of the size the fan-out benchmark publishes
 * (≈ 190 bytes of JSON), Kafka records in both content modes, the extractor configuration of the
 * subscription tests (test/helpers/rig-scenarios.ts GREETING_EXTRACTORS) and JWTs.
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DIST = new URL('../../dist/src/', import.meta.url);
const FIXTURES = new URL('../../test/fixtures/jwt/', import.meta.url);

/** Imports a compiled gateway module, e.g. dist('shared/channel/port.js'). */
export async function dist(path) {
  try {
    return await import(new URL(path, DIST).href);
  } catch (e) {
    throw new Error(`cannot load dist/src/${path} (run npm run build first): ${e.message}`, { cause: e });
  }
}

/** The extractor configuration the subscription tests use: greeting events, field `name` at /data/name. */
export const GREETING_EXTRACTORS = { greeting: { name: { stable_field_index: 1, event: { json_pointer: '/data/name' }, jwt: { json_pointer: '/username' } } } };

export const EVENT_TYPE = 'greeting';
/** Distinct inputs per case, cycled, so no case sees one constant input. */
export const VARIANTS = 256;
/** Names events carry: user-00000 … user-19999. Subscriptions (interest) exist for the first half. */
export const NAME_SPACE = 20_000;
export const SUBSCRIBED_NAMES = 10_000;

const name = (i) => `user-${String(i % NAME_SPACE).padStart(5, '0')}`;
const id = (i) => String(100_000 + i);
// 16-digit timestamp like the fan-out benchmark's data.t; fixed, the cost does not depend on it.
const T = '1732399200000000';

/** `data` of every event: {"name":…, "t":…, "p":"xxx…"}; with the attributes below ≈ 190 bytes. */
function data(i, pad) {
  return `{"name":"${name(i * 79)}","t":"${T}","p":"${'x'.repeat(pad)}"}`;
}

/** Structured-mode CloudEvent JSON text, specversion 0.2 (the fan-out benchmark's shape) or 1.0. */
export function structuredEvent(i, specversion) {
  if (specversion === '0.2') return `{"specversion":"0.2","type":"${EVENT_TYPE}","source":"micro-bench","id":"${id(i)}","data":${data(i, 55)}}`;
  return `{"specversion":"1.0","type":"${EVENT_TYPE}","source":"micro-bench","id":"${id(i)}","datacontenttype":"application/json","data":${data(i, 18)}}`;
}

/** A kafkajs message (value and header values are Buffers) in structured mode. */
export function kafkaStructured(i) {
  return { value: Buffer.from(structuredEvent(i, '0.2')), headers: { 'content-type': Buffer.from('application/cloudevents+json; charset=utf-8') } };
}

/** A kafkajs message in binary mode: attributes in ce_ headers, the value is the data. */
export function kafkaBinary(i) {
  return {
    value: Buffer.from(data(i, 55)),
    headers: {
      'content-type': Buffer.from('application/json'),
      ce_specversion: Buffer.from('1.0'),
      ce_type: Buffer.from(EVENT_TYPE),
      ce_source: Buffer.from('micro-bench'),
      ce_id: Buffer.from(id(i)),
      ce_time: Buffer.from('2026-11-23T20:00:00Z'),
    },
  };
}

export const subscribedName = name;

// --- JWTs ---------------------------------------------------------------------------------------

export const HS_SECRET = 'mysecret';
export const RSA_PRIVATE = readFileSync(new URL('rsa-key.pem', FIXTURES), 'utf8');
/** The RS256 key as JWT_SECRET_KEY holds it: the X.509 certificate, as in RIG's tests. */
export const RSA_CERT = readFileSync(new URL('rsa-cert.pem', FIXTURES), 'utf8');
export const RSA_PUBLIC = createPublicKey(RSA_PRIVATE).export({ type: 'spki', format: 'pem' }).toString();

/** `n` distinct tokens valid for an hour (claims: username, jti, exp). */
export async function signTokens(alg, n) {
  const { createSigner } = await import('fast-jwt');
  const sign = createSigner({ key: alg.startsWith('HS') ? HS_SECRET : RSA_PRIVATE, algorithm: alg, expiresIn: 3600_000 });
  return Array.from({ length: n }, (_, i) => sign({ username: name(i), jti: `session-${i}` }));
}

/** JWT_SECRET_KEY for an algorithm. */
export const jwtKey = (alg) => (alg.startsWith('HS') ? HS_SECRET : RSA_CERT);

export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
