/**
 * Fan-out load client: one process holding many raw SSE and WebSocket connections, driven by the
 * orchestrator (bench/fanout.mjs) over the IPC channel. It must not be the bottleneck, so it uses
 * no HTTP or WebSocket library: each connection is a `net.Socket` that writes a canned `GET` or
 * upgrade request and scans what arrives. All sockets of the process share one read buffer
 * (`onread`), so a read allocates nothing.
 *
 * Counting: every benchmark event carries `"t":"<16 digits>"` (its publish time in microseconds of
 * CLOCK_MONOTONIC), which occurs nowhere else, so an SSE stream is counted by searching that
 * pattern in the raw bytes (chunked-encoding headers never split a frame). WebSocket streams are
 * parsed frame by frame and the pattern is counted inside text frames (a server may put several
 * events into one frame); pings are answered with pongs, which liveness checks need. Sampled
 * connections (every k-th, chosen by the orchestrator) also read the timestamp of every event and
 * record publish -> receipt latency.
 *
 * What makes a subscription live differs per server (bench/targets/): `subscribe.<transport>` =
 * {path, ready, hello?}. `ready` is a string the stream must contain first (the gateway's
 * `rig.subscriptions_set`), or 'headers' (SSE: the 200 response head) / 'upgrade' (WS: the 101).
 * `hello` is a text frame sent right after the upgrade (a protocol's connect command).
 *
 * Protocol (process.send / 'message', advanced serialization):
 *   -> {cmd:'init', host, port, subscribe: {sse?: {path, ready}, ws?: {path, ready, hello?}}, sampleEvery,
 *       resetOnClose?, jwt?}
 *   -> {cmd:'connect', transport, count, firstIndex, concurrency}  <- {evt:'connected', ...}
 *   -> {cmd:'expect', add, seq}   (every live connection should now have `add` more events)
 *                                  <- {evt:'reached', seq, at, delivered} once all have them
 *   -> {cmd:'sync', seq}          (give up on missing events; count them as lost) <- {evt:'synced', seq, lost}
 *   -> {cmd:'stats', reset}       <- {evt:'stats', delivered, reads, bytes, latencies: {sse, ws}, cpuUs, ...}
 *   -> {cmd:'close'}              (destroy every socket and exit)
 *
 * Slow consumers (fanout.mjs --mode slow):
 *   -> {cmd:'pause', stride, offset}  stop reading every stride-th live connection (never a
 *                                     sampled one; socket.pause(): the kernel buffers fill, then
 *                                     the server sees backpressure); paused connections are left
 *                                     out of `expect`            <- {evt:'paused', count}
 *   -> {cmd:'drain', maxMs, quietMs}  read the paused connections again without counting, until
 *                                     each was closed or nothing arrived for quietMs (at most maxMs),
 *                                     then close the rest     <- {evt:'drained', outcomes, ...}
 *
 * JWTs and reconnect storms (fanout.mjs --mode storm): with init's `jwt` = {alg: 'HS256'|'RS256',
 * key: secret or PKCS#8 PEM private key, expS}, every connection carries `jwt=<token>` in its
 * query; the token of connection i, generation g has `sub` "bench-<i>" and `jti` "bench-<i>-<g>",
 * so no two connections (and no two generations) share a token.
 *   -> {cmd:'prepare', stride, offset, gen}   sign generation `gen` for the selected connections
 *                                             (ahead of the storm, so signing is not timed)
 *                                             <- {evt:'prepared', count, ms}
 *   -> {cmd:'drop', stride, offset, fresh, jitterMs, attemptTimeoutMs, maxAttempts, boundMs}
 *        reset the selected connections at once, then reconnect each after a random 0..jitterMs
 *        delay, with its prepared token (fresh) or its old one; a failed attempt is retried after
 *        250..500 ms      <- {evt:'dropped', at, count}, later {evt:'recovered', ...}
 *   -> {cmd:'probe', transport, token}        one extra connection that must NOT be accepted
 *        (e.g. a token with a wrong signature)  <- {evt:'probed', accepted, reason}
 */
