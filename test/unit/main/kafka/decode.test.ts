import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeKafkaRecord, KafkaDecodeError, type KafkaRecordInput } from '../../../../src/main/kafka/decode.js';

type Headers = KafkaRecordInput['headers'];

function rec(value: string | Buffer | null, headers: Headers = {}): KafkaRecordInput {
  return { value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value, headers };
}

function fails(r: KafkaRecordInput, reason: string | RegExp): void {
  assert.throws(
    () => decodeKafkaRecord(r),
    (e: unknown) => {
      assert.ok(e instanceof KafkaDecodeError, `expected a KafkaDecodeError, got ${String(e)}`);
      if (typeof reason === 'string') assert.equal(e.reason, reason);
      else assert.match(e.reason, reason);
      assert.ok(e.message.includes(e.reason));
      return true;
    },
  );
}

const EVENT_02 = '{"specversion":"0.2","type":"greeting","source":"tests","id":"k-1","data":{"hello":"world"}}';
const EVENT_10 = '{"specversion":"1.0","type":"greeting","source":"tests","id":"k-10","datacontenttype":"application/json","data":{"n":1}}';
const EVENT_01 = '{"cloudEventsVersion":"0.1","eventType":"greeting","source":"tests","eventID":"k-01","contentType":"text/plain","data":"hi"}';

const BINARY_02: Headers = {
  ce_specversion: '0.2',
  ce_type: 'greeting',
  ce_source: 'tests',
  ce_id: 'b-1',
};
const BINARY_10: Headers = {
  ce_specversion: '1.0',
  ce_type: 'greeting',
  ce_source: 'tests',
  ce_id: 'b-10',
};

