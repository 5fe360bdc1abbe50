/**
 * Load client of the topic-spread benchmark (bench/topics.mjs): one process holding many raw
 * WebSocket connections, each subscribed to its own topics (bench/lib/topic-layout.mjs), driven
 * over the IPC channel. Like clients/fanout-client.mjs it uses no WebSocket library: a
 * `net.Socket` per connection writes a canned upgrade request, all sockets share one read buffer,
 * and events are counted by the `"t":"<16 digits>"` (publish time, µs CLOCK_MONOTONIC) every
 * benchmark event carries, inside text frames (a server may put several events in one frame).
 * Every delivery's publish -> receipt latency goes into a histogram (bench/lib/histogram.mjs).
 *
 * Each connection owes exactly the events of its topics: the orchestrator announces the topic id
 * of every event before publishing it (`expect`), and the client adds one to each of its
 * connections subscribed to that topic.
 *
 * Protocol (process.send / 'message', advanced serialization):
 *   -> {cmd:'init', host, port, n, target: 'gateway'|'node'|'centrifuge', basePath, ready,
 *       topicIds: {name: id}}                                          <- {evt:'ready'}
 *   -> {cmd:'connect', first, count, concurrency}   connections first..first+count-1 of n
 *                                       <- {evt:'connected', ok, failed, failureSamples, ms, subscriptions}
 *   -> {cmd:'expect', topics: Int32Array, seq}   one more event for every subscriber of each id
 *                                       <- {evt:'reached', seq, at} once every connection has them
 *   -> {cmd:'sync', seq}       count what is still missing as lost   <- {evt:'synced', seq, lost}
 *   -> {cmd:'stats', reset}    <- {evt:'stats', delivered, extra, lost, reads, histogram, max, cpuUs, ...}
 *   -> {cmd:'close'}           reset every socket and exit
 */
import net from 'node:net';
import { Histogram } from '../lib/histogram.mjs';
import { gatewaySubscriptions, topicsOf } from '../lib/topic-layout.mjs';
import { nowUs } from '../lib/common.mjs';
import { TS_DIGITS, readDigits, maskedText } from '../lib/client-wire.mjs';

const PAT = Buffer.from('"t":"');
const MATCH_LEN = PAT.length + TS_DIGITS;
const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const READ_BUF = Buffer.allocUnsafe(256 * 1024);
const PONG_EMPTY = Buffer.from([0x8a, 0x80, 0, 0, 0, 0]);

let cfg;
const conns = [];
/** topic id -> this process's connections subscribed to it. */
const byTopic = new Map();
let behind = 0; // connections that have fewer events than they are owed
let reachedSeq = -1;
let pendingSeq = -1;
let delivered = 0;
let reads = 0;
let lost = 0;
let hist = new Histogram();
let failures = 0;
const failureSamples = [];
let disconnects = 0;
const disconnectReasons = {};

class Conn {
  constructor(index) {
    this.index = index;
    this.state = 0; // 0 = waiting for the 101, 1 = waiting for the ready marker, 2 = live
    this.head = '';
    this.tail = undefined;
    this.count = 0;
    this.owed = 0;
    this.dead = false;
    this.onSubscribed = undefined;
  }

