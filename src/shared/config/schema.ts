/**
 * Every environment variable the gateway reads: its type, limits, default, meaning, and whether
 * RIG 3.0 defines it or it is ours. This table is the only place that knows defaults; `load.ts`
 * turns it into a GatewayConfig, `describeConfig` into a log line, and docs/configuration.md
 * documents it (a test keeps the document in step with this table).
 */
import { availableParallelism, hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { GatewayConfig } from './types.js';

/** Where a value lands in GatewayConfig (dotted for the `jwt` group). */
export type ConfigPath =
  | Exclude<keyof GatewayConfig, 'jwt' | 'tokenSecretIsRandom'>
  | `jwt.${keyof GatewayConfig['jwt']}`;

/** A default that depends on the machine or the process; `doc` says what it is in words. */
export interface ComputedDefault<T> {
  readonly compute: () => T;
  readonly doc: string;
}

interface Common {
  readonly env: string;
  readonly path: ConfigPath;
  readonly doc: string;
  /** true: RIG 3.0 defines the variable (same name, same default); false: ours. */
  readonly rig: boolean;
  /** Never printed: describeConfig and error messages leave the value out. */
  readonly secret?: boolean;
  /** An empty value is a value (RIG's CORS=""); for every other variable empty means unset. */
  readonly keepEmpty?: boolean;
}

export type SchemaEntry = Common &
  (
    | { readonly type: 'port'; readonly default: number }
    | { readonly type: 'int'; readonly default: number | ComputedDefault<number>; readonly min: number; readonly max: number }
    | { readonly type: 'bool'; readonly default: boolean }
    | { readonly type: 'enum'; readonly values: readonly string[]; readonly default: string }
    | {
        readonly type: 'string';
        readonly default: string | ComputedDefault<string>;
        /** The value must match; `allowed` says the same in words. Without a pattern anything goes. */
        readonly pattern?: RegExp;
        readonly allowed?: string;
        /** A rule a pattern cannot say; returns what is wrong, or undefined. */
        readonly check?: (raw: string) => string | undefined;
      }
    | {
        /** A file path or JSON text (RIG's path-or-JSON rule); `content` says what the JSON must be. */
        readonly type: 'json-or-path';
        readonly content: 'extractors' | 'apis';
        readonly default: null;
        readonly allowed: string;
      }
    | {
        /** Comma-separated; items are trimmed, empty items dropped, each must match `itemPattern`. */
        readonly type: 'list';
        readonly default: readonly string[];
        readonly itemPattern: RegExp;
        readonly allowed: string;
      }
  );

/** Longest delay setTimeout honours; larger values silently fire after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;
/** SUBSCRIPTION_CHECK / SUBMISSION_CHECK: a mode name (any case) or the URL of a decision service. */
const AUTHORIZATION_CHECK_PATTERN = /^(no_check|jwt_validation|https?:\/\/[^\s/?#]+\S*)$/i;
const AUTHORIZATION_CHECK_ALLOWED = 'NO_CHECK, JWT_VALIDATION (any case) or an http(s):// URL of a decision service';
/** A value the pattern lets through as a URL must also parse as one (e.g. not "http://[::1"). */
function authorizationCheckProblem(raw: string): string | undefined {
  if (!/^https?:/i.test(raw)) return undefined;
  return URL.canParse(raw) ? undefined : `${JSON.stringify(raw)} is not a valid URL`;
}
const NODE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** Kafka's own rule for topic names. */
const TOPIC_PATTERN = /^[A-Za-z0-9._-]{1,249}$/;
/** RIG's KAFKA_SASL format; the password is everything after the second ':' (it may contain ':'). */
export const KAFKA_SASL_PATTERN = /^(plain|scram-sha-256|scram-sha-512):([^:]+):(.+)$/i;

export const SCHEMA: readonly SchemaEntry[] = [
  // --- network -------------------------------------------------------------------------------
  { env: 'INBOUND_PORT', path: 'inboundPort', type: 'port', default: 4000, rig: true,
    doc: 'Public port for SSE, WebSocket, long polling, event submission and the proxy. Every shard listens on it.' },
  { env: 'INBOUND_HOST', path: 'inboundHost', type: 'string', default: '0.0.0.0', rig: false,
    pattern: /^\S+$/, allowed: 'an IP address or host name',
    doc: 'Address the public port binds to.' },
  { env: 'API_HTTP_PORT', path: 'apiHttpPort', type: 'port', default: 4010, rig: true,
    doc: 'Internal API port (health, /v3/*, metrics). Keep it off the internet.' },
  { env: 'API_HTTP_HOST', path: 'apiHttpHost', type: 'string', default: '0.0.0.0', rig: false,
    pattern: /^\S+$/, allowed: 'an IP address or host name',
    doc: 'Address the internal API binds to.' },
  // --- HTTPS (docs/security.md) ----------------------------------------------------------------
  { env: 'INBOUND_HTTPS_PORT', path: 'inboundHttpsPort', type: 'port', default: 4001, rig: true,
    doc: 'Public HTTPS port (same routes as INBOUND_PORT), served only when HTTPS_CERTFILE and HTTPS_KEYFILE are set. Every shard listens on it.' },
  { env: 'API_HTTPS_PORT', path: 'apiHttpsPort', type: 'port', default: 4011, rig: true,
    doc: 'Internal API HTTPS port (same routes as API_HTTP_PORT), served only when HTTPS_CERTFILE and HTTPS_KEYFILE are set.' },
  { env: 'HTTPS_CERTFILE', path: 'httpsCertFile', type: 'string', default: '', rig: true,
    allowed: 'path of a readable PEM certificate file (the server certificate first, then its chain)',
    doc: 'Certificate of both HTTPS ports; with HTTPS_KEYFILE it enables HTTPS. Empty (both): HTTPS is off.' },
  { env: 'HTTPS_KEYFILE', path: 'httpsKeyFile', type: 'string', default: '', rig: true,
    allowed: 'path of a readable PEM private key file',
    doc: 'Private key of HTTPS_CERTFILE, possibly encrypted (see HTTPS_KEYFILE_PASS).' },
  { env: 'HTTPS_KEYFILE_PASS', path: 'httpsKeyFilePass', type: 'string', default: '', rig: true, secret: true,
    doc: 'Passphrase of HTTPS_KEYFILE; empty: the key is not encrypted.' },
  // --- internal API --------------------------------------------------------------------------
  { env: 'API_AUTH_TOKEN', path: 'apiAuthToken', type: 'string', default: '', rig: false, secret: true,
    pattern: /^[\x21-\x7e]{16,}$/, allowed: 'at least 16 printable ASCII characters without spaces',
    doc: 'When set, every internal API request except GET /health and GET /ready must send "authorization: Bearer <token>" (401 otherwise). Empty: the internal API is unauthenticated, as in RIG.' },
  { env: 'CORS', path: 'cors', type: 'string', default: '*', rig: true, keepEmpty: true,
    pattern: /^[^\r\n\0]*$/, allowed: 'any header value without line breaks',
    doc: 'Value of Access-Control-Allow-Origin on the public port.' },
  { env: 'MAX_CONNECTIONS_PER_MINUTE', path: 'maxConnectionsPerMinute', type: 'int', default: 5000, min: 1, max: Number.MAX_SAFE_INTEGER, rig: true,
    doc: 'SSE, WebSocket and long-polling connections created per node per 60-second window; the next one is refused with 429.' },
  { env: 'MAX_CONNECTIONS_PER_SESSION', path: 'maxConnectionsPerSession', type: 'int', default: 100, min: 0, max: 1_000_000, rig: false,
    doc: 'Live SSE, WebSocket and long-polling connections per session (the JWT_SESSION_FIELD claim of the connect `jwt`) per node; the next connect is refused with 429. 0: no limit.' },
  // --- JWT -----------------------------------------------------------------------------------
  { env: 'JWT_SECRET_KEY', path: 'jwt.secretKey', type: 'string', default: '', rig: true, secret: true, keepEmpty: true,
    allowed: 'HS*: any shared secret; RS*/ES*: a PEM public key or X.509 certificate',
    doc: 'Key for verifying JWTs (with JWKS_URL: those without a `kid`). Empty: such JWTs are rejected.' },
  { env: 'JWT_ALG', path: 'jwt.alg', type: 'enum', default: 'HS256', rig: true,
    values: ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384'],
    doc: 'Algorithm of JWT_SECRET_KEY: a token it verifies must name it in its header. JWKS keys have their own (docs/security.md).' },
  { env: 'JWKS_URL', path: 'jwt.jwksUrl', type: 'string', default: '', rig: false,
    pattern: /^https?:\/\/[^\s/?#]+\S*$/i, allowed: 'an http:// or https:// URL',
    doc: 'JSON Web Key Set (RFC 7517) with the keys that verify JWTs naming a `kid`; empty: no JWKS. Works alongside JWT_SECRET_KEY (see docs/security.md).' },
  { env: 'JWKS_REFRESH_INTERVAL_MS', path: 'jwt.jwksRefreshIntervalMs', type: 'int', default: 600000, min: 1000, max: MAX_TIMER_MS, rig: false,
    doc: 'Milliseconds between two regular fetches of JWKS_URL (each shard fetches).' },
  { env: 'JWKS_MIN_REFRESH_INTERVAL_MS', path: 'jwt.jwksMinRefreshIntervalMs', type: 'int', default: 30000, min: 0, max: MAX_TIMER_MS, rig: false,
    doc: 'A token naming a `kid` the key set does not hold makes the shard fetch JWKS_URL again, but not sooner than this many milliseconds after its last fetch.' },
  { env: 'JWKS_TIMEOUT_MS', path: 'jwt.jwksTimeoutMs', type: 'int', default: 5000, min: 100, max: MAX_TIMER_MS, rig: false,
    doc: 'Milliseconds a fetch of JWKS_URL may take; a slower or failed fetch keeps the keys fetched before.' },
  { env: 'JWT_SESSION_FIELD', path: 'jwt.sessionField', type: 'string', default: '/jti', rig: true,
    pattern: /^(\/([^~]|~[01])*)+$/, allowed: 'a JSON pointer starting with "/"',
    doc: 'JSON pointer of the claim naming the session; blacklisting that value kills its connections.' },
  { env: 'JWT_CACHE_SIZE', path: 'jwt.cacheSize', type: 'int', default: 10000, min: 0, max: 10_000_000, rig: false,
    doc: 'Verified JWTs remembered per shard to absorb reconnect storms; 0 disables the cache.' },
  // --- authorization hooks (docs/security.md) ------------------------------------------------
  { env: 'SUBSCRIPTION_CHECK', path: 'subscriptionCheck', type: 'string', default: 'NO_CHECK', rig: true,
    pattern: AUTHORIZATION_CHECK_PATTERN, allowed: AUTHORIZATION_CHECK_ALLOWED, check: authorizationCheckProblem,
    doc: 'Who may subscribe: on connects with a subscriptions parameter (SSE, WebSocket, long polling) and on every subscriptions PUT.' },
  { env: 'SUBMISSION_CHECK', path: 'submissionCheck', type: 'string', default: 'NO_CHECK', rig: true,
    pattern: AUTHORIZATION_CHECK_PATTERN, allowed: AUTHORIZATION_CHECK_ALLOWED, check: authorizationCheckProblem,
    doc: 'Who may submit events through POST /_rig/v1/events (never the internal API).' },
  { env: 'AUTHORIZATION_CHECK_TIMEOUT_MS', path: 'authorizationCheckTimeoutMs', type: 'int', default: 5000, min: 1, max: MAX_TIMER_MS, rig: false,
    doc: 'Milliseconds the gateway waits for the decision service of SUBSCRIPTION_CHECK / SUBMISSION_CHECK; no answer in time denies.' },
  { env: 'AUTHORIZATION_CHECK_MAX_IN_FLIGHT', path: 'authorizationCheckMaxInFlight', type: 'int', default: 128, min: 1, max: 100000, rig: false,
    doc: 'Calls to the decision service one shard has open at once (per check); a request beyond it is answered 503 (WebSocket: close 1013) without calling.' },
  // --- subscriptions -------------------------------------------------------------------------
  { env: 'EXTRACTORS', path: 'extractors', type: 'json-or-path', content: 'extractors', default: null, rig: true,
    allowed: 'a path to a JSON file (absolute or relative to the working directory) or JSON text, in the extractor format',
    doc: 'Extractor configuration: which event and JWT fields subscription constraints match on.' },
  // --- proxy (docs/api-gateway.md) ----------------------------------------------------------------
  { env: 'PROXY_CONFIG_FILE', path: 'proxyConfig', type: 'json-or-path', content: 'apis', default: null, rig: true,
    allowed: 'a path to a JSON file (absolute or relative to the working directory) or JSON text: an array of API definitions',
    doc: 'API definitions the proxy starts with; more can be added through the internal API (/v3/apis).' },
  { env: 'PROXY_RECV_TIMEOUT', path: 'proxyRecvTimeoutMs', type: 'int', default: 5000, min: 1, max: MAX_TIMER_MS, rig: true,
    doc: 'Milliseconds a proxied request waits for its upstream: to connect (502 after that), for the response headers (504 after that), and between two pieces of the response body (the response is cut off after that).' },
  { env: 'PROXY_HTTP_ASYNC_RESPONSE_TIMEOUT', path: 'proxyHttpAsyncResponseTimeoutMs', type: 'int', default: 5000, min: 1, max: MAX_TIMER_MS, rig: true,
    doc: 'Milliseconds a request to a `response_from: http_async` endpoint waits, after its upstream answered 202, for the reply posted to /v3/responses (504 after that).' },
  { env: 'PROXY_KAFKA_WRAP_NON_CLOUDEVENTS', path: 'proxyKafkaWrapNonCloudEvents', type: 'bool', default: false, rig: false,
    doc: 'Requests to `target: kafka` endpoints whose body is not a CloudEvent are wrapped into one (JSON as `data`, anything else as `data_base64`) instead of being refused with 400.' },
  { env: 'HOST', path: 'host', type: 'string', default: 'localhost', rig: true,
    pattern: /^[^\s,;"]+$/, allowed: 'a host name or IP address',
    doc: 'Name of this gateway\'s host; its IPv4 address, looked up once at start-up, is the by= part of the forwarded header on proxied requests.' },
  // --- cluster -------------------------------------------------------------------------------
  { env: 'NODE_COOKIE', path: 'tokenSecret', type: 'string', rig: true, secret: true,
    default: { compute: () => randomBytes(32).toString('hex'), doc: 'random per process' },
    doc: 'Secret for connection tokens and correlation IDs. Set the same value on every node.' },
  { env: 'NODE_ID', path: 'nodeId', type: 'string', rig: false, pattern: NODE_ID_PATTERN,
    allowed: '1..64 characters of A-Z a-z 0-9 . _ -',
    default: { compute: defaultNodeId, doc: 'host name' },
    doc: 'Name of this node inside tokens; unique per node of a cluster.' },
  { env: 'SHARDS', path: 'shards', type: 'int', min: 1, max: 32, rig: false,
    default: { compute: () => Math.min(32, availableParallelism()), doc: 'available CPU cores (at most 32)' },
    doc: 'Number of shard worker threads holding connections.' },
  // --- Kafka (docs/kafka.md) -----------------------------------------------------------------
  { env: 'KAFKA_BROKERS', path: 'kafkaBrokers', type: 'list', default: [], rig: true,
    itemPattern: /^[^\s:,]+:\d{1,5}$/, allowed: 'comma-separated host:port list; empty disables Kafka',
    doc: 'Kafka brokers to bootstrap from. Empty: no Kafka consumer, events are routed inside this node only.' },
  { env: 'KAFKA_SOURCE_TOPICS', path: 'kafkaSourceTopics', type: 'list', default: ['rig'], rig: true,
    itemPattern: TOPIC_PATTERN, allowed: 'comma-separated Kafka topic names',
    doc: 'Topics consumed for events; the first one also receives events submitted over HTTP.' },
  { env: 'KAFKATOFILTER_KAFKA_GROUP_ID', path: 'kafkaGroupId', type: 'string', default: 'rig-kafka-to-filter', rig: true,
    pattern: /^[A-Za-z0-9._-]{1,180}$/, allowed: '1..180 characters of A-Z a-z 0-9 . _ -',
    doc: 'Consumer group prefix; each node joins its own group "<value>-<NODE_ID>" so that every node sees every event.' },
  { env: 'KAFKA_SSL_ENABLED', path: 'kafkaSslEnabled', type: 'bool', default: false, rig: true,
    doc: 'Connect to the brokers over TLS.' },
  { env: 'KAFKA_SSL_CA_CERTFILE', path: 'kafkaSslCaCertFile', type: 'string', default: '', rig: true,
    allowed: 'path of a readable PEM file', doc: 'CA certificate(s) the brokers are verified against; empty: the system CAs.' },
  { env: 'KAFKA_SSL_CERTFILE', path: 'kafkaSslCertFile', type: 'string', default: '', rig: true,
    allowed: 'path of a readable PEM file', doc: 'Client certificate for mutual TLS; empty: none.' },
  { env: 'KAFKA_SSL_KEYFILE', path: 'kafkaSslKeyFile', type: 'string', default: '', rig: true,
    allowed: 'path of a readable PEM file', doc: 'Private key of the client certificate; empty: none.' },
  { env: 'KAFKA_SSL_KEYFILE_PASS', path: 'kafkaSslKeyFilePass', type: 'string', default: '', rig: true, secret: true,
    doc: 'Passphrase of KAFKA_SSL_KEYFILE; empty: the key is not encrypted.' },
  { env: 'KAFKA_SASL', path: 'kafkaSasl', type: 'string', default: '', rig: true, secret: true,
    pattern: KAFKA_SASL_PATTERN, allowed: 'plain:USER:PASS, scram-sha-256:USER:PASS or scram-sha-512:USER:PASS',
    doc: 'SASL authentication; empty: none.' },
  { env: 'KAFKA_RESTART_DELAY_MS', path: 'kafkaRestartDelayMs', type: 'int', default: 20000, min: 100, max: MAX_TIMER_MS, rig: true,
    doc: 'Wait before the consumer is started again after it failed or could not reach the brokers.' },
  { env: 'KAFKA_SESSION_TIMEOUT_MS', path: 'kafkaSessionTimeoutMs', type: 'int', default: 10000, min: 6000, max: 300000, rig: false,
    doc: 'Consumer group session timeout (the broker\'s group.min/max.session.timeout.ms must allow it): after a broker restart a node rejoins after about this long; a main thread blocked longer is dropped from its group and rejoins.' },
  { env: 'KAFKA_PRODUCER_ACKS', path: 'kafkaProducerAcks', type: 'enum', default: 'all', rig: false, values: ['all', 'leader', 'none'],
    doc: 'Acknowledgement the gateway\'s producer waits for: all in-sync replicas, the partition leader only, or none.' },
  { env: 'KAFKA_PRODUCER_IDEMPOTENT', path: 'kafkaProducerIdempotent', type: 'bool', default: false, rig: false,
    doc: 'Idempotent producer (no duplicates from retries; needs KAFKA_PRODUCER_ACKS=all and the broker\'s IDEMPOTENT_WRITE permission).' },
  { env: 'KAFKA_PARTITIONER', path: 'kafkaPartitioner', type: 'enum', default: 'murmur2', rig: false, values: ['murmur2', 'murmur3'],
    doc: 'Partition of a keyed record the gateway produces: murmur2 = Kafka\'s Java client (toPositive(murmur2(key)) mod partitions), murmur3 = RIG 3.0\'s (murmur3_x86_32(key) mod partitions). Records without a key go to a random partition with either.' },
  { env: 'PROXY_KAFKA_RESPONSE_TOPICS', path: 'proxyKafkaResponseTopics', type: 'list', default: ['rig-proxy-response'], rig: true,
    itemPattern: TOPIC_PATTERN, allowed: 'comma-separated Kafka topic names',
    doc: 'Topics consumed for replies to proxied requests waiting with response_from "kafka".' },
  { env: 'PROXY_KAFKA_RESPONSE_KAFKA_GROUP_ID', path: 'proxyKafkaResponseGroupId', type: 'string', default: 'rig-proxy-response', rig: true,
    pattern: /^[A-Za-z0-9._-]{1,180}$/, allowed: '1..180 characters of A-Z a-z 0-9 . _ -',
    doc: 'Consumer group prefix for the reply topics; each node joins its own group "<value>-<NODE_ID>" so that every node sees every reply.' },
  { env: 'PROXY_KAFKA_RESPONSE_TIMEOUT', path: 'proxyKafkaResponseTimeoutMs', type: 'int', default: 5000, min: 1, max: MAX_TIMER_MS, rig: true,
    doc: 'Milliseconds a proxied request with response_from "kafka" waits for its reply (504 after that).' },
  { env: 'PROXY_APIS_TOPIC', path: 'proxyApisTopic', type: 'string', default: 'rig-proxy-apis', rig: false,
    pattern: TOPIC_PATTERN, allowed: 'a Kafka topic name',
    doc: 'Compacted topic through which the nodes share API definitions changed through /v3/apis (created if missing; used when KAFKA_BROKERS is set).' },
  { env: 'SESSION_BLACKLIST_TOPIC', path: 'sessionBlacklistTopic', type: 'string', default: 'rig-session-blacklist', rig: false,
    pattern: TOPIC_PATTERN, allowed: 'a Kafka topic name',
    doc: 'Compacted topic through which the nodes share the session blacklist (/v3/session-blacklist): a session blacklisted on one node is killed and refused on every node, also after restarts (created if missing; used when KAFKA_BROKERS is set).' },
  { env: 'KAFKA_LOG_TOPIC', path: 'kafkaLogTopic', type: 'string', default: 'rig-request-log', rig: true,
    pattern: TOPIC_PATTERN, allowed: 'a Kafka topic name',
    doc: 'Topic of the Kafka request log (REQUEST_LOG=kafka).' },
  // --- request log ---------------------------------------------------------------------------
  { env: 'REQUEST_LOG', path: 'requestLog', type: 'list', default: [], rig: true,
    itemPattern: /^(console|kafka)$/, allowed: 'comma-separated list of console, kafka; empty: no request log',
    doc: 'Where every matched proxy request is logged: console (a CALL: line on stdout), kafka (a CloudEvent to KAFKA_LOG_TOPIC, needs KAFKA_BROKERS).' },
  // --- connections ---------------------------------------------------------------------------
  { env: 'HEARTBEAT_INTERVAL_MS', path: 'heartbeatIntervalMs', type: 'int', default: 15000, min: 1000, max: MAX_TIMER_MS, rig: false,
    doc: 'Interval of SSE heartbeat comments and WebSocket pings.' },
  { env: 'OUTBOUND_QUEUE_MAX_BYTES', path: 'outboundQueueMaxBytes', type: 'int', default: 262144, min: 4096, max: Number.MAX_SAFE_INTEGER, rig: false,
    doc: 'Bytes queued for a client that does not read; beyond this it is disconnected.' },
  { env: 'MAX_REQUEST_BODY_BYTES', path: 'maxRequestBodyBytes', type: 'int', default: 1048576, min: 1024, max: Number.MAX_SAFE_INTEGER, rig: false,
    doc: 'Largest request body accepted (413 beyond).' },
  { env: 'MAX_HEADER_VALUE_BYTES', path: 'maxHeaderValueBytes', type: 'int', default: 16384, min: 256, max: Number.MAX_SAFE_INTEGER, rig: false,
    doc: 'Longest request header value accepted (431 beyond); 16384 is RIG\'s limit.' },
  { env: 'MAX_SUBSCRIPTIONS_PER_CONNECTION', path: 'maxSubscriptionsPerConnection', type: 'int', default: 1000, min: 1, max: 1_000_000, rig: false,
    doc: 'Subscriptions one connect (`subscriptions` parameter) or one subscriptions PUT may list (400 beyond); the ones inferred from a JWT come on top.' },
  { env: 'MAX_CONSTRAINTS_PER_SUBSCRIPTION', path: 'maxConstraintsPerSubscription', type: 'int', default: 100, min: 1, max: 1_000_000, rig: false,
    doc: 'Constraint objects in the `one_of` list of one subscription (400 beyond).' },
  { env: 'MAX_FIELDS_PER_CONSTRAINT', path: 'maxFieldsPerConstraint', type: 'int', default: 32, min: 1, max: 1_000_000, rig: false,
    doc: 'Fields in one constraint object of a subscription (400 beyond).' },
  { env: 'MAX_URL_BYTES', path: 'maxUrlBytes', type: 'int', default: 65536, min: 256, max: Number.MAX_SAFE_INTEGER, rig: false,
    doc: 'Longest request target (path and query string) accepted on the public port (414 beyond).' },
  { env: 'LONGPOLL_BUFFER_SIZE', path: 'longpollBufferSize', type: 'int', default: 200, min: 1, max: 100000, rig: false,
    doc: 'Events kept per long-polling session between polls; a session that stops polling keeps only the newest this many (older ones are dropped).' },
  { env: 'LONGPOLL_TIMEOUT_MS', path: 'longpollTimeoutMs', type: 'int', default: 5000, min: 100, max: MAX_TIMER_MS, rig: false,
    doc: 'How long a poll waits for events before answering with an empty list.' },
  { env: 'LONGPOLL_SESSION_IDLE_MS', path: 'longpollSessionIdleMs', type: 'int', default: 3600000, min: 1000, max: MAX_TIMER_MS, rig: false,
    doc: 'A long-polling session not polled for this long is ended.' },
  // --- process -------------------------------------------------------------------------------
  { env: 'LOG_LEVEL', path: 'logLevel', type: 'enum', default: 'warn', rig: true, values: ['debug', 'info', 'warn', 'error'],
    doc: 'Least severe log level written.' },
  { env: 'PROMETHEUS_METRICS_ENABLED', path: 'prometheusMetricsEnabled', type: 'bool', default: true, rig: true,
    doc: 'Serve GET /metrics on the internal API (Prometheus text format) and count proxied requests in the shards; false: /metrics answers 404.' },
  { env: 'SHUTDOWN_TIMEOUT_MS', path: 'shutdownTimeoutMs', type: 'int', default: 10000, min: 0, max: MAX_TIMER_MS, rig: false,
    doc: 'How long SIGTERM waits for shards to close their connections before exiting.' },
  { env: 'UWS_ALLOW_FALLBACK', path: 'allowUwsFallback', type: 'bool', default: false, rig: false,
    doc: 'Start even when the native uWebSockets.js binary cannot load (its pure-JS fallback is much slower).' },
  { env: 'ENABLE_FAULT_INJECTION', path: 'faultInjection', type: 'bool', default: false, rig: false,
    doc: 'Serve POST /_fault/shards/:id/crash (the shard fails as a bug would) and POST /_fault/shards/:id/stall/:ms (its thread blocks for ms) on the internal API, for resilience testing only.' },
];

/** The host name made into a valid NODE_ID: other characters become "-", at most 64 of them. */
function defaultNodeId(): string {
  const id = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
  return id === '' ? 'node' : id;
}

export function isComputed<T>(d: T | ComputedDefault<T>): d is ComputedDefault<T> {
  return typeof d === 'object' && d !== null && 'compute' in d;
}

/** The default as the documentation states it. */
export function defaultDoc(e: SchemaEntry): string {
  if (isComputed(e.default)) return e.default.doc;
  if (e.default === null) return 'unset';
  if (e.default === '') return 'empty';
  if (Array.isArray(e.default)) return e.default.length === 0 ? 'empty' : e.default.join(',');
  return String(e.default);
}

/** What a valid value looks like, in words; every error message ends with it. */
export function allowedDoc(e: SchemaEntry): string {
  switch (e.type) {
    case 'port':
      return 'integer 0..65535, 0 = any free port';
    case 'int':
      return e.max === Number.MAX_SAFE_INTEGER ? `integer >= ${e.min}` : `integer ${e.min}..${e.max}`;
    case 'bool':
      return 'true/false, 1/0, yes/no';
    case 'enum':
      return `${e.values.join(', ')} (any case)`;
    case 'string':
      return e.allowed ?? 'any text';
    case 'json-or-path':
    case 'list':
      return e.allowed;
  }
}

/**
 * RIG 3.0 variables this version does not implement yet (Avro, NATS, Kinesis,
 * log format, tracing, Erlang clustering). They are listed so the
 * gateway can warn an operator who migrates a RIG deployment that a setting has no effect.
 */
export const UNSUPPORTED_RIG_ENV: readonly string[] = [
  // cluster
  'DISCOVERY_TYPE', 'DNS_NAME', 'NODE_HOST',
  // Kafka (Avro is not supported yet)
  'KAFKA_SERIALIZER', 'KAFKA_SCHEMA_REGISTRY_HOST', 'KAFKA_LOG_SCHEMA',
  // NATS
  'NATS_SERVERS', 'NATS_SOURCE_TOPICS', 'NATSTOFILTER_QUEUE_GROUP', 'PROXY_NATS_RESPONSE_TIMEOUT',
  // Kinesis
  'KINESIS_ENABLED', 'KINESIS_STREAM', 'KINESIS_APP_NAME', 'KINESIS_AWS_REGION', 'KINESIS_ENDPOINT',
  'KINESIS_DYNAMODB_ENDPOINT', 'KINESIS_CLIENT_JAR', 'KINESIS_OTP_JAR', 'KINESIS_LOG_LEVEL',
  'PROXY_KINESIS_REQUEST_REGION', 'PROXY_KINESIS_RESPONSE_TIMEOUT',
  // observability
  'LOG_FMT', 'JAEGER_HOST', 'JAEGER_PORT', 'JAEGER_SERVICE_NAME', 'ZIPKIN_ADDR',
  'ZIPKIN_SERVICE_NAME',
];
