/**
 * The second half of the bad-input battery (bad-input.test.ts has the first): the input limits,
 * deep JSON, slow and unfinished requests, WebSocket frames no client library would send, huge
 * header blocks and invalid UTF-8 outside bodies. Every case ends in a defined 4xx or a closed
 * connection; afterwards no shard was restarted, /health answers, and an SSE stream opened before
 * the battery still receives an event submitted after it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LongPollClient, SseClient } from '../helpers/clients.js';
import { startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { greeting } from '../helpers/http.js';
import { TEST_JWT_SECRET } from '../helpers/jwt.js';
import { freshRequest, rawExchange } from '../helpers/raw-http.js';

const MAX_SUBS = 50;
const MAX_CONSTRAINTS = 5;
const MAX_URL = 4096;
const LP_BUFFER = 5;

/** Opens a raw TCP connection and resolves when it is closed by the server (or after `timeoutMs`). */
function rawSocket(port: number): Promise<{ sock: Socket; closed: Promise<{ data: string; closedAfterMs: number | undefined }> }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const sock = connect(port, '127.0.0.1', () => resolve({ sock, closed }));
    sock.on('error', reject);
    let data = '';
    sock.on('data', (c: Buffer) => (data += c.toString('latin1')));
    const closed = new Promise<{ data: string; closedAfterMs: number | undefined }>((res) => sock.on('close', () => res({ data, closedAfterMs: Date.now() - started })));
  });
}

/** A masked client frame (RFC 6455) with the given first byte (FIN + opcode) and payload. */
function frame(first: number, payload: Buffer, opts: { masked?: boolean; declaredLength?: number } = {}): Buffer {
  const masked = opts.masked ?? true;
  const len = opts.declaredLength ?? payload.length;
  const head: number[] = [first];
  if (len < 126) head.push((masked ? 0x80 : 0) | len);
  else if (len < 65536) head.push((masked ? 0x80 : 0) | 126, len >> 8, len & 0xff);
  else {
    head.push((masked ? 0x80 : 0) | 127, 0, 0, 0, 0);
    head.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  }
  if (!masked) return Buffer.concat([Buffer.from(head), payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from(head), mask, body]);
}

const UPGRADE = (port: number) =>
  `GET /_rig/v1/connection/ws HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nupgrade: websocket\r\nconnection: Upgrade\r\n` +
  `sec-websocket-key: ${randomBytes(16).toString('base64')}\r\nsec-websocket-version: 13\r\n\r\n`;

