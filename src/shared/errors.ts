/**
 * The one error catalog. Every client-visible failure of the gateway is a `GatewayError` with a
 * stable `GW_ERR_*` code, the HTTP status it answers with, and the exact body text. Texts that RIG
 * 3.0 defined are kept verbatim so clients matching on them keep working; the codes are ours.
 *
 * Errors cross thread boundaries (a subscriptions PUT validated on one shard and applied on
 * another), so everything a GatewayError carries is plain enumerable data: see `toWire`/`fromWire`.
 * docs/errors.md lists every code; test/unit/shared/errors.test.ts keeps the two in sync.
 */

export const ERROR_CODES = {
  // --- request shape -------------------------------------------------------------------------
  GW_ERR_BODY_TOO_LARGE: { status: 413, doc: 'request body larger than MAX_REQUEST_BODY_BYTES' },
  GW_ERR_HEADER_TOO_LARGE: { status: 431, doc: 'a request header value longer than MAX_HEADER_VALUE_BYTES' },
  GW_ERR_NOT_ACCEPTABLE: { status: 406, doc: 'Accept header excludes application/json (subscriptions PUT)' },
  GW_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, doc: 'event submitted with a content type no mode accepts' },
  GW_ERR_URL_TOO_LONG: { status: 414, doc: 'request target (path and query) longer than MAX_URL_BYTES (public port)' },
  GW_ERR_NOT_FOUND: { status: 404, doc: 'no route matched' },
  GW_ERR_INVALID_UTF8: { status: 400, doc: 'request body or header is not valid UTF-8 where text is required' },
  // --- events ----------------------------------------------------------------------------------
  GW_ERR_NOT_A_CLOUD_EVENT: { status: 400, doc: 'structured-mode body is not a CloudEvent' },
  GW_ERR_BINARY_MODE_SPECVERSION: { status: 400, doc: 'binary mode with a missing or unsupported ce-specversion' },
  GW_ERR_BINARY_MODE_INVALID: { status: 400, doc: 'binary-mode headers and body do not form a CloudEvent' },
  GW_ERR_BATCH_MODE_UNSUPPORTED: { status: 415, doc: 'application/cloudevents-batch' },
  GW_ERR_STRUCTURED_FORMAT_UNSUPPORTED: { status: 415, doc: 'application/cloudevents+<format> other than json' },
  // --- connections and subscriptions -----------------------------------------------------------
  GW_ERR_SUBSCRIPTION_LIST_UNDECODABLE: { status: 400, doc: '`subscriptions` query parameter is not JSON' },
  GW_ERR_CONNECT_SUBSCRIPTIONS_INVALID: { status: 400, doc: 'connect: invalid JWT or subscription list' },
  GW_ERR_SUBSCRIPTION_LIMIT: { status: 400, doc: 'connect or subscriptions PUT over MAX_SUBSCRIPTIONS_PER_CONNECTION, MAX_CONSTRAINTS_PER_SUBSCRIPTION or MAX_FIELDS_PER_CONSTRAINT' },
  GW_ERR_RATE_LIMITED: { status: 429, doc: 'MAX_CONNECTIONS_PER_MINUTE reached on this node' },
  GW_ERR_SESSION_CONNECTION_LIMIT: { status: 429, doc: 'MAX_CONNECTIONS_PER_SESSION live connections of this session on this node' },
  GW_ERR_EXPECTED_JSON_BODY: { status: 400, doc: 'subscriptions PUT body is not JSON / wrong content type' },
  GW_ERR_SUBSCRIPTIONS_FIELD_MISSING: { status: 400, doc: 'subscriptions PUT body lacks "subscriptions"' },
  GW_ERR_INVALID_CONNECTION_TOKEN: { status: 400, doc: 'connection token is not one this cluster issued' },
  GW_ERR_CONNECTION_GONE: { status: 410, doc: 'the connection the token names no longer exists' },
  GW_ERR_INVALID_AUTHORIZATION: { status: 400, doc: 'subscriptions PUT with an invalid Bearer JWT' },
  GW_ERR_SUBSCRIPTIONS_INVALID: { status: 400, doc: 'subscriptions PUT with an invalid subscription' },
  GW_ERR_SUBSCRIPTION_NOT_AUTHORIZED: { status: 403, doc: 'connect with a subscriptions parameter that SUBSCRIPTION_CHECK denies (RIG: 400)' },
  GW_ERR_SUBSCRIPTION_DENIED: { status: 403, doc: 'subscriptions PUT that SUBSCRIPTION_CHECK denies' },
  GW_ERR_SUBMISSION_DENIED: { status: 403, doc: 'event submission that SUBMISSION_CHECK denies' },
  GW_ERR_AUTHORIZATION_BUSY: { status: 503, doc: 'the decision service already has AUTHORIZATION_CHECK_MAX_IN_FLIGHT calls open; retry-after: 1' },
  GW_ERR_INVALID_LONGPOLL_COOKIE: { status: 400, doc: 'long-poll cookie cannot be decoded; the cookies are cleared' },
  // --- proxy (public port) ---------------------------------------------------------------------
  GW_ERR_PROXY_AUTH_FAILED: { status: 401, doc: 'secured endpoint without a valid JWT' },
  GW_ERR_PROXY_METHOD_NOT_ALLOWED: { status: 405, doc: 'endpoint configured with a method the proxy does not forward' },
  GW_ERR_PROXY_TARGET_NOT_SUPPORTED: { status: 501, doc: 'endpoint whose target or response_from is not built yet' },
  GW_ERR_PROXY_BAD_GATEWAY: { status: 502, doc: 'upstream unreachable, refused the connection or broke the exchange' },
  GW_ERR_PROXY_GATEWAY_TIMEOUT: { status: 504, doc: 'upstream sent no response headers within PROXY_RECV_TIMEOUT' },
  GW_ERR_KAFKA_REQUEST_INVALID: { status: 400, doc: 'kafka-target request whose body is not JSON, not a CloudEvent, or has a non-string rig.target_partition' },
  GW_ERR_KAFKA_NOT_CONFIGURED: { status: 503, doc: 'kafka-target request while KAFKA_BROKERS is empty' },
  GW_ERR_KAFKA_PRODUCE_FAILED: { status: 502, doc: 'kafka-target request the producer could not write (RIG answered 202 regardless)' },
  // --- asynchronous replies (internal API) -----------------------------------------------------
  GW_ERR_REPLY_INVALID: { status: 400, doc: 'POST /v3/responses without a valid rig-correlation or rig-response-code' },
  // --- session blacklist (internal API) -------------------------------------------------------
  GW_ERR_BLACKLIST_INVALID: { status: 400, doc: 'POST /v3/session-blacklist with a missing or invalid sessionId or validityInSeconds' },
  GW_ERR_BLACKLIST_NOT_FOUND: { status: 404, doc: 'GET /v3/session-blacklist/:id of a session that is not blacklisted' },
  // --- internal API ----------------------------------------------------------------------------
  GW_ERR_API_UNAUTHORIZED: { status: 401, doc: 'internal API request without the API_AUTH_TOKEN bearer token, or with another token' },
  // --- API definitions (internal API) ----------------------------------------------------------
  GW_ERR_API_INVALID: { status: 400, doc: 'API definition fails validation; the body is RIG\'s error map' },
  GW_ERR_API_BODY_INVALID: { status: 400, doc: 'API definition body that is not JSON, or a path id that is not URL-encoded properly' },
  GW_ERR_API_UNSUPPORTED_MEDIA_TYPE: { status: 415, doc: 'API definition sent with a content type other than JSON' },
  GW_ERR_API_NOT_FOUND: { status: 404, doc: 'no active API definition with that id' },
  GW_ERR_API_EXISTS: { status: 409, doc: 'POST of an id that is already active' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface WireError {
  code: ErrorCode;
  status: number;
  message: string;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Seconds for a retry-after header (answers that mean "not now"). */
  readonly retryAfterS: number | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; status?: number; retryAfterS?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = options?.status ?? ERROR_CODES[code].status;
    this.retryAfterS = options?.retryAfterS;
  }

  toWire(): WireError {
    return { code: this.code, status: this.status, message: this.message };
  }

  static fromWire(w: WireError): GatewayError {
    return new GatewayError(w.code, w.message, { status: w.status });
  }
}

