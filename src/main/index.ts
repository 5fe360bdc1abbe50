/**
 * Process entry (`npm start`): load and validate the configuration (a bad value stops start-up
 * with a message naming the variable), start the gateway, and on SIGTERM/SIGINT drain and exit 0.
 */
import { ConfigError, describeConfig, loadConfig, unsupportedRigSettings } from '../shared/config/load.js';
import { httpsEnabled } from '../shared/config/https-files.js';
import { createLogger } from '../shared/logger.js';
import { startGateway } from './gateway.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`Invalid configuration, not starting:\n${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.logLevel, 'main');
  if (config.tokenSecretIsRandom) {
    log.warn('NODE_COOKIE is not set: connection tokens are signed with a random secret and stop working after a restart');
  }
  // RIG warned whenever HTTPS was off; only an operator who set an HTTPS port expects it on.
  if (!httpsEnabled(config) && (process.env['INBOUND_HTTPS_PORT'] || process.env['API_HTTPS_PORT'])) {
    log.warn('INBOUND_HTTPS_PORT or API_HTTPS_PORT is set, but HTTPS_CERTFILE and HTTPS_KEYFILE are empty: HTTPS is off');
  }
  const unsupported = unsupportedRigSettings(process.env);
  if (unsupported.length > 0) log.warn(`these RIG variables are set but not supported by this version: ${unsupported.join(', ')}`);
  // kafkajs occasionally rejects a promise nobody awaits (a heartbeat or commit racing a broker
  // disconnect). The consumer recovers on its own (kafka/consumer.ts restarts it), so such a
  // rejection must not take the node and its connections down. Anything else still crashes.
  process.on('unhandledRejection', (reason) => {
    if (reason instanceof Error && reason.name.startsWith('KafkaJS')) {
      log.warn('unhandled Kafka client error (ignored)', { error: reason.message });
      return;
    }
    throw reason;
  });
  const gateway = await startGateway(config, log);
  // Always say where we listen: operators and test harnesses read this line.
  const https = (port: number | undefined) => (port === undefined ? '' : ` (https ${port})`);
  process.stderr.write(
    `rig gateway listening: public ${config.inboundHost}:${gateway.publicPort}${https(gateway.publicHttpsPort)}, ` +
      `internal API ${config.apiHttpHost}:${gateway.apiPort}${https(gateway.apiHttpsPort)}, ${config.shards} shard(s)\n`,
  );
  log.info('configuration', describeConfig(config));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received, draining`);
    gateway.stop().then(
      (clean) => {
        if (!clean) log.warn('shards did not stop within SHUTDOWN_TIMEOUT_MS');
        process.exitCode = 0;
        // Everything with a handle is closed now; exiting explicitly also ends a straggling worker.
        setImmediate(() => process.exit(0));
      },
      (e) => {
        log.error('shutdown failed', { error: e });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e) => {
  process.stderr.write(`gateway failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
