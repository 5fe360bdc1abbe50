/**
 * Shard worker entry. Builds the shard's context, listens on the public port (and the public HTTPS
 * port when HTTPS is configured), and serves until main says shutdown.
 *
 * A uWS app must be closed by its own thread before that thread ends: a worker that dies with its
 * app open aborts the whole process. So an uncaught error here is not left to kill the thread; the
 * shard closes its app and ends cleanly, and main starts a new shard in its place (other shards
 * keep serving). Its clients see their connection end and reconnect.
 */
import { randomInt } from 'node:crypto';
import { workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { CHANNEL_VERSION } from '../shared/channel/messages.js';
import type { BlacklistEntry } from '../shared/channel/messages.js';
import type { GatewayConfig } from '../shared/config/types.js';
import { parseExtractorConfig } from '../shared/extractors/config.js';
import { JwksKeySource } from '../shared/jwt/jwks.js';
import { createJwtVerifier } from '../shared/jwt/verifier.js';
import { createLogger } from '../shared/logger.js';
import { ConnectionRateLimiter } from '../shared/rate-limit.js';
import { createTokenCodec } from '../shared/token/connection-token.js';
import { httpsEnabled } from '../shared/config/https-files.js';
import { httpsAppOptions, loadUws } from '../shared/uws.js';
import type { TemplatedApp, UsListenSocket } from '../shared/uws.js';
import { ReverseProxy } from '../proxy/proxy.js';
import { WaitingRequests } from '../proxy/replies/waiting-requests.js';
import type { RequestLogRecord } from '../proxy/request-log.js';
import { ProxyRequestCounter } from '../proxy/request-metrics.js';
import type { ApiDefinition } from '../shared/apis/types.js';
import { registerPublicRoutes } from './app.js';
import type { ShardContext } from './context.js';
import { DISCONNECT } from './disconnect.js';
import { Hub } from './hub.js';
import { MainLink } from './main-link.js';
import { markDispatched } from '../shared/channel/backlog.js';
import { stopRaised } from '../shared/channel/stop-flag.js';
import { applySubscriptions } from './handlers/subscriptions-put.js';
import { pollLocal } from './handlers/longpoll.js';
import { LongPollSession } from './transports/long-poll.js';
import { ShardSessions } from './sessions/shard-sessions.js';
import { AuthorizationCheck } from './authorization/authorization-check.js';
import { parseCheckSetting } from './authorization/check-setting.js';
import { parseSessionField } from '../shared/sessions/session-id.js';

export interface ShardWorkerData {
  shardId: number;
  config: GatewayConfig;
  rateLimitBuffer: SharedArrayBuffer;
  /** Dispatched-bytes counters main reads to see whether shards keep up (shared/channel/backlog.ts). */
  backlogBuffer: SharedArrayBuffer;
  /** Raised by main on shutdown: skip queued event batches (shared/channel/stop-flag.ts). */
  stopFlags: SharedArrayBuffer;
  /** This shard's end of its channel to main (main reads it synchronously, see Supervisor.catchUp). */
  port: MessagePort;
  /** HOST's IPv4 address (looked up once by main), the by= of the proxy's forwarded header. */
  hostIp: string;
  /** The active API definitions at spawn, and their generation; changes arrive over the channel. */
  apis: ApiDefinition[];
  apisGen: number;
  /** The live session blacklist at spawn; new entries arrive over the channel. */
  blacklist: BlacklistEntry[];
}

const { shardId, config, rateLimitBuffer, backlogBuffer, stopFlags, port, hostIp, apis, blacklist } = workerData as ShardWorkerData;
const stopView = new Int32Array(stopFlags);
const log = createLogger(config.logLevel, `shard ${shardId}`);
const uws = loadUws(config.allowUwsFallback);
const incarnation = randomInt(1, 0xffffffff);
const tokens = createTokenCodec(config.tokenSecret);
const extractors = parseExtractorConfig(config.extractors);

let nextConnId = 1;
let stopping = false;
const listenSockets: UsListenSocket[] = [];

const link: MainLink = new MainLink(port, {
  onEvents: (records) => {
    try {
      if (!stopRaised(stopView, shardId)) hub.dispatch(records);
    } finally {
      markDispatched(backlogBuffer, shardId, records.byteLength);
    }
  },
  onRequest: (op, reply) => {
    if (op.op === 'subscriptions') applySubscriptions(ctx, op, reply);
    else pollLocal(ctx, op, reply);
  },
  onApis: (gen, next) => {
    proxy.setApis(next);
    link.send({ t: 'apis-applied', gen });
  },
  onReply: (replyIncarnation, id, reply) => waiting.deliver(replyIncarnation, id, reply),
  onBlacklist: (entries, kill) => {
    const killed = sessions.applyBlacklist(entries, kill);
    if (killed > 0) log.info(`killed ${killed} connection(s) of blacklisted session(s)`);
  },
  onShutdown: () => shutdown('shutdown requested'),
  onCrash: () => {
    // Fault injection (ENABLE_FAULT_INJECTION): an error nobody catches, as a bug would raise.
    setImmediate(() => {
      throw new Error('fault injection: shard crash requested');
    });
  },
  onStall: (ms) => {
    // Fault injection: a thread too busy to take its messages, as under CPU overload.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(ms, 60_000));
  },
});

const sessionField = parseSessionField(config.jwt.sessionField);
const sessions = new ShardSessions(
  config.maxConnectionsPerSession > 0
    ? {
        admit: (ids) => link.admitSessions(ids),
        join: (ids) => link.send({ t: 'sessions-join', sessions: ids }),
        leave: (ids) => link.send({ t: 'sessions-leave', sessions: ids }),
      }
    : undefined,
);
sessions.applyBlacklist(blacklist, false);
const proxyMetrics = config.prometheusMetricsEnabled ? new ProxyRequestCounter() : undefined;
// Each shard fetches JWKS_URL itself (docs/security.md#jwks): a key set is small and changes rarely,
// and a shard that meets an unknown `kid` needs the answer itself, without a round trip through main.
const jwks = config.jwt.jwksUrl === '' ? undefined : new JwksKeySource({
  url: config.jwt.jwksUrl,
  defaultAlg: config.jwt.alg,
  refreshIntervalMs: config.jwt.jwksRefreshIntervalMs,
  minRefreshIntervalMs: config.jwt.jwksMinRefreshIntervalMs,
  timeoutMs: config.jwt.jwksTimeoutMs,
  log,
});
jwks?.start();
const jwt = createJwtVerifier({ alg: config.jwt.alg, secretKey: config.jwt.secretKey, cacheSize: config.jwt.cacheSize, ...(jwks && { jwks }) });
const tokenCheck = { jwt, blacklist: sessions.blacklist, sessionField };
const waiting = new WaitingRequests(tokens, { nodeId: config.nodeId, shard: shardId, incarnation });
const proxy: ReverseProxy = new ReverseProxy({
  maxHeaderValueBytes: config.maxHeaderValueBytes,
  recvTimeoutMs: config.proxyRecvTimeoutMs,
  cors: config.cors,
  hostIp,
  tokenCheck,
  log,
  env: process.env,
  waiting,
  httpAsyncTimeoutMs: config.proxyHttpAsyncResponseTimeoutMs,
  kafka: {
    enabled: config.kafkaBrokers.length > 0,
    produce: (record, done) => link.produce(record, done),
    responseTimeoutMs: config.proxyKafkaResponseTimeoutMs,
    maxRequestBodyBytes: config.maxRequestBodyBytes,
    wrapNonCloudEvents: config.proxyKafkaWrapNonCloudEvents,
  },
  requestLog: {
    console: config.requestLog.includes('console'),
    ...(config.requestLog.includes('kafka') && {
      kafka: (record: RequestLogRecord) => link.produce({ topic: config.kafkaLogTopic, ...record }),
    }),
  },
  metrics: proxyMetrics,
});
proxy.setApis(apis);

const checkOptions = { timeoutMs: config.authorizationCheckTimeoutMs, maxInFlight: config.authorizationCheckMaxInFlight, log };
const authorization = {
  subscription: new AuthorizationCheck(parseCheckSetting(config.subscriptionCheck), tokenCheck, { ...checkOptions, name: 'SUBSCRIPTION_CHECK' }),
  submission: new AuthorizationCheck(parseCheckSetting(config.submissionCheck), tokenCheck, { ...checkOptions, name: 'SUBMISSION_CHECK' }),
};

const hub: Hub = new Hub(extractors, (add, remove) => link.send({ t: 'interest', add, remove }));
hub.onRemove = (conn) => sessions.detach(conn);

const ctx: ShardContext = {
  config,
  shardId,
  incarnation,
  log,
  extractors,
  jwt,
  tokenCheck,
  sessions,
  authorization,
  tokens,
  rateLimiter: new ConnectionRateLimiter(rateLimitBuffer, config.maxConnectionsPerMinute),
  hub,
  link,
  proxy,
  corsHeaders: [['access-control-allow-origin', config.cors]],
  newConnection() {
    const id = nextConnId++;
    if (nextConnId > 0xffffffff) nextConnId = 1;
    return { id, token: tokens.encode({ kind: 'connection', nodeId: config.nodeId, shard: shardId, incarnation, id }) };
  },
};

/** The shard's listeners: plain HTTP always, HTTPS too when configured; both serve the same routes. */
interface Listener {
  readonly app: TemplatedApp;
  readonly port: number;
  /** The variable naming the port, for the operator when it cannot be bound. */
  readonly variable: string;
}
const listeners: Listener[] = [
  { app: registerPublicRoutes(uws.App(), ctx, { scheme: 'http', port: config.inboundPort }), port: config.inboundPort, variable: 'INBOUND_PORT' },
];
let httpsFailure: string | undefined;
if (httpsEnabled(config)) {
  try {
    const app = registerPublicRoutes(uws.SSLApp(httpsAppOptions(config)), ctx, { scheme: 'https', port: config.inboundHttpsPort });
    listeners.push({ app, port: config.inboundHttpsPort, variable: 'INBOUND_HTTPS_PORT' });
  } catch (e) {
    // The loader checked the files; they changed since, or OpenSSL refuses what node:crypto took.
    httpsFailure = `cannot set up HTTPS with HTTPS_CERTFILE ${config.httpsCertFile} and HTTPS_KEYFILE ${config.httpsKeyFile}: ${(e as Error).message}`;
  }
}

const heartbeat = setInterval(() => {
  const now = Date.now();
  for (const conn of hub.all()) conn.heartbeat(now, config.heartbeatIntervalMs);
}, config.heartbeatIntervalMs);

// Long polls wait for at most LONGPOLL_TIMEOUT_MS; one coarse sweep is cheaper than a timer per poll.
const sweepEveryMs = Math.max(50, Math.min(250, Math.floor(config.longpollTimeoutMs / 10)));
const sweeper = setInterval(() => {
  const now = Date.now();
  sessions.sweep(now);
  for (const conn of hub.all()) {
    if (conn instanceof LongPollSession && conn.sweep(now, config.longpollSessionIdleMs)) conn.close(DISCONNECT.shutdown);
  }
}, sweepEveryMs);

const stats = setInterval(() => link.send({ t: 'stats', connections: hub.size }), 5000);
stats.unref();

// Proxy request counts since the last report; main keeps the totals (GET /metrics).
const reportMetrics = (): void => {
  const proxyRequests = proxyMetrics?.takeDelta();
  if (proxyRequests) link.send({ t: 'metrics', proxyRequests });
};
const metricsReporter = proxyMetrics ? setInterval(reportMetrics, 1000) : undefined;
metricsReporter?.unref();

// Ready once every listener is bound; a listener that cannot bind stops the shard, and start-up.
const boundPorts: number[] = [];
let unbound = listeners.length;
if (httpsFailure !== undefined) fail(httpsFailure);
else {
  for (const [i, listener] of listeners.entries()) {
    listener.app.listen(config.inboundHost, listener.port, (socket) => {
      if (socket && stopping) return uws.us_listen_socket_close(socket);
      if (!socket) {
        // Named like the internal API's failure, so the operator knows which setting to change.
        return fail(`cannot listen on ${config.inboundHost}:${listener.port} (${listener.variable})`);
      }
      listenSockets.push(socket);
      boundPorts[i] = uws.us_socket_local_port(socket);
      if (--unbound > 0) return;
      link.send({
        t: 'ready', v: CHANNEL_VERSION, shard: shardId, incarnation, port: boundPorts[0]!,
        ...(boundPorts[1] !== undefined && { httpsPort: boundPorts[1] }),
      });
    });
    if (stopping) break;
  }
}

function fail(reason: string): void {
  if (stopping) return;
  log.error(reason);
  link.send({ t: 'fatal', reason });
  shutdown('listen failed');
}

function shutdown(why: string): void {
  if (stopping) return;
  stopping = true;
  log.info(`stopping: ${why}`);
  for (const socket of listenSockets.splice(0)) uws.us_listen_socket_close(socket);
  clearInterval(heartbeat);
  clearInterval(sweeper);
  clearInterval(stats);
  clearInterval(metricsReporter);
  jwks?.close();
  for (const conn of [...hub.all()]) conn.close(DISCONNECT.shutdown);
  waiting.closeAll();
  // Give the final frames a moment to reach the kernel before every socket is closed. Closing the
  // app aborts proxied requests still in flight, which aborts their upstream requests.
  setTimeout(() => {
    for (const { app } of listeners) app.close();
    proxy.close().catch((e) => log.warn('closing upstream connections failed', { error: e }));
    for (const check of [authorization.subscription, authorization.submission]) {
      check.close().catch((e) => log.warn('closing decision service connections failed', { error: e }));
    }
    reportMetrics(); // what was counted since the last report; main reads it when the shard has ended
    port.close();
  }, 100);
}

process.on('uncaughtException', (e) => {
  log.error('uncaught error, restarting this shard', { error: e });
  shutdown('uncaught error');
});
process.on('unhandledRejection', (e) => {
  log.error('unhandled rejection, restarting this shard', { error: e });
  shutdown('unhandled rejection');
});