export function isGatewayError(e: unknown): e is GatewayError {
  return e instanceof GatewayError;
}

/** What a kafka-target 400 explains after RIG's first line. */
const KAFKA_REQUEST_USAGE = [
  'Send a CloudEvent in structured mode: a JSON object with at least "specversion", "id", "source" and "type", e.g.',
  '{"specversion": "1.0", "id": "1", "source": "/my-app", "type": "com.example.order.created", "data": {"orderId": 42}}',
  'Its "rig" attribute is replaced by the request\'s metadata, except "rig": {"target_partition": "<key>"},',
  'which sets the Kafka record key (records with the same key go to the same partition).',
].join('\n');

// --- constructors for the texts RIG defined (spec sections 2.3-2.7) -----------------------------

export const err = {
  bodyTooLarge: (limit: number) =>
    new GatewayError('GW_ERR_BODY_TOO_LARGE', `Request body too large: the limit is ${limit} bytes.`),
  headerTooLarge: (name: string, limit: number) =>
    new GatewayError('GW_ERR_HEADER_TOO_LARGE', `Request header "${name}" too large: the limit is ${limit} bytes.`),
  urlTooLong: (limit: number) => new GatewayError('GW_ERR_URL_TOO_LONG', `Request URL too long: the limit is ${limit} bytes.`),
  invalidUtf8: (what: string) => new GatewayError('GW_ERR_INVALID_UTF8', `${what} is not valid UTF-8.`),
  notFoundProxy: () => new GatewayError('GW_ERR_NOT_FOUND', '{"message":"Not Found"}'),

  notACloudEvent: (reason: string) =>
    new GatewayError('GW_ERR_NOT_A_CLOUD_EVENT', `The request body does not look like a CloudEvent: ${reason}`),
  binarySpecversion: (got: string[], supported: string[]) =>
    new GatewayError(
      'GW_ERR_BINARY_MODE_SPECVERSION',
      `Your request looks like it's using the CloudEvents binary content mode, but the ce-specversion header is ${JSON.stringify(got)} instead of ${JSON.stringify(supported)}.`,
    ),
  binaryInvalid: (reason: string) =>
    new GatewayError('GW_ERR_BINARY_MODE_INVALID', `The request does not form a CloudEvent in binary content mode: ${reason}`),
  batchUnsupported: () =>
    new GatewayError('GW_ERR_BATCH_MODE_UNSUPPORTED', 'The batched CloudEvents HTTP transport binding mode is currently not supported.'),
  structuredFormatUnsupported: (type: string, subtype: string) =>
    new GatewayError(
      'GW_ERR_STRUCTURED_FORMAT_UNSUPPORTED',
      `The given content-type {"${type}", "${subtype}"} is currently not supported for structured mode.`,
    ),
  unsupportedMediaType: () =>
    new GatewayError(
      'GW_ERR_UNSUPPORTED_MEDIA_TYPE',
      'Missing content-type: send a structured event as application/cloudevents+json (or application/json), or a binary-mode event with ce-* headers.',
    ),

  subscriptionListUndecodable: (detail: string) =>
    new GatewayError('GW_ERR_SUBSCRIPTION_LIST_UNDECODABLE', `Failed to decode subscription list: ${detail}`),
  connectJwtInvalid: (reason: string) =>
    new GatewayError('GW_ERR_CONNECT_SUBSCRIPTIONS_INVALID', `could not parse subscriptions: could not decode JWT: ${reason}`),
  connectSubscriptionsInvalid: (detail: string) =>
    new GatewayError('GW_ERR_CONNECT_SUBSCRIPTIONS_INVALID', `could not parse subscriptions: ${detail}`),
  subscriptionLimit: (detail: string) => new GatewayError('GW_ERR_SUBSCRIPTION_LIMIT', `Too many subscriptions: ${detail}.`),
  rateLimited: () => new GatewayError('GW_ERR_RATE_LIMITED', 'Reached maximum number of connections'),
  sessionConnectionLimit: () => new GatewayError('GW_ERR_SESSION_CONNECTION_LIMIT', 'Reached maximum number of connections for this session'),
  blacklistInvalid: (message: string) => new GatewayError('GW_ERR_BLACKLIST_INVALID', message),
  blacklistNotFound: () => new GatewayError('GW_ERR_BLACKLIST_NOT_FOUND', 'Not found.'),

  notAcceptable: (accept: string[]) =>
    new GatewayError(
      'GW_ERR_NOT_ACCEPTABLE',
      `Not acceptable: the Accept header(s) ${JSON.stringify(accept)} allow none of the supported media types ["application/json"].`,
    ),
  expectedJsonBody: (technical: string) =>
    new GatewayError('GW_ERR_EXPECTED_JSON_BODY', `Expected JSON encoded body.\n\nTechnical info:\n${technical}`),
  subscriptionsFieldMissing: (decoded: string) =>
    new GatewayError('GW_ERR_SUBSCRIPTIONS_FIELD_MISSING', `Expected field "subscriptions" is not present.\n\nDecoded request body:\n${decoded}`),
  invalidConnectionToken: () => new GatewayError('GW_ERR_INVALID_CONNECTION_TOKEN', 'Invalid connection token.'),
  connectionGone: () => new GatewayError('GW_ERR_CONNECTION_GONE', 'Connection no longer exists.'),
  invalidAuthorization: (reason: string) =>
    new GatewayError(
      'GW_ERR_INVALID_AUTHORIZATION',
      `cannot accept subscription request: invalid authorization header: could not decode JWT: ${reason}`,
    ),
  subscriptionsInvalid: (detail: string) =>
    new GatewayError('GW_ERR_SUBSCRIPTIONS_INVALID', `cannot accept subscription request: could not parse given subscriptions: ${detail}`),
  proxyAuthFailed: () => new GatewayError('GW_ERR_PROXY_AUTH_FAILED', 'Authentication failed.'),
  proxyMethodNotAllowed: () => new GatewayError('GW_ERR_PROXY_METHOD_NOT_ALLOWED', 'Method not allowed.'),
  proxyTargetNotSupported: (what: string) =>
    new GatewayError('GW_ERR_PROXY_TARGET_NOT_SUPPORTED', `This endpoint uses ${what}, which this gateway does not support yet.`),
  proxyBadGateway: () => new GatewayError('GW_ERR_PROXY_BAD_GATEWAY', 'Bad gateway.'),
  proxyGatewayTimeout: () => new GatewayError('GW_ERR_PROXY_GATEWAY_TIMEOUT', 'Gateway timeout.'),
  kafkaRequestInvalid: (description: string) =>
    new GatewayError('GW_ERR_KAFKA_REQUEST_INVALID', `Bad request: ${description}.\n\n# Usage\n\n${KAFKA_REQUEST_USAGE}\n`),
  kafkaNotConfigured: () =>
    new GatewayError('GW_ERR_KAFKA_NOT_CONFIGURED', 'This endpoint forwards to Kafka, but the gateway has no Kafka brokers configured (KAFKA_BROKERS).'),
  kafkaProduceFailed: (reason: string) =>
    new GatewayError('GW_ERR_KAFKA_PRODUCE_FAILED', `The request could not be written to Kafka: ${reason.slice(0, 200)}`),
  replyInvalid: (detail: string) => new GatewayError('GW_ERR_REPLY_INVALID', `Failed to parse request body: ${detail}`),

  apiTokenMissing: () =>
    new GatewayError('GW_ERR_API_UNAUTHORIZED', '{"errors":{"detail":"Unauthorized: send the internal API token as the header authorization: Bearer <token>"}}'),
  apiTokenInvalid: () =>
    new GatewayError('GW_ERR_API_UNAUTHORIZED', '{"errors":{"detail":"Unauthorized: the bearer token is not the internal API token"}}'),
  apiInvalid: (errorMapJson: string) => new GatewayError('GW_ERR_API_INVALID', errorMapJson),
  apiBodyInvalid: () => new GatewayError('GW_ERR_API_BODY_INVALID', '{"errors":{"detail":"Bad request"}}'),
  apiUnsupportedMediaType: () =>
    new GatewayError('GW_ERR_API_UNSUPPORTED_MEDIA_TYPE', '{"errors":{"detail":"Unsupported media type: send API definitions as application/json"}}'),
  apiNotFound: (id: string) => new GatewayError('GW_ERR_API_NOT_FOUND', JSON.stringify({ message: `API with id=${id} doesn't exists.` })),
  apiExists: (id: string) => new GatewayError('GW_ERR_API_EXISTS', JSON.stringify({ message: `API with id=${id} already exists.` })),

  subscriptionNotAuthorized: () => new GatewayError('GW_ERR_SUBSCRIPTION_NOT_AUTHORIZED', 'Subscription denied (not authorized).'),
  subscriptionDenied: () => new GatewayError('GW_ERR_SUBSCRIPTION_DENIED', 'Subscription denied.'),
  submissionDenied: () => new GatewayError('GW_ERR_SUBMISSION_DENIED', 'Submission denied.'),
  authorizationBusy: () =>
    new GatewayError('GW_ERR_AUTHORIZATION_BUSY', 'The authorization service is busy; retry later.', { retryAfterS: 1 }),

  invalidLongpollCookie: (which: string) =>
    new GatewayError('GW_ERR_INVALID_LONGPOLL_COOKIE', `Invalid ${which} cookie: the long-polling session cookies were cleared, connect again.`),
};
