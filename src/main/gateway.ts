/**
 * Composition root of the main thread: router, shard supervisor and internal API, started and
 * stopped in order. Start: shards first (the public port opens), then the internal API. Stop: the
 * shards one by one (each closes its listener, ends its connections with a reason, closes its uWS
 * app), then the internal API; only then may the process exit (an open uWS app would abort it).
 */
import type { GatewayConfig } from '../shared/config/types.js';
import { parseExtractorConfig } from '../shared/extractors/config.js';
import type { Logger } from '../shared/logger.js';
import { createRateLimitBuffer } from '../shared/rate-limit.js';
import { loadUws } from '../shared/uws.js';
import type { TemplatedApp, UsListenSocket, UwsModule } from '../shared/uws.js';
import { buildInternalApi } from './api/internal-api.js';
import { Router } from './router/router.js';
import { Supervisor } from './supervisor/supervisor.js';

export interface Gateway {
  readonly router: Router;
  readonly supervisor: Supervisor;
  readonly apiPort: number;
  readonly publicPort: number;
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
  supervisor = new Supervisor(config, router, createRateLimitBuffer(), log);
  try {
    await supervisor.start();
  } catch (e) {
    await supervisor.stop(config.shutdownTimeoutMs);
    throw e;
  }

  const api: TemplatedApp = buildInternalApi(uws, { config, router, supervisor, log, faultInjection: config.faultInjection });
  const apiSocket = await new Promise<UsListenSocket | false>((resolve) => api.listen(config.apiHttpHost, config.apiHttpPort, resolve));
  if (!apiSocket) {
    api.close();
    await supervisor.stop(config.shutdownTimeoutMs);
    throw new Error(`cannot listen on ${config.apiHttpHost}:${config.apiHttpPort} (API_HTTP_PORT)`);
  }
  const apiPort = uws.us_socket_local_port(apiSocket);
  const sup = supervisor;
  let stopped: Promise<boolean> | undefined;
  return {
    router,
    supervisor: sup,
    apiPort,
    publicPort: sup.publicPort,
    stop() {
      stopped ??= (async () => {
        const clean = await sup.stop(config.shutdownTimeoutMs);
        uws.us_listen_socket_close(apiSocket);
        api.close();
        return clean;
      })();
      return stopped;
    },
  };
}
