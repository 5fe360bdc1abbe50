import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { encodeEventRecord, readEventRecords } from '../../../../src/shared/channel/event-record.js';
import { TAG_CONTROL, TAG_EVENTS, postControl, postEvents, readFrame } from '../../../../src/shared/channel/port.js';

test('records round-trip type, field values and the exact JSON bytes', () => {
  const json = '{ "specversion":"0.2", "type":"t\u00fc", "id":1, "data":{"x":"\u00bbA\u00ab"} }\n';
  const a = encodeEventRecord('t\u00fc', ['alice', 1.5, true, null], json);
  const b = encodeEventRecord('other', undefined, Buffer.from('{}'));
  const batch = Buffer.concat([a, b]);
  const out = [...readEventRecords(batch)];
  assert.equal(out.length, 2);
  assert.equal(out[0]!.type, 't\u00fc');
  assert.deepEqual(out[0]!.values, ['alice', 1.5, true, null]);
  assert.equal(Buffer.from(out[0]!.json).toString('utf8'), json);
  assert.deepEqual(Buffer.from(out[0]!.record), a);
  assert.equal(out[1]!.values, undefined);
  assert.equal(Buffer.from(out[1]!.json).toString(), '{}');
});

test('a truncated batch is rejected', () => {
  const a = encodeEventRecord('t', undefined, '{}');
  assert.throws(() => [...readEventRecords(a.subarray(0, a.length - 1))], /truncated/);
});

test('port frames carry control messages and event batches, transferring the buffer', async () => {
  const { port1, port2 } = new MessageChannel();
  const got: unknown[] = [];
  const done = new Promise<void>((resolve) =>
    port2.on('message', (m) => {
      got.push(readFrame(m));
      if (got.length === 2) resolve();
    }),
  );
  postControl(port1, { t: 'interest', add: ['k'], remove: [] });
  const r = encodeEventRecord('t', ['v'], '{"a":1}');
  postEvents(port1, [r, r], r.length * 2);
  await done;
  port1.close();
  const [c, e] = got as [{ tag: number; msg: unknown }, { tag: number; records: Uint8Array }];
  assert.equal(c.tag, TAG_CONTROL);
  assert.deepEqual(c.msg, { t: 'interest', add: ['k'], remove: [] });
  assert.equal(e.tag, TAG_EVENTS);
  assert.equal([...readEventRecords(e.records)].length, 2);
  assert.throws(() => readFrame('nope'), /unexpected/);
  assert.throws(() => readFrame(new Uint8Array([9])), /unknown/);
});
