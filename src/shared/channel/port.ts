/**
 * Framing on the MessagePorts between main and shards. Every message is one Uint8Array whose first
 * byte says what follows (msgpack control message or a batch of event records), posted with its
 * ArrayBuffer transferred so no copy is made on the way. Senders batch per event-loop turn: one
 * port message per destination per turn, however many events it carries.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false });

export const TAG_CONTROL = 0;
export const TAG_EVENTS = 1;

type Port = MessagePort | Worker;

export function postControl(port: Port, msg: unknown): void {
  const body = packr.pack(msg);
  const frame = new Uint8Array(new ArrayBuffer(body.length + 1));
  frame[0] = TAG_CONTROL;
  frame.set(body, 1);
  port.postMessage(frame, [frame.buffer]);
}

export function postEvents(port: Port, records: readonly Uint8Array[], totalBytes: number): void {
  const frame = new Uint8Array(new ArrayBuffer(totalBytes + 1));
  frame[0] = TAG_EVENTS;
  let o = 1;
  for (const r of records) {
    frame.set(r, o);
    o += r.byteLength;
  }
  port.postMessage(frame, [frame.buffer]);
}

export type Frame = { tag: typeof TAG_CONTROL; msg: unknown } | { tag: typeof TAG_EVENTS; records: Uint8Array };

export function readFrame(data: unknown): Frame {
  if (!(data instanceof Uint8Array) || data.byteLength === 0) throw new TypeError('unexpected port message');
  const body = data.subarray(1);
  if (data[0] === TAG_EVENTS) return { tag: TAG_EVENTS, records: body };
  if (data[0] === TAG_CONTROL) return { tag: TAG_CONTROL, msg: packr.unpack(body) };
  throw new TypeError(`unknown port message tag ${data[0]}`);
}

/**
 * Collects event records for one destination during a turn and posts them as one batch. The flush
 * is scheduled with setImmediate so every record produced in this loop iteration shares a message.
 */
export class EventBatcher {
  private records: Uint8Array[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(private readonly send: (records: Uint8Array[], bytes: number) => void) {}

  push(record: Uint8Array): void {
    this.records.push(record);
    this.bytes += record.byteLength;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  readonly flush = (): void => {
    this.scheduled = false;
    if (this.records.length === 0) return;
    const records = this.records;
    const bytes = this.bytes;
    this.records = [];
    this.bytes = 0;
    this.send(records, bytes);
  };
}
