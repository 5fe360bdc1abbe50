/**
 * Composition root of the main thread: router, shard supervisor, Kafka source and internal API,
 * started and stopped in order. Start: shards first (the public port opens), then the Kafka
 * consumer (it needs ready shards to route to; it connects in the background and never holds up
 * start-up), then the internal API (HTTP, and HTTPS when configured). Stop: the Kafka consumer (no new events), the events submitted
 * over HTTP still on their way to Kafka, then the shards one by one (each closes its listener, ends
 * its connections with a reason, closes its uWS app), then the internal API; only then may the
 * process exit (an open uWS app would abort it).
 */
import { lookup } from 'node:dns/promises';
import type { JsonObject } from '../shared/apis/types.js';
import type { CorrelatedReply } from '../shared/channel/messages.js';
import type { GatewayConfig } from '../shared/config/types.js';
import { parseExtractorConfig } from '../shared/extractors/config.js';
import type { Logger } from '../shared/logger.js';
import { createRateLimitBuffer } from '../shared/rate-limit.js';
import { httpsEnabled } from '../shared/config/https-files.js';
import { httpsAppOptions, loadUws } from '../shared/uws.js';
import type { TemplatedApp, UsListenSocket, UwsModule } from '../shared/uws.js';
import { ApiStore } from './apis/api-store.js';
import { ApiReplication } from './apis/api-replication.js';
import { buildInternalApi } from './api/internal-api.js';
import type { GatewayStatus } from './api/internal-api.js';
import { createKafka } from './kafka/client.js';
import { startKafkaSource } from './kafka/consumer.js';
import type { KafkaSource } from './kafka/consumer.js';
import { TopicForwarder } from './kafka/http-forwarder.js';
import { JsonProducer, PRODUCER_ACKS } from './kafka/producer.js';
import { RecordProducer } from './kafka/record-producer.js';
import { startReplyConsumer } from './kafka/reply-consumer.js';
import type { ReplyConsumer } from './kafka/reply-consumer.js';
import { ReplyRouter } from './replies/reply-router.js';
import { eventMetrics } from './metrics/event-metrics.js';
import { startProcessMetrics } from './metrics/process-metrics.js';
import { MetricsRegistry } from './metrics/registry.js';
import { Router } from './router/router.js';
import { createTokenCodec } from '../shared/token/connection-token.js';
import { Supervisor } from './supervisor/supervisor.js';
import { BlacklistStore } from './sessions/blacklist-store.js';
import type { BlacklistRecord } from './sessions/blacklist-store.js';
import { BlacklistReplication } from './sessions/blacklist-replication.js';
import { SessionCounts } from './sessions/session-counts.js';

export interface Gateway {
  readonly router: Router;
  readonly supervisor: Supervisor;
  readonly apiPort: number;
  readonly publicPort: number;
  /** The bound API_HTTPS_PORT and INBOUND_HTTPS_PORT; undefined while HTTPS is off. */
  readonly apiHttpsPort: number | undefined;
  readonly publicHttpsPort: number | undefined;
  stop(): Promise<boolean>;
}

