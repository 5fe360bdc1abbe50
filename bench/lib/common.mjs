/**
 * Pieces every benchmark orchestrator shares: a monotonic microsecond clock (the same clock in
 * every process of the host), free ports, percentiles, and the forked child processes (load
 * clients, producers) that speak the {cmd} / {evt} message protocol.
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:net';
import os from 'node:os';
import { machineCpu } from './procfs.mjs';

export function nowUs() {
  const t = process.hrtime();
  return t[0] * 1e6 + t[1] / 1e3;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const round = (x, d = 0) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);

/**
 * The command-line options of a bench script, one `{ name, value }` per option from index `from`;
 * `value()` takes the next argument as the option's value (and fails when there is none).
 */
export function* options(argv, from = 0) {
  for (let i = from; i < argv.length; i++) {
    const name = argv[i];
    yield {
      name,
      value: () => {
        const v = argv[++i];
        if (v === undefined) throw new Error(`${name} needs a value`);
        return v;
      },
    };
  }
}

/** An option's value as a non-negative integer, or an error naming the option. */
export function int(s, name) {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: not a non-negative integer: ${s}`);
  return n;
}

/** An option's value if it is one of `list`, or an error naming the option. */
export function oneOf(s, list, name) {
  if (!list.includes(s)) throw new Error(`${name}: one of ${list.join(', ')}`);
  return s;
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

/** Latency percentiles in ms from samples in µs. */
export function percentiles(samples) {
  const a = Float64Array.from(samples).sort();
  const at = (p) => (a.length === 0 ? NaN : a[Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1))]);
  const ms = (us) => Math.round(us) / 1000;
  return { samples: a.length, p50: ms(at(50)), p90: ms(at(90)), p99: ms(at(99)), p999: ms(at(99.9)), max: ms(at(100)) };
}

/** `total` split into `parts` integers that differ by at most one. */
export function split(total, parts) {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** A forked child speaking the {cmd} / {evt} protocol of the bench clients. */
export class Child {
  constructor(entry, name) {
    this.name = name;
    this.child = fork(entry, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.pid = this.child.pid;
    this.inbox = [];
    this.waiters = [];
    this.exited = false;
    this.child.on('message', (m) => {
      const w = this.waiters.findIndex((x) => x.pred(m));
      if (w >= 0) {
        const [x] = this.waiters.splice(w, 1);
        clearTimeout(x.timer);
        x.resolve(m);
      } else this.inbox.push(m);
    });
    this.child.on('exit', (code) => {
      this.exited = true;
      for (const x of this.waiters.splice(0)) {
        clearTimeout(x.timer);
        x.reject(new Error(`${name} exited (${code})`));
      }
    });
  }

  send(m) {
    if (!this.exited) this.child.send(m);
  }

  next(pred, timeoutMs = 120_000) {
    const i = this.inbox.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    return new Promise((resolveMsg, reject) => {
      const x = { pred, resolve: resolveMsg, reject };
      x.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(x), 1);
        reject(new Error(`${this.name}: timeout`));
      }, timeoutMs);
      this.waiters.push(x);
    });
  }

  request(m, evt, timeoutMs) {
    this.send(m);
    return this.next((r) => r.evt === evt, timeoutMs);
  }

  async close() {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.send({ cmd: 'close' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
  }
}

/**
 * Raises this process's priority (children started later inherit it), so that the publisher's
 * timers fire on time while clients and server keep the cores busy: a late publisher shows up as
 * latency. Needs root or CAP_SYS_NICE; without it the run goes on as is. Returns the nice value.
 */
export function raisePriority() {
  try {
    os.setPriority(-10);
    return -10;
  } catch {
    return os.getPriority();
  }
}

/**
 * How busy the machine is (% of all cores over `sampleMs`) before a benchmark starts; with
 * `waitSeconds` > 0, waits up to that long for a sample of at most 10 %.
 */
export async function machineBusyBeforeStart(waitSeconds, sampleMs = 1000) {
  const waitUntil = Date.now() + waitSeconds * 1000;
  for (;;) {
    const m0 = machineCpu();
    await sleep(sampleMs);
    const m1 = machineCpu();
    const busy = round((100 * (m1.busy - m0.busy)) / (m1.total - m0.total), 1);
    if (busy <= 10 || Date.now() >= waitUntil) return busy;
  }
}

/**
 * On SIGINT/SIGTERM, stops every server (`stop()`) and client (`close()`) in `running`, then exits
 * 130; after 20 s it exits anyway.
 */
export function stopOnSignals(running, log) {
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      log(`${sig}: stopping the server and clients`);
      const t = setTimeout(() => process.exit(130), 20_000);
      Promise.allSettled([...running].map((p) => (p.stop ? p.stop() : p.close()))).then(() => {
        clearTimeout(t);
        process.exit(130);
      });
    });
  }
}
