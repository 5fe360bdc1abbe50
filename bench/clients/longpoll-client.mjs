/**
 * Long-poll load client: one process running many concurrent long-poll loops, driven by the
 * orchestrator (bench/longpoll.mjs) over the IPC channel. It must not be the bottleneck, so it
 * uses no HTTP library: each poller owns one keep-alive `net.Socket`, writes a canned `GET` per
 * poll and parses the response itself (status line, the few headers it needs, a Content-Length
 * or chunked body). All sockets of the process share one read buffer (`onread`); a response that
 * arrives in one read is handled in place, without a copy.
 *
 * How a poll loop carries its position between polls comes from the target's
 * `subscribe.longpoll` descriptor (bench/targets/):
 *   - {cookies: true} (the gateway): the first GET creates a session and answers "ok" with the
 *     cookies `connection_token` and `last_event_id`; every later GET sends the cookies back
 *     (updated from each answer's Set-Cookie) and gets `{"last_event_id":…,"events":[…]}` with
 *     the events buffered since, waiting when there are none.
 *   - {cursor: {'if-modified-since': 'last-modified', …}} (Nchan): the first GET waits for the
 *     next message; every later GET sends the named headers of the previous answer back and gets
 *     everything published since (a multipart/mixed body when there are several).
 *
 * Counting: the publisher (bench/lib/publisher.mjs) sends `…"id":"<n>","data":{"t":"<16
 * digits>"…` and both targets deliver it unchanged, so each event's id and publish time (µs of
 * CLOCK_MONOTONIC, the same clock in every process of the host) are read straight from the raw
 * body. During a phase every poller has one counter per event of the phase: an event seen once is
 * a delivery, seen again a duplicate, never seen (when the phase ends) lost. Every delivery's
 * publish -> receipt latency (receipt = when its response was complete) goes into a histogram,
 * one per fifth of the phase's events.
 *
 * Protocol (process.send / 'message', advanced serialization):
 *   -> {cmd:'init', host, port, longpoll: {path, cookies?, cursor?}}    <- {evt:'ready', pid}
 *   -> {cmd:'open', count, firstIndex, concurrency}
 *        <- {evt:'opened', ok, failed, failureSamples, ms}   (gateway: session created and the
 *           first poll sent; Nchan: the first poll sent)
 *   -> {cmd:'primed'}   <- {evt:'primed', primed, live}   (pollers that received any event yet)
 *   -> {cmd:'phase', seq, firstId, count}   (count events firstId … firstId+count-1 from now on)
 *        <- {evt:'phased', seq}; later <- {evt:'reached', seq, at} once every live poller has
 *           all of them
 *   -> {cmd:'stats'}    <- {evt:'stats', …counters of the current phase, histograms, CPU}
 *   -> {cmd:'close'}    (destroy every socket and exit)
 */
import net from 'node:net';
import { Histogram } from '../lib/histogram.mjs';
import { nowUs } from '../lib/common.mjs';
import { TS_DIGITS, readDigits } from '../lib/client-wire.mjs';

const READ_BUF = Buffer.allocUnsafe(256 * 1024);
const CRLF2 = Buffer.from('\r\n\r\n', 'latin1');
const PAT = Buffer.from('"t":"', 'latin1');
const BEFORE = Buffer.from('","data":{', 'latin1'); // between an event id's digits and PAT
const ID_OPEN = Buffer.from('"id":"', 'latin1');
const MAX_HEAD = 64 * 1024;
const MAX_RECONNECTS = 10;
const MAX_CONSECUTIVE_ERRORS = 50;
const FIFTHS = 5;

let cfg;
let requestHead = ''; // "GET <path> HTTP/1.1\r\nHost: …\r\n"
const pollers = [];
let closing = false;

// Current phase
const phase = { seq: 0, firstId: 0, count: 0, seen: undefined, done: 0, reachedSent: true, startUs: 0 };
let c = freshCounters();

function freshCounters() {
  return {
    responses: 0, // complete HTTP responses to polls (any status)
    eventResponses: 0, // 200 responses that carried at least one benchmark event
    emptyResponses: 0, // 200 responses without one (poll timeouts, session answers)
    delivered: 0, // first receipts of the phase's events
    duplicates: 0, // further receipts of an event the poller already had
    outside: 0, // benchmark events not of the current phase (priming, earlier phases)
    unparsed: 0, // "t" fields whose id could not be read
    statuses: {}, // status code -> count (all responses)
    socketErrors: 0,
    errorSamples: [],
    reconnects: 0,
    sessionRestarts: 0, // the gateway answered a poll with a new session ("ok")
    bytesIn: 0,
    hist: Array.from({ length: FIFTHS }, () => new Histogram()),
    // Poll request written -> its answer complete (200 answers only).
    pollWait: new Histogram(),
  };
}

