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
 *   -> {cmd:'init', host, port, subscribe: {sse?: {path, ready}, ws?: {path, ready, hello?}}, sampleEvery}
 *   -> {cmd:'connect', transport, count, firstIndex, concurrency}  <- {evt:'connected', ...}
 *   -> {cmd:'expect', add, seq}   (every live connection should now have `add` more events)
 *                                  <- {evt:'reached', seq, at, delivered} once all have them
 *   -> {cmd:'sync', seq}          (give up on missing events; count them as lost) <- {evt:'synced', seq, lost}
 *   -> {cmd:'stats', reset}       <- {evt:'stats', delivered, reads, latencies: {sse, ws}, cpuUs, ...}
 *   -> {cmd:'close'}              (destroy every socket and exit)
 */
import net from 'node:net';

const PAT = Buffer.from('"t":"');
const TS_DIGITS = 16;
const MATCH_LEN = PAT.length + TS_DIGITS;
const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const READ_BUF = Buffer.allocUnsafe(256 * 1024);
const SCRATCH = Buffer.allocUnsafe(2 * MATCH_LEN);
// A pong with an all-zero mask key (legal: the client must mask, any key will do).
const PONG_EMPTY = Buffer.from([0x8a, 0x80, 0, 0, 0, 0]);

function nowUs() {
  const t = process.hrtime();
  return t[0] * 1e6 + t[1] / 1e3;
}

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
  }

  onData(buf, n) {
    let data = buf.subarray(0, n);
    if (this.state === 2) {
      reads++;
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
        if (this.sampled) latencies.sse.push(nowUs() - readTs(s, pos + PAT.length));
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
      if (this.sampled) latencies.sse.push(nowUs() - readTs(data, pos + PAT.length));
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
            if (this.sampled) latencies.ws.push(nowUs() - readTs(data, at + PAT.length));
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
    if (failureSamples.length < 5) failureSamples.push(why);
    const cb = this.onSubscribed;
    this.onSubscribed = undefined;
    this.socket?.destroy();
    cb?.(false);
  }

  closed(reason) {
    if (this.dead) return;
    this.dead = true;
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

/** A client text frame (clients must mask; an all-zero mask key leaves the payload as it is). */
function maskedText(text) {
  const payload = Buffer.from(text, 'utf8');
  const n = payload.length;
  const hdr = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const frame = Buffer.alloc(hdr + 4 + n);
  frame[0] = 0x81;
  if (n < 126) frame[1] = 0x80 | n;
  else if (n < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(n), 2);
  }
  payload.copy(frame, hdr + 4);
  return frame;
}

function readTs(buf, at) {
  let v = 0;
  for (let j = 0; j < TS_DIGITS; j++) v = v * 10 + (buf[at + j] - 48);
  return v;
}

function checkReached() {
  if (!reachedSent && doneConns >= conns.length) {
    reachedSent = true;
    process.send({ evt: 'reached', seq: expectSeq, at: nowUs(), delivered });
  }
}

function request(transport, host, port) {
  const path = cfg.subscribe[transport].path;
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${host}:${port}`];
  if (transport === 'ws') {
    lines.push('Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${WS_KEY}`, 'Sec-WebSocket-Version: 13');
  } else {
    lines.push('Accept: text/event-stream');
  }
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
}

function openOne(index, transport) {
  return new Promise((resolve) => {
    const c = new Conn(index, transport, index % cfg.sampleEvery === 0);
    const req = request(transport, cfg.host, cfg.port);
    const timer = setTimeout(() => c.fail(`not subscribed within 30 s (waiting for ${JSON.stringify(c.spec.ready)})`), 30_000);
    c.onSubscribed = (ok) => {
      clearTimeout(timer);
      if (ok) {
        c.count = 0;
        c.done = expected === 0;
        if (c.done) doneConns++;
        conns.push(c);
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
  const msg = {
    evt: 'stats',
    delivered,
    reads,
    lost,
    latencies: { sse: Float64Array.from(latencies.sse), ws: Float64Array.from(latencies.ws) },
    cpuUs: process.cpuUsage(),
    rss: process.memoryUsage.rss(),
    connections: conns.length,
    live,
    sampled: conns.reduce((a, c) => a + (c.sampled && !c.dead ? 1 : 0), 0),
    failures,
    disconnects,
    disconnectReasons,
  };
  if (reset) {
    delivered = 0;
    reads = 0;
    lost = 0;
    latencies = { sse: [], ws: [] };
  }
  process.send(msg);
}

process.on('message', async (m) => {
  switch (m.cmd) {
    case 'init':
      cfg = m;
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
        c.done = c.dead || c.count >= expected;
        if (c.done) doneConns++;
      }
      reachedSent = false;
      checkReached();
      break;
    case 'sync': {
      let missing = 0;
      for (const c of conns) {
        if (!c.dead && c.count < expected) {
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
    case 'close':
      for (const c of conns) {
        c.dead = true;
        c.socket.destroy();
      }
      process.send({ evt: 'closed' }, () => process.exit(0));
      break;
  }
});

process.on('disconnect', () => process.exit(0));
