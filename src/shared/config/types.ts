/**
 * The validated, frozen configuration. Built once in the main thread by `loadConfig(env)` from the
 * schema in ./schema.ts (the only place that knows defaults); shards receive it through workerData.
 * Only plain data: it crosses thread boundaries by structured clone.
 */
export type JwtAlgorithm = 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface GatewayConfig {
  /** INBOUND_PORT: public port every shard listens on (SO_REUSEPORT). */
  readonly inboundPort: number;
  /** INBOUND_HOST: address the public port binds to. */
  readonly inboundHost: string;
  /** API_HTTP_PORT: internal API port served by the main thread. */
  readonly apiHttpPort: number;
  /** API_HTTP_HOST: address the internal API binds to. */
  readonly apiHttpHost: string;
  /** INBOUND_HTTPS_PORT: public HTTPS port every shard listens on (only with HTTPS configured). */
  readonly inboundHttpsPort: number;
  /** API_HTTPS_PORT: internal API HTTPS port (only with HTTPS configured). */
  readonly apiHttpsPort: number;
  /** HTTPS_CERTFILE: PEM certificate path; empty together with httpsKeyFile = HTTPS off (validated at load). */
  readonly httpsCertFile: string;
  /** HTTPS_KEYFILE: PEM private key path. */
  readonly httpsKeyFile: string;
  /** HTTPS_KEYFILE_PASS: passphrase of the key; empty = not encrypted. */
  readonly httpsKeyFilePass: string;
  /** API_AUTH_TOKEN: bearer token the internal API requires; empty = unauthenticated (RIG). */
  readonly apiAuthToken: string;
  /** CORS: value of access-control-allow-origin. */
  readonly cors: string;
  readonly jwt: {
    /** JWT_SECRET_KEY: HS secret, or PEM public key / certificate for RS and ES. Empty = JWTs cannot be verified. */
    readonly secretKey: string;
    /** JWT_ALG */
    readonly alg: JwtAlgorithm;
    /** JWKS_URL: key set whose keys verify tokens naming a `kid`; empty = none. */
    readonly jwksUrl: string;
    /** JWKS_REFRESH_INTERVAL_MS: ms between regular fetches of the key set. */
    readonly jwksRefreshIntervalMs: number;
    /** JWKS_MIN_REFRESH_INTERVAL_MS: an unknown `kid` refetches the set at most this often. */
    readonly jwksMinRefreshIntervalMs: number;
    /** JWKS_TIMEOUT_MS: ms a fetch of the key set may take. */
    readonly jwksTimeoutMs: number;
    /** JWT_SESSION_FIELD: JSON pointer of the claim naming the session. */
    readonly sessionField: string;
    /** JWT_CACHE_SIZE: verified tokens kept to absorb reconnect storms; 0 disables. */
    readonly cacheSize: number;
  };
  /** SUBSCRIPTION_CHECK: NO_CHECK, JWT_VALIDATION (any case) or a decision service URL (see shards/authorization/check-setting.ts). */
  readonly subscriptionCheck: string;
  /** SUBMISSION_CHECK: same values as subscriptionCheck. */
  readonly submissionCheck: string;
  /** AUTHORIZATION_CHECK_TIMEOUT_MS: how long a decision service may take before the request is denied. */
  readonly authorizationCheckTimeoutMs: number;
  /** AUTHORIZATION_CHECK_MAX_IN_FLIGHT: open decision-service calls per shard and check; beyond: 503. */
  readonly authorizationCheckMaxInFlight: number;
  /** EXTRACTORS: the validated extractor JSON (already read from a file if a path was given), or null. */
  readonly extractors: unknown;
  /** PROXY_CONFIG_FILE: the validated array of API definitions (already read from a file if a path was given), or null. */
  readonly proxyConfig: unknown;
  /** PROXY_RECV_TIMEOUT: ms to wait for an upstream's response headers, and between two pieces of its body. */
  readonly proxyRecvTimeoutMs: number;
  /** PROXY_APIS_TOPIC: compacted topic sharing API definitions between nodes. */
  readonly proxyApisTopic: string;
  /** PROXY_HTTP_ASYNC_RESPONSE_TIMEOUT: ms a `response_from: http_async` request waits for its reply after the upstream's 202. */
  readonly proxyHttpAsyncResponseTimeoutMs: number;
  /** PROXY_KAFKA_WRAP_NON_CLOUDEVENTS: wrap kafka-target bodies that are not CloudEvents instead of refusing them. */
  readonly proxyKafkaWrapNonCloudEvents: boolean;
  /** HOST: this gateway's host name; its IPv4 address is the `by=` of the forwarded header. */
  readonly host: string;
  /** MAX_CONNECTIONS_PER_MINUTE: connection creations per node per 60 s window. */
  readonly maxConnectionsPerMinute: number;
  /** MAX_CONNECTIONS_PER_SESSION: live connections per session (JWT_SESSION_FIELD) per node; 0 = no limit. */
  readonly maxConnectionsPerSession: number;
  /** SESSION_BLACKLIST_TOPIC: compacted topic sharing the session blacklist between nodes. */
  readonly sessionBlacklistTopic: string;
  /** LOG_LEVEL */
  readonly logLevel: LogLevel;
  /** NODE_COOKIE: secret for connection tokens (random per process when unset). */
  readonly tokenSecret: string;
  /** true when NODE_COOKIE was not set and the secret is random. */
  readonly tokenSecretIsRandom: boolean;
  /** SHARDS: number of shard worker threads. */
  readonly shards: number;
  /** NODE_ID: this node's name inside tokens. */
  readonly nodeId: string;
  /** KAFKA_BROKERS: bootstrap brokers (host:port); empty = Kafka disabled. */
  readonly kafkaBrokers: readonly string[];
  /** KAFKA_SOURCE_TOPICS: consumed topics; the first also carries events submitted over HTTP. */
  readonly kafkaSourceTopics: readonly string[];
  /** KAFKATOFILTER_KAFKA_GROUP_ID: consumer group prefix; the group is `${kafkaGroupId}-${nodeId}`. */
  readonly kafkaGroupId: string;
  /** KAFKA_SSL_ENABLED */
  readonly kafkaSslEnabled: boolean;
  /** KAFKA_SSL_CA_CERTFILE: path; empty = system CAs. */
  readonly kafkaSslCaCertFile: string;
  /** KAFKA_SSL_CERTFILE: path; empty = no client certificate. */
  readonly kafkaSslCertFile: string;
  /** KAFKA_SSL_KEYFILE: path; empty = no client key. */
  readonly kafkaSslKeyFile: string;
  /** KAFKA_SSL_KEYFILE_PASS */
  readonly kafkaSslKeyFilePass: string;
  /** KAFKA_SASL: `mechanism:user:password` (validated), empty = no SASL. */
  readonly kafkaSasl: string;
  /** KAFKA_RESTART_DELAY_MS: wait before a failed consumer is started again. */
  readonly kafkaRestartDelayMs: number;
  /** KAFKA_SESSION_TIMEOUT_MS: consumer group session timeout. */
  readonly kafkaSessionTimeoutMs: number;
  /** KAFKA_PRODUCER_ACKS: what the gateway's producer waits for. */
  readonly kafkaProducerAcks: 'all' | 'leader' | 'none';
  /** KAFKA_PRODUCER_IDEMPOTENT: idempotent producer (needs acks all). */
  readonly kafkaProducerIdempotent: boolean;
  /** KAFKA_PARTITIONER: partition choice for keyed records (Java client's murmur2 or RIG's murmur3). */
  readonly kafkaPartitioner: 'murmur2' | 'murmur3';
  /** PROXY_KAFKA_RESPONSE_TOPICS: topics carrying replies for `response_from: "kafka"`. */
  readonly proxyKafkaResponseTopics: readonly string[];
  /** PROXY_KAFKA_RESPONSE_KAFKA_GROUP_ID: reply consumer group prefix; the group is `${value}-${nodeId}`. */
  readonly proxyKafkaResponseGroupId: string;
  /** PROXY_KAFKA_RESPONSE_TIMEOUT: ms a `response_from: "kafka"` request waits for its reply. */
  readonly proxyKafkaResponseTimeoutMs: number;
  /** KAFKA_LOG_TOPIC: topic of the Kafka request log. */
  readonly kafkaLogTopic: string;
  /** REQUEST_LOG: request log sinks (kafka needs KAFKA_BROKERS). */
  readonly requestLog: readonly ('console' | 'kafka')[];
  /** HEARTBEAT_INTERVAL_MS: SSE heartbeat comment / WS ping interval. */
  readonly heartbeatIntervalMs: number;
  /** OUTBOUND_QUEUE_MAX_BYTES: per-connection outbound bytes held while a client does not read. */
  readonly outboundQueueMaxBytes: number;
  /** MAX_REQUEST_BODY_BYTES */
  readonly maxRequestBodyBytes: number;
  /** MAX_HEADER_VALUE_BYTES */
  readonly maxHeaderValueBytes: number;
  /** MAX_SUBSCRIPTIONS_PER_CONNECTION: subscriptions one connect or PUT may list. */
  readonly maxSubscriptionsPerConnection: number;
  /** MAX_CONSTRAINTS_PER_SUBSCRIPTION: length of one subscription's one_of list. */
  readonly maxConstraintsPerSubscription: number;
  /** MAX_FIELDS_PER_CONSTRAINT: fields of one constraint object. */
  readonly maxFieldsPerConstraint: number;
  /** MAX_URL_BYTES: longest request target on the public port. */
  readonly maxUrlBytes: number;
  /** LONGPOLL_BUFFER_SIZE: events kept per long-polling session. */
  readonly longpollBufferSize: number;
  /** LONGPOLL_TIMEOUT_MS: how long a poll waits for events before answering with an empty list. */
  readonly longpollTimeoutMs: number;
  /** LONGPOLL_SESSION_IDLE_MS: a session not polled for this long is ended. */
  readonly longpollSessionIdleMs: number;
  /** PROMETHEUS_METRICS_ENABLED: serve /metrics and count proxied requests. */
  readonly prometheusMetricsEnabled: boolean;
  /** SHUTDOWN_TIMEOUT_MS: how long SIGTERM waits for shards to drain. */
  readonly shutdownTimeoutMs: number;
  /** UWS_ALLOW_FALLBACK: run on uWS's pure-JS fallback when the native binary cannot load. */
  readonly allowUwsFallback: boolean;
  /** ENABLE_FAULT_INJECTION: serve the shard-crash endpoint on the internal API (testing aid). */
  readonly faultInjection: boolean;
}
