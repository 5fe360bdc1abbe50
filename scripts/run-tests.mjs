// Runs every compiled test file with node's test runner. Node 20's `node --test` takes no globs,
// so the file list is collected here. Usage: node scripts/run-tests.mjs [filter-substring ...]
//
// Before the test files, ONE Kafka broker is started for the whole run (scripts/kafka-local.sh on
// a free port, state in a temporary folder) and its address is passed to the test processes as
// KAFKA_TEST_BROKERS; it is stopped at the end, also on Ctrl-C. Tests share it safely because each
// uses its own topics and consumer groups. Without Java the Kafka tests are skipped with a
// message, except under CI=true, where a broker that cannot start fails the run.
// KAFKA_TEST_BROKERS set by the caller: use that broker, start none.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const repo = new URL('../', import.meta.url).pathname;
const root = new URL('../dist/test/', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.js') && (filters.length === 0 || filters.some((f) => path.includes(f)))) files.push(path);
  }
})(root);
if (files.length === 0) {
  console.error('no test files found under', root);
  process.exit(1);
}

const ci = !!process.env.CI && process.env.CI !== 'false';
const needsKafka = files.some((f) => f.slice(root.length).startsWith('kafka/'));
let broker; // { port, dir } once started

function isFree(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function brokerPort() {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    if ((await isFree(port)) && (await isFree(port + 1))) return port;
  }
  throw new Error('no free port pair for the test broker');
}

function script(args, env) {
  return new Promise((resolve) => {
    const p = spawn('bash', [join(repo, 'scripts/kafka-local.sh'), ...args], { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('exit', (code) => resolve({ code, out }));
  });
}

async function startBroker() {
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) {
    if (ci) throw new Error('Java is required for the Kafka tests under CI (OpenJDK 17); see docs/kafka-local.md');
    console.error('run-tests: no Java on this machine: the Kafka tests are skipped (see docs/kafka-local.md)');
    return;
  }
  const port = await brokerPort();
  const dir = mkdtempSync(join(tmpdir(), 'rig-test-kafka-'));
  rmSync(dir, { recursive: true }); // the script formats a fresh folder itself
  broker = { port, dir };
  const started = Date.now();
  const r = await script(['start', '--port', String(port)], { KAFKA_LOCAL_DIR: dir });
  if (r.code !== 0) {
    const msg = `run-tests: the test Kafka broker did not start:\n${r.out}`;
    if (ci) throw new Error(msg);
    console.error(`${msg}\nrun-tests: the Kafka tests are skipped`);
    return;
  }
  process.env.KAFKA_TEST_BROKERS = `127.0.0.1:${port}`;
  console.error(`run-tests: test Kafka broker on 127.0.0.1:${port} (started in ${Date.now() - started} ms)`);
}

let stopping;
function stopBroker() {
  if (!broker) return Promise.resolve();
  stopping ??= script(['stop', '--port', String(broker.port)], { KAFKA_LOCAL_DIR: broker.dir }).then((r) => {
    if (r.code !== 0) console.error(`run-tests: stopping the test broker failed:\n${r.out}`);
  });
  return stopping;
}

let child;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    child?.kill(sig);
    stopBroker().finally(() => process.exit(130));
  });
}

let status = 1;
try {
  if (needsKafka && !process.env.KAFKA_TEST_BROKERS) await startBroker();
  status = await new Promise((resolve) => {
    child = spawn(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
    child.on('exit', (code) => resolve(code ?? 1));
  });
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  status = 1;
} finally {
  await stopBroker();
}
process.exit(status);
