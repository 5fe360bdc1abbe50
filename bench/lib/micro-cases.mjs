/**
 * The cases of bench/micro.mjs. Each runs in a fresh child process and uses the compiled gateway
 * modules (dist/). A case is either
 *   sync:  setup() returns { run, opsPerCall, yields }: run() does opsPerCall operations; the
 *          runner calls it in ≈ 1 ms chunks for a fixed time (yields: an event-loop turn after
 *          every chunk, for code that flushes with setImmediate as the gateway does);
 *   async: setup() returns { measure(settings) → { samples: ops/s[], extra }, close() } and times
 *          itself (cross-thread transport, the JWT reconnect storm).
 * `unit` names what one operation is (an event, a record, a verify).
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import {
  EVENT_TYPE, GREETING_EXTRACTORS, SUBSCRIBED_NAMES, VARIANTS, dist, jwtKey, kafkaBinary, kafkaStructured, signTokens, structuredEvent, subscribedName,
} from './micro-fixtures.mjs';
import { stormCases } from './jwt-storm.mjs';
import { percentiles } from './common.mjs';
import { processCpu, threadCpu } from './procfs.mjs';

/** CPU seconds of this process and of its main thread (Linux /proc, 10 ms resolution). */
function threadCpuSeconds() {
  return { process: processCpu(process.pid), main: threadCpu(process.pid).get(process.pid) ?? NaN };
}

/** Where a transferred or posted frame goes when only the main thread's work is measured. */
const nullPort = { postMessage() {} };

let sink = 0;
/** Keeps results observable so the optimiser cannot drop the work. */
export const consume = (x) => {
  sink = (sink + (x === undefined || x === null ? 1 : typeof x === 'number' ? x : 2)) | 0;
};

async function extractors() {
  const { parseExtractorConfig } = await dist('shared/extractors/config.js');
  return parseExtractorConfig(GREETING_EXTRACTORS);
}

/** Parsed events (what main holds after parsing), cycled by the cases that start after parsing. */
async function parsedEvents() {
  const { parseStructuredEvent } = await dist('shared/cloudevents/structured.js');
  return Array.from({ length: VARIANTS }, (_, i) => parseStructuredEvent(structuredEvent(i, '0.2')));
}

/** Encoded event records with their extracted field values, as shards submit them. */
async function records() {
  const cfg = await extractors();
  const { extractFieldValues } = await dist('shared/extractors/extract.js');
  const { encodeEventRecord } = await dist('shared/channel/event-record.js');
  return (await parsedEvents()).map((ev) => encodeEventRecord(ev.type, extractFieldValues(cfg, ev.type, ev.body), ev.json));
}

/**
 * An interest table as `shards` shards fill it: SUBSCRIBED_NAMES subscriptions constraining the
 * greeting's `name` (one key each, spread round-robin over the shards) plus one wildcard key of
 * another event type per shard. Half of the events' names are subscribed, half are not.
 */
async function fillInterest(table, shards) {
  const cfg = await extractors();
  const { compileRow, rowInterestKey, wildcardKey } = await dist('shared/subscriptions/interest.js');
  const fields = cfg.get(EVENT_TYPE);
  const perShard = Array.from({ length: shards }, () => []);
  for (let i = 0; i < SUBSCRIBED_NAMES; i++) perShard[i % shards].push(rowInterestKey(EVENT_TYPE, compileRow(fields, { name: subscribedName(i) })));
  for (let s = 0; s < shards; s++) table.add(s, [...perShard[s], wildcardKey(`other-${s}`)]);
  return table;
}

// --- parse ----------------------------------------------------------------------------------------

function parseCase(specversion) {
  return {
    id: `parse-ce-${specversion}`,
    group: 'parse',
    title: `parse a structured CloudEvent ${specversion} (≈ 190 B, HTTP binding: Content-Type, UTF-8 check, JSON, attribute check)`,
    unit: 'event',
    async setup() {
      const { parseHttpEvent } = await dist('shared/cloudevents/http-binding.js');
      const contentType = 'application/cloudevents+json';
      const reqs = Array.from({ length: VARIANTS }, (_, i) => ({
        contentType,
        headers: [['host', 'localhost'], ['content-type', contentType], ['content-length', '190']],
        body: Buffer.from(structuredEvent(i, specversion)),
      }));
      let i = 0;
      return { opsPerCall: 1, run: () => consume(parseHttpEvent(reqs[i++ & (VARIANTS - 1)]).type.length) };
    },
  };
}

