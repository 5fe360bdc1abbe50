/**
 * Binary framing of events crossing threads. An event is decoded and its fields extracted once, at
 * the ingress; after that it travels as a record whose JSON bytes are never re-serialised:
 *
 *   u32 record length (excluding these 4 bytes)
 *   u16 type length, type (UTF-8)
 *   u16 values length, values (msgpack array of extracted field values; length 0 = no fields)
 *   json (UTF-8, rest of the record): the exact bytes clients receive
 *
 * A batch is records back to back. Main routes a record by reading only its header and copies the
 * record bytes unchanged into the batch of each interested shard.
 */
import { Packr } from 'msgpackr';
import type { FieldValue } from '../subscriptions/types.js';

const packr = new Packr({ useRecords: false });

export interface EventRecordView {
  readonly type: string;
  readonly values: FieldValue[] | undefined;
  /** The event JSON bytes (a view into the batch buffer). */
  readonly json: Uint8Array;
  /** The whole record including its length prefix (a view into the batch buffer). */
  readonly record: Uint8Array;
}

export function encodeEventRecord(type: string, values: readonly FieldValue[] | undefined, json: string | Uint8Array): Buffer {
  const typeBytes = Buffer.from(type, 'utf8');
  const valueBytes = values === undefined ? EMPTY : packr.pack(values as FieldValue[]);
  const jsonBytes = typeof json === 'string' ? Buffer.from(json, 'utf8') : json;
  if (typeBytes.length > 0xffff || valueBytes.length > 0xffff) throw new RangeError('event type or field values too large');
  const len = 2 + typeBytes.length + 2 + valueBytes.length + jsonBytes.length;
  const out = Buffer.allocUnsafe(4 + len);
  let o = out.writeUInt32LE(len, 0);
  o = out.writeUInt16LE(typeBytes.length, o);
  o += typeBytes.copy(out, o);
  o = out.writeUInt16LE(valueBytes.length, o);
  o += valueBytes.copy(out, o);
  out.set(jsonBytes, o);
  return out;
}

const EMPTY = Buffer.alloc(0);

/** Iterates the records of a batch. Malformed framing throws: batches are produced by our own code. */
export function* readEventRecords(batch: Uint8Array): Generator<EventRecordView> {
  const buf = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
  let o = 0;
  while (o < buf.length) {
    const len = buf.readUInt32LE(o);
    const end = o + 4 + len;
    if (end > buf.length) throw new RangeError('truncated event batch');
    let p = o + 4;
    const typeLen = buf.readUInt16LE(p);
    p += 2;
    const type = buf.toString('utf8', p, p + typeLen);
    p += typeLen;
    const valuesLen = buf.readUInt16LE(p);
    p += 2;
    const values = valuesLen === 0 ? undefined : (packr.unpack(buf.subarray(p, p + valuesLen)) as FieldValue[]);
    p += valuesLen;
    yield { type, values, json: buf.subarray(p, end), record: buf.subarray(o, end) };
    o = end;
  }
}

