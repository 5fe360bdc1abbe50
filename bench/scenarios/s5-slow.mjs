/**
 * S5 slow consumers: 1 % and 10 % of the subscribers stop reading while events keep coming at a
 * fixed rate; healthy subscribers' latency with them vs without them (same run, same target),
 * what the server does with the slow ones (closes them, and why, or keeps buffering) and its RSS.
 * Registered by bench/run.mjs (every module in this folder is a scenario).
 *
 * Load: R events/s of P bytes to N subscribers, with R × N kept within what every target delivers
 * one event at a time (40 000 deliveries/s; S2's burst-1 figures for Nchan, Centrifuge and the
 * plain Node server are about 90 000–130 000), so "without" is a sustained rate for all of them. P is
 * large because a loopback connection whose reader stopped absorbs about 4 MB in kernel buffers
 * before its server sees any backpressure: at 8 KB × 20 events/s that takes about 25 s (the
 * orchestrator's automatic fill time), at 100 B × 100 events/s it would take minutes.
 */
import { FANOUT, byTarget, fmt, medianOf, round, targetsFor } from '../lib/scenario-common.mjs';

export const id = 's5';

/** Per profile: subscribers, event rate and size, measured seconds, longest fill. */
const LOAD = {
  smoke: { subscribers: 200, rate: 50, payload: 1000, duration: 2, fill: ['--slow-fill', '1'] },
  quick: { subscribers: 2000, rate: 20, payload: 8000, duration: 10, fill: ['--slow-fill-max', '60'] },
  // 64 KB/s per subscriber: about 70 s until a paused connection pushes back, longer than the
  // gateway's liveness check (no pong for 3 × HEARTBEAT_INTERVAL_MS closes a WebSocket, 45 s by
  // default), so the gateway gets 60 s intervals here and only its slow-consumer limit acts.
  // 10 % of 10 000 paused connections ask for about 4 GB of kernel socket memory: beyond the
  // default net.ipv4.tcp_mem limit on a small machine, where the kernel then shrinks buffers.
  full: { subscribers: 10_000, rate: 4, payload: 16_000, duration: 20, fill: ['--slow-fill-max', '150', '--env', 'HEARTBEAT_INTERVAL_MS=60000'] },
};
const FRACTIONS = [0.01, 0.1];
// Gateway default (OUTBOUND_QUEUE_MAX_BYTES); docs/architecture.md: a slow client costs at most
// about twice that. The memory goal allows that per paused connection plus 32 MB of other growth.
const QUEUE_BYTES = 262_144;
const SLACK_BYTES = 32 * 1048576;

function profileOf(p) {
  if (p.flag === '--smoke') return 'smoke';
  return p.subscribers >= 15_000 ? 'full' : 'quick';
}

export const scenario = {
  title: 'S5 slow consumers: healthy latency with 1 % and 10 % of subscribers not reading',
  runs: (p) => {
    const l = LOAD[profileOf(p)];
    return p.transports.map((t) => ({
      key: `s5-${t}`,
      script: FANOUT,
      args: [
        p.flag, '--mode', 'slow', '--transport', t, '--subscribers', String(l.subscribers), '--rate', String(l.rate), '--payload', String(l.payload),
        '--duration', String(l.duration), '--sample-every', '10', '--slow-fractions', FRACTIONS.join(','), ...l.fill, '--targets', targetsFor(p, t),
      ],
    }));
  },
  summarize: summarizeSlow,
};

/** Median of latencies in ms with one decimal, spread "min–max" when there are several. */
function ms(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return { median: NaN, text: 'n/a' };
  const med = v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  return { median: med, text: v.length > 1 ? `${round(med, 1)} (${round(v[0], 1)}–${round(v.at(-1), 1)})` : String(round(med, 1)) };
}

const mbText = (b) => (Number.isFinite(b) ? `${round(b / 1048576, 1)} MB` : 'n/a');

