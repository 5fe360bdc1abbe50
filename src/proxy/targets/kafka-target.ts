/**
 * `target: "kafka"` (RIG spec 6.6): the request body becomes a Kafka record (./kafka-request.ts)
 * that main's producer writes to the endpoint's `topic`.
 *
 * - Body read whole, up to MAX_REQUEST_BODY_BYTES (413 beyond); 400 when it is not a CloudEvent.
 * - The record goes to main (shards have no Kafka client) and the answer waits for the outcome:
 *   written -> 202 `Accepted.`, or with `response_from: kafka` the correlated reply (or 504 after
 *   PROXY_KAFKA_RESPONSE_TIMEOUT); not written -> 502 with the reason. RIG answered 202 whatever
 *   happened to the record (spec 13 item 20); a client that got 202 here knows it is in Kafka.
 * - The waiting slot is opened before the record is produced: a responder may answer before the
 *   producer's acknowledgement reaches the shard.
 * - 202, 504, the reply and OPTIONS carry RIG's kafka CORS headers; 400s do not (as in RIG).
 */
import { err, isGatewayError, type GatewayError } from '../../shared/errors.js';
import { header, readBody, send, track, type Headers, type RequestSnapshot, type Tracked } from '../../shared/http/uws-http.js';
import type { ProduceRequest } from '../../shared/channel/messages.js';
import type { HttpResponse } from '../../shared/uws.js';
import type { Ingress } from '../ingress.js';
import type { WaitingRequests } from '../replies/waiting-requests.js';
import { eventFromBody, hostAndPort, kafkaRecord } from './kafka-request.js';
import type { BodySource } from '../held-body.js';

export interface KafkaTargetDeps {
  /** false when KAFKA_BROKERS is empty: requests are answered 503. */
  enabled: boolean;
  produce(record: Omit<ProduceRequest, 'id'>, done: (error?: string) => void): void;
  waiting: WaitingRequests;
  responseTimeoutMs: number;
  maxRequestBodyBytes: number;
  wrapNonCloudEvents: boolean;
  cors: string;
}

export interface KafkaExchange {
  snap: RequestSnapshot;
  /** The path after `path_replacement`. */
  path: string;
  topic: string;
  waitForReply: boolean;
  clientIp: string;
  /** The listener the request came in on: `rig.scheme`, and `rig.port` when the Host header names none. */
  ingress: Ingress;
  /** Called once with the outcome (rig_proxy_requests_total); not when the client left first. */
  done(outcome: KafkaOutcome): void;
  /** Where the request body comes from when it was held while the request waited (../held-body.ts); default the response. */
  body?: BodySource;
}

export type KafkaOutcome = 'ok' | 'bad_request' | 'unreachable' | 'response_timeout';

export class KafkaTarget {
  /** RIG's CORS headers of kafka-target answers. */
  readonly corsHeaders: Headers;

  constructor(private readonly deps: KafkaTargetDeps) {
    this.corsHeaders = [
      ['access-control-allow-origin', deps.cors],
      ['access-control-allow-methods', '*'],
      ['access-control-allow-headers', 'content-type,authorization'],
    ];
  }

  /** Must be called synchronously from the uWS handler (it registers onAborted and onData). */
  handle(res: HttpResponse, x: KafkaExchange): void {
    const t = track(res);
    if (!this.deps.enabled) {
      x.body?.release?.();
      return this.refuse(t, x, err.kafkaNotConfigured(), 'unreachable');
    }
    readBody(
      t,
      this.deps.maxRequestBodyBytes,
      (body) => this.produce(t, x, body),
      (e) => this.refuse(t, x, e, 'bad_request'),
      x.body,
    );
  }

  private produce(t: Tracked, x: KafkaExchange, body: Buffer): void {
    let event;
    try {
      event = eventFromBody(body, header(x.snap.headers, 'content-type'), this.deps.wrapNonCloudEvents);
    } catch (e) {
      if (!isGatewayError(e)) throw e;
      return this.refuse(t, x, e, 'bad_request');
    }
    const { waiting } = this.deps;
    const slot = waiting.open();
    const { host, port } = hostAndPort(header(x.snap.headers, 'host'), x.ingress.port);
    const record = kafkaRecord(event, {
      correlation: slot.token,
      remoteIp: x.clientIp,
      host,
      port,
      scheme: x.ingress.scheme,
      headers: x.snap.headers,
      method: x.snap.method,
      path: x.path,
      query: x.snap.query,
    });
    t.onAbort = () => waiting.release(slot.id);
    this.deps.produce({ topic: x.topic, ...record }, (error) => {
      if (error !== undefined) {
        waiting.release(slot.id);
        return this.refuse(t, x, err.kafkaProduceFailed(error), 'unreachable');
      }
      if (t.aborted) return waiting.release(slot.id);
      if (!x.waitForReply) {
        waiting.release(slot.id);
        x.done('ok');
        return send(t, 202, 'Accepted.', this.corsHeaders);
      }
      t.done = true;
      const opts = { timeoutMs: this.deps.responseTimeoutMs, cors: this.corsHeaders, head: false, onOutcome: x.done };
      t.res.cork(() => waiting.accept(slot.id, t.res, opts));
    });
  }

  private refuse(t: Tracked, x: KafkaExchange, e: GatewayError, outcome: KafkaOutcome): void {
    x.done(outcome);
    // RIG's 400s carry no CORS headers; the failures it did not have (503, 502) carry them, so a
    // browser can read why.
    send(t, e.status, e.message, e.status === 400 || e.status === 413 ? undefined : this.corsHeaders);
  }
}
