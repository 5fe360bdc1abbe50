/**
 * Upstreams and clients that misbehave, through the real gateway (2 shards): an upstream that
 * never answers (504 after PROXY_RECV_TIMEOUT), one that is down (502), one that breaks off
 * mid-response, and clients that go away mid-upload or mid-download. None of it may leak a socket
 * on either side, and the gateway keeps serving.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startGateway } from '../helpers/gateway.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { freshRequest } from '../helpers/raw-http.js';
import { echo, startUpstream } from '../helpers/upstream.js';
import type { Upstream } from '../helpers/upstream.js';
import { sleep, waitFor } from '../helpers/wait.js';

const RECV_TIMEOUT_MS = 700;

function api(id: string, port: number, endpoints: Array<[string, string, string]>): unknown {
  return {
    id,
    name: id,
    version_data: { default: { endpoints: endpoints.map(([eid, method, path_regex]) => ({ id: eid, method, path_regex })) } },
    proxy: { target_url: '127.0.0.1', port },
  };
}

/** Open file descriptors of a process (sockets included), Linux. */
function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

describe('proxy failures', () => {
  let hang: Upstream;
  let flaky: Upstream;
  let downPort: number;
  let gw: RunningGateway;
  let dir: string;

  before(async () => {
    // Reads the request, never answers.
    hang = await startUpstream(undefined, () => undefined);
    flaky = await startUpstream(undefined, (req, res, record) => {
      if (req.url === '/flaky/break') {
        // Headers and a first piece, then the connection dies.
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 1000 });
        res.write('partial');
        setTimeout(() => req.socket.destroy(), 50);
      } else if (req.url === '/flaky/stall') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('then nothing');
      } else if (req.url === '/flaky/endless') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const timer = setInterval(() => res.write('tick\n'), 20);
        res.on('close', () => clearInterval(timer));
      } else if (req.url === '/flaky/sink') {
        // Reads the upload and answers only once it is complete.
        req.on('end', () => res.end('done'));
      } else {
        echo(req, res, record);
      }
    });
    downPort = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'rig-proxy-fail-'));
    const file = join(dir, 'proxy.json');
    writeFileSync(file, JSON.stringify([
      api('hang', hang.port, [['hang', 'GET', '/hang'], ['hang-post', 'POST', '/hang']]),
      api('down', downPort, [['down', 'GET', '/down'], ['down-post', 'POST', '/down']]),
      api('flaky', flaky.port, [['break', 'GET', '/flaky/break'], ['stall', 'GET', '/flaky/stall'], ['endless', 'GET', '/flaky/endless'], ['sink', 'POST', '/flaky/sink'], ['ok', 'GET', '/flaky/ok']]),
    ]));
    gw = await startGateway(undefined, { PROXY_CONFIG_FILE: file, PROXY_RECV_TIMEOUT: String(RECV_TIMEOUT_MS) });
  });
  after(async () => {
    await gw?.stop();
    await Promise.all([hang?.close(), flaky?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('an upstream that never answers: 504 after PROXY_RECV_TIMEOUT, and its connections are closed', async () => {
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      freshRequest(`${gw.url}/hang`, i % 2 === 0 ? {} : { method: 'POST', body: 'x'.repeat(1000) })));
    const took = Date.now() - started;
    for (const r of answers) {
      assert.equal(r.status, 504);
      assert.equal(r.body, 'Gateway timeout.');
    }
    assert.ok(took >= RECV_TIMEOUT_MS - 50, `answered after ${took} ms`);
    assert.ok(took < RECV_TIMEOUT_MS + 4000, `answered after ${took} ms`);
    await waitFor(async () => (await hang.connections()) === 0, 5000, 'the gateway to close its connections to the hanging upstream');
  });

  test('an upstream that is down: 502 Bad gateway., and no socket is left behind', async () => {
    const pid = gw.proc.pid!;
    await freshRequest(`${gw.url}/down`); // warm-up: lazily created structures
    const before = fdCount(pid);
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) =>
        freshRequest(`${gw.url}/down`, i % 3 === 0 ? { method: 'POST', body: 'payload' } : {})));
      for (const r of answers) {
        assert.equal(r.status, 502);
        assert.equal(r.body, 'Bad gateway.');
        assert.equal(r.headers['access-control-allow-origin'], undefined, 'no CORS headers on 502 (as RIG)');
      }
    }
    await sleep(200);
    const afterwards = fdCount(pid);
    assert.ok(afterwards <= before + 4, `file descriptors ${before} -> ${afterwards}`);
  });

  test('an upstream that breaks off mid-response: the client\'s connection is closed, not left hanging', async () => {
    for (const path of ['/flaky/break', '/flaky/stall']) {
      const outcome = await new Promise<string>((resolve) => {
        const req = request(`${gw.url}${path}`, { agent: false }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c));
          res.on('end', () => resolve(`complete: ${body}`));
          res.on('error', () => resolve(`cut after ${JSON.stringify(body)}`));
          res.on('aborted', () => resolve(`cut after ${JSON.stringify(body)}`));
        });
        req.setTimeout(10_000, () => resolve('still hanging'));
        req.on('error', (e) => resolve(`error ${e.message}`));
        req.end();
      });
      assert.match(outcome, /^cut after "(partial|then nothing)"$/, `${path}: ${outcome}`);
    }
  });

  test('a client that goes away mid-upload aborts the upstream request', async () => {
    const before = flaky.requests.length;
    const sock = connect(gw.publicPort, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`POST /flaky/sink HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\ncontent-length: ${1024 * 1024}\r\n\r\n`);
    sock.write(Buffer.alloc(100_000, 1));
    await waitFor(() => flaky.requests.length > before && flaky.requests.at(-1)!.received > 0, 5000, 'the upload to start');
    sock.destroy();
    const record = flaky.requests.at(-1)!;
    await waitFor(() => record.aborted, 5000, 'the upstream to see its request aborted');
    assert.ok(record.received < 1024 * 1024);
    await waitFor(async () => (await flaky.connections()) === 0, 5000, 'the upstream connection to be closed');
  });

  test('a client that goes away mid-download stops the upstream response', async () => {
    const before = flaky.requests.length;
    await new Promise<void>((resolve, reject) => {
      const req = request(`${gw.url}/flaky/endless`, { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (e) => (e.message.includes('socket hang up') || e.message.includes('aborted') ? undefined : reject(e)));
      req.end();
    });
    await waitFor(() => flaky.requests.length > before, 5000);
    const record = flaky.requests.at(-1)!;
    await waitFor(() => record.responseClosedEarly, 5000, 'the upstream to see its response cut');
    await waitFor(async () => (await flaky.connections()) === 0, 5000, 'the upstream connection to be closed');
  });

  test('after all of it the gateway serves normally on both shards, with no errors logged', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await freshRequest(`${gw.url}/flaky/ok`);
      assert.equal(r.status, 200, r.body);
    }
    assert.doesNotMatch(gw.output(), /uncaught|unhandled|restarting this shard/i);
    assert.equal(gw.proc.exitCode, null);
  });
});
