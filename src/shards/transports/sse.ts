/**
 * Server-Sent Events over a uWS HttpResponse held open.
 *
 * Flow control: uWS never drops what `res.write` is given; when the kernel does not take it, the
 * bytes wait in an unbounded per-socket buffer and `write` returns false. So the connection keeps
 * its own bounded queue: while the socket is congested new frames wait here (not in uWS), and when
 * the queue would exceed OUTBOUND_QUEUE_MAX_BYTES the client is too slow. (Frames that reach the
 * limit while the socket is not congested only waited for the flush of a busy turn: they are
 * written at once instead.) A slow client gets a final
 * `rig.connection.closed` event (reason `slow_consumer`) and the stream ends; uWS's 10 s timeout
 * on a stuck socket bounds the rest. Memory per slow client is therefore at most about twice the
 * queue limit, and nobody else waits for it.
 */
import { SSE_HEARTBEAT, renderSseFrame } from '../../shared/cloudevents/sse-frame.js';
import { RIG_EVENT_TYPES, connectionClosedEvent, sessionKilledEvent } from '../../shared/cloudevents/rig-events.js';
import type { Subscription } from '../../shared/subscriptions/types.js';
import type { HttpResponse } from '../../shared/uws.js';
import type { Connection } from '../connection.js';
import type { Disconnect } from '../disconnect.js';
import { DISCONNECT } from '../disconnect.js';
import type { ShardEvent } from '../shard-event.js';

// uWS copies what it is given before `write` returns, so one scratch buffer serves every flush.
let scratch = Buffer.allocUnsafe(64 * 1024);

function joinFrames(frames: readonly Buffer[], bytes: number): Buffer {
  if (bytes > scratch.length) scratch = Buffer.allocUnsafe(Math.max(bytes, 2 * scratch.length));
  let o = 0;
  for (const f of frames) o += f.copy(scratch, o);
  return scratch.subarray(0, o);
}

export class SseConnection implements Connection {
  readonly kind = 'sse' as const;
  subscriptions: readonly Subscription[] = [];
  dirty = false;
  closed = false;
  private queue: Buffer[] = [];
  private queued = 0;
  private congested = false;

  constructor(
    readonly id: number,
    readonly token: string,
    private readonly res: HttpResponse,
    private readonly maxQueueBytes: number,
    /** Called once when the connection is gone (client left or server closed it). */
    private readonly onGone: (c: SseConnection) => void,
  ) {
    res.onAborted(() => this.gone());
    res.onWritable(() => {
      this.congested = false;
      this.flush();
      return !this.congested;
    });
  }

  deliver(event: ShardEvent): void {
    this.enqueue(event.sseFrame());
  }

  heartbeat(): void {
    this.enqueue(SSE_HEARTBEAT);
    this.flush();
  }

  flush(): void {
    if (this.closed || this.congested || this.queued === 0) return;
    const queue = this.queue;
    const bytes = this.queued;
    this.queue = [];
    this.queued = 0;
    // One `write` (one HTTP chunk) per flush. uWS corks into a 16 KB buffer; once a cork overflows,
    // every later write of the same cork goes out uncorked, and a chunked `write` is four socket
    // writes (CRLF, size, CRLF, data): a 100-event batch cost dozens of syscalls per connection.
    const data = queue.length === 1 ? queue[0]! : joinFrames(queue, bytes);
    this.res.cork(() => {
      if (!this.res.write(data)) this.congested = true;
    });
  }

  close(reason: Disconnect): void {
    if (this.closed) return;
    // RIG tells a killed session with rig.session_killed; every other end is rig.connection.closed.
    const frame =
      reason.reason === DISCONNECT.sessionKilled.reason
        ? renderSseFrame(RIG_EVENT_TYPES.sessionKilled, sessionKilledEvent())
        : renderSseFrame(RIG_EVENT_TYPES.connectionClosed, connectionClosedEvent(reason.reason, reason.message));
    this.queue = [];
    this.queued = 0;
    this.res.cork(() => {
      this.res.write(frame);
      this.res.end();
    });
    this.gone();
  }

  private enqueue(frame: Buffer): void {
    if (this.closed) return;
    if (this.queued + frame.length > this.maxQueueBytes) {
      // Bytes that only waited for this turn's flush (a shard working through a backlog) say
      // nothing about the client: write them now. Only a socket that pushed back is slow.
      if (!this.congested) this.flush();
      if (this.congested && this.queued + frame.length > this.maxQueueBytes) {
        this.close(DISCONNECT.slowConsumer);
        return;
      }
    }
    this.queue.push(frame);
    this.queued += frame.length;
  }

  private gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.queued = 0;
    this.onGone(this);
  }
}
