import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mediaTypeOf, parseHttpEvent, type HttpEventRequest } from '../../../../src/shared/cloudevents/http-binding.js';
import { GatewayError, type ErrorCode } from '../../../../src/shared/errors.js';

const STRUCTURED = '{"specversion":"0.2","type":"greeting","id":"s-1","source":"x"}';
const BINARY_HEADERS: Array<[string, string]> = [
  ['ce-specversion', '0.2'],
  ['ce-type', 'greeting'],
  ['ce-id', 'b-1'],
  ['ce-source', 'tests'],
];

function req(contentType: string | undefined, headers: Array<[string, string]>, body: string | Buffer): HttpEventRequest {
  const all: Array<[string, string]> = contentType === undefined ? [...headers] : [['content-type', contentType], ...headers];
  return { contentType, headers: all, body: typeof body === 'string' ? Buffer.from(body) : body };
}

function fails(r: HttpEventRequest, code: ErrorCode, status: number, text?: string | RegExp): void {
  assert.throws(
    () => parseHttpEvent(r),
    (e: unknown) => {
      assert.ok(e instanceof GatewayError);
      assert.equal(e.code, code);
      assert.equal(e.status, status);
      if (typeof text === 'string') assert.equal(e.message, text);
      else if (text) assert.match(e.message, text);
      return true;
    },
  );
}

describe('mode selection', () => {
  it('application/cloudevents-batch is refused whatever the headers', () => {
    const text = 'The batched CloudEvents HTTP transport binding mode is currently not supported.';
    fails(req('application/cloudevents-batch', [], '[]'), 'GW_ERR_BATCH_MODE_UNSUPPORTED', 415, text);
    fails(req('Application/CloudEvents-Batch+json; charset=utf-8', BINARY_HEADERS, '[]'), 'GW_ERR_BATCH_MODE_UNSUPPORTED', 415, text);
  });

  it('application/cloudevents+json is structured and ignores ce-* headers', () => {
    const ev = parseHttpEvent(req('application/cloudevents+json; charset=utf-8', BINARY_HEADERS, STRUCTURED));
    assert.equal(ev.id, 's-1');
    assert.equal(ev.json, STRUCTURED);
    assert.equal(parseHttpEvent(req('APPLICATION/CloudEvents+JSON', [], STRUCTURED)).id, 's-1');
  });

  it('application/cloudevents+<other> is refused with RIG text', () => {
    fails(
      req('application/cloudevents+xml', BINARY_HEADERS, '<x/>'),
      'GW_ERR_STRUCTURED_FORMAT_UNSUPPORTED',
      415,
      'The given content-type {"application", "cloudevents+xml"} is currently not supported for structured mode.',
    );
    fails(req('application/cloudevents+avro;x=y', [], ''), 'GW_ERR_STRUCTURED_FORMAT_UNSUPPORTED', 415, /"cloudevents\+avro"/);
  });

  it('application/cloudevents without a format suffix is structured', () => {
    assert.equal(parseHttpEvent(req('application/cloudevents', BINARY_HEADERS, STRUCTURED)).id, 's-1');
  });

  it('application/json without ce-specversion is structured', () => {
    assert.equal(parseHttpEvent(req('application/json', [['ce-type', 'ignored']], STRUCTURED)).id, 's-1');
    assert.equal(parseHttpEvent(req('application/json; charset=utf-8', [], STRUCTURED)).json, STRUCTURED);
  });

  it('application/json with ce-specversion is binary', () => {
    const ev = parseHttpEvent(req('application/json; charset=utf-8', BINARY_HEADERS, '{"name":"Alice"}'));
    assert.equal(ev.id, 'b-1');
    assert.equal(ev.json, '{"specversion":"0.2","type":"greeting","source":"tests","id":"b-1","data":{"name":"Alice"}}');
  });

  it('any other content type is binary', () => {
    assert.equal(parseHttpEvent(req('text/plain', BINARY_HEADERS, 'hi')).id, 'b-1');
    fails(
      req('text/plain', [], STRUCTURED),
      'GW_ERR_BINARY_MODE_SPECVERSION',
      400,
      `Your request looks like it's using the CloudEvents binary content mode, but the ce-specversion header is [] instead of ["0.2","0.3","1.0"].`,
    );
  });

  it('a missing content type is binary when ce-specversion is present', () => {
    const ev = parseHttpEvent(req(undefined, BINARY_HEADERS, 'raw text'));
    assert.equal(ev.json, '{"specversion":"0.2","type":"greeting","source":"tests","id":"b-1","data":"raw text"}');
  });

  it('a missing (or empty) content type without ce-specversion is 415', () => {
    fails(req(undefined, [], STRUCTURED), 'GW_ERR_UNSUPPORTED_MEDIA_TYPE', 415);
    fails(req('  ', [], STRUCTURED), 'GW_ERR_UNSUPPORTED_MEDIA_TYPE', 415);
  });

  it('mediaTypeOf drops parameters and case', () => {
    assert.equal(mediaTypeOf(' Application/JSON ; charset=UTF-8'), 'application/json');
    assert.equal(mediaTypeOf('text/plain'), 'text/plain');
  });
});

