/**
 * Worker-thread side of bench/micro.mjs cases, chosen by workerData.role:
 *   transport     the receiving shard of the transport cases: takes event frames (or plain
 *                 objects, the baseline) from its MessagePort, reads every record, reports the
 *                 dispatched bytes in shared memory as a shard does (shared/channel/backlog.ts) and,
 *                 once told to echo, answers every batch (round-trip timing);
 *   storm-inline  one of the two threads of the storm-inline-2t case: verifies its half of the
 *                 arrivals inline (bench/lib/jwt-storm.mjs).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { dist } from './micro-fixtures.mjs';

const { role } = workerData;

if (role === 'transport') {
  const { mode, port, backlogBuffer, countBuffer, recordBytes } = workerData;
  const { TAG_EVENTS, postControl, readFrame } = await dist('shared/channel/port.js');
  const { readEventRecords } = await dist('shared/channel/event-record.js');
  const { markDispatched } = await dist('shared/channel/backlog.js');
  const count = new BigInt64Array(countBuffer);
  let echo = false;
  let sink = 0;
  port.on('message', (m) => {
    if (mode === 'port') {
      const f = readFrame(m);
      if (f.tag !== TAG_EVENTS) {
        if (f.msg?.t === 'echo') echo = true;
        return;
      }
      let n = 0;
      let bytes = 0;
      for (const r of readEventRecords(f.records)) {
        n++;
        bytes += r.record.byteLength;
        sink = (sink + r.type.length + (r.values?.length ?? 0) + r.json.byteLength) | 0;
      }
      markDispatched(backlogBuffer, 0, bytes);
      Atomics.add(count, 0, BigInt(n));
      if (echo) postControl(port, { t: 'ack', n });
    } else {
      if (m?.echo === true) {
        echo = true;
        return;
      }
      const list = Array.isArray(m) ? m : [m];
      for (const ev of list) sink = (sink + ev.type.length + (ev.values?.length ?? 0) + ev.json.length) | 0;
      markDispatched(backlogBuffer, 0, list.length * recordBytes);
      Atomics.add(count, 0, BigInt(list.length));
      if (echo) port.postMessage({ ack: list.length });
    }
  });
  parentPort.postMessage('ready');
} else if (role === 'storm-inline') {
  const { drive } = await import('./jwt-storm.mjs');
  const { createJwtVerifier } = await dist('shared/jwt/verifier.js');
  const verifier = createJwtVerifier({ alg: workerData.alg, secretKey: workerData.secretKey, cacheSize: 0 });
  const { tokens } = workerData;
  const submit = (token, k, done) => {
    verifier.verify(token);
    done(k);
  };
  parentPort.on('message', async ({ offsets, indices, t0 }) => {
    const r = await drive({ offsets, indices, tokens, submit, t0 });
    parentPort.postMessage(r, [r.latUs.buffer]);
  });
  parentPort.postMessage('ready');
} else {
  throw new Error(`unknown worker role ${role}`);
}
