/**
 * Builds the frozen GatewayConfig from environment variables, following SCHEMA. Start-up must stop
 * on a bad value rather than run with a surprise, and an operator fixing a deployment wants every
 * mistake at once: so every variable is checked, all problems are collected, and one ConfigError
 * lists them, each naming the variable and what it accepts.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { apiListProblem } from '../apis/validate.js';
import { parseExtractorConfig } from '../extractors/config.js';
import { createJwtVerifier } from '../jwt/verifier.js';
import { httpsEnabled, httpsProblems } from './https-files.js';
import { SCHEMA, UNSUPPORTED_RIG_ENV, allowedDoc, isComputed, type SchemaEntry } from './schema.js';
import type { GatewayConfig } from './types.js';

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Parsed = { ok: true; value: unknown } | { ok: false; problem: string };

export function loadConfig(env: NodeJS.ProcessEnv, opts: { cwd?: string } = {}): GatewayConfig {
  const cwd = opts.cwd ?? process.cwd();
  const problems: string[] = [];
  const failed = new Set<string>();
  const out: Record<string, unknown> = {};

  for (const entry of SCHEMA) {
    const raw = env[entry.env];
    let value: unknown;
    if (raw === undefined || (raw === '' && !entry.keepEmpty)) {
      value = isComputed(entry.default) ? entry.default.compute() : entry.default;
    } else {
      const parsed = parseValue(entry, raw, cwd);
      if (!parsed.ok) {
        problems.push(`${entry.env}: ${parsed.problem} (allowed: ${allowedDoc(entry)})`);
        failed.add(entry.env);
        continue;
      }
      value = parsed.value;
    }
    setPath(out, entry.path, value);
  }
  out['tokenSecretIsRandom'] = !env['NODE_COOKIE'];

  problems.push(...crossFieldProblems(out as unknown as GatewayConfig, failed, cwd));
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(out) as unknown as GatewayConfig;
}

/** Rules that involve more than one variable. Skipped for variables that already failed on their own. */
function crossFieldProblems(cfg: GatewayConfig, failed: ReadonlySet<string>, cwd: string): string[] {
  const problems: string[] = [];
  const { alg, secretKey } = cfg.jwt;
  if (!failed.has('JWT_ALG') && !alg.startsWith('HS') && secretKey !== '') {
    try {
      createJwtVerifier({ alg, secretKey, cacheSize: 0 });
    } catch (e) {
      // The message starts "JWT_SECRET_KEY: " and never quotes the key.
      problems.push(`${(e as Error).message} (allowed: a PEM public key or X.509 certificate for ${alg})`);
    }
  }
  if (!failed.has('JWKS_URL') && cfg.jwt.jwksUrl !== '' && !URL.canParse(cfg.jwt.jwksUrl)) {
    problems.push('JWKS_URL: not a valid URL (allowed: an http:// or https:// URL)');
  }
  // Certificate and key are read now: a file uWS cannot use must stop start-up with its name.
  problems.push(...httpsProblems(cfg, cwd));
  // Each listener needs a port of its own (0 = any free port never collides).
  const ports: Array<[string, number]> = [['INBOUND_PORT', cfg.inboundPort], ['API_HTTP_PORT', cfg.apiHttpPort]];
  if (httpsEnabled(cfg)) ports.push(['INBOUND_HTTPS_PORT', cfg.inboundHttpsPort], ['API_HTTPS_PORT', cfg.apiHttpsPort]);
  const usable = ports.filter(([name, port]) => !failed.has(name) && port !== 0);
  for (const [i, [name, port]] of usable.entries()) {
    const earlier = usable.slice(0, i).find(([, p]) => p === port);
    if (earlier) problems.push(`${name}: ${port} is also ${earlier[0]} (allowed: a port other than ${earlier[0]}, or 0)`);
  }
  if (!failed.has('KAFKA_PRODUCER_ACKS') && !failed.has('KAFKA_PRODUCER_IDEMPOTENT') && cfg.kafkaProducerIdempotent && cfg.kafkaProducerAcks !== 'all') {
    problems.push(`KAFKA_PRODUCER_IDEMPOTENT: an idempotent producer needs KAFKA_PRODUCER_ACKS=all, not ${cfg.kafkaProducerAcks} (allowed: KAFKA_PRODUCER_ACKS=all, or KAFKA_PRODUCER_IDEMPOTENT=false)`);
  }
  if (!failed.has('REQUEST_LOG') && !failed.has('KAFKA_BROKERS') && cfg.requestLog.includes('kafka') && cfg.kafkaBrokers.length === 0) {
    problems.push('REQUEST_LOG: kafka needs KAFKA_BROKERS, which is empty (allowed: KAFKA_BROKERS set, or REQUEST_LOG without kafka)');
  }
  // TLS files are read when the Kafka client is built; a missing one must stop start-up, not
  // surface later as a connection error retried forever.
  if (cfg.kafkaSslEnabled && cfg.kafkaBrokers.length > 0) {
    const files = [
      ['KAFKA_SSL_CA_CERTFILE', cfg.kafkaSslCaCertFile],
      ['KAFKA_SSL_CERTFILE', cfg.kafkaSslCertFile],
      ['KAFKA_SSL_KEYFILE', cfg.kafkaSslKeyFile],
    ] as const;
    for (const [name, path] of files) {
      if (path !== '' && !failed.has(name) && !isFile(path)) {
        problems.push(`${name}: ${show(path)} is not a readable file (allowed: path of a readable PEM file)`);
      }
    }
    if ((cfg.kafkaSslCertFile === '') !== (cfg.kafkaSslKeyFile === '')) {
      problems.push('KAFKA_SSL_CERTFILE: a client certificate needs KAFKA_SSL_KEYFILE and vice versa (allowed: both or neither)');
    }
  }
  return problems;
}