describe('structured mode', () => {
  it('forwards the body byte-for-byte', () => {
    const text = '{ "specversion":"0.2", "type":"t", "id":"1", "weird key": [ 1 ] }\n';
    assert.equal(parseHttpEvent(req('application/cloudevents+json', [], text)).json, text);
  });
  it('rejects non-UTF-8 bodies', () => {
    const body = Buffer.concat([Buffer.from('{"specversion":"0.2","type":"'), Buffer.from([0xff]), Buffer.from('","id":"1"}')]);
    fails(req('application/cloudevents+json', [], body), 'GW_ERR_INVALID_UTF8', 400, 'Request body is not valid UTF-8.');
  });
  it('reports non-CloudEvents', () => {
    fails(req('application/json', [], '{"type":"t"}'), 'GW_ERR_NOT_A_CLOUD_EVENT', 400, /missing "specversion"/);
    fails(req('application/json', [], 'nope'), 'GW_ERR_NOT_A_CLOUD_EVENT', 400, /not valid JSON/);
  });
});

describe('binary mode', () => {
  it('rejects unsupported, missing or repeated ce-specversion', () => {
    fails(req('text/plain', [['ce-specversion', '0.1'], ['ce-type', 't'], ['ce-id', '1']], 'x'), 'GW_ERR_BINARY_MODE_SPECVERSION', 400, /header is \["0.1"\] instead/);
    fails(req('text/plain', [['ce-specversion', '0.2'], ['ce-specversion', '0.2']], 'x'), 'GW_ERR_BINARY_MODE_SPECVERSION', 400, /\["0.2","0.2"\]/);
  });

  it('keeps a text body as a string and the contenttype attribute (RIG test)', () => {
    const ev = parseHttpEvent(req('text/plain', BINARY_HEADERS, '»Alice«'));
    assert.equal(ev.json, '{"specversion":"0.2","type":"greeting","source":"tests","id":"b-1","contenttype":"text/plain","data":"»Alice«"}');
    assert.equal(ev.body['data'], '»Alice«');
  });

  it('keeps content-type parameters in the attribute', () => {
    const ev = parseHttpEvent(req('text/plain; charset=utf-8', BINARY_HEADERS, 'x'));
    assert.equal(ev.body['contenttype'], 'text/plain; charset=utf-8');
  });

  it('decodes a JSON body and drops the content type attribute', () => {
    const ev = parseHttpEvent(req('application/json', BINARY_HEADERS, '{"a":[1,2]}'));
    assert.deepEqual(ev.body['data'], { a: [1, 2] });
    assert.equal('contenttype' in ev.body, false);
  });

  it('decodes a +json body but keeps its content type', () => {
    const ev = parseHttpEvent(req('application/vnd.x+json', BINARY_HEADERS, '{"a":1}'));
    assert.deepEqual(ev.body['data'], { a: 1 });
    assert.equal(ev.body['contenttype'], 'application/vnd.x+json');
  });

  it('answers 400 for an invalid JSON body', () => {
    fails(
      req('application/json', BINARY_HEADERS, '{"a":'),
      'GW_ERR_BINARY_MODE_INVALID',
      400,
      'The request does not form a CloudEvent in binary content mode: body is not valid JSON for content-type application/json',
    );
  });

  it('leaves data out for an empty body', () => {
    assert.equal(
      parseHttpEvent(req('text/plain', BINARY_HEADERS, '')).json,
      '{"specversion":"0.2","type":"greeting","source":"tests","id":"b-1","contenttype":"text/plain"}',
    );
    assert.equal(parseHttpEvent(req('application/json', BINARY_HEADERS, '')).json, '{"specversion":"0.2","type":"greeting","source":"tests","id":"b-1"}');
  });

  it('puts a non-UTF-8 body into data_base64 for 1.0 and 0.3, refuses it for 0.2', () => {
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x80]);
    for (const v of ['1.0', '0.3']) {
      const ev = parseHttpEvent(req('application/octet-stream', [['ce-specversion', v], ['ce-type', 't'], ['ce-id', '1'], ['ce-source', 's']], bytes));
      assert.equal(ev.body['data_base64'], bytes.toString('base64'));
      assert.equal(ev.body['datacontenttype'], 'application/octet-stream');
      assert.equal('data' in ev.body, false);
    }
    fails(req('application/octet-stream', BINARY_HEADERS, bytes), 'GW_ERR_INVALID_UTF8', 400);
    fails(req('application/json', BINARY_HEADERS, Buffer.from([0x22, 0xff, 0x22])), 'GW_ERR_INVALID_UTF8', 400);
  });

  it('uses datacontenttype for 1.0', () => {
    const headers: Array<[string, string]> = [['ce-specversion', '1.0'], ['ce-type', 't'], ['ce-source', 's'], ['ce-id', '1']];
    const ev = parseHttpEvent(req('text/plain', headers, 'hi'));
    assert.equal(ev.specversion, '1.0');
    assert.equal(ev.json, '{"specversion":"1.0","type":"t","source":"s","id":"1","datacontenttype":"text/plain","data":"hi"}');
  });

  it('orders attributes stably and JSON-decodes extensions only', () => {
    const headers: Array<[string, string]> = [
      ['ce-count', '42'],
      ['ce-id', '007'],
      ['ce-time', '2020-01-01T00:00:00Z'],
      ['x-other', 'ignored'],
      ['ce-obj', '{"k":[true]}'],
      ['ce-type', '123'],
      ['ce-word', 'plain words'],
      ['ce-specversion', '0.2'],
      ['ce-schemaurl', '{"not":"decoded"}'],
      ['ce-123', 'numeric name'],
    ];
    const ev = parseHttpEvent(req('text/plain', headers, 'x'));
    assert.equal(
      ev.json,
      '{"specversion":"0.2","type":"123","id":"007","time":"2020-01-01T00:00:00Z","count":42,"obj":{"k":[true]},"word":"plain words","schemaurl":"{\\"not\\":\\"decoded\\"}","123":"numeric name","contenttype":"text/plain","data":"x"}',
    );
    assert.equal(ev.type, '123');
    assert.equal(ev.id, '007');
  });

  it('does not let headers supply the payload', () => {
    const ev = parseHttpEvent(req('text/plain', [...BINARY_HEADERS, ['ce-data', '"forged"'], ['ce-data_base64', 'AA==']], ''));
    assert.equal('data' in ev.body, false);
    assert.equal('data_base64' in ev.body, false);
  });

  it('validates the assembled event', () => {
    fails(req('text/plain', [['ce-specversion', '0.2'], ['ce-id', '1']], 'x'), 'GW_ERR_BINARY_MODE_INVALID', 400, /: missing or invalid "type"$/);
    fails(
      req('text/plain', [['ce-specversion', '1.0'], ['ce-id', '1'], ['ce-type', 't']], 'x'),
      'GW_ERR_BINARY_MODE_INVALID',
      400,
      /"source"/,
    );
    // 0.2 keeps RIG's rule: source is optional.
    assert.equal(parseHttpEvent(req('text/plain', [['ce-specversion', '0.2'], ['ce-id', '1'], ['ce-type', 't']], 'x')).type, 't');
  });
});