describe('structured mode (RIG rig_kafka_test cases)', () => {
  it('a JSON event without headers is structured and forwarded unchanged', () => {
    const ev = decodeKafkaRecord(rec(EVENT_02));
    assert.equal(ev.json, EVENT_02);
    assert.equal(ev.type, 'greeting');
    assert.equal(ev.id, 'k-1');
    assert.equal(ev.specversion, '0.2');
    assert.deepEqual(ev.body['data'], { hello: 'world' });
    // RIG defaulted `contenttype` to application/json by re-serialising; the event is not touched here.
    assert.equal('contenttype' in ev.body, false);
  });

  it('application/cloudevents+json, with parameters and in any case, is structured', () => {
    for (const ct of [
      'application/cloudevents+json',
      'application/cloudevents+json; charset=UTF-8',
      'Application/CloudEvents+JSON ;charset=utf-8',
      'application/cloudevents',
    ]) {
      const ev = decodeKafkaRecord(rec(EVENT_02, { 'content-type': ct }));
      assert.equal(ev.json, EVENT_02, ct);
    }
  });

  it('ce_ headers do not turn a structured record into a binary one', () => {
    const ev = decodeKafkaRecord(rec(EVENT_02, { 'content-type': 'application/cloudevents+json', ...BINARY_10 }));
    assert.equal(ev.json, EVENT_02);
    assert.equal(ev.id, 'k-1');
  });

  it('accepts 1.0, 0.3, 0.2 and 0.1 events', () => {
    const v10 = decodeKafkaRecord(rec(EVENT_10));
    assert.equal(v10.specversion, '1.0');
    assert.equal(v10.json, EVENT_10);
    const v03 = decodeKafkaRecord(rec('{"specversion":"0.3","type":"t","source":"s","id":"i3"}'));
    assert.equal(v03.specversion, '0.3');
    assert.equal(v03.id, 'i3');
    const v02 = decodeKafkaRecord(rec('{"specversion":"0.2","type":"t","id":7}'));
    assert.equal(v02.specversion, '0.2');
    assert.equal(v02.id, '7');
    const v01 = decodeKafkaRecord(rec(EVENT_01));
    assert.equal(v01.specversion, '0.1');
    assert.equal(v01.type, 'greeting');
    assert.equal(v01.id, 'k-01');
    assert.equal(v01.json, EVENT_01);
  });

  it('accepts extension names RIG rejected on Kafka (uppercase, spaces) and keeps them', () => {
    const text = '{"specversion":"1.0","type":"t","source":"s","id":"x","myExtension":"a","additional top-level property":{"k":[1,2]}}';
    const ev = decodeKafkaRecord(rec(text));
    assert.equal(ev.json, text);
    assert.equal(ev.body['myExtension'], 'a');
    assert.deepEqual(ev.body['additional top-level property'], { k: [1, 2] });
  });

  it('forwards the value byte-for-byte: whitespace, key order, unicode, escapes, contenttype, schemaurl', () => {
    const text =
      '{\n  "id" : "ü-1",\n\t"type":"größe \\u00e9 \\ud83d\\ude00 😀",  "specversion": "0.2",\n' +
      '  "contenttype":"text/plain", "schemaurl":"http://schema", "data":"1.50",\n  "n": 1.0e2 }\n';
    const ev = decodeKafkaRecord(rec(text));
    assert.equal(ev.json, text);
    assert.equal(ev.id, 'ü-1');
    assert.equal(ev.type, 'größe é 😀 😀');
    assert.equal(ev.body['contenttype'], 'text/plain');
    assert.equal(ev.body['schemaurl'], 'http://schema');
  });

  it('keeps data_base64 and string data as sent', () => {
    const b64 = '{"specversion":"1.0","type":"t","source":"s","id":"x","data_base64":"AAEC/w=="}';
    assert.equal(decodeKafkaRecord(rec(b64)).json, b64);
    const str = '{"specversion":"1.0","type":"t","source":"s","id":"x","datacontenttype":"application/json","data":"{\\"a\\":1}"}';
    const ev = decodeKafkaRecord(rec(str));
    assert.equal(ev.json, str);
    assert.equal(ev.body['data'], '{"a":1}');
  });

  it('application/cloudevents+xml and other formats have no decoder', () => {
    fails(rec('<event/>', { 'content-type': 'application/cloudevents+xml' }), 'no decoder for event format xml');
    fails(rec(EVENT_02, { 'content-type': 'application/cloudevents+protobuf; x=y' }), 'no decoder for event format protobuf');
  });

  it('Avro is refused: application/cloudevents+avro and the magic byte without content-type', () => {
    fails(rec(EVENT_02, { 'content-type': 'application/cloudevents+avro' }), 'avro is not supported');
    const wire = Buffer.concat([Buffer.from([0x00, 0x00, 0x00, 0x00, 0x01]), Buffer.from('avro-body')]);
    fails(rec(wire), 'avro is not supported');
  });

  it('batch mode is refused', () => {
    fails(rec('[]', { 'content-type': 'application/cloudevents-batch+json' }), 'batch mode is not supported');
    fails(rec('[]', { 'content-type': 'application/cloudevents-batch' }), 'batch mode is not supported');
  });
});

