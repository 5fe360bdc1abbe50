#!/usr/bin/env node
// Waits until a Kafka broker answers real metadata requests (kafkajs admin
// describeCluster + listTopics), retrying with short attempts.
//
//   node scripts/kafka-local/wait-ready.mjs [--brokers 127.0.0.1:19092] [--timeout 60] [--pid PID]
//                                           [--groups] [--quiet]
//
// --groups also waits until the group coordinator answers (a DescribeGroups request),
// which makes the broker create __consumer_offsets now instead of on the first
// consumer-group join.
//
// Exit codes: 0 ready, 1 not ready before the timeout, 2 bad usage or kafkajs missing,
// 3 the process given with --pid exited while waiting.

const args = process.argv.slice(2);
const opts = { brokers: '127.0.0.1:19092', timeout: 60, pid: 0, groups: false, quiet: false };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = () => {
    const v = args[++i];
    if (v === undefined) usage(`${a} needs a value`);
    return v;
  };
  if (a === '--brokers') opts.brokers = value();
  else if (a === '--timeout') opts.timeout = Number(value());
  else if (a === '--pid') opts.pid = Number(value());
  else if (a === '--groups') opts.groups = true;
  else if (a === '--quiet') opts.quiet = true;
  else usage(`unknown argument ${a}`);
}
if (!Number.isFinite(opts.timeout) || opts.timeout <= 0) usage('--timeout must be a positive number of seconds');
if (!Number.isInteger(opts.pid) || opts.pid < 0) usage('--pid must be a process id');

function usage(msg) {
  console.error(`wait-ready: ${msg}`);
  console.error('usage: wait-ready.mjs [--brokers host:port[,host:port]] [--timeout seconds] [--pid pid] [--groups] [--quiet]');
  process.exit(2);
}

let kafkajs;
try {
  kafkajs = await import('kafkajs');
} catch {
  console.error('wait-ready: the kafkajs package is not installed; run `npm install` in the repository first');
  process.exit(2);
}
const { Kafka, logLevel } = kafkajs.default ?? kafkajs;

const brokers = opts.brokers.split(',').map((b) => b.trim()).filter(Boolean);
const deadline = Date.now() + opts.timeout * 1000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

async function attempt() {
  const remaining = Math.max(1000, deadline - Date.now());
  const kafka = new Kafka({
    clientId: 'kafka-local-wait-ready',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(3000, remaining),
    requestTimeout: Math.min(5000, remaining),
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (!cluster.brokers || cluster.brokers.length === 0) throw new Error('metadata lists no brokers yet');
    const topics = await admin.listTopics();
    if (opts.groups) {
      const { groups } = await admin.describeGroups(['kafka-local-wait-ready']);
      if (!groups || groups.length !== 1) throw new Error('group coordinator gave no answer');
    }
    return { cluster, topics };
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

let lastError = 'no attempt made';
let tries = 0;
while (Date.now() < deadline) {
  if (opts.pid && !pidAlive(opts.pid)) {
    console.error(`wait-ready: process ${opts.pid} exited before the broker became ready`);
    process.exit(3);
  }
  tries++;
  try {
    const { cluster, topics } = await attempt();
    if (!opts.quiet) {
      const list = cluster.brokers.map((b) => `${b.nodeId}@${b.host}:${b.port}`).join(', ');
      console.error(
        `wait-ready: ready after ${tries} attempt(s): cluster ${cluster.clusterId}, controller ${cluster.controller}, brokers ${list}, ${topics.length} topic(s)`,
      );
    }
    process.exit(0);
  } catch (err) {
    lastError = err && err.message ? err.message : String(err);
  }
  await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
}
console.error(`wait-ready: ${brokers.join(',')} not ready after ${opts.timeout}s (${tries} attempt(s); last error: ${lastError})`);
process.exit(1);