const parseCases = [
  parseCase('0.2'),
  parseCase('1.0'),
  {
    id: 'parse-json-ref',
    group: 'parse',
    title: 'reference: JSON.parse(buffer.toString()) of the same 0.2 event, no checks',
    unit: 'event',
    async setup() {
      const bodies = Array.from({ length: VARIANTS }, (_, i) => Buffer.from(structuredEvent(i, '0.2')));
      let i = 0;
      return { opsPerCall: 1, run: () => consume(JSON.parse(bodies[i++ & (VARIANTS - 1)].toString('utf8')).type.length) };
    },
  },
  {
    id: 'kafka-structured',
    group: 'parse',
    title: 'decode a Kafka record, structured mode (decode.ts: content-type header, UTF-8, JSON, check)',
    unit: 'record',
    async setup() {
      const { decodeKafkaRecord } = await dist('main/kafka/decode.js');
      const recs = Array.from({ length: VARIANTS }, (_, i) => kafkaStructured(i));
      let i = 0;
      return { opsPerCall: 1, run: () => consume(decodeKafkaRecord(recs[i++ & (VARIANTS - 1)]).json.length) };
    },
  },
  {
    id: 'kafka-binary',
    group: 'parse',
    title: 'decode a Kafka record, binary mode (ce_ headers + JSON value assembled into the event)',
    unit: 'record',
    async setup() {
      const { decodeKafkaRecord } = await dist('main/kafka/decode.js');
      const recs = Array.from({ length: VARIANTS }, (_, i) => kafkaBinary(i));
      let i = 0;
      return { opsPerCall: 1, run: () => consume(decodeKafkaRecord(recs[i++ & (VARIANTS - 1)]).json.length) };
    },
  },
];

// --- extraction and routing -----------------------------------------------------------------------

function lookupCase(shards) {
  return {
    id: `interest-lookup-${shards}`,
    group: 'route',
    title: `interest keys of an event + interest-table lookup, ${shards} shards (10 000 subscription keys)`,
    unit: 'event',
    async setup() {
      const { InterestTable } = await dist('main/router/interest-table.js');
      const { eventInterestKeys } = await dist('shared/subscriptions/interest.js');
      const { extractFieldValues } = await dist('shared/extractors/extract.js');
      const cfg = await extractors();
      const table = await fillInterest(new InterestTable(), shards);
      const values = (await parsedEvents()).map((ev) => extractFieldValues(cfg, ev.type, ev.body));
      let i = 0;
      return { opsPerCall: 1, run: () => consume(table.lookup(eventInterestKeys(EVENT_TYPE, values[i++ & (VARIANTS - 1)]))) };
    },
  };
}

function routeBatchCase(shards) {
  return {
    id: `route-batch-${shards}`,
    group: 'route',
    title: `Router.routeBatch: a batch of 100 records from a shard read and routed, ${shards} shards`,
    unit: 'record',
    async setup() {
      const { Router } = await dist('main/router/router.js');
      const cfg = await extractors();
      const pushed = new Array(shards).fill(0);
      const router = new Router(cfg, { pushEvent: (shard, record) => { pushed[shard] += record.byteLength; } });
      await fillInterest(router.interest, shards);
      const recs = await records();
      const batches = Array.from({ length: VARIANTS / 64 }, (_, b) => Buffer.concat(Array.from({ length: 100 }, (_, k) => recs[(b * 64 + k) & (VARIANTS - 1)])));
      let i = 0;
      return {
        opsPerCall: 100,
        run: () => router.routeBatch(batches[i++ % batches.length]),
        info: () => ({ routedShare: router.stats.shardDeliveries / router.stats.events }),
      };
    },
  };
}

