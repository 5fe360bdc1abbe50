/**
 * Builds the kafkajs client from the configuration: brokers, TLS, SASL, a client id naming the
 * node, and kafkajs's log records routed to the gateway logger. Only the Kafka modules of main
 * import kafkajs; the rest of the gateway never sees its types.
 */
import { readFileSync } from 'node:fs';
import { Kafka, logLevel as KafkaLogLevel } from 'kafkajs';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { GatewayConfig } from '../../shared/config/types.js';
import { KAFKA_SASL_PATTERN } from '../../shared/config/schema.js';
import type { Logger } from '../../shared/logger.js';

/** The parts of the configuration the Kafka client reads. */
export type KafkaClientConfig = Pick<
  GatewayConfig,
  | 'kafkaBrokers' | 'kafkaSslEnabled' | 'kafkaSslCaCertFile' | 'kafkaSslCertFile' | 'kafkaSslKeyFile'
  | 'kafkaSslKeyFilePass' | 'kafkaSasl' | 'nodeId' | 'logLevel'
>;

export function createKafka(config: KafkaClientConfig, log: Logger, role: string): Kafka {
  const kc: KafkaConfig = {
    clientId: `rig-${config.nodeId}-${role}`,
    brokers: [...config.kafkaBrokers],
    // kafkajs retries a failed connection a few times on its own; after that the consumer gives up
    // and the gateway restarts it after KAFKA_RESTART_DELAY_MS (consumer.ts). Short on purpose.
    connectionTimeout: 3000,
    retry: { initialRetryTime: 300, retries: 3 },
    logLevel: config.logLevel === 'debug' ? KafkaLogLevel.DEBUG : config.logLevel === 'info' ? KafkaLogLevel.INFO : KafkaLogLevel.ERROR,
    logCreator: () => (entry) => {
      // The stack and kafkajs's own timestamp/logger fields add nothing to a one-line record.
      const { message, stack: _stack, timestamp: _ts, logger: _logger, ...detail } = entry.log as Record<string, unknown>;
      const msg = `kafka ${entry.namespace}: ${String(message)}`;
      // kafkajs reports every failed connection attempt as an error. The consumer itself logs
      // the outcome that matters (gave up, restarting in N ms) as an error; kafkajs's
      // per-attempt errors are warnings here so that a broker outage does not flood the error
      // log, and its warnings (rebalances, retried requests) are routine information.
      if (entry.level === KafkaLogLevel.ERROR) log.warn(msg, detail);
      else if (entry.level === KafkaLogLevel.WARN) log.info(msg, detail);
      else if (entry.level === KafkaLogLevel.INFO) log.info(msg, detail);
      else log.debug(msg, detail);
    },
  };
  if (config.kafkaSslEnabled) {
    // Files are read here, once; load.ts already refused a file that does not exist.
    const read = (path: string) => (path === '' ? undefined : readFileSync(path, 'utf8'));
    const ca = read(config.kafkaSslCaCertFile);
    const cert = read(config.kafkaSslCertFile);
    const key = read(config.kafkaSslKeyFile);
    kc.ssl = {
      rejectUnauthorized: true,
      ...(ca !== undefined && { ca: [ca] }),
      ...(cert !== undefined && { cert }),
      ...(key !== undefined && { key }),
      ...(config.kafkaSslKeyFilePass !== '' && { passphrase: config.kafkaSslKeyFilePass }),
    };
  }
  const sasl = parseSasl(config.kafkaSasl);
  if (sasl) kc.sasl = sasl;
  return new Kafka(kc);
}

/** RIG's `mechanism:user:password`; the password keeps any further ':' characters. */
export function parseSasl(value: string): SASLOptions | undefined {
  if (value === '') return undefined;
  const m = KAFKA_SASL_PATTERN.exec(value);
  if (!m) throw new Error('KAFKA_SASL: not in the form mechanism:user:password'); // load.ts checked this already
  const mechanism = m[1]!.toLowerCase() as 'plain' | 'scram-sha-256' | 'scram-sha-512';
  return { mechanism, username: m[2]!, password: m[3]! };
}