describe('poison values give a KafkaDecodeError', () => {
  it('null, empty, not JSON, not an object, not a CloudEvent, not UTF-8', () => {
    fails(rec(null), 'empty value');
    fails(rec(''), 'empty value');
    fails(rec(null, { 'content-type': 'application/cloudevents+json' }), 'empty value');
    fails(rec('not json'), 'not valid JSON');
    fails(rec('{"specversion":"0.2",'), 'not valid JSON');
    fails(rec('\uFEFF' + EVENT_02), 'not valid JSON');
    fails(rec('[1,2]'), 'not a JSON object');
    fails(rec('42'), 'not a JSON object');
    fails(rec('null'), 'not a JSON object');
    fails(rec('"text"'), 'not a JSON object');
    fails(rec('{"specversion":"0.2","id":"1"}'), /^not a CloudEvent: .*"type"/);
    fails(rec('{"specversion":"1.0","type":"t","id":"1"}'), /^not a CloudEvent: .*"source"/);
    fails(rec('{"specversion":"9.9","type":"t","id":"1"}'), /^not a CloudEvent: unsupported specversion/);
    fails(rec('{"type":"t","id":"1"}'), /^not a CloudEvent: missing "specversion"/);
    fails(rec(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), 'not valid UTF-8');
  });

  it('garbage records never throw anything else', () => {
    const garbage: unknown[] = [
      null,
      undefined,
      {},
      { value: 'a string', headers: {} },
      { value: 12, headers: {} },
      { value: Buffer.from('{}'), headers: null },
      { value: Buffer.from('{}'), headers: 'content-type' },
      { value: Buffer.from('x'), headers: { 'content-type': 5, ce_specversion: { a: 1 } } },
      { value: Buffer.from('x'), headers: { 'content-type': [], ce_specversion: [] } },
      { value: Buffer.from('x'), headers: { 'content-type': Buffer.from([0xff]) } },
      { value: Buffer.from('x'), headers: { 'content-type': 'text/plain', ce_specversion: Buffer.from([0xc3]) } },
      { value: Buffer.from('x'), headers: { 'content-type': 'text/plain', ce_specversion: '0.1', ce_type: 't', ce_id: 'i' } },
      { value: Buffer.from('x'), headers: { 'content-type': 'text/plain', ce_specversion: '0.2' } },
      { value: Buffer.from('['.repeat(200_000) + ']'.repeat(200_000)), headers: {} },
      {
        value: Buffer.from('['.repeat(20_000) + ']'.repeat(20_000)),
        headers: { 'content-type': 'application/json', ...BINARY_10 },
      },
      { value: Buffer.from('x'), headers: Object.defineProperty({}, 'content-type', { enumerable: true, get: () => { throw new Error('boom'); } }) },
    ];
    for (const g of garbage) {
      try {
        decodeKafkaRecord(g as KafkaRecordInput);
      } catch (e) {
        assert.ok(e instanceof KafkaDecodeError, `${String(e)} for ${String(g)}`);
        continue;
      }
      // Deeply nested JSON data is a valid binary event; anything else must fail.
      assert.equal((g as KafkaRecordInput).headers?.['content-type'], 'application/json');
    }
    fails(null as unknown as KafkaRecordInput, 'not a record');
  });

  it('missing or malformed headers count as no headers', () => {
    for (const headers of [null, undefined, 'content-type', 42]) {
      const ev = decodeKafkaRecord({ value: Buffer.from(EVENT_02), headers } as unknown as KafkaRecordInput);
      assert.equal(ev.json, EVENT_02);
    }
  });

  it('a large value is decoded', () => {
    const big = JSON.stringify({ specversion: '1.0', type: 't', source: 's', id: 'big', data: 'x'.repeat(8 * 1024 * 1024) });
    const ev = decodeKafkaRecord(rec(big));
    assert.equal(ev.json.length, big.length);
  });
});

