/**
 * Offsets: the consumer commits in the background (at most once a second) and once more when it
 * stops, so a node restarted with the same NODE_ID resumes exactly where it stopped: it neither
 * replays what it already consumed nor skips what was produced while it was down.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../helpers/gateway.js';
import { closeKafka, kafkaBrokers, kafkaSkip, produce, uniqueName, uniqueTopic } from '../helpers/kafka.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { kafkaEnv, stats, waitReady } from './kafka-common.js';

after(closeKafka);
const skip = kafkaSkip();

const record = (id: string) => ({ value: JSON.stringify({ specversion: '1.0', type: 'greeting', source: 'offsets-test', id, data: { name: 'olga' } }) });

test('a node restarted with the same NODE_ID resumes at the offsets it committed when it stopped', { skip, timeout: 90_000 }, async (t) => {
  // One partition: a partition without any committed offset would start at "latest" and hide a replay.
  const topic = await uniqueTopic('src-offsets', 1);
  const env = { ...kafkaEnv(kafkaBrokers()!, topic, uniqueName('grp')), NODE_ID: 'node-offsets', SHARDS: '1' };
  const id = uniqueName('off');

  const first = await startGateway(t, env);
  await waitReady(first);
  // The first batch is committed at once (no commit yet); the second falls within the commit
  // interval and is stopped before it ends: only the commit on stop records it.
  await produce(topic, Array.from({ length: 3 }, (_, i) => record(`${id}-a${i}`)));
  await waitFor(async () => (await stats(first))['kafka_consumed'] === 3, 15_000, 'the first node consumed 3 records');
  await produce(topic, Array.from({ length: 3 }, (_, i) => record(`${id}-a${3 + i}`)));
  await waitFor(async () => (await stats(first))['kafka_consumed'] === 6, 15_000, 'the first node consumed 6 records');
  assert.equal(await first.stop(), 0, first.output());

  await produce(topic, Array.from({ length: 4 }, (_, i) => record(`${id}-b${i}`)));
  const second = await startGateway(t, env);
  await waitReady(second);
  await waitFor(async () => (await stats(second))['kafka_consumed'] === 4, 15_000, 'the restarted node consumed the 4 records produced while it was down');
  await sleep(1500);
  assert.equal((await stats(second))['kafka_consumed'], 4, 'nothing consumed before the stop was replayed');
});