import { createHmac, createPrivateKey, sign as rsaSign } from 'node:crypto';
import net from 'node:net';
import { nowUs } from '../lib/common.mjs';
import { TS_DIGITS, readDigits, maskedText } from '../lib/client-wire.mjs';

const PAT = Buffer.from('"t":"');
const MATCH_LEN = PAT.length + TS_DIGITS;
const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const READ_BUF = Buffer.allocUnsafe(256 * 1024);
const SCRATCH = Buffer.allocUnsafe(2 * MATCH_LEN);
// A pong with an all-zero mask key (legal: the client must mask, any key will do).
const PONG_EMPTY = Buffer.from([0x8a, 0x80, 0, 0, 0, 0]);

let cfg;
const conns = [];
let expected = 0; // events every live connection should have received since the last stats reset
let doneConns = 0;
let reachedSent = true;
let expectSeq = 0;
let delivered = 0; // since the last stats reset
let reads = 0; // reads of subscribed connections since the last stats reset
let latencies = { sse: [], ws: [] };
let failures = 0;
let failureSamples = [];
let disconnects = 0;
let disconnectReasons = {};
let lost = 0;
let bytesIn = 0; // bytes read by live, unpaused connections since the last stats reset
let draining; // the running drain: {outcomes, bytes, lastByteAt}
let signer; // token of (index, generation), from init's `jwt`

class Conn {
  constructor(index, transport, sampled) {
    this.index = index;
    this.transport = transport;
    this.sampled = sampled;
    this.state = 0; // 0 = waiting for response head, 1 = waiting for the ready marker, 2 = live
    this.spec = cfg.subscribe[transport];
    this.head = '';
    this.tail = undefined; // unconsumed bytes carried to the next read (WS, handshake)
    this.tailBuf = undefined; // SSE: up to MATCH_LEN - 1 carried bytes
    this.tailLen = 0;
    this.count = 0;
    this.done = false;
    this.dead = false;
    this.socket = undefined;
    this.onSubscribed = undefined;
    this.token = undefined; // JWT sent in the query (storm mode)
    this.nextToken = undefined; // prepared for the next reconnect
    this.paused = false; // slow consumer: stopped reading
    this.drainBytes = 0;
    this.drainTail = '';
    this.pos = -1; // position in `conns`
  }

