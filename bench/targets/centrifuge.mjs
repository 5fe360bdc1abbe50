/**
 * Fan-out target: a Centrifuge node (github.com/centrifugal/centrifuge, the Go library at the core
 * of Centrifugo) serving WebSockets with its JSON protocol. Server: bench/baselines/centrifuge/main.go.
 *
 * install() takes everything from Debian: golang-go (Go 1.19 on Debian 12) and the library's -dev
 * package (v0.15.0+git20210306 on Debian 12) plus the -dev packages its Depends list forgets, and
 * builds main.go OFFLINE in GOPATH mode (GO111MODULE=off, GOPATH=…:/usr/share/gocode, GOPROXY=off)
 * into a cache outside the repository: $RIG_BENCH_CACHE or ~/.cache/rig-bench, directory
 * centrifuge-<hash of main.go and the package versions>. Idempotent; the binary is written under a
 * temporary name and renamed, so concurrent installs do not see a half-written file.
 *
 * Wire format (what a load client must know):
 *   - After the upgrade the client sends ONE text frame, `hello` below (the connect command). The
 *     server accepts it as an anonymous user and subscribes it server-side to the channel `bench`;
 *     the connect reply, `{"id":1,"result":{"client":"<uuid>","version":"","subs":{"bench":{}}}}`,
 *     is written only after the subscription is in the hub, so `ready` marks it live.
 *   - Every publication arrives as `{"result":{"channel":"bench","data":{"data":<body>}}}\n`, the
 *     published body embedded byte for byte (no re-encoding, no escaping).
 *   - Several publications can share ONE text frame: each connection's writer concatenates up to 4
 *     queued replies (fixed in this library version) into one frame, each terminated by "\n". Under
 *     bursts most frames carry 2–4 publications, so count events by searching the payload (e.g. for
 *     `"t":"<16 digits>"`), never by counting frames.
 *   - The server sends a WebSocket ping (payload "ping") every 25 s and closes a connection that
 *     has not answered with a pong within ~28 s; a pong is the only thing that extends the
 *     deadline, so the client must answer pings (a zero-mask pong echoing the payload is fine).
 *   - Publishing: POST publish.url with a JSON body; 200 `{}` once the publication is queued to
 *     every subscriber (node.Publish is synchronous with the in-memory broker), 400 if the body is
 *     not JSON. Publications reach every subscriber in the order the server accepted them.
 *   - Slow readers: a connection whose write blocks for more than 1 s (library default write
 *     timeout) or whose queue exceeds 10 MB is closed by the server.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const name = 'centrifuge';
export const transports = ['ws'];

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(BENCH_DIR, 'baselines/centrifuge/main.go');
const BINARY_NAME = 'centrifuge-bench';
const GOCODE = '/usr/share/gocode';
// golang-github-centrifugal-centrifuge-dev's Depends list misses protocol, eagle, sockjs-go and
// redisc, which the library imports; install them explicitly.
const PACKAGES = [
  'golang-go',
  'golang-github-centrifugal-centrifuge-dev',
  'golang-github-centrifugal-protocol-dev',
  'golang-github-fzambia-eagle-dev',
  'golang-github-igm-sockjs-go-dev',
  'golang-github-mna-redisc-dev',
];
const VERSIONED = ['golang-go', 'golang-github-centrifugal-centrifuge-dev', 'golang-github-centrifugal-protocol-dev'];

export const HELLO = '{"id":1,"method":0,"params":{}}';
export const READY = '"subs":{"bench"';

const noop = () => {};

/** Runs a command; resolves {code, out} with stdout+stderr interleaved (last 64 KB). */
function run(cmd, args, opts = {}) {
  return new Promise((done) => {
    let out = '';
    let child;
    try {
      child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    } catch (e) {
      done({ code: -1, out: String(e?.message ?? e) });
      return;
    }
    const add = (d) => (out = (out + d).slice(-65536));
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    child.on('error', (e) => {
      add(`${e.message}\n`);
    });
    child.on('close', (code, sig) => done({ code: code ?? (sig ? -1 : 0), out }));
  });
}

async function installedVersions(pkgs) {
  const r = await run('dpkg-query', ['-W', '-f=${Package} ${db:Status-Abbrev} ${Version}\\n', ...pkgs]);
  const versions = {};
  for (const line of r.out.split('\n')) {
    const [pkg, status, version] = line.trim().split(/\s+/);
    if (pkg && status === 'ii') versions[pkg] = version;
  }
  return versions;
}

async function ensurePackages(log) {
  let have = await installedVersions(PACKAGES);
  const missing = PACKAGES.filter((p) => !have[p]);
  if (missing.length === 0) return have;
  const cmdline = `apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends ${missing.join(' ')}`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(`centrifuge: Debian packages missing: ${missing.join(', ')}; install them as root: ${cmdline}`);
  }
  log(`centrifuge: installing ${missing.join(', ')}`);
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const aptArgs = ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', ...missing];
  let r = await run('apt-get', aptArgs, { env: aptEnv });
  if (r.code !== 0) {
    // Stale or absent package lists are the usual cause: refresh them once and retry.
    log('centrifuge: apt-get install failed, running apt-get update and retrying');
    const u = await run('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'update'], { env: aptEnv });
    r = await run('apt-get', aptArgs, { env: aptEnv });
    if (r.code !== 0) {
      throw new Error(`centrifuge: ${cmdline} failed (exit ${r.code}):\n${r.out.slice(-4000)}` + (u.code !== 0 ? `\napt-get update also failed:\n${u.out.slice(-2000)}` : ''));
    }
  }
  have = await installedVersions(PACKAGES);
  const still = PACKAGES.filter((p) => !have[p]);
  if (still.length) throw new Error(`centrifuge: still not installed after apt-get: ${still.join(', ')}:\n${r.out.slice(-4000)}`);
  return have;
}

