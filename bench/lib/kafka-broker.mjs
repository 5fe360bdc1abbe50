/**
 * A throw-away Kafka broker for a benchmark run: scripts/kafka-local.sh on a free port pair (the
 * broker on P, its controller on P + 1) with its state in a fresh temporary folder, stopped and
 * deleted by stop(). Needs Java, like the Kafka tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, round } from './common.mjs';

const KAFKA_LOCAL = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'scripts/kafka-local.sh');

function portFree(port) {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

/**
 * Starts the broker; resolves with {brokers, pid, startSeconds, stop()}. `stop` is synchronous
 * and safe to call twice, so signal handlers can call it.
 */
export async function startBroker(log = () => {}) {
  let port;
  for (let i = 0; i < 20; i++) {
    port = await freePort();
    if (port < 65000 && (await portFree(port + 1))) break;
  }
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-kafka-broker-'));
  rmSync(dir, { recursive: true, force: true }); // the script creates it (and only deletes its own)
  const env = { ...process.env, KAFKA_LOCAL_DIR: dir };
  let running = true;
  const stop = () => {
    if (!running) return;
    running = false;
    spawnSync('bash', [KAFKA_LOCAL, 'stop', '--port', String(port)], { env, stdio: 'ignore', timeout: 60_000 });
    rmSync(dir, { recursive: true, force: true });
    log('broker stopped');
  };
  const t0 = Date.now();
  const r = spawnSync('bash', [KAFKA_LOCAL, 'start', '--port', String(port)], { env, encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) {
    stop();
    throw new Error(`kafka-local.sh start failed (${r.status}):\n${(r.stderr ?? '').slice(-3000)}`);
  }
  const pid = Number(readFileSync(join(dir, 'kafka.pid'), 'utf8').trim());
  const startSeconds = round((Date.now() - t0) / 1000, 1);
  log(`broker on 127.0.0.1:${port} (pid ${pid}) ready in ${startSeconds} s`);
  return { brokers: `127.0.0.1:${port}`, pid, startSeconds, stop };
}
