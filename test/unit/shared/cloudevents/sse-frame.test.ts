import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderSseFrame, SSE_HEARTBEAT } from '../../../../src/shared/cloudevents/sse-frame.js';

describe('renderSseFrame', () => {
  it('writes event and a single data line', () => {
    assert.equal(renderSseFrame('greeting', '{"a":1}').toString(), 'event: greeting\ndata: {"a":1}\n\n');
  });

  it('splits multi-line JSON on LF, CRLF and CR', () => {
    assert.equal(
      renderSseFrame('t', '{\n"a":1,\r\n"b":2\r}').toString(),
      'event: t\ndata: {\ndata: "a":1,\ndata: "b":2\ndata: }\n\n',
    );
    assert.equal(renderSseFrame('t', '{}\n').toString(), 'event: t\ndata: {}\ndata: \n\n');
  });

  it('cannot be used to inject fields through the event name', () => {
    assert.equal(
      renderSseFrame('evil\ndata: x\r\n\0id: 1', '{}').toString(),
      'event: evil data: x   id: 1\ndata: {}\n\n',
    );
  });

  it('encodes UTF-8', () => {
    const frame = renderSseFrame('grüße', '{"n":"»Alice«"}');
    assert.ok(Buffer.isBuffer(frame));
    assert.equal(frame.toString('utf8'), 'event: grüße\ndata: {"n":"»Alice«"}\n\n');
  });

  it('heartbeat is an SSE comment', () => {
    assert.equal(SSE_HEARTBEAT.toString(), ': heartbeat\n\n');
  });
});