  onData(buf, n) {
    let data = buf.subarray(0, n);
    if (this.paused) {
      this.drained(data);
      return;
    }
    if (this.state === 2) {
      reads++;
      bytesIn += n;
      if (this.transport === 'sse' && (this.tailLen === 0 || n >= MATCH_LEN)) {
        this.sseLive(data);
        return;
      }
    }
    if (this.tailLen > 0) {
      data = Buffer.concat([this.tailBuf.subarray(0, this.tailLen), data]);
      this.tailLen = 0;
    }
    if (this.tail !== undefined) {
      data = Buffer.concat([this.tail, data]);
      this.tail = undefined;
    }
    if (this.state === 0) {
      this.head += data.toString('latin1');
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.head.length > 16384) this.fail('response head too long');
        return;
      }
      const status = this.head.slice(0, this.head.indexOf('\r\n'));
      const want = this.transport === 'ws' ? ' 101 ' : ' 200 ';
      if (!status.includes(want)) {
        this.fail(`unexpected response: ${this.head.slice(0, 300)}`);
        return;
      }
      const bodyStart = end + 4 - (this.head.length - data.length);
      this.head = '';
      this.state = 1;
      if (this.spec.hello !== undefined) this.socket.write(maskedText(this.spec.hello));
      if (this.spec.ready === 'headers' || this.spec.ready === 'upgrade') this.subscribed();
      data = data.subarray(bodyStart);
      if (data.length === 0) return;
    }
    if (this.transport === 'sse') this.sse(data);
    else this.ws(data);
  }

  sse(data) {
    let from = 0;
    if (this.state === 1) {
      // Before subscription the stream is tiny: keep it as text until the confirmation arrives.
      const marker = this.spec.ready;
      this.head += data.toString('latin1');
      const at = this.head.indexOf(marker);
      if (at < 0) {
        if (this.head.length > 65536) this.head = this.head.slice(-marker.length);
        return;
      }
      from = data.length - (this.head.length - (at + marker.length));
      if (from < 0) from = 0;
      this.head = '';
      this.subscribed();
    }
    this.scan(data, from, 0);
  }

  /**
   * A live SSE stream without copying the read: a match that started in the bytes carried over
   * from the previous read is completed in a small scratch buffer, the rest is searched in place.
   */
  sseLive(data) {
    let k = 0;
    let from = 0;
    const t = this.tailLen;
    if (t > 0) {
      this.tailBuf.copy(SCRATCH, 0, 0, t);
      data.copy(SCRATCH, t, 0, MATCH_LEN - 1);
      const s = SCRATCH.subarray(0, t + MATCH_LEN - 1);
      let pos = s.indexOf(PAT);
      while (pos >= 0 && pos < t) {
        k++;
        if (this.sampled) latencies.sse.push(nowUs() - readDigits(s, pos + PAT.length));
        from = pos + MATCH_LEN - t;
        pos = s.indexOf(PAT, pos + MATCH_LEN);
      }
      this.tailLen = 0;
    }
    this.scan(data, from, k);
  }

  scan(data, from, k) {
    let pos = data.indexOf(PAT, from);
    let consumed = from;
    while (pos >= 0) {
      if (pos + MATCH_LEN > data.length) break;
      k++;
      if (this.sampled) latencies.sse.push(nowUs() - readDigits(data, pos + PAT.length));
      consumed = pos + MATCH_LEN;
      pos = data.indexOf(PAT, consumed);
    }
    // A match can only start in the last MATCH_LEN - 1 bytes without being complete: carry them.
    const keepFrom = Math.max(consumed, data.length - (MATCH_LEN - 1));
    if (keepFrom < data.length) {
      this.tailBuf ??= Buffer.allocUnsafe(MATCH_LEN - 1);
      this.tailLen = data.copy(this.tailBuf, 0, keepFrom);
    }
    if (k > 0) this.counted(k);
  }

  ws(data) {
    let i = 0;
    let k = 0;
    const n = data.length;
    while (n - i >= 2) {
      const b0 = data[i];
      let len = data[i + 1] & 0x7f;
      let hdr = 2;
      if (len === 126) {
        if (n - i < 4) break;
        len = data.readUInt16BE(i + 2);
        hdr = 4;
      } else if (len === 127) {
        if (n - i < 10) break;
        len = Number(data.readBigUInt64BE(i + 2));
        hdr = 10;
      }
      if (n - i < hdr + len) break;
      const opcode = b0 & 0x0f;
      const p = i + hdr;
      if (opcode === 1) {
        if (this.state === 2) {
          const end = p + len;
          let at = data.indexOf(PAT, p);
          while (at >= 0 && at + MATCH_LEN <= end) {
            k++;
            if (this.sampled) latencies.ws.push(nowUs() - readDigits(data, at + PAT.length));
            at = data.indexOf(PAT, at + MATCH_LEN);
          }
        } else if (data.toString('latin1', p, p + len).includes(this.spec.ready)) {
          this.subscribed();
        }
      } else if (opcode === 9) {
        this.pong(data.subarray(p, p + len));
      } else if (opcode === 8) {
        const code = len >= 2 ? data.readUInt16BE(p) : 1005;
        this.closeReason = `ws close ${code} ${data.toString('latin1', p + 2, p + len)}`;
      }
      i = p + len;
    }
    if (i < n) this.tail = Buffer.from(data.subarray(i));
    if (k > 0) this.counted(k);
  }

  /** A paused connection being read again: count bytes, look for the server's close reason. */
  drained(data) {
    this.drainBytes += data.length;
    if (draining) {
      draining.bytes += data.length;
      draining.lastByteAt = Date.now();
    }
    if (this.transport === 'ws' && this.state === 2) {
      if (this.tail !== undefined) {
        data = Buffer.concat([this.tail, data]);
        this.tail = undefined;
      }
      this.ws(data); // parses frames (close frame -> closeReason, pings answered); counts nothing
      return;
    }
    // SSE: the gateway ends a slow stream with a rig.connection.closed event naming the reason.
    const text = this.drainTail + data.toString('latin1', Math.max(0, data.length - 4096));
    if (text.includes('slow_consumer')) this.closeReason ??= 'sse rig.connection.closed slow_consumer';
    else if (text.endsWith('\r\n0\r\n\r\n')) this.closeReason ??= 'sse response ended';
    this.drainTail = text.slice(-16);
  }

  pong(payload) {
    if (payload.length === 0) {
      this.socket.write(PONG_EMPTY);
      return;
    }
    const frame = Buffer.alloc(6 + payload.length);
    frame[0] = 0x8a;
    frame[1] = 0x80 | payload.length;
    payload.copy(frame, 6); // zero mask key: payload bytes unchanged
    this.socket.write(frame);
  }

  subscribed() {
    this.state = 2;
    const cb = this.onSubscribed;
    this.onSubscribed = undefined;
    cb?.(true);
  }

  counted(k) {
    if (this.paused) return;
    this.count += k;
    delivered += k;
    if (!this.done && this.count >= expected) {
      this.done = true;
      doneConns++;
      checkReached();
    }
  }

  fail(why) {
    if (this.dead) return;
    this.dead = true;
    failures++;
    this.failReason = why;
    if (failureSamples.length < 5) failureSamples.push(why);
    const cb = this.onSubscribed;
    this.onSubscribed = undefined;
    this.socket?.destroy();
    cb?.(false);
  }

  closed(reason) {
    if (this.dead) return;
    this.dead = true;
    if (this.paused) {
      // Only a paused connection that is read again notices that the server closed it.
      const r = this.closeReason ?? `closed by the server without a close frame (${reason})`;
      if (draining) draining.outcomes[r] = (draining.outcomes[r] ?? 0) + 1;
      return;
    }
    if (this.state === 2) {
      disconnects++;
      const r = this.closeReason ?? reason;
      disconnectReasons[r] = (disconnectReasons[r] ?? 0) + 1;
      if (!this.done) {
        this.done = true;
        doneConns++;
        checkReached();
      }
    } else {
      this.dead = false;
      this.fail(`closed before subscribed: ${this.closeReason ?? reason}`);
    }
  }
}