describe('binary mode', () => {
  it('content-type some-weird-type with ce_ headers (0.2): string data, contenttype kept', () => {
    const ev = decodeKafkaRecord(rec('Hello, world!', { 'content-type': 'some-weird-type', ...BINARY_02 }));
    assert.equal(ev.specversion, '0.2');
    assert.equal(ev.type, 'greeting');
    assert.equal(ev.id, 'b-1');
    assert.equal(
      ev.json,
      '{"specversion":"0.2","type":"greeting","source":"tests","id":"b-1","contenttype":"some-weird-type","data":"Hello, world!"}',
    );
    assert.deepEqual(JSON.parse(ev.json), ev.body);
  });

  it('1.0 uses datacontenttype; the header value is kept as sent', () => {
    const ev = decodeKafkaRecord(rec('plain text', { 'content-type': 'Text/Plain; charset=utf-8', ...BINARY_10 }));
    assert.equal(
      ev.json,
      '{"specversion":"1.0","type":"greeting","source":"tests","id":"b-10","datacontenttype":"Text/Plain; charset=utf-8","data":"plain text"}',
    );
  });

  it('application/json data is JSON, embedded as the producer wrote it', () => {
    const data = '{ "b": 2, "a": [1, 1.50] }';
    const ev = decodeKafkaRecord(rec(data + '\n', { 'content-type': 'application/json', ...BINARY_10 }));
    assert.deepEqual(ev.body['data'], { b: 2, a: [1, 1.5] });
    assert.equal(
      ev.json,
      `{"specversion":"1.0","type":"greeting","source":"tests","id":"b-10","datacontenttype":"application/json","data":${data}}`,
    );
    assert.deepEqual(JSON.parse(ev.json), ev.body);
    const vnd = decodeKafkaRecord(rec('[true]', { 'content-type': 'application/vnd.acme+json; v=2', ...BINARY_02 }));
    assert.deepEqual(vnd.body['data'], [true]);
    assert.equal(vnd.body['contenttype'], 'application/vnd.acme+json; v=2');
  });

  it('invalid JSON data under a JSON media type is an error', () => {
    fails(rec('{not json', { 'content-type': 'application/json', ...BINARY_10 }), 'data is not valid JSON');
    fails(rec(Buffer.from([0xff, 0x01]), { 'content-type': 'application/json', ...BINARY_10 }), /^data is not valid JSON/);
  });

  it('non-UTF-8 data is data_base64 for 1.0 / 0.3 and an error for 0.2', () => {
    const bytes = Buffer.from([0x00, 0x01, 0xfe, 0xff]);
    const ev = decodeKafkaRecord(rec(bytes, { 'content-type': 'application/octet-stream', ...BINARY_10 }));
    assert.equal(ev.body['data_base64'], bytes.toString('base64'));
    assert.equal('data' in ev.body, false);
    const v03 = decodeKafkaRecord(rec(bytes, { 'content-type': 'application/octet-stream', ...BINARY_10, ce_specversion: '0.3' }));
    assert.equal(v03.specversion, '0.3');
    assert.equal(v03.body['data_base64'], 'AAH+/w==');
    fails(rec(bytes, { 'content-type': 'application/octet-stream', ...BINARY_02 }), /^data is not valid UTF-8/);
  });

  it('null or empty value: no data', () => {
    for (const v of [null, '']) {
      const ev = decodeKafkaRecord(rec(v, { 'content-type': 'application/json', ...BINARY_10 }));
      assert.equal('data' in ev.body, false);
      assert.equal(ev.json, '{"specversion":"1.0","type":"greeting","source":"tests","id":"b-10","datacontenttype":"application/json"}');
    }
  });

  it('ce_specversion is required and must be 0.2, 0.3 or 1.0', () => {
    const { ce_specversion: _omit, ...noVersion } = BINARY_10;
    fails(rec('x', { 'content-type': 'text/plain', ...noVersion }), 'binary mode without a ce_specversion header');
    fails(rec('x', { 'content-type': 'text/plain', ...BINARY_10, ce_specversion: '0.1' }), 'specversion 0.1 has no Kafka binary mode');
    fails(rec('x', { 'content-type': 'text/plain', ...BINARY_10, ce_specversion: '2.0' }), /^unsupported ce_specversion "2.0"/);
  });

  it('binary attributes are checked like structured ones', () => {
    fails(rec('x', { 'content-type': 'text/plain', ce_specversion: '1.0', ce_type: 't', ce_id: 'i' }), /^not a CloudEvent: .*"source"/);
    fails(rec('x', { 'content-type': 'text/plain', ce_specversion: '0.2', ce_id: 'i' }), /^not a CloudEvent: .*"type"/);
  });

  it('extension values are JSON-decoded when they parse; standard attributes stay strings', () => {
    const ev = decodeKafkaRecord(
      rec('x', {
        'content-type': 'text/plain',
        ce_rig: '{"correlation":"abc","n":1}',
        ce_count: '42',
        ce_flag: 'true',
        ce_word: 'hello',
        ce_broken: '{nope',
        ce_quoted: '"q"',
        ce_time: '2020-01-01T00:00:00Z',
        ce_subject: '123',
        ...BINARY_10,
        ce_id: '7',
      }),
    );
    assert.deepEqual(ev.body['rig'], { correlation: 'abc', n: 1 });
    assert.equal(ev.body['count'], 42);
    assert.equal(ev.body['flag'], true);
    assert.equal(ev.body['word'], 'hello');
    assert.equal(ev.body['broken'], '{nope');
    assert.equal(ev.body['quoted'], 'q');
    assert.equal(ev.body['subject'], '123');
    assert.equal(ev.body['id'], '7');
    assert.equal(ev.id, '7');
    assert.equal(
      ev.json,
      '{"specversion":"1.0","type":"greeting","source":"tests","id":"7","time":"2020-01-01T00:00:00Z",' +
        '"rig":{"correlation":"abc","n":1},"count":42,"flag":true,"word":"hello","broken":"{nope","quoted":"q",' +
        '"subject":"123","datacontenttype":"text/plain","data":"x"}',
    );
    assert.deepEqual(JSON.parse(ev.json), ev.body);
  });

  it('the key order is stable whatever the header order', () => {
    const a = decodeKafkaRecord(rec('x', { 'content-type': 'text/plain', ce_id: 'i', ce_ext: 'e', ce_source: 's', ce_type: 't', ce_specversion: '1.0' }));
    const b = decodeKafkaRecord(rec('x', { ce_specversion: '1.0', ce_type: 't', ce_ext: 'e', ce_source: 's', ce_id: 'i', 'content-type': 'text/plain' }));
    assert.equal(a.json, b.json);
    assert.equal(a.json, '{"specversion":"1.0","type":"t","source":"s","id":"i","ext":"e","datacontenttype":"text/plain","data":"x"}');
  });

  it('headers cannot inject data, and the content-type header wins over a ce_ content type', () => {
    const ev = decodeKafkaRecord(
      rec('real', { 'content-type': 'text/plain', ce_data: 'forged', ce_data_base64: 'Zm9v', ce_datacontenttype: 'x/y', ...BINARY_10 }),
    );
    assert.equal(ev.body['data'], 'real');
    assert.equal('data_base64' in ev.body, false);
    assert.equal(ev.body['datacontenttype'], 'text/plain');
  });

  it('odd extension names: __proto__ is an own property, integer-like names keep header order', () => {
    const ev = decodeKafkaRecord(rec('x', { 'content-type': 'text/plain', ...BINARY_10, ce___proto__: '{"polluted":1}', ce_1: 'one' }));
    assert.equal(Object.getPrototypeOf(ev.body), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(ev.body, '__proto__')?.value, { polluted: 1 });
    assert.ok(ev.json.endsWith('"__proto__":{"polluted":1},"1":"one","datacontenttype":"text/plain","data":"x"}'));
    assert.deepEqual(JSON.parse(ev.json), ev.body);
  });

  it('without content-type, a ce_specversion header selects binary mode', () => {
    const ev = decodeKafkaRecord(rec('payload', { ...BINARY_10 }));
    assert.equal(ev.json, '{"specversion":"1.0","type":"greeting","source":"tests","id":"b-10","data":"payload"}');
    const declared = decodeKafkaRecord(rec('{"a":1}', { ...BINARY_10, ce_datacontenttype: 'application/json' }));
    assert.deepEqual(declared.body['data'], { a: 1 });
    assert.equal(declared.body['datacontenttype'], 'application/json');
  });
});