describe('bad input battery', () => {
  let gw: RunningGateway;
  let watcher: SseClient;
  const answers: Array<{ what: string; status: number }> = [];
  const subs = (n: number) => Array.from({ length: n }, (_, i) => ({ eventType: `t${i}` }));

  before(async () => {
    gw = await startGateway(undefined, {
      JWT_SECRET_KEY: TEST_JWT_SECRET,
      SHARDS: '2',
      MAX_SUBSCRIPTIONS_PER_CONNECTION: String(MAX_SUBS),
      MAX_CONSTRAINTS_PER_SUBSCRIPTION: String(MAX_CONSTRAINTS),
      MAX_URL_BYTES: String(MAX_URL),
      LONGPOLL_BUFFER_SIZE: String(LP_BUFFER),
      LONGPOLL_TIMEOUT_MS: '300',
      // A URL of MAX_URL_BYTES must fit the header value limit's neighbourhood; bodies stay small.
      MAX_REQUEST_BODY_BYTES: String(64 * 1024),
    });
    watcher = await SseClient.connect(gw.url, { subscriptions: JSON.stringify([{ eventType: 'greeting' }]) });
    await watcher.next((e) => e.event === 'rig.subscriptions_set', 5000);
  });
  after(async () => {
    watcher?.close();
    await gw.stop();
  });

  async function req(what: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; api?: boolean } = {}) {
    const r = await freshRequest(`${opts.api ? gw.apiUrl : gw.url}${path}`, opts);
    answers.push({ what, status: r.status });
    return r;
  }

  test('subscription limits: connect (SSE, long polling, WS) and PUT over the limit answer 400 with the limit named', async () => {
    const over = encodeURIComponent(JSON.stringify(subs(MAX_SUBS + 1)));
    for (const path of [`/_rig/v1/connection/sse?subscriptions=${over}`, `/_rig/v1/connection/longpolling?subscriptions=${over}`]) {
      const r = await req('connect over limit', path);
      assert.equal(r.status, 400, path);
      assert.equal(r.body, `Too many subscriptions: ${MAX_SUBS + 1} subscriptions given, the limit is ${MAX_SUBS} (MAX_SUBSCRIPTIONS_PER_CONNECTION).`);
    }
    // At the limit: accepted.
    const ok = await SseClient.connect(gw.url, { subscriptions: JSON.stringify(subs(MAX_SUBS)) });
    const set = await ok.next((e) => e.event === 'rig.subscriptions_set', 5000);
    assert.equal(set.data.data.length, MAX_SUBS);
    const token = await ok.token();

    // Thousands in a PUT: refused before any entry is parsed; the connection keeps its subscriptions.
    const put = (body: unknown) =>
      req('put', `/_rig/v1/connection/sse/${token}/subscriptions`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let r = await put({ subscriptions: subs(2000) });
    assert.equal(r.status, 400);
    assert.match(r.body, /^Too many subscriptions: 2000 subscriptions given, the limit is 50/);
    r = await put({ subscriptions: [{ eventType: 'x', oneOf: Array.from({ length: MAX_CONSTRAINTS + 1 }, (_, i) => ({ n: i })) }] });
    assert.equal(r.status, 400);
    assert.match(r.body, /6 constraint objects, the limit is 5 \(MAX_CONSTRAINTS_PER_SUBSCRIPTION\)/);
    r = await put({ subscriptions: [{ eventType: 'x', oneOf: [Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, i]))] }] });
    assert.equal(r.status, 400);
    assert.match(r.body, /40 fields, the limit is 32 \(MAX_FIELDS_PER_CONSTRAINT\)/);
    r = await put({ subscriptions: [{ eventType: 'greeting' }] });
    assert.equal(r.status, 204);
    ok.close();

    // A WebSocket is upgraded and closed with the limit text.
    const ws = await rawSocket(gw.publicPort);
    ws.sock.write(UPGRADE(gw.publicPort).replace('/_rig/v1/connection/ws', `/_rig/v1/connection/ws?subscriptions=${over}`));
    const closed = await ws.closed;
    assert.match(closed.data, /^HTTP\/1\.1 101/);
    assert.ok(closed.data.includes('Too many subscriptions: 51 subscriptions given'), 'close frame names the limit');
  });

  test(`URLs longer than MAX_URL_BYTES (${MAX_URL}) answer 414 on every public route, the proxy included`, async () => {
    const long = 'a'.repeat(MAX_URL);
    for (const path of [`/${long}`, `/_rig/v1/connection/sse?x=${long}`, `/_rig/health?${long}`, `/_rig/v1/events?${long}`, `/proxied/${'%C3%A4'.repeat(MAX_URL / 6)}x`]) {
      const r = await req('long url', path, { method: path.includes('events') ? 'POST' : 'GET' });
      assert.equal(r.status, 414, path.slice(0, 40));
      assert.equal(r.body, `Request URL too long: the limit is ${MAX_URL} bytes.`);
    }
    const ws = await rawExchange(gw.publicPort, UPGRADE(gw.publicPort).replace('/_rig/v1/connection/ws', `/_rig/v1/connection/ws?${long}`), 3000);
    answers.push({ what: 'ws long url', status: ws.status });
    assert.equal(ws.status, 414);
    // Just under the limit: routed as usual.
    const under = await req('url under limit', `/${'b'.repeat(MAX_URL - 10)}`);
    assert.equal(under.status, 404);
  });

  test('deeply nested JSON answers 400 everywhere a client sends JSON', async () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const sse = await SseClient.connect(gw.url, {});
    const token = await sse.token();
    const cases: Array<[string, string, Record<string, string>, string, boolean?]> = [
      ['PUT', `/_rig/v1/connection/sse/${token}/subscriptions`, { 'content-type': 'application/json' }, `{"subscriptions":[{"eventType":"a","oneOf":[{"f":${deep(20000)}}]}]}`],
      ['PUT', `/_rig/v1/connection/sse/${token}/subscriptions`, { 'content-type': 'application/json' }, deep(20000)],
      ['POST', '/_rig/v1/events', { 'content-type': 'application/cloudevents+json' }, `{"specversion":${deep(20000)},"id":"1","source":"s","type":"t"}`],
      ['POST', '/_rig/v1/events', { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': 's', 'ce-type': 't' }, deep(20000)],
      ['POST', '/v3/messages', { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': 's', 'ce-type': 't' }, deep(20000), true],
      ['POST', '/v3/apis', { 'content-type': 'application/json' }, `{"id":"x","name":${deep(20000)}}`, true],
    ];
    for (const [method, path, headers, body, api] of cases) {
      const r = await req(`deep ${path}`, path, { method, headers, body, ...(api ? { api } : {}) });
      assert.ok(r.status >= 400 && r.status < 500, `${method} ${path}: ${r.status} ${r.body.slice(0, 100)}`);
    }
    const query = `/_rig/v1/connection/sse?subscriptions=${encodeURIComponent(`[{"eventType":"a","oneOf":[{"f":${deep(500)}}]}]`)}`;
    const r = await req('deep connect', query);
    assert.equal(r.status, 400);
    sse.close();
  });

  test('invalid UTF-8 and control bytes in query strings and headers are refused without a server error', async () => {
    const port = gw.publicPort;
    for (const bytes of [
      Buffer.concat([Buffer.from('GET /_rig/v1/connection/sse?subscriptions='), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from(' HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')]),
      Buffer.concat([Buffer.from('GET /_rig/v1/connection/longpolling HTTP/1.1\r\nhost: x\r\ncookie: last_event_id='), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('\r\nconnection: close\r\n\r\n')]),
      Buffer.concat([Buffer.from('PUT /_rig/v1/connection/sse/abc/subscriptions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer '), Buffer.from([0xff, 0x00, 0x01]), Buffer.from('\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}')]),
      Buffer.concat([Buffer.from('POST /_rig/v1/events HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nce-specversion: 1.0\r\nce-id: 1\r\nce-source: s\r\nce-type: '), Buffer.from([0xc0, 0xaf]), Buffer.from('\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}')]),
      Buffer.concat([Buffer.from('GET /proxied/'), Buffer.from([0x80, 0x81]), Buffer.from('?jwt=%ff%fe HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')]),
    ]) {
      const r = await rawExchange(port, bytes, 3000);
      answers.push({ what: 'utf8', status: r.status });
      assert.ok(r.status === 0 || (r.status >= 200 && r.status < 500), `${bytes.toString('latin1').slice(0, 50)}: ${r.status}`);
    }
  });

  test('huge header blocks, many headers and header blocks split over packets: 431 or a closed connection', async () => {
    const port = gw.publicPort;
    const many = Array.from({ length: 2000 }, (_, i) => `x-h${i}: v\r\n`).join('');
    for (const bytes of [
      `GET /_rig/health HTTP/1.1\r\nhost: x\r\n${many}connection: close\r\n\r\n`,
      `GET /_rig/health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(600_000)}\r\nconnection: close\r\n\r\n`,
      `GET /${'p'.repeat(600_000)} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`,
    ]) {
      const r = await rawExchange(port, bytes, 5000);
      answers.push({ what: 'huge headers', status: r.status });
      assert.ok(r.status === 0 || r.status === 431 || r.status === 414 || r.status === 200, `${bytes.slice(0, 30)}: ${r.status}`);
    }
    // The same 6 KB header block in one write and in two writes 100 ms apart.
    const block = `GET /_rig/health HTTP/1.1\r\nhost: x\r\nx-pad: ${'a'.repeat(6000)}\r\nconnection: close\r\n\r\n`;
    const whole = await rawExchange(port, block, 3000);
    assert.equal(whole.status, 200, 'a 6 KB header block in one packet is read');
    const split = await rawSocket(port);
    split.sock.write(block.slice(0, 3000));
    await sleep(100);
    split.sock.write(block.slice(3000));
    const splitAnswer = await Promise.race([split.closed, sleep(5000).then(() => ({ data: 'timeout', closedAfterMs: undefined }))]);
    split.sock.destroy();
    answers.push({ what: 'split header block', status: Number(/^HTTP\/1\.1 (\d+)/.exec(splitAnswer.data)?.[1] ?? 0) });
    // uWS buffers at most 4 KB of an unfinished header block: such a request is closed unanswered.
    assert.ok(splitAnswer.data === '' || /^HTTP\/1\.1 200/.test(splitAnswer.data), `split: ${splitAnswer.data.slice(0, 40)}`);
  });

  test('slow and unfinished requests do not block other clients and are closed by the HTTP idle timeout', async (t) => {
    const port = gw.publicPort;
    // Headers byte by byte, 50 ms apart; never finished.
    const dribble = await rawSocket(port);
    const head = 'GET /_rig/health HTTP/1.1\r\nhost: x\r\nx-slow: ';
    let stop = false;
    void (async () => {
      for (let i = 0; !stop && !dribble.sock.destroyed; i++) {
        dribble.sock.write(i < head.length ? head[i]! : 'a');
        await sleep(50);
      }
    })();
    // Headers never finished.
    const stalledHead = await rawSocket(port);
    stalledHead.sock.write('POST /_rig/v1/events HTTP/1.1\r\nhost: x\r\n');
    // Body never finished.
    const stalledBody = await rawSocket(port);
    stalledBody.sock.write('POST /_rig/v1/events HTTP/1.1\r\nhost: x\r\ncontent-type: application/cloudevents+json\r\ncontent-length: 1000\r\n\r\n{"spec');
    // A proxied request body never finished (no route: answered 404 once the headers are in).
    const stalledProxy = await rawSocket(port);
    stalledProxy.sock.write('POST /nowhere HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\nabc');

    // Meanwhile other clients are served.
    for (let i = 0; i < 10; i++) {
      const r = await req('health during slowloris', '/_rig/health');
      assert.equal(r.status, 200);
    }
    const ev = await req('event during slowloris', '/_rig/v1/events', { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(greeting('during-slowloris')) });
    assert.equal(ev.status, 202);
    await watcher.next((e) => e.event === 'greeting' && e.data.data.name === 'during-slowloris', 5000);

    const bound = (p: Promise<{ data: string; closedAfterMs: number | undefined }>) =>
      Promise.race([p, sleep(25_000).then(() => ({ data: 'still open', closedAfterMs: undefined }))]);
    const [h, b, pr] = await Promise.all([bound(stalledHead.closed), bound(stalledBody.closed), bound(stalledProxy.closed)]);
    stop = true;
    const d = await bound(dribble.closed);
    for (const s of [dribble, stalledHead, stalledBody, stalledProxy]) s.sock.destroy();
    t.diagnostic(`closed after ms: unfinished head ${h.closedAfterMs}, unfinished body ${b.closedAfterMs}, unfinished proxy body ${pr.closedAfterMs}, dribbled head ${d.closedAfterMs}`);
    assert.notEqual(h.closedAfterMs, undefined, 'an unfinished header block is closed');
    assert.notEqual(b.closedAfterMs, undefined, 'an unfinished body is closed');
    assert.notEqual(pr.closedAfterMs, undefined, 'an unfinished proxied body is closed');
    assert.notEqual(d.closedAfterMs, undefined, 'a header block dribbled byte by byte is closed');
    assert.ok(!/^HTTP\/1\.1 5/.test(b.data) && !/^HTTP\/1\.1 5/.test(pr.data));
  });

  test('WebSocket junk frames (invalid opcodes, unmasked, oversized, invalid UTF-8, fragmented garbage) close the socket', async () => {
    const frames: Array<[string, Buffer]> = [
      ['reserved opcode 0x3', frame(0x83, Buffer.from('x'))],
      ['reserved control opcode 0xB', frame(0x8b, Buffer.from('x'))],
      ['RSV bits set', frame(0xf1, Buffer.from('x'))],
      // uWS does not check the mask bit: it reads the next 4 bytes as the mask, so an unmasked frame
      // waits for 4 more bytes (and is then a garbled text frame). Until they come the connection is
      // left to the heartbeat (HEARTBEAT_INTERVAL_MS); here they come at once.
      ['unmasked text', Buffer.concat([frame(0x81, Buffer.from('hi'), { masked: false }), Buffer.from('abcd')])],
      ['oversized text (declared 1 GB)', frame(0x81, Buffer.alloc(16), { declaredLength: 1 << 30 })],
      ['oversized control frame', frame(0x89, Buffer.alloc(200))],
      ['invalid UTF-8 text', frame(0x81, Buffer.from([0xc3, 0x28, 0xff]))],
      ['continuation without start', frame(0x80, Buffer.from('x'))],
      ['fragmented garbage', Buffer.concat([frame(0x01, Buffer.from([0xe2, 0x82])), frame(0x02, Buffer.from('x')), frame(0x80, Buffer.from([0xff]))])],
      ['fragmented ping', frame(0x09, Buffer.from('x'))],
      ['random bytes', randomBytes(64)],
    ];
    for (const [what, bytes] of frames) {
      const s = await rawSocket(gw.publicPort);
      s.sock.write(UPGRADE(gw.publicPort));
      await sleep(50);
      s.sock.write(bytes);
      const closed = await Promise.race([s.closed, sleep(5000).then(() => ({ data: 'still open', closedAfterMs: undefined }))]);
      s.sock.destroy();
      answers.push({ what: `ws ${what}`, status: 101 });
      assert.notEqual(closed.closedAfterMs, undefined, `${what}: closed`);
      assert.match(closed.data, /^HTTP\/1\.1 101/, what);
    }
  });

  test(`a long-polling session that stops polling keeps at most LONGPOLL_BUFFER_SIZE (${LP_BUFFER}) events, the newest`, async () => {
    const lp = new LongPollClient(gw.url);
    const created = await lp.get({ subscriptions: JSON.stringify([{ eventType: 'greeting' }]) });
    assert.equal(created.status, 200);
    await lp.poll((e) => e.event === 'rig.subscriptions_set');
    // Through the internal API, which routes in main in the order received: separate submissions
    // through the public port may land on different shards, and their order is not guaranteed.
    for (let i = 0; i < LP_BUFFER * 4; i++) {
      const ev = await req('lp event', '/v3/messages', { api: true, method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(greeting(`lp-${i}`)) });
      assert.equal(ev.status, 202);
    }
    await watcher.next((e) => e.event === 'greeting' && e.data.data.name === `lp-${LP_BUFFER * 4 - 1}`, 5000);
    const before = lp.events.length;
    const r = await lp.get();
    assert.equal(r.status, 200);
    const names = lp.events.slice(before).filter((e) => e.event === 'greeting').map((e) => e.data.data.name);
    assert.deepEqual(names, Array.from({ length: LP_BUFFER }, (_, i) => `lp-${LP_BUFFER * 3 + i}`));
  });

  test('after the battery: no 5xx, no shard restarted, health answers, the early SSE stream still receives events', async () => {
    assert.deepEqual(answers.filter((a) => a.status >= 500), []);
    const output = gw.output();
    assert.ok(!/restarting this shard|exited \(code|uncaught/i.test(output), output.slice(-2000));
    assert.equal(watcher.ended, false);
    const r = await req('event after battery', '/_rig/v1/events', { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(greeting('after-battery-2')) });
    assert.equal(r.status, 202);
    await watcher.next((e) => e.event === 'greeting' && e.data.data.name === 'after-battery-2', 5000);
    assert.equal((await req('health', '/_rig/health')).status, 200);
    const health = await req('api health', '/health', { api: true });
    assert.equal(health.status, 200);
    const ready = await req('ready', '/ready', { api: true });
    assert.equal(ready.status, 200, ready.body);
    assert.equal(gw.proc.exitCode, null);
  });
});
