import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, describeConfig, loadConfig, unsupportedRigSettings } from '../../../../src/shared/config/load.js';
import { SCHEMA, UNSUPPORTED_RIG_ENV, allowedDoc, defaultDoc } from '../../../../src/shared/config/schema.js';
import type { GatewayConfig } from '../../../../src/shared/config/types.js';

// Source-tree files, read from dist/test/unit/shared/config/.
const repoFile = (path: string) => new URL(`../../../../../${path}`, import.meta.url);

// A certificate and its key (also used for RS256 JWTs); the key is not encrypted.
const FIXTURE_CERT = fileURLToPath(repoFile('test/fixtures/jwt/rsa-cert.pem'));
const FIXTURE_KEY = fileURLToPath(repoFile('test/fixtures/jwt/rsa-key.pem'));

const EXTRACTORS = { greeting: { name: { stable_field_index: 1, event: { json_pointer: '/data/name' } } } };
const API = {
  id: 'books', name: 'books',
  version_data: { default: { endpoints: [{ id: 'list', method: 'GET', path_regex: '/books' }] } },
  proxy: { target_url: 'localhost', port: 7070 },
};

/** The ConfigError thrown for `env`; fails the test when loading succeeds. */
function problemsOf(env: NodeJS.ProcessEnv, opts?: { cwd?: string }): string[] {
  try {
    loadConfig(env, opts);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    for (const p of e.problems) assert.ok(e.message.includes(p));
    return e.problems;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(env)}`);
}

test('defaults: RIG\'s for RIG variables, ours for the rest', () => {
  const cfg = loadConfig({});
  assert.equal(cfg.inboundPort, 4000);
  assert.equal(cfg.inboundHost, '0.0.0.0');
  assert.equal(cfg.apiHttpPort, 4010);
  assert.equal(cfg.apiHttpHost, '0.0.0.0');
  assert.equal(cfg.cors, '*');
  assert.deepEqual(cfg.jwt, {
    secretKey: '', alg: 'HS256', sessionField: '/jti', cacheSize: 10000,
    jwksUrl: '', jwksRefreshIntervalMs: 600000, jwksMinRefreshIntervalMs: 30000, jwksTimeoutMs: 5000,
  });
  assert.equal(cfg.extractors, null);
  assert.equal(cfg.maxConnectionsPerMinute, 5000);
  assert.equal(cfg.logLevel, 'warn');
  assert.match(cfg.tokenSecret, /^[0-9a-f]{64}$/);
  assert.equal(cfg.tokenSecretIsRandom, true);
  assert.notEqual(loadConfig({}).tokenSecret, cfg.tokenSecret, 'random per process start');
  assert.equal(cfg.shards, Math.min(64, availableParallelism()));
  assert.match(cfg.nodeId, /^[A-Za-z0-9._-]{1,64}$/);
  assert.equal(cfg.heartbeatIntervalMs, 15000);
  assert.equal(cfg.outboundQueueMaxBytes, 262144);
  assert.equal(cfg.maxRequestBodyBytes, 1048576);
  assert.equal(cfg.maxHeaderValueBytes, 16384);
  assert.equal(cfg.longpollBufferSize, 200);
  assert.equal(cfg.maxSubscriptionsPerConnection, 1000);
  assert.equal(cfg.maxConstraintsPerSubscription, 100);
  assert.equal(cfg.maxFieldsPerConstraint, 32);
  assert.equal(cfg.maxUrlBytes, 65536);
  assert.equal(cfg.longpollTimeoutMs, 5000);
  assert.equal(cfg.longpollSessionIdleMs, 3600000);
  assert.equal(cfg.shutdownTimeoutMs, 10000);
  assert.equal(cfg.allowUwsFallback, false);
  assert.equal(cfg.kafkaSessionTimeoutMs, 10000);
  assert.equal(cfg.kafkaProducerAcks, 'all');
  assert.equal(cfg.kafkaProducerIdempotent, false);
  assert.equal(cfg.proxyConfig, null);
  assert.equal(cfg.proxyRecvTimeoutMs, 5000);
  assert.equal(cfg.host, 'localhost');
  assert.equal(cfg.prometheusMetricsEnabled, true);
  assert.equal(cfg.inboundHttpsPort, 4001);
  assert.equal(cfg.apiHttpsPort, 4011);
  assert.equal(cfg.httpsCertFile, '');
  assert.equal(cfg.httpsKeyFile, '');
  assert.equal(cfg.apiAuthToken, '', 'the internal API is unauthenticated unless a token is set, as in RIG');
});

test('authorization hooks: RIG\'s default NO_CHECK, mode names in any case, http(s) URLs only', () => {
  const cfg = loadConfig({});
  assert.equal(cfg.subscriptionCheck, 'NO_CHECK');
  assert.equal(cfg.submissionCheck, 'NO_CHECK');
  assert.equal(cfg.authorizationCheckTimeoutMs, 5000);
  assert.equal(cfg.authorizationCheckMaxInFlight, 128);
  assert.equal(loadConfig({ SUBSCRIPTION_CHECK: '' }).subscriptionCheck, 'NO_CHECK');
  for (const v of ['no_check', 'JWT_VALIDATION', 'jwt_validation', 'http://authz:8080/check', 'HTTPS://authz.example/x?y=1']) {
    assert.equal(loadConfig({ SUBSCRIPTION_CHECK: v, SUBMISSION_CHECK: v }).submissionCheck, v);
  }
  for (const bad of ['yes', 'ftp://authz/check', 'http://', 'authz:8080/check', 'http://[::1/check', 'http://a b']) {
    const problems = problemsOf({ SUBMISSION_CHECK: bad });
    assert.equal(problems.length, 1, bad);
    assert.match(problems[0]!, /^SUBMISSION_CHECK: .* \(allowed: NO_CHECK, JWT_VALIDATION \(any case\) or an http\(s\):\/\/ URL of a decision service\)$/, bad);
  }
  assert.match(problemsOf({ AUTHORIZATION_CHECK_MAX_IN_FLIGHT: '0' })[0]!, /AUTHORIZATION_CHECK_MAX_IN_FLIGHT/);
  assert.match(problemsOf({ AUTHORIZATION_CHECK_TIMEOUT_MS: 'soon' })[0]!, /AUTHORIZATION_CHECK_TIMEOUT_MS/);
  assert.deepEqual(unsupportedRigSettings({ SUBSCRIPTION_CHECK: 'jwt_validation', SUBMISSION_CHECK: 'jwt_validation' }), []);
});

test('an idempotent producer needs KAFKA_PRODUCER_ACKS=all', () => {
  assert.throws(() => loadConfig({ KAFKA_PRODUCER_IDEMPOTENT: 'true', KAFKA_PRODUCER_ACKS: 'leader' }), /KAFKA_PRODUCER_IDEMPOTENT: an idempotent producer needs KAFKA_PRODUCER_ACKS=all, not leader/);
  assert.equal(loadConfig({ KAFKA_PRODUCER_IDEMPOTENT: 'true' }).kafkaProducerIdempotent, true);
  assert.throws(() => loadConfig({ KAFKA_PRODUCER_ACKS: '2' }), /KAFKA_PRODUCER_ACKS: "2" is not a known value \(allowed: all, leader, none \(any case\)\)/);
  assert.throws(() => loadConfig({ KAFKA_SESSION_TIMEOUT_MS: '1000' }), /KAFKA_SESSION_TIMEOUT_MS/);
});

test('the config has exactly the fields of GatewayConfig', () => {
  // Typed so that adding a field to GatewayConfig without listing it here fails to compile.
  const fields: { [K in keyof GatewayConfig]: true } = {
    inboundPort: true, inboundHost: true, apiHttpPort: true, apiHttpHost: true, cors: true, jwt: true,
    inboundHttpsPort: true, apiHttpsPort: true, httpsCertFile: true, httpsKeyFile: true, httpsKeyFilePass: true, apiAuthToken: true,
    extractors: true, maxConnectionsPerMinute: true, logLevel: true, tokenSecret: true, tokenSecretIsRandom: true,
    shards: true, nodeId: true, heartbeatIntervalMs: true, outboundQueueMaxBytes: true, maxRequestBodyBytes: true,
    maxHeaderValueBytes: true, maxSubscriptionsPerConnection: true, maxConstraintsPerSubscription: true,
    maxFieldsPerConstraint: true, maxUrlBytes: true, longpollBufferSize: true, longpollTimeoutMs: true, longpollSessionIdleMs: true,
    shutdownTimeoutMs: true, allowUwsFallback: true, faultInjection: true, prometheusMetricsEnabled: true,
    kafkaBrokers: true, kafkaSourceTopics: true, kafkaGroupId: true, kafkaSslEnabled: true, kafkaSslCaCertFile: true,
    kafkaSslCertFile: true, kafkaSslKeyFile: true, kafkaSslKeyFilePass: true, kafkaSasl: true, kafkaRestartDelayMs: true,
    kafkaSessionTimeoutMs: true, kafkaProducerAcks: true, kafkaProducerIdempotent: true, kafkaPartitioner: true,
    proxyKafkaResponseTopics: true, proxyKafkaResponseGroupId: true, proxyKafkaResponseTimeoutMs: true, kafkaLogTopic: true,
    requestLog: true, proxyConfig: true, proxyRecvTimeoutMs: true, host: true,
    proxyHttpAsyncResponseTimeoutMs: true, proxyKafkaWrapNonCloudEvents: true, proxyApisTopic: true,
    maxConnectionsPerSession: true, sessionBlacklistTopic: true,
    subscriptionCheck: true, submissionCheck: true, authorizationCheckTimeoutMs: true, authorizationCheckMaxInFlight: true,
  };
  const jwtFields: { [K in keyof GatewayConfig['jwt']]: true } = {
    secretKey: true, alg: true, sessionField: true, cacheSize: true,
    jwksUrl: true, jwksRefreshIntervalMs: true, jwksMinRefreshIntervalMs: true, jwksTimeoutMs: true,
  };
  const cfg = loadConfig({});
  assert.deepEqual(Object.keys(cfg).sort(), Object.keys(fields).sort());
  assert.deepEqual(Object.keys(cfg.jwt).sort(), Object.keys(jwtFields).sort());
  assert.equal(new Set(SCHEMA.map((e) => e.env)).size, SCHEMA.length, 'env names are unique');
  assert.equal(new Set(SCHEMA.map((e) => e.path)).size, SCHEMA.length, 'paths are unique');
});

test('every variable is read', () => {
  const cfg = loadConfig({
    INBOUND_PORT: '0', INBOUND_HOST: '127.0.0.1', API_HTTP_PORT: '0', API_HTTP_HOST: '::1', CORS: 'https://app.example',
    INBOUND_HTTPS_PORT: '8443', API_HTTPS_PORT: '0', HTTPS_CERTFILE: FIXTURE_CERT, HTTPS_KEYFILE: FIXTURE_KEY,
    API_AUTH_TOKEN: 'internal-api-token-123',
    JWT_SECRET_KEY: 'secret', JWT_ALG: 'hs512', JWT_SESSION_FIELD: '/user/id', JWT_CACHE_SIZE: '0',
    JWKS_URL: 'https://idp.example/.well-known/jwks.json', JWKS_REFRESH_INTERVAL_MS: '60000',
    JWKS_MIN_REFRESH_INTERVAL_MS: '0', JWKS_TIMEOUT_MS: '1000',
    EXTRACTORS: JSON.stringify(EXTRACTORS), MAX_CONNECTIONS_PER_MINUTE: '1', LOG_LEVEL: 'DEBUG',
    NODE_COOKIE: 'cookie', SHARDS: '3', NODE_ID: 'gw-1.a_b', HEARTBEAT_INTERVAL_MS: '1000',
    OUTBOUND_QUEUE_MAX_BYTES: '4096', MAX_REQUEST_BODY_BYTES: '1024', MAX_HEADER_VALUE_BYTES: '256',
    MAX_SUBSCRIPTIONS_PER_CONNECTION: '1', MAX_CONSTRAINTS_PER_SUBSCRIPTION: '2', MAX_FIELDS_PER_CONSTRAINT: '3', MAX_URL_BYTES: '256',
    LONGPOLL_BUFFER_SIZE: '100000', LONGPOLL_TIMEOUT_MS: '100', LONGPOLL_SESSION_IDLE_MS: '1000',
    SHUTDOWN_TIMEOUT_MS: '0', UWS_ALLOW_FALLBACK: 'Yes', ENABLE_FAULT_INJECTION: '1', PROMETHEUS_METRICS_ENABLED: 'false',
    KAFKA_BROKERS: 'k1:9092,k2:9093', KAFKA_SOURCE_TOPICS: 'events', KAFKATOFILTER_KAFKA_GROUP_ID: 'grp',
    KAFKA_SSL_ENABLED: 'true', KAFKA_SSL_CA_CERTFILE: '', KAFKA_SSL_CERTFILE: '', KAFKA_SSL_KEYFILE: '',
    KAFKA_SSL_KEYFILE_PASS: 'kp', KAFKA_SASL: 'plain:u:p', KAFKA_RESTART_DELAY_MS: '100',
    KAFKA_SESSION_TIMEOUT_MS: '45000', KAFKA_PRODUCER_ACKS: 'Leader', KAFKA_PRODUCER_IDEMPOTENT: 'no',
    KAFKA_PARTITIONER: 'MURMUR3', PROXY_KAFKA_RESPONSE_TOPICS: 'replies-a, replies-b', PROXY_KAFKA_RESPONSE_KAFKA_GROUP_ID: 'rgrp',
    PROXY_KAFKA_RESPONSE_TIMEOUT: '1500', KAFKA_LOG_TOPIC: 'calls', REQUEST_LOG: 'console,kafka',
    PROXY_CONFIG_FILE: JSON.stringify([API]), PROXY_RECV_TIMEOUT: '250', HOST: 'gw.example',
    PROXY_HTTP_ASYNC_RESPONSE_TIMEOUT: '300', PROXY_KAFKA_WRAP_NON_CLOUDEVENTS: 'true', PROXY_APIS_TOPIC: 'apis',
    MAX_CONNECTIONS_PER_SESSION: '0', SESSION_BLACKLIST_TOPIC: 'blacklist',
    SUBSCRIPTION_CHECK: 'http://authz:8080/subscriptions', SUBMISSION_CHECK: 'Jwt_Validation',
    AUTHORIZATION_CHECK_TIMEOUT_MS: '750', AUTHORIZATION_CHECK_MAX_IN_FLIGHT: '7',
  });
  assert.deepEqual(JSON.parse(JSON.stringify(cfg)), {
    inboundPort: 0, inboundHost: '127.0.0.1', apiHttpPort: 0, apiHttpHost: '::1', cors: 'https://app.example',
    inboundHttpsPort: 8443, apiHttpsPort: 0, httpsCertFile: FIXTURE_CERT, httpsKeyFile: FIXTURE_KEY, httpsKeyFilePass: '',
    apiAuthToken: 'internal-api-token-123',
    jwt: {
      secretKey: 'secret', alg: 'HS512', sessionField: '/user/id', cacheSize: 0,
      jwksUrl: 'https://idp.example/.well-known/jwks.json', jwksRefreshIntervalMs: 60000, jwksMinRefreshIntervalMs: 0, jwksTimeoutMs: 1000,
    },
    extractors: EXTRACTORS, maxConnectionsPerMinute: 1, logLevel: 'debug', tokenSecret: 'cookie',
    tokenSecretIsRandom: false, shards: 3, nodeId: 'gw-1.a_b', heartbeatIntervalMs: 1000,
    outboundQueueMaxBytes: 4096, maxRequestBodyBytes: 1024, maxHeaderValueBytes: 256, longpollBufferSize: 100000,
    maxSubscriptionsPerConnection: 1, maxConstraintsPerSubscription: 2, maxFieldsPerConstraint: 3, maxUrlBytes: 256,
    longpollTimeoutMs: 100, longpollSessionIdleMs: 1000, shutdownTimeoutMs: 0, allowUwsFallback: true,
    faultInjection: true, prometheusMetricsEnabled: false, kafkaBrokers: ['k1:9092', 'k2:9093'], kafkaSourceTopics: ['events'], kafkaGroupId: 'grp',
    kafkaSslEnabled: true, kafkaSslCaCertFile: '', kafkaSslCertFile: '', kafkaSslKeyFile: '', kafkaSslKeyFilePass: 'kp',
    kafkaSasl: 'plain:u:p', kafkaRestartDelayMs: 100,
    kafkaSessionTimeoutMs: 45000, kafkaProducerAcks: 'leader', kafkaProducerIdempotent: false,
    kafkaPartitioner: 'murmur3', proxyKafkaResponseTopics: ['replies-a', 'replies-b'], proxyKafkaResponseGroupId: 'rgrp',
    proxyKafkaResponseTimeoutMs: 1500, kafkaLogTopic: 'calls', requestLog: ['console', 'kafka'],
    proxyConfig: [API], proxyRecvTimeoutMs: 250, host: 'gw.example',
    proxyHttpAsyncResponseTimeoutMs: 300, proxyKafkaWrapNonCloudEvents: true, proxyApisTopic: 'apis',
    maxConnectionsPerSession: 0, sessionBlacklistTopic: 'blacklist',
    subscriptionCheck: 'http://authz:8080/subscriptions', submissionCheck: 'Jwt_Validation',
    authorizationCheckTimeoutMs: 750, authorizationCheckMaxInFlight: 7,
  });
});

test('booleans accept true/false, 1/0 and yes/no in any case', () => {
  for (const v of ['true', 'TRUE', '1', 'yes', 'Yes']) assert.equal(loadConfig({ UWS_ALLOW_FALLBACK: v }).allowUwsFallback, true);
  for (const v of ['false', 'False', '0', 'no', 'NO']) assert.equal(loadConfig({ UWS_ALLOW_FALLBACK: v }).allowUwsFallback, false);
});

test('an empty value counts as unset, except for CORS and JWT_SECRET_KEY', () => {
  const cfg = loadConfig({ INBOUND_PORT: '', LOG_LEVEL: '', NODE_COOKIE: '', EXTRACTORS: '', SHARDS: '', CORS: '', JWT_SECRET_KEY: '' });
  assert.equal(cfg.inboundPort, 4000);
  assert.equal(cfg.logLevel, 'warn');
  assert.equal(cfg.tokenSecretIsRandom, true);
  assert.equal(cfg.extractors, null);
  assert.equal(cfg.cors, '');
  assert.equal(cfg.jwt.secretKey, '');
});

test('the config is deeply frozen', () => {
  const cfg = loadConfig({ EXTRACTORS: JSON.stringify(EXTRACTORS) });
  assert.ok(Object.isFrozen(cfg));
  assert.ok(Object.isFrozen(cfg.jwt));
  const ex = cfg.extractors as typeof EXTRACTORS;
  assert.ok(Object.isFrozen(ex) && Object.isFrozen(ex.greeting.name.event));
  assert.throws(() => {
    (cfg as { inboundPort: number }).inboundPort = 1;
  }, TypeError);
});

test('every invalid value is reported with its variable and what is allowed', () => {
  const cases: Record<string, string[]> = {
    INBOUND_PORT: ['abc', '-1', '65536', '40.5', '4000x'],
    API_HTTP_PORT: ['http'],
    INBOUND_HOST: ['two words'],
    API_HTTP_HOST: [' '],
    CORS: ['a\r\nSet-Cookie: x=1'],
    JWT_ALG: ['none', 'PS256', 'HS1024'],
    JWT_SESSION_FIELD: ['jti', '/a~2b'],
    JWT_CACHE_SIZE: ['-1', 'many'],
    JWKS_URL: ['ftp://idp.example/keys', 'idp.example/keys', 'https://', 'https://idp.example/a b', 'http://[bad/keys'],
    JWKS_REFRESH_INTERVAL_MS: ['999'],
    JWKS_MIN_REFRESH_INTERVAL_MS: ['-1'],
    JWKS_TIMEOUT_MS: ['99'],
    EXTRACTORS: ['{not json', JSON.stringify({ greeting: { name: { event: { json_pointer: '/data/name' } } } }), '[1]', './missing.json'],
    MAX_CONNECTIONS_PER_MINUTE: ['0', '1e3'],
    LOG_LEVEL: ['verbose'],
    SHARDS: ['0', '65'],
    NODE_ID: ['has space', 'x'.repeat(65), 'ümlaut'],
    HEARTBEAT_INTERVAL_MS: ['999', '2147483648'],
    OUTBOUND_QUEUE_MAX_BYTES: ['4095'],
    MAX_REQUEST_BODY_BYTES: ['1023'],
    MAX_HEADER_VALUE_BYTES: ['255'],
    MAX_SUBSCRIPTIONS_PER_CONNECTION: ['0', '1000001'],
    MAX_CONSTRAINTS_PER_SUBSCRIPTION: ['0', 'many'],
    MAX_FIELDS_PER_CONSTRAINT: ['0'],
    MAX_URL_BYTES: ['255'],
    LONGPOLL_BUFFER_SIZE: ['0', '100001'],
    LONGPOLL_TIMEOUT_MS: ['99'],
    LONGPOLL_SESSION_IDLE_MS: ['999'],
    SHUTDOWN_TIMEOUT_MS: ['-5'],
    UWS_ALLOW_FALLBACK: ['maybe', 'on'],
    PROXY_CONFIG_FILE: ['{not json', '{}', '[1]', JSON.stringify([{ ...API, proxy: {} }]), './missing.json'],
    PROXY_RECV_TIMEOUT: ['0', 'soon'],
    HOST: ['two words', 'a,b'],
    KAFKA_PARTITIONER: ['murmur', 'java', 'crc32'],
    PROXY_KAFKA_RESPONSE_TOPICS: ['bad topic', 'ok,sl/ash'],
    PROXY_KAFKA_RESPONSE_KAFKA_GROUP_ID: ['a b', 'x'.repeat(181)],
    PROXY_KAFKA_RESPONSE_TIMEOUT: ['0', '2147483648', '5s'],
    KAFKA_LOG_TOPIC: ['two words', 'a,b'],
    REQUEST_LOG: ['file', 'console,stdout', 'Console', 'kafka;console'],
    INBOUND_HTTPS_PORT: ['https'],
    API_HTTPS_PORT: ['-1'],
    API_AUTH_TOKEN: ['short', 'has a space in it!!', 'tab\tseparated-token-value'],
  };
  for (const [env, values] of Object.entries(cases)) {
    for (const value of values) {
      const problems = problemsOf({ [env]: value });
      assert.equal(problems.length, 1, `${env}=${value}: ${problems.join(' | ')}`);
      assert.match(problems[0]!, new RegExp(`^${env}: .+ \\(allowed: .+\\)$`, 's'), `${env}=${value}`);
    }
  }
});

test('all problems are reported at once', () => {
  const problems = problemsOf({ INBOUND_PORT: 'x', JWT_ALG: 'none', SHARDS: '0', LOG_LEVEL: 'loud' });
  assert.deepEqual(problems.map((p) => p.split(':')[0]), ['INBOUND_PORT', 'SHARDS', 'JWT_ALG', 'LOG_LEVEL'].sort((a, b) =>
    SCHEMA.findIndex((e) => e.env === a) - SCHEMA.findIndex((e) => e.env === b)));
});

test('the same non-zero port for both listeners is refused', () => {
  const problems = problemsOf({ INBOUND_PORT: '5000', API_HTTP_PORT: '5000' });
  assert.match(problems[0]!, /^API_HTTP_PORT: .*INBOUND_PORT.* \(allowed: /);
  assert.equal(loadConfig({ INBOUND_PORT: '0', API_HTTP_PORT: '0' }).apiHttpPort, 0);
});

test('RS and ES keys: a certificate or PEM key loads, anything else stops start-up without quoting the key', () => {
  const cert = readFileSync(repoFile('test/fixtures/jwt/rsa-cert.pem'), 'utf8');
  assert.equal(loadConfig({ JWT_ALG: 'RS256', JWT_SECRET_KEY: cert }).jwt.secretKey, cert);
  assert.ok(loadConfig({ JWT_ALG: 'RS384', JWT_SECRET_KEY: cert.trim().split('\n').join('\\n') }));
  assert.ok(loadConfig({ JWT_ALG: 'RS256', JWT_SECRET_KEY: '' }), 'no key: JWTs are rejected, start-up goes on');

  for (const [alg, key] of [['RS256', 'super-secret-not-a-pem'], ['ES256', cert]] as const) {
    const problems = problemsOf({ JWT_ALG: alg, JWT_SECRET_KEY: key });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^JWT_SECRET_KEY: .+ \(allowed: .+\)$/s);
    assert.ok(!problems[0]!.includes('super-secret'), 'the key is never quoted');
  }
  // HS secrets are used as given, even if they look like PEM.
  assert.equal(loadConfig({ JWT_ALG: 'HS256', JWT_SECRET_KEY: cert }).jwt.alg, 'HS256');
});

test('EXTRACTORS from a file (absolute or relative to cwd) and from JSON text', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rig-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'extractors.json'), JSON.stringify(EXTRACTORS));
  writeFileSync(join(dir, 'broken.json'), '{"greeting":');
  writeFileSync(join(dir, 'invalid.json'), JSON.stringify({ greeting: { name: { stable_field_index: -1, event: { json_pointer: '/x' } } } }));

  assert.deepEqual(loadConfig({ EXTRACTORS: join(dir, 'extractors.json') }).extractors, EXTRACTORS);
  assert.deepEqual(loadConfig({ EXTRACTORS: 'extractors.json' }, { cwd: dir }).extractors, EXTRACTORS);
  assert.deepEqual(loadConfig({ EXTRACTORS: `  ${JSON.stringify(EXTRACTORS)}\n` }).extractors, EXTRACTORS);

  assert.match(problemsOf({ EXTRACTORS: 'broken.json' }, { cwd: dir })[0]!, /^EXTRACTORS: file .*broken\.json is not JSON/);
  assert.match(problemsOf({ EXTRACTORS: 'invalid.json' }, { cwd: dir })[0]!, /^EXTRACTORS: .*greeting: Negative index/);
  assert.match(problemsOf({ EXTRACTORS: 'extractors.json' })[0]!, /neither a file .* nor JSON text/, 'relative to process cwd');
  assert.match(problemsOf({ EXTRACTORS: dir })[0]!, /neither a file/, 'a directory is not a file');
});

test('PROXY_CONFIG_FILE from a file or JSON text; invalid definitions stop start-up with RIG\'s error maps', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rig-proxy-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'apis.json'), JSON.stringify([API]));
  assert.deepEqual(loadConfig({ PROXY_CONFIG_FILE: 'apis.json' }, { cwd: dir }).proxyConfig, [API]);
  assert.deepEqual(loadConfig({ PROXY_CONFIG_FILE: join(dir, 'apis.json') }).proxyConfig, [API]);
  assert.deepEqual(loadConfig({ PROXY_CONFIG_FILE: ' [] ' }).proxyConfig, []);

  const secured = { ...API, id: 'secured', version_data: { default: { endpoints: [{ id: 'e', method: 'GET', path_regex: '/s', secured: true }] } } };
  writeFileSync(join(dir, 'bad.json'), JSON.stringify([API, secured, { ...API, name: '' }, 'x', API]));
  const [problem] = problemsOf({ PROXY_CONFIG_FILE: 'bad.json' }, { cwd: dir });
  assert.equal(
    problem,
    `PROXY_CONFIG_FILE: file ${join(dir, 'bad.json')} has invalid API definitions: ` +
      'definition 2 (id "secured"): {"secured/e":[{"auth_type":"must be one of [\\"jwt\\"]"}]}; ' +
      'definition 3 (id "books"): {"api":[{"name":"must have a length of at least 1"}]}; ' +
      'definition 4 is not a JSON object; ' +
      'definition 5 (id "books"): the id is used by an earlier definition ' +
      '(allowed: a path to a JSON file (absolute or relative to the working directory) or JSON text: an array of API definitions)',
  );
  assert.match(problemsOf({ PROXY_CONFIG_FILE: '{"id":"x"}' })[0]!, /^PROXY_CONFIG_FILE: the JSON text is not a JSON array of API definitions/);
});

test('describeConfig is keyed by variable and never shows a secret', () => {
  const cfg = loadConfig({ JWT_SECRET_KEY: 'jwt-secret-value', NODE_COOKIE: 'cookie-value', EXTRACTORS: JSON.stringify(EXTRACTORS) });
  const summary = describeConfig(cfg);
  assert.deepEqual(Object.keys(summary), SCHEMA.map((e) => e.env));
  const text = JSON.stringify(summary);
  assert.ok(!text.includes('jwt-secret-value') && !text.includes('cookie-value'), text);
  assert.equal(summary['JWT_SECRET_KEY'], '(set)');
  assert.equal(summary['NODE_COOKIE'], '(set)');
  assert.deepEqual(summary['EXTRACTORS'], { eventTypes: ['greeting'] });
  assert.deepEqual(describeConfig(loadConfig({ PROXY_CONFIG_FILE: JSON.stringify([API]) }))['PROXY_CONFIG_FILE'], { apis: ['books'] });
  assert.equal(summary['INBOUND_PORT'], 4000);

  const defaults = describeConfig(loadConfig({}));
  assert.equal(defaults['NODE_COOKIE'], '(random per process)');
  assert.equal(defaults['JWT_SECRET_KEY'], '(empty)');
  assert.ok(!JSON.stringify(defaults).includes(loadConfig({}).tokenSecret));
});

test('unsupported RIG variables that are set are reported for a warning', () => {
  assert.deepEqual(unsupportedRigSettings({ KAFKA_LOG_SCHEMA: 'log', LOG_FMT: '', INBOUND_PORT: '1', KAFKA_BROKERS: 'b:9092' }), ['KAFKA_LOG_SCHEMA']);
  for (const name of ['PROXY_KAFKA_RESPONSE_TOPICS', 'PROXY_KAFKA_RESPONSE_KAFKA_GROUP_ID', 'PROXY_KAFKA_RESPONSE_TIMEOUT', 'KAFKA_LOG_TOPIC', 'REQUEST_LOG']) {
    assert.ok(!UNSUPPORTED_RIG_ENV.includes(name), `${name} is supported`);
  }
  assert.ok(UNSUPPORTED_RIG_ENV.includes('KAFKA_SERIALIZER'), 'Avro stays unsupported');
  for (const name of UNSUPPORTED_RIG_ENV) assert.ok(!SCHEMA.some((e) => e.env === name), name);
});

test('docs/configuration.md documents every variable with its default, allowed values and origin', () => {
  const doc = readFileSync(repoFile('docs/configuration.md'), 'utf8');
  const rows = new Map(
    doc.split('\n').filter((l) => l.startsWith('| `')).map((l) => [l.slice(3, l.indexOf('`', 3)), l] as const),
  );
  for (const e of SCHEMA) {
    const row = rows.get(e.env);
    assert.ok(row, `${e.env} has a row`);
    const cells = row.split(' | ').map((c) => c.replace(/^\| |`| \|$/g, ''));
    assert.equal(cells[1], defaultDoc(e), `${e.env} default`);
    assert.equal(cells[2], allowedDoc(e), `${e.env} allowed values`);
    assert.equal(cells[4], e.rig ? 'RIG' : 'ours', `${e.env} origin`);
  }
  for (const name of UNSUPPORTED_RIG_ENV) assert.ok(doc.includes(`\`${name}\``), `${name} is listed as not supported`);
});