function noteError(what) {
  if (c.errorSamples.length < 5) c.errorSamples.push(what);
}

class Poller {
  constructor(slot, index) {
    this.slot = slot;
    this.index = index;
    this.socket = undefined;
    this.pending = undefined; // bytes of an incomplete response
    this.cookies = new Map(); // gateway: cookie name -> value as the server set it
    this.cursor = undefined; // Nchan: request header lines carrying the cursor
    this.creating = Boolean(cfg.longpoll.cookies); // the next answer creates the session
    this.got = 0; // events of the current phase received
    this.primed = false; // received any benchmark event
    this.dead = false;
    this.reconnects = 0;
    this.errorsInRow = 0;
    this.onOpened = undefined;
    this.sentAt = 0; // when the outstanding request was written (µs)
    this.longestWait = 0; // longest poll wait in the current phase (µs)
  }

  connect() {
    const socket = net.connect({
      host: cfg.host,
      port: cfg.port,
      localAddress: `127.0.0.${1 + (this.index % 8)}`,
      onread: { buffer: READ_BUF, callback: (n, buf) => this.onData(buf, n) },
    });
    this.socket = socket;
    this.pending = undefined;
    socket.setNoDelay(true);
    socket.on('connect', () => this.send());
    socket.on('error', (e) => {
      c.socketErrors++;
      noteError(`socket ${e.code ?? e.message}`);
    });
    socket.on('close', () => this.onClose(socket));
  }

  send() {
    if (this.dead || closing) return;
    let req = requestHead;
    if (this.cookies.size) {
      let s = '';
      for (const [k, v] of this.cookies) s += `${s ? '; ' : ''}${k}=${v}`;
      req += `Cookie: ${s}\r\n`;
    }
    if (this.cursor) req += this.cursor;
    this.sentAt = nowUs();
    this.socket.write(req + '\r\n', 'latin1');
    if (!this.creating) this.opened(true);
  }

  opened(ok) {
    const cb = this.onOpened;
    this.onOpened = undefined;
    cb?.(ok);
  }

  onClose(socket) {
    if (socket !== this.socket || closing || this.dead) return;
    // The server closed a keep-alive connection (or it failed): poll again on a new one with the
    // same position; a poller that keeps losing its connection is given up.
    if (++this.reconnects > MAX_RECONNECTS) {
      this.kill('connection closed too often');
      return;
    }
    c.reconnects++;
    setTimeout(() => this.connect(), 50 * this.reconnects);
  }

  kill(why) {
    if (this.dead) return;
    this.dead = true;
    noteError(why);
    this.socket?.destroy();
    this.opened(false);
    if (phase.seen && this.got < phase.count) pollerDone();
  }

  onData(buf, n) {
    let data = buf.subarray(0, n);
    c.bytesIn += n;
    if (this.pending) {
      data = Buffer.concat([this.pending, data]);
      this.pending = undefined;
    }
    let off = 0;
    while (off < data.length) {
      const end = this.response(data, off);
      if (end < 0) {
        // Incomplete: keep a copy (the shared read buffer is reused by the next read).
        this.pending = Buffer.from(data.subarray(off));
        if (end === -2) this.kill('response head too long');
        return;
      }
      off = end;
    }
  }