const routeCases = [
  {
    id: 'extract',
    group: 'route',
    title: 'field extraction for routing: extractFieldValues (GREETING_EXTRACTORS, /data/name) + eventInterestKeys',
    unit: 'event',
    async setup() {
      const { extractFieldValues } = await dist('shared/extractors/extract.js');
      const { eventInterestKeys } = await dist('shared/subscriptions/interest.js');
      const cfg = await extractors();
      const events = await parsedEvents();
      let i = 0;
      return {
        opsPerCall: 1,
        run: () => {
          const ev = events[i++ & (VARIANTS - 1)];
          consume(eventInterestKeys(ev.type, extractFieldValues(cfg, ev.type, ev.body)).length);
        },
      };
    },
  },
  lookupCase(2),
  lookupCase(32),
  routeBatchCase(2),
  routeBatchCase(32),
  {
    id: 'path-kafka',
    group: 'route',
    title: "main's whole per-event path for Kafka: decode (structured) + Router.submit (extract, encode, lookup) + per-shard EventBatcher + postEvents framing, 2 shards",
    unit: 'event',
    async setup() {
      const { decodeKafkaRecord } = await dist('main/kafka/decode.js');
      const { Router } = await dist('main/router/router.js');
      const { EventBatcher, postEvents } = await dist('shared/channel/port.js');
      const cfg = await extractors();
      const batchers = [0, 1].map(() => new EventBatcher((recs, bytes) => postEvents(nullPort, recs, bytes)));
      const router = new Router(cfg, { pushEvent: (shard, record) => batchers[shard].push(record) });
      await fillInterest(router.interest, 2);
      const recs = Array.from({ length: VARIANTS }, (_, i) => kafkaStructured(i));
      let i = 0;
      // A kafkajs batch of 100 records per call; batches flush once per event-loop turn (yields).
      return {
        opsPerCall: 100,
        yields: true,
        run: () => {
          for (let k = 0; k < 100; k++) router.submit(decodeKafkaRecord(recs[i++ & (VARIANTS - 1)]));
        },
        info: () => ({ routedShare: router.stats.shardDeliveries / router.stats.events }),
      };
    },
  },
];

// --- event records and batch framing --------------------------------------------------------------

const recordCases = [
  {
    id: 'record-encode',
    group: 'record',
    title: 'encodeEventRecord: type + msgpack field values + the event JSON (string) into one record',
    unit: 'record',
    async setup() {
      const { encodeEventRecord } = await dist('shared/channel/event-record.js');
      const { extractFieldValues } = await dist('shared/extractors/extract.js');
      const cfg = await extractors();
      const events = (await parsedEvents()).map((ev) => ({ type: ev.type, values: extractFieldValues(cfg, ev.type, ev.body), json: ev.json }));
      let i = 0;
      return {
        opsPerCall: 1,
        run: () => {
          const ev = events[i++ & (VARIANTS - 1)];
          consume(encodeEventRecord(ev.type, ev.values, ev.json).byteLength);
        },
      };
    },
  },
  {
    id: 'record-frame',
    group: 'record',
    title: 'EventBatcher.push × 100 + flush → postEvents (one frame, records copied after the tag byte)',
    unit: 'record',
    async setup() {
      const { EventBatcher, postEvents } = await dist('shared/channel/port.js');
      const recs = await records();
      let frames = 0;
      const port = { postMessage: (frame) => { frames += frame.byteLength > 0 ? 1 : 0; } };
      const batcher = new EventBatcher((r, bytes) => postEvents(port, r, bytes));
      let i = 0;
      return {
        opsPerCall: 100,
        yields: true,
        run: () => {
          for (let k = 0; k < 100; k++) batcher.push(recs[i++ & (VARIANTS - 1)]);
          batcher.flush();
        },
        info: () => ({ frames }),
      };
    },
  },
  {
    id: 'record-read',
    group: 'record',
    title: "readFrame + readEventRecords on the shard's side: a 100-record frame, type, field values (msgpack) and JSON view of each",
    unit: 'record',
    async setup() {
      const { TAG_EVENTS, readFrame } = await dist('shared/channel/port.js');
      const { readEventRecords } = await dist('shared/channel/event-record.js');
      const recs = await records();
      const frames = Array.from({ length: 4 }, (_, b) => {
        const body = Buffer.concat(Array.from({ length: 100 }, (_, k) => recs[(b * 100 + k) & (VARIANTS - 1)]));
        const f = new Uint8Array(body.length + 1);
        f[0] = TAG_EVENTS;
        f.set(body, 1);
        return f;
      });
      let i = 0;
      return {
        opsPerCall: 100,
        run: () => {
          const frame = readFrame(frames[i++ & 3]);
          let n = 0;
          for (const r of readEventRecords(frame.records)) n += r.type.length + r.values.length + r.json.byteLength;
          consume(n);
        },
      };
    },
  },
];