test('Kafka variables: RIG defaults, lists, SASL and TLS files validated', () => {
  const cfg = loadConfig({});
  assert.deepEqual(cfg.kafkaBrokers, []);
  assert.deepEqual(cfg.kafkaSourceTopics, ['rig']);
  assert.equal(cfg.kafkaGroupId, 'rig-kafka-to-filter');
  assert.equal(cfg.kafkaSslEnabled, false);
  assert.equal(cfg.kafkaSasl, '');
  assert.equal(cfg.kafkaRestartDelayMs, 20000);

  const set = loadConfig({ KAFKA_BROKERS: ' a:9092, b.example:19092 ,', KAFKA_SOURCE_TOPICS: 'x,y', KAFKA_SASL: 'SCRAM-SHA-512:u:p:w:d' });
  assert.deepEqual(set.kafkaBrokers, ['a:9092', 'b.example:19092']);
  assert.deepEqual(set.kafkaSourceTopics, ['x', 'y']);
  assert.equal(set.kafkaSasl, 'SCRAM-SHA-512:u:p:w:d');

  const problems = problemsOf({ KAFKA_BROKERS: 'a:9092,nope', KAFKA_SOURCE_TOPICS: 'bad topic', KAFKA_SASL: 'oauth:u:secret-pass', KAFKA_RESTART_DELAY_MS: 'soon' });
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.match(problems[0]!, /^KAFKA_BROKERS: "nope" is not valid/);
  assert.match(problems.find((p) => p.startsWith('KAFKA_SOURCE_TOPICS'))!, /"bad topic"/);
  const sasl = problems.find((p) => p.startsWith('KAFKA_SASL'))!;
  assert.ok(sasl && !sasl.includes('secret-pass'), sasl);
  assert.ok(problems.some((p) => p.startsWith('KAFKA_RESTART_DELAY_MS')));

  const tls = problemsOf({ KAFKA_BROKERS: 'a:1', KAFKA_SSL_ENABLED: 'true', KAFKA_SSL_CA_CERTFILE: '/nonexistent/ca.pem', KAFKA_SSL_CERTFILE: '/nonexistent/c.pem' });
  assert.ok(tls.some((p) => p.startsWith('KAFKA_SSL_CA_CERTFILE: "/nonexistent/ca.pem" is not a readable file')), tls.join('\n'));
  assert.ok(tls.some((p) => p.startsWith('KAFKA_SSL_CERTFILE: a client certificate needs KAFKA_SSL_KEYFILE')), tls.join('\n'));
});