function parseValue(entry: SchemaEntry, raw: string, cwd: string): Parsed {
  const shown = entry.secret ? 'the value' : show(raw);
  switch (entry.type) {
    case 'port':
      return parseInteger(raw, 0, 65535);
    case 'int':
      return parseInteger(raw, entry.min, entry.max);
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (v === 'true' || v === '1' || v === 'yes') return { ok: true, value: true };
      if (v === 'false' || v === '0' || v === 'no') return { ok: true, value: false };
      return { ok: false, problem: `${shown} is not a boolean` };
    }
    case 'enum': {
      const v = raw.trim().toLowerCase();
      const match = entry.values.find((allowed) => allowed.toLowerCase() === v);
      return match === undefined ? { ok: false, problem: `${shown} is not a known value` } : { ok: true, value: match };
    }
    case 'string':
      if (entry.pattern && !entry.pattern.test(raw)) return { ok: false, problem: `${shown} is not valid` };
      {
        const problem = entry.check?.(raw);
        if (problem !== undefined) return { ok: false, problem };
      }
      return { ok: true, value: raw };
    case 'json-or-path':
      return parseJsonOrPath(raw, cwd, entry.content);
    case 'list': {
      const items = raw.split(',').map((i) => i.trim()).filter((i) => i !== '');
      const bad = items.find((i) => !entry.itemPattern.test(i));
      if (bad !== undefined) return { ok: false, problem: `${show(bad)} is not valid` };
      return { ok: true, value: items };
    }
  }
}

function parseInteger(raw: string, min: number, max: number): Parsed {
  const text = raw.trim();
  if (!/^-?\d+$/.test(text)) return { ok: false, problem: `${show(raw)} is not an integer` };
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) return { ok: false, problem: `${text} is out of range` };
  return { ok: true, value: n };
}

/** RIG's path-or-JSON rule (spec 8): a readable file first, otherwise the text itself as JSON. */
function parseJsonOrPath(raw: string, cwd: string, content: 'extractors' | 'apis'): Parsed {
  const text = raw.trim();
  const path = isAbsolute(text) ? text : resolve(cwd, text);
  let json: unknown;
  let source: string;
  if (isFile(path)) {
    source = `file ${path}`;
    let content: string;
    try {
      content = readFileSync(path, 'utf8');
    } catch (e) {
      return { ok: false, problem: `cannot read ${source}: ${(e as Error).message}` };
    }
    try {
      json = JSON.parse(content);
    } catch (e) {
      return { ok: false, problem: `${source} is not JSON: ${(e as Error).message}` };
    }
  } else {
    source = 'the JSON text';
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, problem: `${show(raw)} is neither a file (looked for ${path}) nor JSON text` };
    }
  }
  if (content === 'apis') {
    const problem = apiListProblem(json);
    return problem === undefined ? { ok: true, value: json } : { ok: false, problem: `${source} ${problem}` };
  }
  try {
    parseExtractorConfig(json);
  } catch (e) {
    return { ok: false, problem: `${source} is not a valid extractor configuration: ${(e as Error).message}` };
  }
  return { ok: true, value: json };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false; // missing, a directory's child of a file, a name with NUL bytes, ...
  }
}

/** A value quoted for an error message, shortened so a pasted JSON document stays readable. */
function show(raw: string): string {
  const q = JSON.stringify(raw);
  return q.length <= 60 ? q : `${q.slice(0, 56)}..."`;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const dot = path.indexOf('.');
  if (dot < 0) {
    target[path] = value;
    return;
  }
  const head = path.slice(0, dot);
  const child = (target[head] ??= {}) as Record<string, unknown>;
  setPath(child, path.slice(dot + 1), value);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The configuration as it may be logged: keyed by variable name, secrets replaced by whether they
 * are set, the extractor configuration by its event types.
 */
export function describeConfig(cfg: GatewayConfig): Record<string, unknown> {
  const summary: Record<string, unknown> = {};
  for (const entry of SCHEMA) {
    const value = getPath(cfg, entry.path);
    if (entry.env === 'NODE_COOKIE') summary[entry.env] = cfg.tokenSecretIsRandom ? '(random per process)' : '(set)';
    else if (entry.secret) summary[entry.env] = value === '' ? '(empty)' : '(set)';
    else if (entry.type === 'json-or-path' && entry.content === 'apis') summary[entry.env] = value === null ? null : { apis: apiIdsOf(value) };
    else if (entry.type === 'json-or-path') summary[entry.env] = value === null ? null : { eventTypes: eventTypesOf(value) };
    else summary[entry.env] = value;
  }
  return summary;
}

function getPath(cfg: GatewayConfig, path: string): unknown {
  let v: unknown = cfg;
  for (const part of path.split('.')) v = (v as Record<string, unknown>)[part];
  return v;
}

function apiIdsOf(apis: unknown): unknown[] {
  return Array.isArray(apis) ? apis.map((a) => (a as Record<string, unknown>)['id']) : [];
}

function eventTypesOf(extractors: unknown): string[] {
  return extractors !== null && typeof extractors === 'object' ? Object.keys(extractors) : [];
}

/** RIG variables set in `env` that this version ignores; start-up logs them as a warning. */
export function unsupportedRigSettings(env: NodeJS.ProcessEnv): string[] {
  return UNSUPPORTED_RIG_ENV.filter((name) => env[name] !== undefined && env[name] !== '');
}