function goBinary() {
  return existsSync('/usr/bin/go') ? '/usr/bin/go' : 'go';
}

function cacheRoot() {
  return process.env.RIG_BENCH_CACHE || join(os.homedir(), '.cache', 'rig-bench');
}

/** Directory of the build for the current main.go and package versions. */
function buildDir(versions) {
  const h = createHash('sha256');
  h.update(readFileSync(SOURCE));
  for (const p of VERSIONED) h.update(`\0${p}=${versions[p] ?? ''}`);
  return join(cacheRoot(), `centrifuge-${h.digest('hex').slice(0, 16)}`);
}

let builtBinary;
let installed;

export async function install({ log = noop } = {}) {
  if (!existsSync(SOURCE)) throw new Error(`centrifuge: server source missing: ${SOURCE}`);
  const versions = await ensurePackages(log);
  const dir = buildDir(versions);
  const bin = join(dir, BINARY_NAME);
  if (existsSync(bin)) {
    builtBinary = bin;
    installed = { binary: bin, versions };
    return installed;
  }
  if (!existsSync(join(GOCODE, 'src/github.com/centrifugal/centrifuge'))) {
    throw new Error(`centrifuge: ${GOCODE}/src/github.com/centrifugal/centrifuge missing although golang-github-centrifugal-centrifuge-dev is installed`);
  }
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `${BINARY_NAME}.tmp-${process.pid}`);
  log(`centrifuge: building ${SOURCE} -> ${bin} (GOPATH mode, offline)`);
  const env = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? os.homedir(),
    GO111MODULE: 'off',
    GOPATH: `${join(cacheRoot(), 'gopath')}:${GOCODE}`,
    GOCACHE: join(cacheRoot(), 'go-build'),
    GOFLAGS: '',
    GOPROXY: 'off',
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
  };
  const t0 = Date.now();
  const r = await run(goBinary(), ['build', '-trimpath', '-o', tmp, 'main.go'], { cwd: dirname(SOURCE), env });
  if (r.code !== 0 || !existsSync(tmp)) {
    throw new Error(
      `centrifuge: go build failed (exit ${r.code}); GO111MODULE=off GOPATH=${env.GOPATH}. ` +
        `A "cannot find package" line names a missing golang-*-dev package. go output:\n${r.out.slice(-6000)}`,
    );
  }
  renameSync(tmp, bin);
  log(`centrifuge: built in ${((Date.now() - t0) / 1000).toFixed(1)} s (go ${versions['golang-go']}, centrifuge ${versions['golang-github-centrifugal-centrifuge-dev']})`);
  builtBinary = bin;
  installed = { binary: bin, versions };
  return installed;
}

/** `env` (optional) is passed to the server, e.g. {GOMAXPROCS: '1'} or {GOGC: '200'}. */
export async function start({ port, apiPort, log = noop, env = {} }) {
  const bin = builtBinary ?? (await install({ log })).binary;
  const proc = spawn(bin, ['-host', '127.0.0.1', '-port', String(port), '-api-port', String(apiPort)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let out = '';
  const add = (d) => (out = (out + d).slice(-20000));
  proc.stdout.on('data', add);
  proc.stderr.on('data', add);
  const exited = new Promise((r) => proc.once('exit', (code, sig) => r(code ?? sig)));
  proc.once('error', (e) => add(`spawn error: ${e.message}\n`));
  await new Promise((ready, fail) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      fail(new Error(`centrifuge did not start within 20 s:\n${out}`));
    }, 20_000);
    const check = () => {
      if (/^listening /m.test(out)) {
        clearTimeout(timer);
        proc.stdout.off('data', check);
        ready();
      }
    };
    proc.stdout.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`centrifuge exited with ${code} before it was ready:\n${out}`));
    });
  });
  log(`centrifuge: pid ${proc.pid}, ws 127.0.0.1:${port}, api 127.0.0.1:${apiPort}`);
  let stopping;
  return {
    host: '127.0.0.1',
    port,
    pids: [proc.pid],
    subscribe: {
      ws: { path: '/connection/websocket', hello: HELLO, ready: READY },
    },
    publish: { url: `http://127.0.0.1:${apiPort}/publish`, method: 'POST', contentType: 'application/json', okStatuses: [200] },
    // For the result file: how the server was configured and what its frames look like.
    settings: {
      packages: installed?.versions,
      gomaxprocs: env.GOMAXPROCS ?? 'default (all cores)',
      websocket: { readBufferSize: 1024, writeBufferPool: true, pingIntervalS: 25, compression: false },
      channel: { history: false, recover: false, presence: false, joinLeave: false },
      eventsPerFrame: 'up to 4, each terminated by \\n',
    },
    output: () => out,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    stop() {
      stopping ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        const code = await exited;
        clearTimeout(t);
        return code;
      })();
      return stopping;
    },
  };
}
