/**
 * RS256 verification during a reconnect storm: does a piscina worker pool help?
 *
 * In the gateway every shard verifies the JWTs of the connections it accepts, inline, on its own
 * thread (shared/jwt/verifier.ts). A reconnect storm is the moment that work piles up. The storm
 * here is a stream of arrivals, each a connection presenting one token, handled 64 per event-loop
 * turn (what one poll phase delivers under load); the verifier cache is off (a storm of new or
 * expired tokens; with the cache on, clients re-presenting a token they connected with before are
 * cache hits, see the jwt-rs256-cache case). Variants:
 *
 *   inline      the gateway as it is: one thread verifies every arrival itself;
 *   inline-2t   two threads each verifying half of the arrivals inline: what SHARDS=2 does when
 *               the kernel spreads the reconnects over both shards;
 *   piscina-N   one thread (a shard) hands every token to a piscina pool of N workers
 *               (pool.run(token) → claims) and finishes the connection when the promise resolves;
 *   piscina-2-c16    2 workers with concurrentTasksPerWorker 16: the pool hands a worker up to 16
 *               tasks at a time instead of one (piscina's default is 1);
 *   piscina-2-batch  2 workers, the tokens of one event-loop turn sent as one task (at most 64):
 *               the per-task cost of the pool shared by many verifies, its most favourable use.
 * The piscina cases also time the pool's own cost per task (no-op tasks, same pool).
 *
 * Two shapes per repetition: `burst`, all arrivals at the same instant (the worst moment of a
 * storm: drain time → verifies/s, latency from the storm's start), and `jitter`, arrivals spread
 * uniformly over a window (RIG's reconnect with 0–1 s jitter; latency from each arrival's planned
 * time, which includes up to ≈ 1 ms of timer granularity for every variant alike). Reported with
 * each: the dispatching thread's event-loop delay (how long other connections on it wait) and the
 * CPU time of the whole process per verify (all threads: workers, pool, dispatcher).
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { nowUs, percentiles, round } from './common.mjs';
import { RSA_CERT, dist, signTokens } from './micro-fixtures.mjs';

const ALG = 'RS256';
/** Arrivals taken per event-loop turn. */
const CHUNK = 64;
const WORKERS = new URL('./micro-workers.mjs', import.meta.url);
const TASK = fileURLToPath(new URL('./jwt-verify-task.mjs', import.meta.url));