function summarizeSlow(results) {
  const lines = [];
  const goals = [];
  const chart = { title: 'S5: healthy p99 with slow clients ÷ without', unit: 'ratio (lower is better; 1 = no effect)', categories: [], series: {} };
  for (const [key, reps] of Object.entries(results)) {
    const transport = key.split('-')[1].toUpperCase();
    const o = reps[0].options;
    const targets = byTarget(reps);
    lines.push(
      `**${transport}**, ${fmt(o.subscribers)} subscribers, ${o.rate} events/s of ${fmt(o.payload)} B; healthy latency "with" is measured after the fill time ` +
        '(once a paused connection has been sent more than its kernel buffers hold), over every 10th connection:',
      '',
    );
    lines.push('| server | slow | paused | fill | healthy p50 / p99 without (ms) | healthy p50 / p99 with (ms) | p99 with ÷ without | healthy delivered / expected | slow clients closed by the server | server RSS start / peak / end | healthy disconnects | other load without / with |');
    lines.push('| --- | ---: | ---: | ---: | --- | --- | ---: | ---: | --- | --- | ---: | --- |');
    const notes = [];
    const buffered = {};
    let shortFill = false;
    for (const f of FRACTIONS) chart.categories.push(`${transport} ${round(100 * f, 1)}%`);
    for (const [name, runs] of Object.entries(targets)) {
      if (runs[0].skipped?.phase === 'all') {
        lines.push(`| ${name} | | | | not run: ${runs[0].skipped.reason} | | | | | | | |`);
        continue;
      }
      for (const f of FRACTIONS) {
        const pct = round(100 * f, 1);
        const entries = runs.map((r) => r.slow?.fractions.find((x) => x.fraction === f)).filter(Boolean);
        if (entries.length === 0) {
          const why = runs.map((r) => r.slow?.aborted?.reason).find(Boolean);
          lines.push(`| ${name} | ${pct}% | | | not run${why ? `: aborted before (${why})` : ''} | | | | | | | |`);
          continue;
        }
        const m = (fn) => medianOf(entries.map(fn));
        const lat = (w, k) => ms(entries.map((e) => e[w]?.latencyMs.all[k]));
        const ratio = m((e) => e.p99Ratio);
        const outcomes = {};
        for (const e of entries) for (const [k, v] of Object.entries(e.slowClients?.outcomes ?? {})) outcomes[k] = (outcomes[k] ?? 0) + v;
        const closed = m((e) => e.slowClients?.closedByServer);
        const paused = m((e) => e.paused);
        const mem = (k) => m((e) => e.with?.memory?.[k]).median;
        const reasons = Object.entries(outcomes).map(([k, v]) => `${shortReason(k)} × ${fmt(v / entries.length)}`).join(', ');
        const when = entries[0].slowClients?.serverClosedAfterSeconds;
        const whenText = when ? ` after ${when.first === when.last ? when.first : `${when.first}–${when.last}`} s` : '';
        const stillOpen = m((e) => e.slowClients?.stillOpen).median;
        lines.push(
          `| ${name} | ${pct}% | ${paused.text} | ${m((e) => e.fillSeconds).text} s | ${lat('without', 'p50').text} / ${lat('without', 'p99').text} | ` +
            `${lat('with', 'p50').text} / ${lat('with', 'p99').text} | ${Number.isFinite(ratio.median) ? `${round(ratio.median, 2)}×` : 'n/a'} | ` +
            `${m((e) => e.with?.deliveries).text} / ${m((e) => e.with?.expectedDeliveries).text} | ${closed.text}${closed.median > 0 ? whenText : ''}${reasons ? ` (${reasons})` : ''}${stillOpen ? `; ${fmt(stillOpen)} kept open` : ''} | ` +
            `${mbText(mem('rssStartBytes'))} / ${mbText(mem('rssPeakBytes'))} / ${mbText(mem('rssEndBytes'))} | ${m((e) => e.with?.healthyDisconnects).text} | ` +
            `${m((e) => e.without?.cpu.otherProcessesPercent).text}% / ${m((e) => e.with?.cpu.otherProcessesPercent).text}% |`,
        );
        (chart.series[name] ??= {})[`${transport} ${pct}%`] = ratio.median;
        const aborted = entries.map((e) => e.with?.aborted?.reason).find(Boolean);
        if (aborted) notes.push(`${name} ${pct}%: aborted: ${aborted}.`);
        const kernel = m((e) => e.with?.memory?.peakKernelQueuedBytes).median;
        const drainMean = m((e) => e.slowClients?.bytesReadAfterResumeMean).median;
        (buffered[name] ??= []).push(`${pct}%: ${mbText(kernel / Math.max(1, paused.median))} in the kernel at peak, ${mbText(drainMean)} read after the phase`);
        // Without enough fill no paused connection pushed back yet (smoke runs): no goal to judge.
        const filled = m((e) => e.fillBytesPerPausedConnection).median >= 4 * 1048576;
        if (!filled) shortFill = true;
        if (name === 'gateway' && Number.isFinite(ratio.median) && filled) {
          goals.push({ goal: `S5 ${transport} ${pct}% slow: healthy p99 within 20 % of the run without slow clients`, reached: ratio.median <= 1.2, value: `${round(ratio.median, 2)}× (${lat('with', 'p99').text} vs ${lat('without', 'p99').text} ms)` });
          const growth = mem('rssPeakBytes') - mem('rssStartBytes');
          const bound = paused.median * 2 * QUEUE_BYTES + SLACK_BYTES;
          goals.push({ goal: `S5 ${transport} ${pct}% slow: gateway RSS bounded (peak − start ≤ 2 × OUTBOUND_QUEUE_MAX_BYTES per slow client + 32 MB)`, reached: growth <= bound, value: `+${mbText(growth)} (bound ${mbText(bound)})` });
          const healthyGone = m((e) => e.with?.healthyDisconnects).median;
          goals.push({
            goal: `S5 ${transport} ${pct}% slow: the gateway disconnects every slow client and no healthy one`,
            reached: closed.median >= paused.median && paused.median > 0 && healthyGone === 0,
            value: `${fmt(closed.median)} of ${fmt(paused.median)} slow${whenText}, ${fmt(healthyGone)} healthy`,
          });
        }
      }
    }
    lines.push('');
    if (shortFill) notes.push('The fill time was too short for a paused connection to exhaust its kernel buffers (smoke settings): no server saw backpressure yet.');
    const per = Object.entries(buffered).map(([name, xs]) => `${name} (${xs.join('; ')})`);
    if (per.length) notes.push(`Bytes per paused connection: ${per.join('; ')}.`);
    if (notes.length) lines.push(...notes.map((n) => `- ${n}`), '');
  }
  lines.push(
    'Configured policies: the gateway closes a client whose queue passes OUTBOUND_QUEUE_MAX_BYTES (256 KiB; WebSocket close 4000 / SSE `rig.connection.closed`, reason `slow_consumer`); ' +
      'Centrifuge closes a connection whose write blocks for 1 s or whose queue passes 10 MB; Nchan and the plain Node server set no limit. ' +
      '"Closed by the server": the paused connections that found their connection closed when they read again after the phase, with what they saw, and how many seconds ' +
      'after they stopped reading the server-side sockets left ESTABLISHED (/proc/net/tcp). A WebSocket close frame sits behind everything the client has not read ' +
      '(≈ 4 MB in the kernel), so a client that never catches up sees a reset or an end of stream rather than the close code. ' +
      '"Other load" is CPU (% of one core) no benchmark process used: other work on the machine.',
  );
  return { markdown: lines.join('\n'), chart, goals };
}

/** Close reasons as the clients saw them, shortened for the table. */
function shortReason(r) {
  const ws = /^ws close (\d+)/.exec(r);
  if (ws) return `close ${ws[1]}${/slow/i.test(r) ? ' slow_consumer' : ''}`;
  if (r.startsWith('sse ')) return r.includes('slow_consumer') ? 'SSE slow_consumer event' : 'SSE response ended';
  if (r.startsWith('closed by the server without a close frame')) return 'closed, no close frame';
  return r;
}
