/**
 * A few Node.js process metrics of the gateway process. Memory and CPU cover every thread (one
 * process); heap and event-loop lag are the main thread's, which routes every event and serves
 * the internal API. The lag is measured by a timer every 100 ms (how much later than due it ran):
 * the longest delay since the previous scrape is reported, so a stall between two scrapes is not
 * missed. (Node's event-loop delay histogram records whole timer intervals, and its reset loses
 * the interval under way, so a plain timer is both simpler and exact here.)
 */
import { performance } from 'node:perf_hooks';
import type { MetricFamily } from './prometheus-text.js';

const LAG_TICK_MS = 100;

export interface ProcessMetrics {
  collect(): MetricFamily[];
  stop(): void;
}

export function startProcessMetrics(): ProcessMetrics {
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  let lastTick = performance.now();
  let maxLagMs = 0;
  const lagTimer = setInterval(() => {
    const now = performance.now();
    maxLagMs = Math.max(maxLagMs, now - lastTick - LAG_TICK_MS);
    lastTick = now;
  }, LAG_TICK_MS);
  lagTimer.unref();
  return {
    collect() {
      const cpu = process.cpuUsage();
      // A stall still under way (the scrape itself waited for it) counts too.
      const lagSeconds = Math.round(Math.max(0, maxLagMs, performance.now() - lastTick - LAG_TICK_MS) * 1000) / 1e6;
      maxLagMs = 0;
      return [
        { name: 'process_cpu_seconds_total', type: 'counter', help: 'User and system CPU time of the process in seconds.', samples: [{ value: (cpu.user + cpu.system) / 1e6 }] },
        { name: 'process_resident_memory_bytes', type: 'gauge', help: 'Resident memory of the process in bytes.', samples: [{ value: process.memoryUsage.rss() }] },
        { name: 'process_start_time_seconds', type: 'gauge', help: 'Start time of the process since the Unix epoch in seconds.', samples: [{ value: startSeconds }] },
        { name: 'nodejs_heap_size_used_bytes', type: 'gauge', help: 'Used JavaScript heap of the main thread in bytes.', samples: [{ value: process.memoryUsage().heapUsed }] },
        { name: 'nodejs_eventloop_lag_seconds', type: 'gauge', help: 'Longest event-loop delay of the main thread since the previous scrape, in seconds.', samples: [{ value: lagSeconds }] },
      ];
    },
    stop() {
      clearInterval(lagTimer);
    },
  };
}