  onData(buf, n) {
    let data = buf.subarray(0, n);
    if (this.state === 2) reads++;
    if (this.tail !== undefined) {
      data = Buffer.concat([this.tail, data]);
      this.tail = undefined;
    }
    if (this.state === 0) {
      this.head += data.toString('latin1');
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!this.head.slice(0, this.head.indexOf('\r\n')).includes(' 101 ')) {
        this.fail(`unexpected response: ${this.head.slice(0, 300)}`);
        return;
      }
      const bodyStart = end + 4 - (this.head.length - data.length);
      this.head = '';
      this.state = 1;
      if (this.hello) this.socket.write(maskedText(this.hello));
      data = data.subarray(bodyStart);
    }
    this.frames(data);
  }

  frames(data) {
    let i = 0;
    let k = 0;
    const n = data.length;
    const t = nowUs();
    while (n - i >= 2) {
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
      const opcode = data[i] & 0x0f;
      const p = i + hdr;
      if (opcode === 1) {
        if (this.state === 2) {
          const end = p + len;
          let at = data.indexOf(PAT, p);
          while (at >= 0 && at + MATCH_LEN <= end) {
            k++;
            hist.add(t - readDigits(data, at + PAT.length));
            at = data.indexOf(PAT, at + MATCH_LEN);
          }
        } else if (data.toString('latin1', p, p + len).includes(cfg.ready)) {
          this.state = 2;
          const cb = this.onSubscribed;
          this.onSubscribed = undefined;
          cb?.(true);
        }
      } else if (opcode === 9) {
        this.pong(data.subarray(p, p + len));
      } else if (opcode === 8) {
        this.closeReason = `ws close ${len >= 2 ? data.readUInt16BE(p) : 1005}`;
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

  counted(k) {
    const wasBehind = this.count < this.owed;
    this.count += k;
    delivered += k;
    if (wasBehind && this.count >= this.owed) {
      behind--;
      checkReached();
    }
  }

  owe(k) {
    const wasBehind = this.count < this.owed;
    this.owed += k;
    if (!wasBehind && this.count < this.owed) behind++;
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

  closed() {
    if (this.dead) return;
    if (this.state !== 2) {
      this.fail(`closed before subscribed: ${this.closeReason ?? 'socket closed'}`);
      return;
    }
    this.dead = true;
    disconnects++;
    const r = this.closeReason ?? 'socket closed';
    disconnectReasons[r] = (disconnectReasons[r] ?? 0) + 1;
    // A closed connection receives nothing more: what it is owed stays missing (lost at sync).
  }
}

function checkReached() {
  if (behind === 0 && pendingSeq > reachedSeq) {
    reachedSeq = pendingSeq;
    process.send({ evt: 'reached', seq: pendingSeq, at: nowUs() });
  }
}

/** Path and connect command of connection i for the target (gateway and node: query; centrifuge: hello). */
function subscribeSpec(i) {
  if (cfg.target === 'centrifuge') {
    return { path: cfg.basePath, hello: JSON.stringify({ id: 1, method: 0, params: { data: { channels: topicsOf(i, cfg.n) } } }) };
  }
  return { path: `${cfg.basePath}?subscriptions=${encodeURIComponent(JSON.stringify(gatewaySubscriptions(i, cfg.n)))}` };
}

function openOne(index) {
  return new Promise((resolve) => {
    const c = new Conn(index);
    const spec = subscribeSpec(index);
    c.hello = spec.hello;
    const req = Buffer.from(
      [`GET ${spec.path} HTTP/1.1`, `Host: ${cfg.host}:${cfg.port}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${WS_KEY}`, 'Sec-WebSocket-Version: 13'].join('\r\n') + '\r\n\r\n',
      'latin1',
    );
    const timer = setTimeout(() => c.fail('not subscribed within 30 s'), 30_000);
    c.onSubscribed = (ok) => {
      clearTimeout(timer);
      if (ok) {
        conns.push(c);
        for (const t of topicsOf(index, cfg.n)) {
          const id = cfg.topicIds[t];
          let list = byTopic.get(id);
          if (!list) byTopic.set(id, (list = []));
          list.push(c);
        }
      }
      resolve(ok);
    };
    const socket = net.connect({
      host: cfg.host,
      port: cfg.port,
      // Several source addresses: 10 000+ connections to one port need more than one address's ports.
      localAddress: `127.0.0.${1 + (index % 8)}`,
      onread: { buffer: READ_BUF, callback: (n, buf) => c.onData(buf, n) },
    });
    c.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(req));
    socket.on('error', (e) => {
      c.closeReason ??= e.code ?? e.message;
    });
    socket.on('close', () => c.closed());
  });
}

async function connect({ first, count, concurrency }) {
  const t0 = Date.now();
  let next = 0;
  let ok = 0;
  const lane = async () => {
    while (next < count) if (await openOne(first + next++)) ok++;
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  const subscriptions = conns.reduce((x, c) => x + topicsOf(c.index, cfg.n).length, 0);
  process.send({ evt: 'connected', ok, failed: failures, failureSamples, ms: Date.now() - t0, subscriptions });
}

process.on('message', (m) => {
  switch (m.cmd) {
    case 'init':
      cfg = m;
      process.send({ evt: 'ready', pid: process.pid });
      break;
    case 'connect':
      connect(m);
      break;
    case 'expect':
      pendingSeq = m.seq;
      for (const id of m.topics) {
        const list = byTopic.get(id);
        if (list) for (const c of list) c.owe(1);
      }
      checkReached();
      break;
    case 'sync': {
      let missing = 0;
      for (const c of conns) {
        if (c.count < c.owed) {
          missing += c.owed - c.count;
          c.count = c.owed;
        }
      }
      behind = 0;
      lost += missing;
      reachedSeq = pendingSeq;
      process.send({ evt: 'synced', seq: m.seq, lost: missing });
      break;
    }
    case 'stats': {
      // More than owed: events a connection received for topics it did not subscribe to.
      const extra = conns.reduce((x, c) => x + Math.max(0, c.count - c.owed), 0);
      process.send({
        evt: 'stats',
        delivered,
        extra,
        lost,
        reads,
        histogram: hist.counts,
        max: hist.max,
        cpuUs: process.cpuUsage(),
        connections: conns.length,
        live: conns.reduce((x, c) => x + (c.dead ? 0 : 1), 0),
        failures,
        disconnects,
        disconnectReasons,
      });
      if (m.reset) {
        delivered = 0;
        reads = 0;
        lost = 0;
        hist = new Histogram();
      }
      break;
    }
    case 'close':
      for (const c of conns) {
        c.dead = true;
        c.socket.resetAndDestroy();
      }
      process.send({ evt: 'closed' }, () => process.exit(0));
      break;
  }
});

process.on('disconnect', () => process.exit(0));