test('Kafka proxy and request log variables: RIG defaults, our partitioner default, REQUEST_LOG rules', () => {
  const cfg = loadConfig({});
  assert.deepEqual(cfg.proxyKafkaResponseTopics, ['rig-proxy-response']);
  assert.equal(cfg.proxyKafkaResponseGroupId, 'rig-proxy-response');
  assert.equal(cfg.proxyKafkaResponseTimeoutMs, 5000);
  assert.equal(cfg.kafkaLogTopic, 'rig-request-log');
  assert.deepEqual(cfg.requestLog, []);
  assert.equal(cfg.kafkaPartitioner, 'murmur2', 'Kafka\'s Java client partitioner unless RIG\'s is asked for');
  assert.equal(loadConfig({ KAFKA_PARTITIONER: 'murmur3' }).kafkaPartitioner, 'murmur3');

  assert.deepEqual(loadConfig({ REQUEST_LOG: ' console , ' }).requestLog, ['console'], 'console needs no Kafka');
  assert.deepEqual(loadConfig({ REQUEST_LOG: 'kafka', KAFKA_BROKERS: 'k:9092' }).requestLog, ['kafka']);

  // kafka without brokers is a start-up error naming both variables, like the idempotence rule.
  const problems = problemsOf({ REQUEST_LOG: 'console,kafka' });
  assert.deepEqual(problems, ['REQUEST_LOG: kafka needs KAFKA_BROKERS, which is empty (allowed: KAFKA_BROKERS set, or REQUEST_LOG without kafka)']);
  // An unknown sink is reported once, on its own (not also as "kafka needs brokers").
  const unknown = problemsOf({ REQUEST_LOG: 'kafka,syslog' });
  assert.equal(unknown.length, 1, unknown.join('\n'));
  assert.match(unknown[0]!, /^REQUEST_LOG: "syslog" is not valid \(allowed: comma-separated list of console, kafka; empty: no request log\)$/);
  // A broken KAFKA_BROKERS is reported on its own too.
  const brokers = problemsOf({ REQUEST_LOG: 'kafka', KAFKA_BROKERS: 'nope' });
  assert.equal(brokers.length, 1, brokers.join('\n'));
  assert.match(brokers[0]!, /^KAFKA_BROKERS: /);
});

