/**
 * Kafka helpers for tests against the real broker scripts/run-tests.mjs starts for the whole run
 * (KAFKA_TEST_BROKERS). Every test uses its own topics and consumer groups (uniqueTopic,
 * uniqueName), so tests running side by side cannot see each other's records.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Admin, Consumer, IHeaders, Producer } from 'kafkajs';
import type { TestContext } from 'node:test';

/** The test broker, or undefined: then `kafkaSkip` says why the Kafka tests do not run. */
export function kafkaBrokers(): string | undefined {
  return process.env.KAFKA_TEST_BROKERS || undefined;
}

/** `skip` option for a Kafka test: false when a broker is available, else the reason. */
export function kafkaSkip(): string | false {
  return kafkaBrokers() ? false : 'no test Kafka broker (KAFKA_TEST_BROKERS unset: no Java, or not run through scripts/run-tests.mjs)';
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

let kafka: Kafka | undefined;
function client(): Kafka {
  const brokers = kafkaBrokers();
  if (!brokers) throw new Error('KAFKA_TEST_BROKERS is not set');
  kafka ??= new Kafka({ clientId: 'rig-tests', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  return kafka;
}

let admin: Admin | undefined;
let adminConnecting: Promise<Admin> | undefined;
function adminClient(): Promise<Admin> {
  // Shared like the producer below: concurrent first calls must not each connect one.
  adminConnecting ??= (async () => {
    const a = client().admin();
    await a.connect();
    admin = a;
    return a;
  })();
  return adminConnecting;
}

/** Creates a topic with a unique name (and `partitions` partitions) and waits until it has leaders. */
export async function uniqueTopic(prefix: string, partitions = 2): Promise<string> {
  const topic = uniqueName(prefix);
  const a = await adminClient();
  try {
    await a.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } catch (e) {
    // The topic was created, but kafkajs's wait for its leaders asked a broker whose metadata did
    // not list it yet, and gave up instead of asking again (seen with topics created side by side).
    if (!(e instanceof Error && /does not host this topic-partition/.test(e.message))) throw e;
    await waitForLeaders(a, topic, partitions);
  }
  return topic;
}

async function waitForLeaders(a: Admin, topic: string, partitions: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const meta = await a.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
    const led = meta?.topics[0]?.partitions.filter((p) => p.leader >= 0).length ?? 0;
    if (led === partitions) return;
    if (Date.now() > deadline) throw new Error(`topic ${topic}: ${led} of ${partitions} partitions have a leader after 20 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let producer: Producer | undefined;
export interface TestMessage {
  key?: string | null;
  value: string | Buffer | null;
  headers?: IHeaders;
  partition?: number;
}

let connecting: Promise<Producer> | undefined;
export async function produce(topic: string, messages: TestMessage[]): Promise<void> {
  // One producer for every caller, also for callers that arrive while it connects: a producer
  // per concurrent first call would be left connected and keep the test process alive.
  connecting ??= (async () => {
    const p = client().producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await p.connect();
    producer = p;
    return p;
  })();
  await (await connecting).send({ topic, acks: -1, messages });
}

/** A consumer of `topic` from its beginning in a fresh group; collects record values as strings. */
export async function collect(t: TestContext, topic: string): Promise<{ values: string[]; consumer: Consumer }> {
  const consumer = client().consumer({ groupId: uniqueName('test-reader'), maxWaitTimeInMs: 200 });
  t.after(() => consumer.disconnect());
  const values: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value?.toString('utf8') ?? '') });
  return { values, consumer };
}

/** Closes the shared clients (call from a test file's `after`). */
export async function closeKafka(): Promise<void> {
  await producer?.disconnect().catch(() => undefined);
  await admin?.disconnect().catch(() => undefined);
  producer = undefined;
  connecting = undefined;
  admin = undefined;
  adminConnecting = undefined;
}

const ROOT = new URL('../../../', import.meta.url).pathname;
const KAFKA_LOCAL = join(ROOT, 'scripts/kafka-local.sh');

/** Runs a command from the repository root; resolves with its exit code and combined output. */
export function runCommand(cmd: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** `bash scripts/kafka-local.sh <args>`: tests that need a broker of their own (start late, restart). */
export function kafkaLocal(args: string[], env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return runCommand('bash', [KAFKA_LOCAL, ...args], env, timeoutMs);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A free port P whose P+1 (the broker's controller listener) is free too. */
export async function brokerPortPair(): Promise<number> {
  return brokerPorts(2);
}

/** A free port P with P+1 .. P+count-1 free too: `start --secured` of kafka-local.sh uses P to P+4. */
export async function brokerPorts(count: number): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = 20000 + Math.floor(Math.random() * 40000);
    let free = true;
    for (let k = 0; k < count && free; k++) free = await isFree(p + k);
    if (free) return p;
  }
  throw new Error(`no ${count} consecutive free ports`);
}