function checkReached() {
  if (!reachedSent && doneConns >= conns.length) {
    reachedSent = true;
    process.send({ evt: 'reached', seq: expectSeq, at: nowUs(), delivered });
  }
}

function request(transport, host, port, token) {
  let path = cfg.subscribe[transport].path;
  if (token !== undefined) path += `${path.includes('?') ? '&' : '?'}jwt=${token}`;
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${host}:${port}`];
  if (transport === 'ws') {
    lines.push('Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${WS_KEY}`, 'Sec-WebSocket-Version: 13');
  } else {
    lines.push('Accept: text/event-stream');
  }
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
}

/**
 * Opens connection `index`; resolves true once it is subscribed. `opts.token`: the JWT to send
 * (default: generation 0 of this index when init had `jwt`); `opts.pos`: replace conns[pos]
 * instead of appending; `opts.timeoutMs`: give up on subscribing after this long (default 30 s).
 */
function openOne(index, transport, opts = {}) {
  return new Promise((resolve) => {
    const c = new Conn(index, transport, index % cfg.sampleEvery === 0);
    c.token = opts.token ?? (signer ? signer(index, 0) : undefined);
    const req = request(transport, cfg.host, cfg.port, c.token);
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const timer = setTimeout(() => c.fail(`not subscribed within ${timeoutMs / 1000} s (waiting for ${JSON.stringify(c.spec.ready)})`), timeoutMs);
    c.onSubscribed = (ok) => {
      clearTimeout(timer);
      if (ok) {
        // A connection is owed only the events announced after it subscribed.
        c.count = expected;
        c.done = true;
        doneConns++;
        if (opts.pos !== undefined) {
          if (conns[opts.pos]?.done) doneConns--;
          c.pos = opts.pos;
          conns[opts.pos] = c;
        } else {
          c.pos = conns.length;
          conns.push(c);
        }
      }
      c.subscribedAt = nowUs();
      if (opts.result) {
        opts.result.conn = c;
        opts.result.why = c.failReason;
      }
      resolve(ok);
    };
    const socket = net.connect({
      host: cfg.host,
      port: cfg.port,
      localAddress: `127.0.0.${1 + (index % 8)}`,
      onread: { buffer: READ_BUF, callback: (n, buf) => c.onData(buf, n) },
    });
    c.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(req));
    socket.on('error', (e) => {
      c.closeReason ??= e.code ?? e.message;
    });
    socket.on('close', () => c.closed('socket closed'));
  });
}

