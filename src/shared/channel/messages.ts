/**
 * Everything main and shards say to each other. Main and shard code meet only here: each side
 * imports these types, never the other side's modules. Control messages are msgpack-encoded and
 * event batches are binary records (./event-record.ts); ./port.ts frames both and transfers them.
 *
 * Token-routed requests (a subscriptions PUT or a long-poll landing on a shard that does not own
 * the connection) travel shard -> main -> owner shard, and the answer back the same way, matched by
 * the requester's id.
 *
 * API definitions of the proxy are owned by main: it sends the whole set of active definitions to
 * every shard whenever it changes (and to a shard that starts), numbered by a generation; the
 * shard compiles its routes once and acknowledges the generation, so main can tell a client that
 * a change is live on every shard.
 *
 * Proxied requests that wait for an asynchronous reply (`response_from: http_async | kafka`) are
 * named by a correlation token (shared/token) saying node, shard, incarnation and request number.
 * Main decodes the token of a reply (POST /v3/responses or a Kafka response record) and sends the
 * reply to that shard; the shard answers the waiting request. Requests to a `target: kafka`
 * endpoint reach Kafka through main's producer: the shard sends `produce`, main answers `produced`.
 *
 * The session blacklist is main's (main/sessions/): a shard starts with the live entries in its
 * workerData and gets every new entry as a `blacklist` message; `kill: true` also ends the
 * session's connections there. With MAX_CONNECTIONS_PER_SESSION, main counts each session's
 * connections on the node: a shard asks before it creates a connection with a session
 * (`sessions-admit`, answered `sessions-admitted`) and reports sessions joined by a PUT and left
 * when a connection ends.
 */
import type { ApiDefinition } from '../apis/types.js';
import type { WireError } from '../errors.js';
import type { Subscription } from '../subscriptions/types.js';

export const CHANNEL_VERSION = 4;

/** A subscriptions PUT validated by the receiving shard, to be applied by the owner. */
export interface SubscriptionsOp {
  op: 'subscriptions';
  connId: number;
  incarnation: number;
  /** Validation failure to report if the connection exists (RIG checks existence first). */
  error?: WireError;
  subscriptions?: Subscription[];
  /** Sessions of the request's valid Bearer tokens; the connection joins them (RIG 7.3). */
  sessions?: string[];
}

/** A long-poll request for a session owned by another shard. */
export interface PollOp {
  op: 'poll';
  connId: number;
  incarnation: number;
  cursor: string;
}

export type ShardOp = SubscriptionsOp | PollOp;

/** Answer to a ShardOp: an HTTP status with body and extra headers, rendered by the receiving shard. */
export interface OpReply {
  status: number;
  body: string;
  headers?: Array<[string, string]>;
}

/** An asynchronous reply for a waiting proxied request (spec 6.9), already validated. */
export interface CorrelatedReply {
  status: number;
  /** Extra response headers, lower-case names, safe to send (hop-by-hop and framing removed). */
  headers: Array<[string, string]>;
  body: Uint8Array;
}

/** A record for main's Kafka producer. `id` 0: nobody waits for the outcome (request log). */
export interface ProduceRequest {
  id: number;
  topic: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}
/**
 * Proxied requests of one label set (method, path, target, response_from, status) counted by a
 * shard since its previous `metrics` message (shared/metrics/proxy-request-table.ts).
 */
export type ProxyRequestCount = [method: string, path: string, target: string, responseFrom: string, status: string, count: number];

/** A blacklisted session and when its entry expires (ms since the epoch). */
export type BlacklistEntry = [sessionId: string, expiresAt: number];

export type ShardToMain =
  /** `port`: the bound INBOUND_PORT; `httpsPort`: the bound INBOUND_HTTPS_PORT, when HTTPS is on. */
  | { t: 'ready'; v: number; shard: number; incarnation: number; port: number; httpsPort?: number }
  | { t: 'fatal'; reason: string }
  | { t: 'interest'; add: string[]; remove: string[] }
  | { t: 'req'; id: number; to: number; op: ShardOp }
  | { t: 'res'; id: number; to: number; reply: OpReply }
  | { t: 'stats'; connections: number }
  /** Sent at most once a second and only when something was counted (PROMETHEUS_METRICS_ENABLED). */
  | { t: 'metrics'; proxyRequests: ProxyRequestCount[] }
  /** The shard's routes now reflect API definitions generation `gen`. */
  | { t: 'apis-applied'; gen: number }
  | ({ t: 'produce' } & ProduceRequest)
  /** May a new connection join these sessions (MAX_CONNECTIONS_PER_SESSION)? If so they are counted. */
  | { t: 'sessions-admit'; id: number; sessions: string[] }
  /** A live connection joined these sessions (subscriptions PUT): counted, never refused. */
  | { t: 'sessions-join'; sessions: string[] }
  /** A connection of these sessions ended (or an admitted one was never created). */
  | { t: 'sessions-leave'; sessions: string[] };

export type MainToShard =
  | { t: 'req'; id: number; from: number; op: ShardOp }
  | { t: 'res'; id: number; reply: OpReply }
  /** Every active API definition, generation `gen` (replaces the shard's whole set). */
  | { t: 'apis'; gen: number; apis: ApiDefinition[] }
  /** The outcome of a `produce` with a non-zero id; `error` says why it failed. */
  | { t: 'produced'; id: number; error?: string }
  /** A reply for waiting request `id` of shard incarnation `incarnation`. */
  | { t: 'reply'; incarnation: number; id: number; reply: CorrelatedReply }
  /** Blacklist entries to apply; `kill`: also end the connections of these sessions. */
  | { t: 'blacklist'; entries: BlacklistEntry[]; kill: boolean }
  | { t: 'sessions-admitted'; id: number; ok: boolean }
  | { t: 'crash' }
  /** Fault injection: block the shard's thread for `ms` (a shard that cannot keep up). */
  | { t: 'stall'; ms: number }
  | { t: 'shutdown' };
