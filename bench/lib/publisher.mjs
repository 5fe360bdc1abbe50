/**
 * Keep-alive HTTP publisher for a target's `publish` descriptor ({url, method, contentType,
 * okStatuses}). The body is the one bench/fanout.mjs publishes, byte for byte: a CloudEvents 0.2
 * event of type `bench` with a sequential `id` and a `data` object
 * `{"t":"<publish time, 16 digits, µs CLOCK_MONOTONIC>","p":"<padding>"}` sized to `payloadBytes`
 * bytes of JSON. Targets deliver the body unchanged, so a client finds `"id":"<n>","data":{"t":"`
 * in what it receives and knows which event arrived and when it was published.
 *
 * A `route` ({data, query}) makes an event address a topic (bench/topics.mjs): `data` is put first
 * into the data object (e.g. `"user":"42",`, what the gateway's extractors read) and `query`
 * replaces the URL's query (e.g. `?channel=u.42` for Centrifuge).
 */
import http from 'node:http';
import { TS_DIGITS } from './client-wire.mjs';

export const EVENT_TYPE = 'bench';

export class Publisher {
  constructor(publish, concurrency = 32, payloadBytes = 100) {
    if (payloadBytes < 40) throw new Error('payload must be at least 40 bytes (timestamp and padding)');
    this.url = new URL(publish.url);
    this.method = publish.method ?? 'POST';
    this.contentType = publish.contentType ?? 'application/json';
    this.ok = new Set(publish.okStatuses ?? [202]);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    this.nextId = 1;
    this.errors = 0;
    this.errorSamples = [];
    this.statuses = {};
    this.pad = 'x'.repeat(payloadBytes - 31);
  }

  body(id, tUs, data = '') {
    const t = String(Math.round(tUs)).padStart(TS_DIGITS, '0');
    return `{"specversion":"0.2","type":"${EVENT_TYPE}","source":"fanout-bench","id":"${id}","data":{${data}"t":"${t}","p":"${this.pad}"}}`;
  }

  /** Publishes the next event stamped with `tUs`; resolves with true when the server accepted it. */
  publish(tUs, route) {
    const body = this.body(this.nextId++, tUs, route?.data);
    return new Promise((done) => {
      const req = http.request(
        {
          host: this.url.hostname,
          port: this.url.port,
          method: this.method,
          path: this.url.pathname + (route?.query ?? this.url.search),
          agent: this.agent,
          headers: { 'content-type': this.contentType, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            this.statuses[res.statusCode] = (this.statuses[res.statusCode] ?? 0) + 1;
            done(this.ok.has(res.statusCode));
          });
        },
      );
      req.on('error', (e) => {
        this.errors++;
        if (this.errorSamples.length < 5) this.errorSamples.push(e.code ?? e.message);
        done(false);
      });
      req.end(body);
    });
  }

  close() {
    this.agent.destroy();
  }
}