  /** Parses and handles one response at `off`; returns the offset after it, -1 if incomplete. */
  response(data, off) {
    const he = data.indexOf(CRLF2, off);
    if (he < 0) return data.length - off > MAX_HEAD ? -2 : -1;
    const head = data.toString('latin1', off, he);
    const status = Number(head.slice(9, 12));
    let length = -1;
    let chunked = false;
    let setCookies;
    let cursorHeaders;
    const wanted = cfg.cursorFrom;
    let i = head.indexOf('\r\n');
    while (i >= 0) {
      const next = head.indexOf('\r\n', i + 2);
      const line = next < 0 ? head.slice(i + 2) : head.slice(i + 2, next);
      i = next;
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).toLowerCase();
      if (name === 'content-length') length = Number(line.slice(colon + 1));
      else if (name === 'transfer-encoding') chunked = /chunked/i.test(line);
      else if (name === 'set-cookie') (setCookies ??= []).push(line.slice(colon + 1).trim());
      else if (wanted && wanted.has(name)) (cursorHeaders ??= {})[name] = line.slice(colon + 1).trim();
    }
    const bodyStart = he + 4;
    let body;
    let end;
    if (chunked) {
      const r = dechunk(data, bodyStart);
      if (!r) return -1;
      [body, end] = r;
    } else {
      if (length < 0) length = 0; // every answer here carries a length; treat others as empty
      end = bodyStart + length;
      if (end > data.length) return -1;
      body = data.subarray(bodyStart, end);
    }
    this.handle(status, body, setCookies, cursorHeaders);
    return end;
  }

  handle(status, body, setCookies, cursorHeaders) {
    c.statuses[status] = (c.statuses[status] ?? 0) + 1;
    if (setCookies) {
      for (const sc of setCookies) {
        const pair = sc.slice(0, sc.indexOf(';') < 0 ? sc.length : sc.indexOf(';'));
        const eq = pair.indexOf('=');
        if (eq < 1) continue;
        const name = pair.slice(0, eq).trim();
        if (/max-age=0/i.test(sc)) this.cookies.delete(name);
        else this.cookies.set(name, pair.slice(eq + 1).trim());
      }
    }
    if (this.creating) {
      if (status === 200 && this.cookies.has('connection_token')) {
        this.creating = false;
        this.send(); // the first poll; opened() fires there
      } else {
        this.kill(`session not created: HTTP ${status} ${body.toString('latin1', 0, Math.min(body.length, 200))}`);
      }
      return;
    }
    c.responses++;
    if (status !== 200) {
      noteError(`HTTP ${status} ${body.toString('latin1', 0, Math.min(body.length, 200))}`);
      // 400 on a bad cookie clears the cookies: the next GET creates a new session.
      if (cfg.longpoll.cookies && !this.cookies.has('connection_token')) {
        this.creating = true;
        c.sessionRestarts++;
      }
      if (++this.errorsInRow > MAX_CONSECUTIVE_ERRORS) this.kill('too many error answers in a row');
      else setTimeout(() => this.send(), 100);
      return;
    }
    this.errorsInRow = 0;
    const waited = nowUs() - Math.max(this.sentAt, phase.startUs);
    c.pollWait.add(waited);
    if (waited > this.longestWait) this.longestWait = waited;
    if (cursorHeaders) {
      let s = '';
      for (const [reqName, respName] of cfg.cursorPairs) if (cursorHeaders[respName] !== undefined) s += `${reqName}: ${cursorHeaders[respName]}\r\n`;
      this.cursor = s;
    }
    // The gateway answers a poll for a session that ended with a new one ("ok"): events between
    // the two are lost, which the counters will show.
    if (cfg.longpoll.cookies && body.length === 4 && body.toString('latin1') === '"ok"') c.sessionRestarts++;
    const k = this.scan(body);
    if (k > 0) c.eventResponses++;
    else c.emptyResponses++;
    this.send();
  }

  /** Counts the benchmark events in a response body; returns how many there were. */
  scan(body) {
    let pos = body.indexOf(PAT);
    if (pos < 0) return 0;
    const now = nowUs();
    let k = 0;
    while (pos >= 0 && pos + PAT.length + TS_DIGITS <= body.length) {
      k++;
      const t = readDigits(body, pos + PAT.length, TS_DIGITS);
      const id = readId(body, pos);
      if (id < 0) c.unparsed++;
      else this.event(id, now - t);
      pos = body.indexOf(PAT, pos + PAT.length + TS_DIGITS);
    }
    return k;
  }

  event(id, latencyUs) {
    this.primed = true;
    const k = id - phase.firstId;
    if (!phase.seen || k < 0 || k >= phase.count) {
      c.outside++;
      return;
    }
    const at = this.slot * phase.count + k;
    const seen = phase.seen[at];
    if (seen < 255) phase.seen[at] = seen + 1;
    if (seen > 0) {
      c.duplicates++;
      return;
    }
    c.delivered++;
    c.hist[Math.floor((k * FIFTHS) / phase.count)].add(latencyUs);
    if (++this.got === phase.count && !this.dead) pollerDone();
  }
}

/** The id of the event whose `"t":"` starts at `pos`: `"id":"<digits>","data":{"t":"`; -1 if not so. */
function readId(buf, pos) {
  const b = pos - BEFORE.length;
  if (b < ID_OPEN.length + 1) return -1;
  for (let j = 0; j < BEFORE.length; j++) if (buf[b + j] !== BEFORE[j]) return -1;
  let d = b - 1;
  let v = 0;
  let mul = 1;
  while (d >= 0 && buf[d] >= 48 && buf[d] <= 57 && b - d <= 15) {
    v += (buf[d] - 48) * mul;
    mul *= 10;
    d--;
  }
  if (d === b - 1) return -1;
  const o = d - ID_OPEN.length + 1;
  if (o < 0) return -1;
  for (let j = 0; j < ID_OPEN.length; j++) if (buf[o + j] !== ID_OPEN[j]) return -1;
  return v;
}

