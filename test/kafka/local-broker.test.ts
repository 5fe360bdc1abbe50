/**
 * The project's own Kafka broker (scripts/kafka-local.sh) on a fresh port: fetch the jars if the
 * cache is empty, start a single-node KRaft broker, run a produce -> consume-with-group round trip
 * with kafkajs, check `status`, stop it. Without Java the test is skipped on a developer machine;
 * under CI=true a broker that cannot start is a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokerPortPair, kafkaLocal, runCommand } from '../helpers/kafka.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const ROUNDTRIP = join(ROOT, 'scripts/kafka-local/roundtrip.mjs');

const hasJava = spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;
if (!hasJava && process.env.CI) throw new Error('Java is required for the Kafka tests under CI (OpenJDK 17)');

test('scripts/kafka-local.sh starts a real broker that round-trips messages, and stops it', { skip: !hasJava && 'no Java on this machine', timeout: 240_000 }, async (t) => {
  const port = await brokerPortPair();
  const state = mkdtempSync(join(tmpdir(), 'rig-kafka-test-'));
  rmSync(state, { recursive: true });
  const env = { KAFKA_LOCAL_DIR: state };
  t.after(async () => {
    await kafkaLocal(['stop', '--port', String(port)], env, 60_000);
  });

  const start = await kafkaLocal(['start', '--port', String(port)], env, 180_000);
  assert.equal(start.code, 0, `start failed:\n${start.out}`);
  assert.match(start.out, new RegExp(`KAFKA_BROKERS=127\\.0\\.0\\.1:${port}`));

  const status = await kafkaLocal(['status', '--port', String(port)], env, 30_000);
  assert.equal(status.code, 0, `status failed:\n${status.out}`);

  const rt = await runCommand(process.execPath, [ROUNDTRIP, '--brokers', `127.0.0.1:${port}`, '--timeout', '60'], {}, 90_000);
  assert.equal(rt.code, 0, `round trip failed:\n${rt.out}`);

  const stop = await kafkaLocal(['stop', '--port', String(port)], env, 60_000);
  assert.equal(stop.code, 0, `stop failed:\n${stop.out}`);
  const after = await kafkaLocal(['status', '--port', String(port)], env, 30_000);
  assert.equal(after.code, 1, 'status after stop must report "not running"');
});
