/**
 * Shared by the nginx-based targets (nchan.mjs, nginx-proxy.mjs): installing Debian packages,
 * rendering a config template, and running one nginx instance in a private prefix directory as a
 * child process of the benchmark.
 *
 * Each instance gets a fresh temp directory holding its nginx.conf, pid file, error log and every
 * temp path, so nothing under /etc/nginx, /var/log/nginx or /var/lib/nginx is read or written and
 * any number of instances can run side by side. nginx runs in the foreground (`daemon off;`) with
 * its master process as our child, started through `setpriv --pdeathsig SIGTERM` when available,
 * so the master (and with it every worker) goes away even if the benchmark is killed with SIGKILL.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';

export const NGINX_BIN = '/usr/sbin/nginx';
const SETPRIV = '/usr/bin/setpriv';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------------
// Packages

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && /install ok installed/.test(r.stdout);
}

function apt(args, log) {
  // Another process may hold the dpkg lock (apt-get run elsewhere on the machine): wait for it.
  const argv = ['-y', '-o', 'DPkg::Lock::Timeout=600', ...args];
  log?.(`apt-get ${argv.join(' ')}`);
  const r = spawnSync('apt-get', argv, {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/**
 * Installs the Debian packages that are missing (idempotent: nothing runs when all are installed
 * and `files` exist). Throws an Error naming what is missing and why it could not be installed.
 */
export function ensurePackages(packages, { files = [], log } = {}) {
  const missing = () => packages.filter((p) => !installed(p));
  const missingFiles = () => files.filter((f) => !existsSync(f));
  let todo = missing();
  if (todo.length === 0 && missingFiles().length === 0) return;
  if (todo.length === 0) todo = packages; // files gone though dpkg says installed: reinstall
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(`missing Debian packages ${todo.join(', ')}; installing them needs root: apt-get install -y ${todo.join(' ')}`);
  }
  // --no-install-recommends: only the server binary and module, no documentation or extras.
  const args = ['install', '--no-install-recommends', ...todo];
  let r = apt(args, log);
  if (!r.ok) {
    // Usually stale or absent package lists (fresh machine): refresh them once and retry.
    const u = apt(['update'], log);
    r = u.ok ? apt(args, log) : u;
  }
  const still = missing();
  const gone = missingFiles();
  if (!r.ok || still.length || gone.length) {
    const what = [...still.map((p) => `package ${p}`), ...gone.map((f) => `file ${f}`)].join(', ') || todo.join(', ');
    throw new Error(`missing ${what}: apt-get ${args.join(' ')} failed:\n${r.out.trim().split('\n').slice(-25).join('\n')}`);
  }
}

/** `nginx -v` and the installed versions of the given packages, for results files. */
export function versions(packages) {
  const v = spawnSync(NGINX_BIN, ['-v'], { encoding: 'utf8' });
  const out = { binary: (v.stderr || v.stdout || '').trim().replace(/^nginx version:\s*/, '') };
  for (const p of packages) {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', p], { encoding: 'utf8' });
    if (r.status === 0) out[p] = r.stdout.trim();
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Config

/** Replaces every `{{NAME}}` in `text` with `vars.NAME`; an unknown placeholder is an error. */
export function render(text, vars) {
  return text.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, k) => {
    if (!(k in vars)) throw new Error(`template placeholder {{${k}}} has no value`);
    return String(vars[k]);
  });
}

/** The hard RLIMIT_NOFILE of this process (nginx as root can raise its soft limit up to it). */
export function hardFileLimit() {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const hard = line?.trim().split(/\s+/)[4];
    if (hard === 'unlimited') return 1_048_576;
    const n = Number(hard);
    if (Number.isInteger(n) && n > 0) return n;
  } catch {
    // not Linux: fall through
  }
  return 20_000;
}

/**
 * Per-worker file and connection limits. Every worker is its own process with its own fd table,
 * so each may use the whole hard limit. worker_connections counts every connection a worker holds
 * (clients, upstream connections, and its listening sockets); keep a margin below the fd limit
 * for the log files, the master channel and nchan's inter-worker pipes.
 */
export function connectionLimits() {
  const nofile = hardFileLimit();
  return { nofile, connections: Math.max(1024, nofile - 200) };
}

// ------------------------------------------------------------------------------------------------
// Ports and processes

