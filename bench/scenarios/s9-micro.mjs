/**
 * S9 main-thread micro-benchmarks (bench/micro.mjs): what the main thread spends per event
 * (CloudEvent and Kafka decoding, field extraction, interest lookup and routing, event records and
 * batch framing), the main → shard transport against postMessage(object), JWT verification, and
 * whether a piscina pool helps RS256 verification in a reconnect storm. Every case runs in a
 * fresh process. Registered by bench/run.mjs (every module in this folder is a scenario).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { microReport } from '../lib/micro-report.mjs';

const MICRO = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'micro.mjs');

export const id = 's9';

export const scenario = {
  title: 'S9 main-thread micro-benchmarks: parsing, routing, event records, transport, JWT, piscina',
  runs: (p) => [{ key: 's9-micro', script: MICRO, args: [p.flag === '--smoke' ? '--smoke' : '--quick'] }],
  summarize: (results) => microReport(results['s9-micro']),
};