test('HTTPS: off unless both files are set; a half configuration, an unreadable file or a wrong key stops start-up', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rig-https-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const keyPem = readFileSync(FIXTURE_KEY, 'utf8');
  // The same key, encrypted (PKCS#8 with AES), as `openssl pkcs8 -topk8 -v2 aes256` writes it.
  const encrypted = join(dir, 'encrypted-key.pem');
  writeFileSync(encrypted, createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'open sesame' }));
  const otherKey = join(dir, 'other-key.pem');
  writeFileSync(otherKey, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'not-pem.txt'), 'hello');

  assert.equal(loadConfig({}).httpsCertFile, '');
  const on = loadConfig({ HTTPS_CERTFILE: FIXTURE_CERT, HTTPS_KEYFILE: FIXTURE_KEY });
  assert.deepEqual([on.httpsCertFile, on.httpsKeyFile, on.inboundHttpsPort, on.apiHttpsPort], [FIXTURE_CERT, FIXTURE_KEY, 4001, 4011]);
  assert.ok(loadConfig({ HTTPS_CERTFILE: FIXTURE_CERT, HTTPS_KEYFILE: encrypted, HTTPS_KEYFILE_PASS: 'open sesame' }));
  assert.ok(loadConfig({ HTTPS_CERTFILE: FIXTURE_CERT, HTTPS_KEYFILE: 'encrypted-key.pem', HTTPS_KEYFILE_PASS: 'open sesame' }, { cwd: dir }), 'relative to the working directory');
  assert.ok(loadConfig({ INBOUND_HTTPS_PORT: '4000' }), 'HTTPS off: its ports are not used, so they cannot collide');

  const only = (env: NodeJS.ProcessEnv): string => {
    const problems = problemsOf(env);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0]!, /^[A-Z_]+: .+ \(allowed: .+\)$/s);
    return problems[0]!;
  };
  assert.match(only({ HTTPS_CERTFILE: FIXTURE_CERT }), /^HTTPS_KEYFILE: is empty, but HTTPS_CERTFILE is set/);
  assert.match(only({ HTTPS_KEYFILE: FIXTURE_KEY }), /^HTTPS_CERTFILE: is empty, but HTTPS_KEYFILE is set/);
  assert.match(only({ HTTPS_KEYFILE_PASS: 'x' }), /^HTTPS_KEYFILE_PASS: is set, but HTTPS_CERTFILE and HTTPS_KEYFILE are empty/);
  assert.match(only({ HTTPS_CERTFILE: join(dir, 'missing.pem'), HTTPS_KEYFILE: FIXTURE_KEY }), /^HTTPS_CERTFILE: ".*missing\.pem" is not a readable file \(ENOENT\)/);
  assert.match(only({ HTTPS_CERTFILE: FIXTURE_CERT, HTTPS_KEYFILE: dir }), /^HTTPS_KEYFILE: ".*" is not a readable file \(EISDIR\)/);
  assert.match(only({ HTTPS_CERTFILE: join(dir, 'not-pem.txt'), HTTPS_KEYFILE: FIXTURE_KEY }), /^HTTPS_CERTFILE: file ".*not-pem\.txt" holds no PEM certificate/);
  assert.match(only({ HTTPS_CERTFILE: FIXTURE_CERT, HTTPS_KEYFILE: FIXTURE_CERT }), /^HTTPS_KEYFILE: file ".*" holds no readable PEM private key/);
  assert.match(only({ HTTPS_CERTFILE: FIXTURE_CERT, HTTPS_KEYFILE: encrypted }), /^HTTPS_KEYFILE: the key is encrypted and HTTPS_KEYFILE_PASS is empty/);
  const wrong = only({ HTTPS_CERTFILE: FIXTURE_CERT, HTTPS_KEYFILE: encrypted, HTTPS_KEYFILE_PASS: 'wrong-passphrase' });
  assert.match(wrong, /^HTTPS_KEYFILE_PASS: does not decrypt HTTPS_KEYFILE/);
  assert.ok(!wrong.includes('wrong-passphrase'), 'the passphrase is never quoted');
  assert.match(only({ HTTPS_CERTFILE: FIXTURE_CERT, HTTPS_KEYFILE: otherKey }), /^HTTPS_KEYFILE: the key does not belong to the certificate in HTTPS_CERTFILE/);

  // With HTTPS on, its ports must differ from each other and from the HTTP ones (0 excepted).
  const https = { HTTPS_CERTFILE: FIXTURE_CERT, HTTPS_KEYFILE: FIXTURE_KEY };
  assert.match(only({ ...https, INBOUND_HTTPS_PORT: '4000' }), /^INBOUND_HTTPS_PORT: 4000 is also INBOUND_PORT \(allowed: a port other than INBOUND_PORT, or 0\)$/);
  assert.match(only({ ...https, API_HTTPS_PORT: '4001' }), /^API_HTTPS_PORT: 4001 is also INBOUND_HTTPS_PORT/);
  assert.ok(loadConfig({ ...https, INBOUND_HTTPS_PORT: '0', API_HTTPS_PORT: '0' }));
});

test('API_AUTH_TOKEN is a secret: never quoted, shown as set or empty', () => {
  const cfg = loadConfig({ API_AUTH_TOKEN: 'internal-api-token-value' });
  assert.equal(cfg.apiAuthToken, 'internal-api-token-value');
  assert.equal(describeConfig(cfg)['API_AUTH_TOKEN'], '(set)');
  assert.equal(describeConfig(loadConfig({}))['API_AUTH_TOKEN'], '(empty)');
  const [problem] = problemsOf({ API_AUTH_TOKEN: 'too-short' });
  assert.ok(!problem!.includes('too-short'), problem);
  assert.equal(describeConfig(loadConfig({ HTTPS_CERTFILE: FIXTURE_CERT, HTTPS_KEYFILE: FIXTURE_KEY, HTTPS_KEYFILE_PASS: '' }))['HTTPS_KEYFILE_PASS'], '(empty)');
});