export async function startGateway(config: GatewayConfig, log: Logger): Promise<Gateway> {
  const uws: UwsModule = loadUws(config.allowUwsFallback);
  const extractors = parseExtractorConfig(config.extractors);
  let supervisor: Supervisor | undefined;
  const router = new Router(extractors, {
    pushEvent: (shard, record) => supervisor!.shards[shard]?.pushEvent(record),
    catchUp: () => supervisor!.catchUp(),
  });
  // The session blacklist (main/sessions/): shards start with its entries and get every new one.
  const blacklist = new BlacklistStore((entries, kill) => supervisor?.broadcast({ t: 'blacklist', entries, kill }));
  supervisor = new Supervisor(config, router, createRateLimitBuffer(), log, {
    hostIp: await hostIpv4(config.host, log),
    blacklist: () => blacklist.list(),
  });
  const sup = supervisor;
  if (config.maxConnectionsPerSession > 0) {
    const counts = new SessionCounts(config.maxConnectionsPerSession, config.shards);
    sup.onSessions = (shard, msg) => {
      if (msg.t === 'sessions-admit') shard.send({ t: 'sessions-admitted', id: msg.id, ok: counts.admit(shard.id, msg.sessions) });
      else if (msg.t === 'sessions-join') counts.join(shard.id, msg.sessions);
      else counts.leave(shard.id, msg.sessions);
    };
    sup.onShardGone = (shard) => counts.shardGone(shard);
  }
  // Before the shards start: their first reports must find the registry.
  const metrics = config.prometheusMetricsEnabled ? new MetricsRegistry() : undefined;
  if (metrics) sup.onProxyRequests = (counts) => metrics.addProxyRequests(counts);

  // API definitions of the proxy: seeded from PROXY_CONFIG_FILE (validated by the config loader);
  // the shards start with them.
  const apis = new ApiStore(config.nodeId);
  apis.load((config.proxyConfig ?? []) as JsonObject[]);

  // With Kafka configured, HTTP submissions go through the first source topic (docs/kafka.md).
  // Set before the shards open the public port so that no submission is routed locally.
  const kafkaEnabled = config.kafkaBrokers.length > 0;
  let producer: JsonProducer | undefined;
  let forwarder: TopicForwarder | undefined;
  let recordProducer: RecordProducer | undefined;
  if (kafkaEnabled) {
    producer = new JsonProducer(createKafka(config, log, 'producer'), log, {
      acks: PRODUCER_ACKS[config.kafkaProducerAcks],
      idempotent: config.kafkaProducerIdempotent,
      partitioner: config.kafkaPartitioner,
    });
    const records = new RecordProducer(producer, log);
    recordProducer = records;
    const fw = new TopicForwarder(records, config.kafkaSourceTopics[0]!, log);
    forwarder = fw;
    router.forwardSubmitted = (json) => fw.forward(json);
    sup.onProduce = (shard, req) => {
      const done = req.id === 0 ? undefined : (error?: string) => shard.send({ t: 'produced', id: req.id, ...(error !== undefined && { error }) });
      records.send(req.topic, { key: req.key, value: req.value, headers: req.headers }, done);
    };
  }
  // Replicated state, with Kafka: every node reads the API definitions topic and the session
  // blacklist topic to their ends before its shards start (both at once: each may wait for
  // brokers that do not answer), and writes its own changes to them (main/apis/api-replication.ts,
  // main/sessions/blacklist-replication.ts).
  let replication: ApiReplication | undefined;
  let blacklistReplication: BlacklistReplication | undefined;
  if (recordProducer) {
    replication = new ApiReplication({
      config, kafka: createKafka(config, log, 'apis'), log, store: apis, records: recordProducer,
      changed: () => void sup.setApis(apis.active()),
    });
    blacklistReplication = new BlacklistReplication({
      config, kafka: createKafka(config, log, 'blacklist'), log, store: blacklist, records: recordProducer,
    });
    await Promise.all([replication.start(), blacklistReplication.start()]);
  }
  const replicateBlacklisting = blacklistReplication
    ? (record: BlacklistRecord) => {
        blacklistReplication!.write(record).catch((e: unknown) =>
          log.error(`blacklisted session could not be written to ${config.sessionBlacklistTopic}; other nodes do not kill or refuse it`, { error: (e as Error).message }));
      }
    : undefined;
  // RIG forgets expired entries every 60 s; tombstones keep the topic from growing forever.
  const blacklistSweeper = setInterval(() => {
    blacklist.sweep();
    blacklistReplication?.sweep().catch((e: unknown) => log.warn('removing expired sessions from the blacklist topic failed', { error: (e as Error).message }));
  }, 60_000);
  blacklistSweeper.unref();
  const publishApis = async (id?: string) => {
    await sup.setApis(apis.active());
    if (id !== undefined && replication) {
      await replication.write(id).catch((e: unknown) =>
        log.error(`API definition ${id} could not be written to ${config.proxyApisTopic}; other nodes do not see the change`, { error: (e as Error).message }));
    }
  };
  await publishApis();
  // Asynchronous replies of the proxy: /v3/responses and the response topics feed this router.
  const replyTopic = config.proxyKafkaResponseTopics[0];
  const replies = new ReplyRouter({
    tokens: createTokenCodec(config.tokenSecret),
    nodeId: config.nodeId,
    toShard: (shard, incarnation, id, reply) => sup.shards[shard]?.send({ t: 'reply', incarnation, id, reply }) ?? false,
    ...(recordProducer && replyTopic !== undefined && {
      toOtherNode: (token: string, reply: CorrelatedReply) =>
        recordProducer!.sendAsync(replyTopic, {
          key: null,
          value: Buffer.from(reply.body),
          headers: { ...Object.fromEntries(reply.headers), 'rig-correlation': token, 'rig-response-code': String(reply.status) },
        }),
    }),
  });
  let kafka: KafkaSource | undefined;
  let replyConsumer: ReplyConsumer | undefined;
  const stopKafka = async () => {
    clearInterval(blacklistSweeper);
    await Promise.all([kafka?.stop(), replyConsumer?.stop(), replication?.stop(), blacklistReplication?.stop()]);
    // Submissions still on their way get a few seconds; an unreachable broker must not hold up
    // the shutdown (SHUTDOWN_TIMEOUT_MS is for the shards' clients).
    if (recordProducer) await Promise.race([recordProducer.drain(), new Promise((r) => setTimeout(r, 5000).unref())]);
    await producer?.close();
  };

  try {
    await supervisor.start();
  } catch (e) {
    await supervisor.stop(config.shutdownTimeoutMs);
    await stopKafka();
    throw e;
  }
  if (kafkaEnabled) {
    kafka = startKafkaSource({
      config,
      log,
      dispatch: (event) => router.submit(event),
      backlogBytes: () => sup.maxPendingBytes(),
      onState: (state) => log.info(`Kafka consumer ${state}`, { group: kafka?.groupId, topics: config.kafkaSourceTopics }),
    });
    replyConsumer = startReplyConsumer({
      config,
      log,
      onReply: (r) => void replies.route(r.correlation, { status: r.status, headers: r.headers, body: r.body }),
      onState: (state) => log.info(`Kafka reply consumer ${state}`, { group: replyConsumer?.groupId, topics: config.proxyKafkaResponseTopics }),
    });
  }

  const status = (): GatewayStatus => {
    // Both consumers count: without the reply consumer, requests waiting for Kafka replies time out.
    const sourceState = kafka ? kafka.state() : 'disabled';
    const replyState = replyConsumer ? replyConsumer.state() : 'disabled';
    const kafkaState = sourceState === 'connected' && replyState !== 'connected' ? replyState : sourceState;
    const kafkaError = kafka?.lastError() ?? replyConsumer?.lastError();
    const shardsReady = sup.allReady();
    return {
      ready: shardsReady && (kafkaState === 'connected' || kafkaState === 'disabled'),
      shards: shardsReady ? 'ready' : 'not ready',
      kafka: kafkaState,
      ...(kafkaError !== undefined && { kafkaError }),
      stats: {
        events: router.stats.events,
        unrouted: router.stats.unrouted,
        shard_deliveries: router.stats.shardDeliveries,
        kafka_consumed: kafka?.stats.consumed ?? 0,
        kafka_consumed_failed: kafka?.stats.consumedFailed ?? 0,
        kafka_pauses: kafka?.stats.pauses ?? 0,
        kafka_restarts: kafka?.stats.restarts ?? 0,
        kafka_produced: forwarder?.stats.produced ?? 0,
        kafka_produce_failed: forwarder?.stats.produceFailed ?? 0,
        kafka_replies_received: replyConsumer?.stats.received ?? 0,
        kafka_replies_invalid: replyConsumer?.stats.invalid ?? 0,
        replies_delivered: replies.stats.delivered,
        replies_forwarded: replies.stats.forwarded,
        replies_foreign: replies.stats.foreign,
        replies_invalid: replies.stats.invalid,
        replies_gone: replies.stats.gone,
        blacklisted_sessions: blacklist.size,
      },
    };
  };

  const processMetrics = metrics && startProcessMetrics();
  if (metrics && processMetrics) {
    metrics.register(() =>
      eventMetrics({
        router,
        kafka: kafka && { topics: config.kafkaSourceTopics, stats: kafka.stats },
        records: recordProducer?.stats,
        connections: () => sup.shards.reduce((n, s) => n + s.connections, 0),
      }),
    );
    metrics.register(processMetrics.collect);
  }

  // The internal API on its HTTP port and, with HTTPS on, its HTTPS port: the same routes on both.
  const apiListeners: Array<{ app: TemplatedApp; host: string; port: number; variable: string }> = [
    { app: uws.App(), host: config.apiHttpHost, port: config.apiHttpPort, variable: 'API_HTTP_PORT' },
  ];
  const closeApi = (sockets: readonly UsListenSocket[]) => {
    for (const socket of sockets) uws.us_listen_socket_close(socket);
    for (const { app } of apiListeners) app.close();
  };
  const failStart = async (reason: string): Promise<never> => {
    processMetrics?.stop();
    closeApi(apiSockets);
    await stopKafka();
    await supervisor!.stop(config.shutdownTimeoutMs);
    throw new Error(reason);
  };
  const apiSockets: UsListenSocket[] = [];
  if (httpsEnabled(config)) {
    let app: TemplatedApp;
    try {
      app = uws.SSLApp(httpsAppOptions(config));
    } catch (e) {
      // The shards built the same TLS context, so this is rare: a file changed since they started.
      return failStart(`cannot set up HTTPS with HTTPS_CERTFILE ${config.httpsCertFile} and HTTPS_KEYFILE ${config.httpsKeyFile}: ${(e as Error).message}`);
    }
    apiListeners.push({ app, host: config.apiHttpHost, port: config.apiHttpsPort, variable: 'API_HTTPS_PORT' });
  }
  buildInternalApi(apiListeners.map((l) => l.app), {
    config, router, supervisor, log, faultInjection: config.faultInjection, status, apis, publishApis, replies,
    blacklist, replicateBlacklisting,
    metrics: metrics && (() => metrics.render()),
  });
  const apiPorts: number[] = [];
  for (const { app, host, port, variable } of apiListeners) {
    const socket = await new Promise<UsListenSocket | false>((resolve) => app.listen(host, port, resolve));
    if (!socket) return failStart(`cannot listen on ${host}:${port} (${variable})`);
    apiSockets.push(socket);
    apiPorts.push(uws.us_socket_local_port(socket));
  }
  let stopped: Promise<boolean> | undefined;
  return {
    router,
    supervisor: sup,
    apiPort: apiPorts[0]!,
    apiHttpsPort: apiPorts[1],
    publicPort: sup.publicPort,
    publicHttpsPort: httpsEnabled(config) ? sup.publicHttpsPort : undefined,
    stop() {
      stopped ??= (async () => {
        try {
          await stopKafka();
        } catch (e) {
          log.warn('stopping the Kafka client failed', { error: e });
        }
        const clean = await sup.stop(config.shutdownTimeoutMs);
        closeApi(apiSockets);
        processMetrics?.stop();
        return clean;
      })();
      return stopped;
    },
  };
}

/**
 * HOST's IPv4 address, the by= of the forwarded header on proxied requests (RIG resolved it the
 * same way). Looked up once: a name that does not resolve gives "unknown" (RFC 7239's word for
 * it) rather than stopping a gateway whose other functions do not need it.
 */
async function hostIpv4(host: string, log: Logger): Promise<string> {
  try {
    return (await lookup(host, { family: 4 })).address;
  } catch (e) {
    log.warn(`HOST ${host} does not resolve to an IPv4 address; proxied requests carry forwarded: by=unknown`, { error: (e as Error).message });
    return 'unknown';
  }
}