/** A chunked body at `start`: [body, end offset], or undefined while incomplete. */
function dechunk(data, start) {
  const parts = [];
  let p = start;
  for (;;) {
    const eol = data.indexOf('\r\n', p, 'latin1');
    if (eol < 0) return undefined;
    const size = parseInt(data.toString('latin1', p, eol), 16);
    if (!Number.isFinite(size)) throw new Error('bad chunk size');
    p = eol + 2;
    if (size === 0) {
      // No trailers expected: the last chunk is followed by an empty line.
      if (data.length < p + 2) return undefined;
      return [Buffer.concat(parts), p + 2];
    }
    if (data.length < p + size + 2) return undefined;
    parts.push(data.subarray(p, p + size));
    p += size + 2;
  }
}

function pollerDone() {
  phase.done++;
  checkReached();
}

function checkReached() {
  if (!phase.reachedSent && phase.done >= pollers.length) {
    phase.reachedSent = true;
    process.send({ evt: 'reached', seq: phase.seq, at: nowUs() });
  }
}

function openOne(slot, index) {
  return new Promise((resolve) => {
    const p = new Poller(slot, index);
    pollers.push(p);
    const timer = setTimeout(() => p.kill('not opened within 30 s'), 30_000);
    p.onOpened = (ok) => {
      clearTimeout(timer);
      resolve(ok);
    };
    p.connect();
  });
}

async function open({ count, firstIndex, concurrency }) {
  const t0 = Date.now();
  let next = 0;
  let ok = 0;
  const samplesBefore = c.errorSamples.length;
  async function lane() {
    while (next < count) {
      const i = next++;
      if (await openOne(pollers.length, firstIndex + i)) ok++;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  process.send({ evt: 'opened', ok, failed: count - ok, failureSamples: c.errorSamples.slice(samplesBefore), ms: Date.now() - t0 });
}

function stats() {
  let lost = 0;
  let live = 0;
  let incomplete = 0;
  // Pollers by the longest wait for one poll answer in this phase: the stragglers.
  const longest = new Histogram();
  for (const p of pollers) {
    longest.add(p.longestWait);
    if (!p.dead) live++;
    if (phase.seen && p.got < phase.count) {
      lost += phase.count - p.got;
      incomplete++;
    }
  }
  process.send({
    evt: 'stats',
    seq: phase.seq,
    pollers: pollers.length,
    live,
    incompletePollers: incomplete,
    lost,
    responses: c.responses,
    eventResponses: c.eventResponses,
    emptyResponses: c.emptyResponses,
    delivered: c.delivered,
    duplicates: c.duplicates,
    outside: c.outside,
    unparsed: c.unparsed,
    statuses: c.statuses,
    socketErrors: c.socketErrors,
    errorSamples: c.errorSamples,
    reconnects: c.reconnects,
    sessionRestarts: c.sessionRestarts,
    bytesIn: c.bytesIn,
    hist: c.hist.map((h) => ({ counts: h.counts, max: h.max })),
    pollWait: { counts: c.pollWait.counts, max: c.pollWait.max },
    longestWait: { counts: longest.counts, max: longest.max },
    cpuUs: process.cpuUsage(),
    rss: process.memoryUsage.rss(),
  });
}

process.on('message', async (m) => {
  switch (m.cmd) {
    case 'init': {
      cfg = m;
      const lp = cfg.longpoll;
      if (typeof lp?.path !== 'string') throw new Error('init: longpoll.path missing');
      cfg.cursorPairs = Object.entries(lp.cursor ?? {}).map(([reqName, respName]) => [reqName, respName.toLowerCase()]);
      cfg.cursorFrom = cfg.cursorPairs.length ? new Set(cfg.cursorPairs.map(([, r]) => r)) : undefined;
      requestHead = `GET ${lp.path} HTTP/1.1\r\nHost: ${cfg.host}:${cfg.port}\r\nAccept: application/json\r\n`;
      process.send({ evt: 'ready', pid: process.pid });
      break;
    }
    case 'open':
      await open(m);
      break;
    case 'primed':
      process.send({ evt: 'primed', primed: pollers.filter((p) => p.primed && !p.dead).length, live: pollers.filter((p) => !p.dead).length });
      break;
    case 'phase':
      phase.seq = m.seq;
      phase.firstId = m.firstId;
      phase.count = m.count;
      phase.seen = new Uint8Array(pollers.length * m.count);
      phase.done = 0;
      phase.reachedSent = false;
      phase.startUs = nowUs();
      c = freshCounters();
      for (const p of pollers) {
        p.got = 0;
        p.longestWait = 0;
        if (p.dead) phase.done++;
      }
      process.send({ evt: 'phased', seq: m.seq });
      checkReached();
      break;
    case 'stats':
      stats();
      break;
    case 'close':
      closing = true;
      for (const p of pollers) p.socket?.destroy();
      process.send({ evt: 'closed' }, () => process.exit(0));
      break;
  }
});

process.on('disconnect', () => process.exit(0));
