/**
 * Forces a full garbage collection in every isolate of another Node.js process (its main thread
 * and every worker thread) through the inspector protocol. The process must have been started
 * with `--inspect=127.0.0.1:<port>`. Used to read memory figures that do not depend on when V8
 * happens to collect: RSS right after `HeapProfiler.collectGarbage` everywhere.
 *
 * Workers have no inspector port of their own; they are reached through the main thread's
 * session with the NodeWorker domain (attach, then send protocol messages wrapped in
 * NodeWorker.sendMessageToWorker).
 */
import http from 'node:http';
import WebSocket from 'ws';

function getJson(port, path) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          try {
            resolve(JSON.parse(body));
          } catch (e) {
            reject(e);
          }
        });
      })
      .on('error', reject);
  });
}

export class InspectorGc {
  static async connect(port, expectedWorkers, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    let targets;
    for (;;) {
      try {
        targets = await getJson(port, '/json/list');
        if (targets.length > 0) break;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`inspector on port ${port} not reachable: ${e.message}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { perMessageDeflate: false });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const gc = new InspectorGc(ws);
    await gc.call('NodeWorker.enable', { waitForDebuggerOnStart: false });
    while (gc.workers.size < expectedWorkers) {
      if (Date.now() > deadline) throw new Error(`inspector: ${gc.workers.size} of ${expectedWorkers} workers attached`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return gc;
  }

  constructor(ws) {
    this.ws = ws;
    this.nextId = 1;
    this.pending = new Map();
    this.workers = new Set();
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString());
      if (m.method === 'NodeWorker.attachedToWorker') this.workers.add(m.params.sessionId);
      else if (m.method === 'NodeWorker.detachedFromWorker') this.workers.delete(m.params.sessionId);
      else if (m.method === 'NodeWorker.receivedMessageFromWorker') this.settle(JSON.parse(m.params.message));
      else this.settle(m);
    });
  }

  settle(m) {
    const p = m.id !== undefined && this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.error) p.reject(new Error(`${m.error.message} (${m.error.code})`));
    else p.resolve(m.result);
  }

  call(method, params = {}, sessionId) {
    const id = this.nextId++;
    const msg = JSON.stringify({ id, method, params });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (sessionId === undefined) this.ws.send(msg);
      else this.ws.send(JSON.stringify({ id: this.nextId++, method: 'NodeWorker.sendMessageToWorker', params: { sessionId, message: msg } }));
    });
  }

  /** Full GC in the main thread and every worker; resolves when all are done. */
  async collectEverywhere() {
    await Promise.all([this.call('HeapProfiler.collectGarbage'), ...[...this.workers].map((s) => this.call('HeapProfiler.collectGarbage', {}, s))]);
  }

  /** JS heap in use, summed over the main thread and every worker (bytes). */
  async heapUsed() {
    const all = await Promise.all([this.call('Runtime.getHeapUsage'), ...[...this.workers].map((s) => this.call('Runtime.getHeapUsage', {}, s))]);
    return all.reduce((x, r) => x + r.usedSize, 0);
  }

  close() {
    this.ws.close();
  }
}