// --- cross-thread transport -----------------------------------------------------------------------

const WORKERS = new URL('./micro-workers.mjs', import.meta.url);

/**
 * Main → one worker over a MessageChannel, batches of `batch` records. `mode`:
 *   port   the gateway's framing: postEvents (records copied into one frame, buffer transferred);
 *          the worker runs readFrame + readEventRecords and touches type, values and JSON;
 *   clone  baseline: postMessage of plain objects {type, values, json} (structured clone; a
 *          batch of one is the object itself, larger batches an array), same work in the worker.
 * Throughput: batches posted as fast as they go, with the gateway's Kafka flow control (the worker
 * counts dispatched bytes in shared memory, shared/channel/backlog.ts; posting pauses above 8 MiB
 * behind and resumes below 2 MiB, kafka/consumer.ts). Round trip: one batch at a time, the worker
 * answers each with a control message (postControl / a small object), timed on the main thread.
 */
function transportCase(mode, batch) {
  return {
    id: `transport-${mode}-b${batch}`,
    group: 'transport',
    title: mode === 'port'
      ? `main → 1 worker, project framing (postEvents, transferred), batches of ${batch}`
      : `baseline: main → 1 worker, postMessage(object) structured clone, batches of ${batch}`,
    unit: 'record',
    async setup() {
      const { postEvents, postControl, readFrame, TAG_CONTROL } = await dist('shared/channel/port.js');
      const { createBacklogBuffer, ShardBacklog } = await dist('shared/channel/backlog.js');
      const { PAUSE_BYTES, RESUME_BYTES } = await dist('main/kafka/consumer.js');
      const { extractFieldValues } = await dist('shared/extractors/extract.js');
      const cfg = await extractors();
      const recs = await records();
      const recordBytes = recs[0].byteLength;
      const objects = (await parsedEvents()).map((ev) => ({ type: ev.type, values: extractFieldValues(cfg, ev.type, ev.body), json: ev.json }));
      const backlogBuffer = createBacklogBuffer(1);
      const backlog = new ShardBacklog(backlogBuffer, 0);
      const countBuffer = new SharedArrayBuffer(8);
      const count = new BigInt64Array(countBuffer);
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(WORKERS, { workerData: { role: 'transport', mode, port: port2, backlogBuffer, countBuffer, recordBytes }, transferList: [port2] });
      await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      let acked;
      port1.on('message', (m) => {
        if (mode === 'port') {
          const f = readFrame(m);
          if (f.tag !== TAG_CONTROL) throw new Error('unexpected frame from the worker');
        }
        acked?.();
      });

      let next = 0;
      const send = () => {
        if (mode === 'port') {
          const list = new Array(batch);
          for (let k = 0; k < batch; k++) list[k] = recs[next++ & (VARIANTS - 1)];
          postEvents(port1, list, batch * recordBytes);
        } else if (batch === 1) {
          port1.postMessage(objects[next++ & (VARIANTS - 1)]);
        } else {
          const list = new Array(batch);
          for (let k = 0; k < batch; k++) list[k] = objects[next++ & (VARIANTS - 1)];
          port1.postMessage(list);
        }
        backlog.addPosted(batch * recordBytes);
      };
      const dispatched = () => Number(Atomics.load(count, 0));
      const pump = async (untilNs) => {
        while (process.hrtime.bigint() < untilNs) {
          for (let k = 0; k < 64 && backlog.bytes() <= PAUSE_BYTES; k++) send();
          if (backlog.bytes() > PAUSE_BYTES) {
            while (backlog.bytes() > RESUME_BYTES) await sleep(1);
          } else {
            await immediate();
          }
        }
      };
      const drain = async () => {
        while (backlog.bytes() > 0) await sleep(1);
      };
      const roundTrip = () => new Promise((resolve) => {
        acked = resolve;
        send();
      });

      return {
        async measure(s, mark) {
          await pump(process.hrtime.bigint() + BigInt(s.warmupMs * 1e6));
          await drain();
          mark();
          const samples = [];
          const cpu0 = threadCpuSeconds();
          const w0 = process.hrtime.bigint();
          for (let k = 0; k < s.samples; k++) {
            const c0 = dispatched();
            const t0 = process.hrtime.bigint();
            await pump(t0 + BigInt(s.sampleMs * 1e6));
            const t1 = process.hrtime.bigint();
            samples.push(((dispatched() - c0) * 1e9) / Number(t1 - t0));
          }
          const wall = Number(process.hrtime.bigint() - w0) / 1e9;
          const cpu1 = threadCpuSeconds();
          await drain();
          // Round trips: the worker answers every batch from now on.
          if (mode === 'port') postControl(port1, { t: 'echo' });
          else port1.postMessage({ echo: true });
          for (let k = 0; k < 20; k++) await roundTrip();
          const rtts = [];
          const end = process.hrtime.bigint() + BigInt(s.rttMs * 1e6);
          while (process.hrtime.bigint() < end) {
            const t = process.hrtime.bigint();
            await roundTrip();
            rtts.push(Number(process.hrtime.bigint() - t) / 1e3);
          }
          const rtt = percentiles(rtts);
          return {
            samples,
            extra: {
              batch,
              recordBytes,
              batchesPerSecond: samples.map((x) => x / batch),
              // % of one core during the throughput samples: this (main) thread and the rest of the process (the worker, GC, JIT).
              cpuPct: { main: (100 * (cpu1.main - cpu0.main)) / wall, others: (100 * (cpu1.process - cpu0.process - (cpu1.main - cpu0.main))) / wall },
              rttUs: { samples: rtt.samples, p50: rtt.p50 * 1000, p90: rtt.p90 * 1000, p99: rtt.p99 * 1000, max: rtt.max * 1000 },
            },
          };
        },
        async close() {
          port1.close();
          await worker.terminate();
        },
      };
    },
  };
}