describe('headers', () => {
  it('values may be Buffers, strings or arrays (first value wins)', () => {
    const ev = decodeKafkaRecord(
      rec('x', {
        'content-type': [Buffer.from('text/plain'), 'application/json'],
        ce_specversion: Buffer.from('1.0'),
        ce_type: ['greeting', 'other'],
        ce_source: Buffer.from('tests'),
        ce_id: [Buffer.from('b-1')],
        ce_ext: Buffer.from('{"a":"ü"}'),
        ce_missing: undefined,
      }),
    );
    assert.equal(ev.json, '{"specversion":"1.0","type":"greeting","source":"tests","id":"b-1","ext":{"a":"ü"},"datacontenttype":"text/plain","data":"x"}');
  });

  it('header names are case-insensitive; ce- is accepted next to ce_', () => {
    const ev = decodeKafkaRecord(
      rec('x', { 'Content-Type': 'TEXT/plain', 'CE_SpecVersion': '1.0', 'ce-type': 't', 'Ce-Source': 's', CE_ID: 'i', 'ce-MyExt': '1' }),
    );
    assert.equal(ev.json, '{"specversion":"1.0","type":"t","source":"s","id":"i","myext":1,"datacontenttype":"TEXT/plain","data":"x"}');
    const structured = decodeKafkaRecord(rec(EVENT_02, { 'CONTENT-TYPE': Buffer.from('Application/CloudEvents+Json') }));
    assert.equal(structured.json, EVENT_02);
  });

  it('the first header naming an attribute wins', () => {
    const ev = decodeKafkaRecord(rec('x', { 'content-type': 'text/plain', ...BINARY_10, 'ce-id': 'second' }));
    assert.equal(ev.id, 'b-10');
  });

  it('a header that is not UTF-8 is an error only when it is used', () => {
    const bad = Buffer.from([0xff, 0xfe]);
    fails(rec('x', { 'content-type': 'text/plain', ...BINARY_10, ce_ext: bad }), /^header "ce_ext" is not valid UTF-8/);
    const ev = decodeKafkaRecord(rec('x', { 'content-type': 'text/plain', ...BINARY_10, 'x-trace': bad }));
    assert.equal(ev.id, 'b-10');
    const structured = decodeKafkaRecord(rec(EVENT_02, { 'x-trace': bad }));
    assert.equal(structured.json, EVENT_02);
  });
});

