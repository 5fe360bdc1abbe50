/**
 * S6 reconnect storm with JWTs: every connection carries its own token (HS256, then RS256); half
 * of them drop at once and reconnect within 0–1 s with the same tokens (cache warm) and with new
 * ones (cache cold), then all of them with new ones. Time until every one is subscribed again,
 * failed attempts, gateway CPU, kernel listen-queue overflows.
 * Gateway only: the baselines check no JWTs. Registered by bench/run.mjs (every module in this
 * folder is a scenario).
 */
import { FANOUT, fmt, medianOf } from '../lib/scenario-common.mjs';

export const id = 's6';

const ALGS = ['HS256', 'RS256'];
const STORMS = ['half-warm', 'half-cold', 'all-cold'];

export const scenario = {
  title: 'S6 reconnect storm with JWTs (HS256 and RS256, cache warm and cold)',
  runs: (p) => {
    if (p.targets && !p.targets.includes('gateway')) return [];
    return p.transports.flatMap((t) =>
      ALGS.map((alg) => ({
        key: `s6-${t}-${alg.toLowerCase()}`,
        script: FANOUT,
        args: [p.flag, '--mode', 'storm', '--jwt-alg', alg, '--storms', STORMS.join(','), '--transport', t, '--subscribers', String(p.subscribers), '--targets', 'gateway'],
      })),
    );
  },
  summarize: summarizeStorm,
};

/** Median of values in ms with one decimal, spread "min–max" when there are several. */
function ms(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return 'n/a';
  const r = (x) => Math.round(x * 10) / 10;
  const med = v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  return v.length > 1 ? `${r(med)} (${r(v[0])}–${r(v.at(-1))})` : String(r(med));
}

function summarizeStorm(results) {
  const lines = [
    'Gateway only: the baselines (plain Node, Nchan, Centrifuge) check no JWTs, so a storm would not measure the same work. ' +
      'Warm = the same tokens again (each shard caches the tokens it verified, JWT_CACHE_SIZE; with SO_REUSEPORT a reconnect lands on the same shard only about half of the time with 2 shards), ' +
      'cold = new tokens signed beforehand. "All subscribed after" runs from the drop and includes the 0–1 s reconnect jitter.',
    '',
    '| transport | alg | storm | subscribers | dropped | all subscribed after | p50 / p99 after the drop | handshake p50 / p99 / max | failed attempts | listen-queue overflows | gateway CPU during the storm | clients CPU / other load | TIME_WAIT before | reconnects/s (mean / peak 100 ms) |',
    '| --- | --- | --- | ---: | ---: | ---: | --- | --- | --- | ---: | ---: | --- | ---: | --- |',
  ];
  const goals = [];
  const notes = [];
  const chart = { title: 'S6: drop → every client subscribed again', unit: 'ms (lower is better; includes 0–1 s jitter)', categories: [], series: { gateway: {} } };
  for (const [key, reps] of Object.entries(results)) {
    const [, transport, alg] = key.split('-');
    const runs = reps.flatMap((r) => r.runs).filter((r) => r.storm);
    if (runs.length === 0) continue;
    const subs = runs[0].storm.subscribers;
    for (const r of runs) {
      if (!r.storm.invalidTokenRefused) notes.push(`${alg.toUpperCase()}: a token with a wrong signature was ACCEPTED: JWT verification is not in effect, the figures do not count.`);
    }
    for (const kind of STORMS) {
      const xs = runs.map((r) => r.storm.storms.find((s) => s.name === kind)).filter(Boolean);
      if (xs.length === 0) continue;
      const m = (fn) => medianOf(xs.map(fn));
      const rec = m((x) => (x.recoveryMs === null ? NaN : x.recoveryMs));
      const incomplete = xs.filter((x) => x.recoveryMs === null).length;
      const failures = {};
      for (const x of xs) for (const [k, v] of Object.entries(x.failuresByClass)) failures[k] = (failures[k] ?? 0) + v;
      const failText = Object.keys(failures).length ? `${m((x) => x.failedAttempts).text} (${Object.entries(failures).map(([k, v]) => `${k} × ${fmt(v / xs.length)}`).join(', ')})` : '0';
      lines.push(
        `| ${transport} | ${alg.toUpperCase()} | ${kind} | ${fmt(subs)} | ${m((x) => x.dropped).text} | ${incomplete ? `**${incomplete} run(s) incomplete**; ` : ''}${rec.text} ms | ` +
          `${m((x) => x.subscribedAfterDropMs.p50).text} / ${m((x) => x.subscribedAfterDropMs.p99).text} ms | ` +
          `${ms(xs.map((x) => x.handshakeMs.p50))} / ${ms(xs.map((x) => x.handshakeMs.p99))} / ${ms(xs.map((x) => x.handshakeMs.max))} ms | ${failText} | ${m((x) => x.listenOverflows).text} | ` +
          `${m((x) => x.cpu.server.cpuPercent).text}% of one core (${m((x) => x.serverCpuSeconds * 1000).text} ms CPU) | ${m((x) => x.cpu.clientsTotalPercent).text}% / ${m((x) => x.cpu.otherProcessesPercent).text}% | ${m((x) => x.timeWaitSocketsBefore).text} | ` +
          `${m((x) => x.verificationsPerSecondMean).text} / ${m((x) => x.peakSubscribesPerSecond).text} |`,
      );
      const cat = `${transport.toUpperCase()} ${alg.toUpperCase()} ${kind}`;
      chart.categories.push(cat);
      chart.series.gateway[cat] = rec.median;
      const lost = xs.filter((x) => !x.afterwards.complete || x.afterwards.delivered < x.afterwards.live);
      if (lost.length) notes.push(`${alg.toUpperCase()} ${kind}: the event published after the storm did not reach every connection in ${lost.length} run(s).`);
      if (alg === 'rs256' && kind === 'all-cold') {
        goals.push({
          goal: `S6 ${transport}: 15 000 clients with RS256 tokens reconnected within 2 s`,
          reached: incomplete === 0 && rec.median <= 2000 && subs >= 15_000,
          value: `${Number.isFinite(rec.median) ? `${fmt(rec.median)} ms` : 'not all reconnected'} with ${fmt(subs)} clients (new tokens, 0–1 s jitter)`,
        });
      }
    }
  }
  lines.push('');
  lines.push(
    '"Handshake" is request sent → subscribed for each successful attempt (the server and the kernel accept queue; the jitter is not in it). ' +
      'CPU figures are % of one core during the storm; "other load" is what no benchmark process used (other work on the machine). ' +
      'Many TIME_WAIT sockets on the machine (from any process) make each client connect() slow in the kernel\'s local-port search: the clients\' CPU then rises ' +
      'and reconnects come late for reasons outside the gateway, so storms wait (up to 70 s) for at most 10 000 of them and a quiet machine; dropped connections are reset, which leaves none. ' +
      'GET /v3/stats has event counters only (no JWT verification counter), so "reconnects/s" stands in for verifications/s: each successful reconnect verified one token ' +
      '(cold: a new one; warm: possibly a cache hit). Listen-queue overflows are machine-wide (/proc/net/netstat ListenOverflows) during the storm; uWS listens with a backlog of 512 per shard.',
  );
  if (notes.length) lines.push('', ...notes.map((n) => `- ${n}`));
  return { markdown: lines.join('\n'), chart, goals };
}