/** Resolves once 127.0.0.1:port accepts a TCP connection; rejects after `timeoutMs`. */
export async function waitForPort(port, timeoutMs, isDead) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((r) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (isDead?.()) throw new Error(`nginx exited before port ${port} accepted connections`);
    if (Date.now() > until) throw new Error(`port ${port} did not accept connections within ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** Pids of the direct children of `pid` (nginx workers of a master), from /proc. */
export function childPids(pid) {
  try {
    // Needs CONFIG_PROC_CHILDREN; the /proc scan below works everywhere.
    const direct = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    if (direct) return direct.split(/\s+/).map(Number);
  } catch {
    // fall through
  }
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // process went away meanwhile
    }
  }
  return out;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), undefined once the pid is gone. */
function startTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function readTail(file, max = 8000) {
  try {
    const t = readFileSync(file, 'utf8');
    return t.length > max ? `…${t.slice(-max)}` : t;
  } catch {
    return '(no error log)';
  }
}

/**
 * Starts nginx with the config `confText(dir)` (a function of the instance's prefix directory),
 * waits until every port in `ports` accepts connections and all `workers` workers run, and
 * returns { pids, dir, stop }. On failure the error message includes nginx's error log.
 */
export async function startNginx({ name, confText, ports, workers, log, timeoutMs = 20_000 }) {
  if (!existsSync(NGINX_BIN)) throw new Error(`${NGINX_BIN} missing: call install() first (Debian package nginx)`);
  const dir = mkdtempSync(join(os.tmpdir(), `bench-${name}-`));
  const conf = join(dir, 'nginx.conf');
  const errorLog = join(dir, 'error.log');
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    writeFileSync(conf, confText(dir));
    // Validate first: a config error is reported at once and clearly, not as a port timeout.
    const t = spawnSync(NGINX_BIN, ['-p', dir, '-e', errorLog, '-c', conf, '-t', '-q'], { encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`nginx -t rejected ${name}'s config:\n${t.stderr}${t.stdout}\nerror log:\n${readTail(errorLog)}`);
  } catch (e) {
    cleanup();
    throw e;
  }
  // -e: the error log before the config is read (the compiled-in default is /var/log/nginx).
  const nginxArgs = ['-p', dir, '-e', errorLog, '-c', conf];
  const [cmd, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'SIGTERM', '--', NGINX_BIN, ...nginxArgs]] : [NGINX_BIN, nginxArgs];
  const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out = (out + d).slice(-8000)));
  proc.stderr.on('data', (d) => (out = (out + d).slice(-8000)));
  const exited = new Promise((r) => proc.once('exit', (code, sig) => r(code ?? sig)));
  const dead = () => proc.exitCode !== null || proc.signalCode !== null;
  // Last resort if the benchmark exits without calling stop(): take the master down with it (it
  // stops its workers) and remove the prefix directory.
  const onExit = () => {
    if (!dead()) {
      try {
        process.kill(proc.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    cleanup();
  };
  process.once('exit', onExit);

  let stopped;
  const stop = () =>
    (stopped ??= (async () => {
      // Identify processes by (pid, start time) so that a recycled pid is never signalled.
      const all = [proc.pid, ...childPids(proc.pid)].map((pid) => ({ pid, since: startTime(pid) }));
      const ours = (p) => p.since !== undefined && startTime(p.pid) === p.since;
      const killRest = () => {
        for (const p of all) if (ours(p)) process.kill(p.pid, 'SIGKILL');
      };
      // SIGTERM = nginx's fast shutdown: workers close every connection and exit at once (SIGQUIT,
      // the graceful one, would wait for every SSE/WebSocket subscriber to go away).
      if (!dead()) proc.kill('SIGTERM');
      const t = setTimeout(killRest, 10_000);
      await exited;
      // The master reaps its workers before exiting; wait for any straggler all the same.
      for (let i = 0; i < 400 && all.some(ours); i++) await sleep(25);
      clearTimeout(t);
      killRest();
      process.removeListener('exit', onExit);
      cleanup();
    })());

  try {
    for (const p of ports) await waitForPort(p, timeoutMs, dead);
    let pids = [];
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (dead()) throw new Error('nginx exited during start');
      const children = childPids(proc.pid).filter((p) => readComm(p).startsWith('nginx'));
      if (children.length >= workers) {
        pids = [proc.pid, ...children];
        break;
      }
      if (Date.now() > until) throw new Error(`only ${children.length} of ${workers} nginx workers running after ${timeoutMs} ms`);
      await sleep(25);
    }
    log?.(`${name}: nginx master ${proc.pid}, workers ${pids.slice(1).join(' ')}, prefix ${dir}`);
    return { pids, dir, errorLog, output: () => out, alive: () => !dead(), stop };
  } catch (e) {
    const logText = readTail(errorLog);
    await stop();
    // The error log has everything nginx reported; its stderr only repeats it, unless the log
    // could not even be opened.
    const detail = logText.trim() ? `error log:\n${logText.trim()}` : `nginx output:\n${out.trim() || '(none)'}`;
    throw new Error(`${name}: nginx failed to start: ${e.message}\n${detail}`);
  }
}

function readComm(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