describe('throughput', () => {
  it('prints records per second (no assertion)', () => {
    const n = 100_000;
    const structured: KafkaRecordInput[] = [];
    const binary: KafkaRecordInput[] = [];
    for (let i = 0; i < 1000; i++) {
      structured.push({
        value: Buffer.from(JSON.stringify({ specversion: '1.0', type: 'com.example.greeting', source: '/tests', id: `id-${i}`, time: '2020-01-01T00:00:00Z', data: { name: 'john', n: i, text: 'hello world' } })),
        headers: { 'content-type': Buffer.from('application/cloudevents+json; charset=UTF-8'), traceparent: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01') },
      });
      binary.push({
        value: Buffer.from(JSON.stringify({ name: 'john', n: i, text: 'hello world' })),
        headers: {
          'content-type': Buffer.from('application/json'),
          ce_specversion: Buffer.from('1.0'),
          ce_type: Buffer.from('com.example.greeting'),
          ce_source: Buffer.from('/tests'),
          ce_id: Buffer.from(`id-${i}`),
          ce_time: Buffer.from('2020-01-01T00:00:00Z'),
        },
      });
    }
    for (const [label, records] of [['structured', structured], ['binary', binary]] as const) {
      for (let i = 0; i < 10_000; i++) decodeKafkaRecord(records[i % records.length]!);
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) decodeKafkaRecord(records[i % records.length]!);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      console.log(`decodeKafkaRecord ${label}: ${Math.round(n / seconds).toLocaleString('en-US')} records/s`);
    }
  });
});