async function connect({ transport, count, firstIndex, concurrency }) {
  const t0 = Date.now();
  let next = 0;
  let ok = 0;
  const failedBefore = failures;
  async function lane() {
    while (next < count) {
      const i = next++;
      if (await openOne(firstIndex + i, transport)) ok++;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  process.send({ evt: 'connected', transport, ok, failed: failures - failedBefore, failureSamples, ms: Date.now() - t0, open: conns.length });
}

function stats(reset) {
  const live = conns.reduce((a, c) => a + (c.dead ? 0 : 1), 0);
  const liveByTransport = {};
  for (const c of conns) if (!c.dead) liveByTransport[c.transport] = (liveByTransport[c.transport] ?? 0) + 1;
  const msg = {
    evt: 'stats',
    delivered,
    reads,
    bytes: bytesIn,
    lost,
    paused: conns.reduce((a, c) => a + (c.paused && !c.dead ? 1 : 0), 0),
    latencies: { sse: Float64Array.from(latencies.sse), ws: Float64Array.from(latencies.ws) },
    cpuUs: process.cpuUsage(),
    rss: process.memoryUsage.rss(),
    connections: conns.length,
    live,
    liveByTransport,
    sampled: conns.reduce((a, c) => a + (c.sampled && !c.dead ? 1 : 0), 0),
    failures,
    disconnects,
    disconnectReasons,
  };
  if (reset) {
    delivered = 0;
    reads = 0;
    bytesIn = 0;
    lost = 0;
    latencies = { sse: [], ws: [] };
  }
  process.send(msg);
}

// ------------------------------------------------------------------------------------------------
// Slow consumers

function pause({ stride, offset }) {
  let count = 0;
  let j = 0;
  let want = 0;
  for (const c of conns) {
    if (c.dead || c.paused) continue;
    // Every stride-th live connection; a sampled one passes its turn to the next unsampled one.
    if (j++ % stride === offset) want++;
    if (want === 0 || c.sampled) continue;
    want--;
    c.paused = true;
    c.socket.pause();
    if (!c.done) {
      c.done = true;
      doneConns++;
    }
    count++;
  }
  checkReached();
  process.send({ evt: 'paused', count });
}

function drain({ maxMs = 10_000, quietMs = 1000 }) {
  const list = conns.filter((c) => c.paused && !c.dead);
  const t0 = Date.now();
  draining = { outcomes: {}, bytes: 0, lastByteAt: t0 };
  for (const c of list) c.socket.resume();
  // A connection whose stream the server ended (close frame, or the gateway's SSE
  // rig.connection.closed event; an ended SSE response may keep its socket a while) is done too.
  const ended = (c) => c.dead || c.closeReason !== undefined;
  const timer = setInterval(() => {
    const now = Date.now();
    if (!list.every(ended) && now - t0 < maxMs && now - draining.lastByteAt < quietMs) return;
    clearInterval(timer);
    const d = draining;
    draining = undefined;
    const open = [];
    for (const c of list) {
      if (c.dead) continue;
      if (c.closeReason !== undefined) d.outcomes[c.closeReason] = (d.outcomes[c.closeReason] ?? 0) + 1;
      else open.push(c); // kept by the server (and caught up)
      c.dead = true;
      c.socket.destroy();
    }
    const perConn = list.map((c) => c.drainBytes).sort((a, b) => a - b);
    process.send({
      evt: 'drained',
      paused: list.length,
      outcomes: d.outcomes,
      closedByServer: list.length - open.length,
      stillOpen: open.length,
      bytes: d.bytes,
      maxBytes: perConn.at(-1) ?? 0,
      ms: now - t0,
    });
  }, 100);
}

// ------------------------------------------------------------------------------------------------
// JWTs and reconnect storms

const b64url = (x) => Buffer.from(x).toString('base64url');

/** (index, generation) -> a signed JWT, with node:crypto only (HS256 or RS256). */
function makeSigner({ alg, key, expS = 3600 }) {
  const header = b64url(JSON.stringify({ alg, typ: 'JWT' }));
  const exp = Math.floor(Date.now() / 1000) + expS;
  let sig;
  if (alg === 'HS256') sig = (input) => createHmac('sha256', key).update(input).digest('base64url');
  else if (alg === 'RS256') {
    const pk = createPrivateKey(key);
    sig = (input) => rsaSign('sha256', Buffer.from(input), pk).toString('base64url');
  } else throw new Error(`jwt: unsupported alg ${alg}`);
  return (index, gen) => {
    const input = `${header}.${b64url(JSON.stringify({ sub: `bench-${index}`, jti: `bench-${index}-${gen}`, iat: exp - expS, exp }))}`;
    return `${input}.${sig(input)}`;
  };
}

const selected = (stride, offset) => conns.filter((c) => c.index % stride === offset);

function prepare({ stride, offset, gen }) {
  const t0 = Date.now();
  const list = selected(stride, offset);
  for (const c of list) c.nextToken = signer(c.index, gen);
  process.send({ evt: 'prepared', count: list.length, ms: Date.now() - t0 });
}

/** HTTP status or close reason of a failed attempt, as a short class name. */
function failureClass(why) {
  const status = /^unexpected response: HTTP\/1\.[01] (\d{3})/.exec(why);
  if (status) return `HTTP ${status[1]}`;
  const close = /ws close (\d+)/.exec(why);
  if (close) return `ws close ${close[1]} after the upgrade`;
  if (why.startsWith('not subscribed within')) return 'no answer in time';
  const code = /closed before subscribed: (E[A-Z]+)/.exec(why);
  if (code) return code[1];
  if (why === 'closed before subscribed: socket closed') return 'closed by the server before answering';
  return why.slice(0, 80);
}

function drop({ stride, offset, fresh, jitterMs = 1000, attemptTimeoutMs = 10_000, maxAttempts = 10, boundMs = 30_000 }) {
  const list = selected(stride, offset).filter((c) => !c.dead);
  const at = nowUs();
  const slots = list.map((c) => ({ index: c.index, transport: c.transport, pos: c.pos, token: fresh ? c.nextToken : c.token, attempts: 0, startAt: 0, doneAt: 0, ok: false }));
  for (const c of list) {
    c.dead = true; // closed by this client: not a disconnect
    // A reset, as when a network path fails: it also leaves no TIME_WAIT socket on this side, whose
    // ports would make the kernel's search for a free local port slow for every reconnect.
    c.socket.resetAndDestroy();
  }
  process.send({ evt: 'dropped', at, count: list.length });
  const failuresByClass = {};
  const handshakeUs = [];
  let pending = slots.length;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(bound);
    const done = slots.filter((s) => s.ok);
    process.send({
      evt: 'recovered',
      at,
      count: slots.length,
      ok: done.length,
      failedAttempts: Object.values(failuresByClass).reduce((a, b) => a + b, 0),
      failuresByClass,
      lastAt: done.reduce((a, s) => Math.max(a, s.doneAt), at),
      // Subscribed times since the drop (µs), for the recovery curve.
      doneAfterUs: Float64Array.from(done.map((s) => s.doneAt - at)),
      // Request sent -> subscribed, per successful attempt (µs): the server's share of the wait.
      handshakeUs: Float64Array.from(handshakeUs),
      attempts: slots.reduce((a, s) => a + s.attempts, 0),
    });
  };
  const bound = setTimeout(finish, boundMs);
  if (pending === 0) finish();
  const attempt = async (s) => {
    if (finished) return;
    s.attempts++;
    const t = nowUs();
    if (s.startAt === 0) s.startAt = t;
    const result = {};
    const ok = await openOne(s.index, s.transport, { token: s.token, pos: s.pos, timeoutMs: attemptTimeoutMs, result });
    if (ok) {
      s.ok = true;
      s.doneAt = result.conn.subscribedAt;
      handshakeUs.push(s.doneAt - t);
      if (--pending === 0) finish();
      return;
    }
    const k = failureClass(result.why ?? 'unknown');
    failuresByClass[k] = (failuresByClass[k] ?? 0) + 1;
    if (s.attempts >= maxAttempts) {
      if (--pending === 0) finish();
      return;
    }
    setTimeout(() => attempt(s), 250 + Math.random() * 250);
  };
  for (const s of slots) setTimeout(() => attempt(s), Math.random() * jitterMs);
}

/** One connection that the server must refuse (a token with a wrong signature). */
async function probe({ transport, token }) {
  const failedBefore = failures;
  const samplesBefore = failureSamples.length;
  const result = {};
  const ok = await openOne(1e9 + 1, transport, { token, timeoutMs: 10_000, result });
  if (ok) {
    const c = conns.pop();
    c.dead = true;
    c.socket.destroy();
    doneConns--;
  }
  // Not a failure of the benchmark's own connections.
  failures = failedBefore;
  failureSamples.length = samplesBefore;
  process.send({ evt: 'probed', accepted: ok, reason: result.why });
}

process.on('message', async (m) => {
  switch (m.cmd) {
    case 'init':
      cfg = m;
      if (cfg.jwt) signer = makeSigner(cfg.jwt);
      for (const t of Object.keys(cfg.subscribe)) {
        const spec = cfg.subscribe[t];
        if (typeof spec?.path !== 'string' || typeof spec.ready !== 'string') throw new Error(`init: subscribe.${t} needs path and ready`);
      }
      process.send({ evt: 'ready', pid: process.pid });
      break;
    case 'connect':
      await connect(m);
      break;
    case 'expect':
      expected += m.add;
      expectSeq = m.seq;
      doneConns = 0;
      for (const c of conns) {
        c.done = c.dead || c.paused || c.count >= expected;
        if (c.done) doneConns++;
      }
      reachedSent = false;
      checkReached();
      break;
    case 'sync': {
      let missing = 0;
      for (const c of conns) {
        if (!c.dead && !c.paused && c.count < expected) {
          missing += expected - c.count;
          c.count = expected;
        }
        c.done = true;
      }
      doneConns = conns.length;
      lost += missing;
      reachedSent = true;
      process.send({ evt: 'synced', seq: m.seq, lost: missing });
      break;
    }
    case 'stats':
      stats(m.reset);
      break;
    case 'pause':
      pause(m);
      break;
    case 'drain':
      drain(m);
      break;
    case 'prepare':
      prepare(m);
      break;
    case 'drop':
      drop(m);
      break;
    case 'probe':
      probe(m);
      break;
    case 'close':
      for (const c of conns) {
        c.dead = true;
        // init's resetOnClose: end with a reset, leaving no TIME_WAIT ports behind on this side.
        if (cfg?.resetOnClose) c.socket.resetAndDestroy();
        else c.socket.destroy();
      }
      process.send({ evt: 'closed' }, () => process.exit(0));
      break;
  }
});

process.on('disconnect', () => process.exit(0));