const transportCases = [1, 20, 100].flatMap((b) => [transportCase('port', b), transportCase('clone', b)]);

// --- JWT ------------------------------------------------------------------------------------------

function jwtCase(alg, cache, tokens) {
  return {
    id: `jwt-${alg.toLowerCase()}-${cache ? 'cache' : 'nocache'}`,
    group: 'jwt',
    title: `JWT verify ${alg} through shared/jwt/verifier.ts (fast-jwt), cache ${cache ? 'on (JWT_CACHE_SIZE 10 000; every token seen before)' : 'off'}`,
    unit: 'verify',
    async setup(s) {
      const { createJwtVerifier } = await dist('shared/jwt/verifier.js');
      const verifier = createJwtVerifier({ alg, secretKey: jwtKey(alg), cacheSize: cache ? 10_000 : 0 });
      const list = await signTokens(alg, s.tokens ?? tokens);
      let i = 0;
      return { opsPerCall: 1, run: () => consume(verifier.verify(list[i++ % list.length]).username.length), info: () => ({ distinctTokens: list.length }) };
    },
  };
}

const jwtCases = [jwtCase('HS256', false, 200), jwtCase('HS256', true, 200), jwtCase('RS256', false, 200), jwtCase('RS256', true, 200)];

export const CASES = [...parseCases, ...routeCases, ...recordCases, ...transportCases, ...jwtCases, ...stormCases];
export const GROUPS = ['parse', 'route', 'record', 'transport', 'jwt', 'storm'];