/** Arrival offsets in µs from the storm's start: all 0 (burst) or sorted uniform over the window. */
export function arrivalPlan(n, windowMs) {
  const offsets = new Float64Array(n);
  if (windowMs > 0) {
    let seed = 0x9e3779b9; // deterministic, so every variant and thread sees the same storm
    for (let i = 0; i < n; i++) {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      offsets[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * windowMs * 1000;
    }
    offsets.sort();
  }
  return offsets;
}

/**
 * Feeds this thread's arrivals (`indices` into `offsets`) to `submit(token, k, done)` from `t0`
 * (µs, the shared monotonic clock) on, then calls `endTurn(done)` once per event-loop turn;
 * `done(k)` marks arrival k verified. Returns each arrival's
 * latency (µs from its planned time), when the last one finished, and this thread's loop delay.
 */
export async function drive({ offsets, indices, tokens, submit, endTurn, t0 }) {
  const m = indices.length;
  const done = new Float64Array(m);
  let left = m;
  let finish;
  const all = new Promise((r) => (finish = r));
  if (m === 0) finish();
  const onDone = (k) => {
    done[k] = nowUs();
    if (--left === 0) finish();
  };
  const delay = monitorEventLoopDelay({ resolution: 1 });
  while (nowUs() < t0) await (t0 - nowUs() > 2000 ? sleep(1) : immediate());
  delay.enable();
  let k = 0;
  while (k < m) {
    const now = nowUs() - t0;
    for (let c = 0; k < m && c < CHUNK && offsets[indices[k]] <= now; c++, k++) submit(tokens[indices[k] % tokens.length], k, onDone);
    endTurn?.(onDone);
    if (k < m) await (offsets[indices[k]] <= nowUs() - t0 ? immediate() : sleep(1));
  }
  await all;
  delay.disable();
  const latUs = new Float64Array(m);
  let endUs = t0;
  for (let j = 0; j < m; j++) {
    latUs[j] = done[j] - (t0 + offsets[indices[j]]);
    if (done[j] > endUs) endUs = done[j];
  }
  return { latUs, endUs, loopDelayMs: { p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 } };
}

const range = (n, from = 0, step = 1) => Int32Array.from({ length: Math.ceil((n - from) / step) }, (_, j) => from + j * step);

/** One storm through `runner(offsets, t0)` → per-thread results; summarised. */
async function storm(runner, n, windowMs) {
  const offsets = arrivalPlan(n, windowMs);
  const cpu0 = process.cpuUsage();
  const t0 = nowUs() + (windowMs > 0 ? 2000 : 0);
  const parts = await runner(offsets, t0);
  const cpu = process.cpuUsage(cpu0);
  const lat = [];
  let end = t0;
  for (const p of parts) {
    for (const x of p.latUs) lat.push(x);
    end = Math.max(end, p.endUs);
  }
  const spanMs = (end - t0) / 1000;
  return {
    arrivals: n,
    windowMs,
    spanMs: round(spanMs, 2),
    verifiesPerSecond: round((n * 1000) / spanMs),
    latencyMs: percentiles(lat),
    loopDelayMs: { p99: round(Math.max(...parts.map((p) => p.loopDelayMs.p99)), 2), max: round(Math.max(...parts.map((p) => p.loopDelayMs.max)), 2) },
    cpuUsPerVerify: round((cpu.user + cpu.system) / n, 1),
  };
}

function stormCase(variant) {
  const title = {
    inline: 'RS256 reconnect storm, inline: one thread verifies every token (the gateway today)',
    'inline-2t': 'RS256 reconnect storm, inline on 2 threads, half the arrivals each (SHARDS=2)',
    'piscina-1': 'RS256 reconnect storm, one thread hands each token to a piscina pool of 1 worker',
    'piscina-2': 'RS256 reconnect storm, one thread hands each token to a piscina pool of 2 workers',
    'piscina-2-c16': 'RS256 reconnect storm, one thread hands each token to a piscina pool of 2 workers, concurrentTasksPerWorker 16',
    'piscina-2-batch': "RS256 reconnect storm, one thread hands each turn's tokens (≤ 64) as one task to a piscina pool of 2 workers",
  }[variant];
  return {
    id: `storm-${variant}`,
    group: 'storm',
    title,
    unit: 'verify',
    async setup(s) {
      const st = s.storm;
      const tokens = await signTokens(ALG, st.tokens);
      let runner;
      let close = async () => {};
      let extra = {};
      let calibrate;
      if (variant === 'inline') {
        const { createJwtVerifier } = await dist('shared/jwt/verifier.js');
        const verifier = createJwtVerifier({ alg: ALG, secretKey: RSA_CERT, cacheSize: 0 });
        const submit = (token, k, done) => {
          verifier.verify(token);
          done(k);
        };
        runner = async (offsets, t0) => [await drive({ offsets, indices: range(offsets.length), tokens, submit, t0 })];
      } else if (variant === 'inline-2t') {
        const workers = await Promise.all([0, 1].map(async () => {
          const w = new Worker(WORKERS, { workerData: { role: 'storm-inline', alg: ALG, secretKey: RSA_CERT, tokens } });
          await new Promise((resolve, reject) => {
            w.once('message', resolve);
            w.once('error', reject);
          });
          return w;
        }));
        runner = (offsets, t0) => Promise.all(workers.map((w, i) => new Promise((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
          w.postMessage({ offsets, indices: range(offsets.length, i, 2), t0 });
        })));
        close = async () => {
          await Promise.all(workers.map((w) => w.terminate()));
        };
      } else {
        let Piscina;
        try {
          ({ Piscina } = await import('piscina'));
        } catch (e) {
          throw new Error(`piscina is not installed (npm install; it is a devDependency): ${e.message}`);
        }
        const threads = Number(variant.split('-')[1]);
        const concurrentTasksPerWorker = variant.endsWith('-c16') ? 16 : 1;
        const pool = new Piscina({ filename: TASK, minThreads: threads, maxThreads: threads, concurrentTasksPerWorker, idleTimeout: 600_000, workerData: { alg: ALG, secretKey: RSA_CERT } });
        const fail = (e) => {
          throw e;
        };
        let submit;
        let endTurn;
        if (variant.endsWith('-batch')) {
          let turnTokens = [];
          let turnKeys = [];
          submit = (token, k) => {
            turnTokens.push(token);
            turnKeys.push(k);
          };
          endTurn = (done) => {
            if (turnTokens.length === 0) return;
            const keys = turnKeys;
            pool.run(turnTokens).then(() => {
              for (const k of keys) done(k);
            }, fail);
            turnTokens = [];
            turnKeys = [];
          };
        } else {
          submit = (token, k, done) => {
            pool.run(token).then(() => done(k), fail);
          };
        }
        runner = async (offsets, t0) => [await drive({ offsets, indices: range(offsets.length), tokens, submit, endTurn, t0 })];
        close = () => pool.destroy();
        extra = { piscina: { version: Piscina.version ?? null, threads, tokensPerTask: endTurn ? `≤ ${CHUNK}` : 1, concurrentTasksPerWorker: pool.options.concurrentTasksPerWorker, atomics: pool.options.atomics ?? null } };
        // The pool's own cost: no-op tasks, all submitted at once and one at a time.
        calibrate = async (n) => {
          await Promise.all(Array.from({ length: Math.min(n, 500) }, (_, i) => pool.run(i, { name: 'noop' })));
          const c0 = process.cpuUsage();
          const t0 = nowUs();
          await Promise.all(Array.from({ length: n }, (_, i) => pool.run(i, { name: 'noop' })));
          const span = nowUs() - t0;
          const cpu = process.cpuUsage(c0);
          const rtts = [];
          for (let i = 0; i < Math.min(n, 2000); i++) {
            const t = nowUs();
            await pool.run(i, { name: 'noop' });
            rtts.push(nowUs() - t);
          }
          return { tasks: n, tasksPerSecond: round((n * 1e6) / span), cpuUsPerTask: round((cpu.user + cpu.system) / n, 1), sequentialRoundTripUs: percentiles(rtts).p50 * 1000 };
        };
      }
      return {
        async measure(_s, mark) {
          await storm(runner, Math.min(st.burst, 1000), 0); // warm-up: JIT, pool threads, key objects
          mark();
          const reps = [];
          for (let r = 0; r < st.reps; r++) {
            const burst = await storm(runner, st.burst, 0);
            const jitter = await storm(runner, st.jitter, st.windowMs);
            reps.push({ burst, jitter });
          }
          const noopTasks = calibrate ? await calibrate(st.burst) : undefined;
          return { samples: reps.map((x) => x.burst.verifiesPerSecond), extra: { ...extra, distinctTokens: tokens.length, reps, noopTasks } };
        },
        close,
      };
    },
  };
}

export const stormCases = ['inline', 'inline-2t', 'piscina-1', 'piscina-2', 'piscina-2-c16', 'piscina-2-batch'].map(stormCase);
