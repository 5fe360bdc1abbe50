import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkCloudEvent, parseStructuredEvent, specversionOf } from '../../../../src/shared/cloudevents/structured.js';
import { GatewayError } from '../../../../src/shared/errors.js';

function rejects(json: string, reason: RegExp): void {
  assert.throws(
    () => parseStructuredEvent(json),
    (e: unknown) => {
      assert.ok(e instanceof GatewayError);
      assert.equal(e.code, 'GW_ERR_NOT_A_CLOUD_EVENT');
      assert.equal(e.status, 400);
      assert.match(e.message, /^The request body does not look like a CloudEvent: /);
      assert.match(e.message, reason);
      return true;
    },
  );
}

describe('parseStructuredEvent', () => {
  it('rejects text that is not JSON or not an object', () => {
    rejects('', /not valid JSON/);
    rejects('{"specversion":"0.2",', /not valid JSON/);
    rejects('[]', /not a JSON object/);
    rejects('null', /not a JSON object/);
    rejects('"0.2"', /not a JSON object/);
    rejects('42', /not a JSON object/);
  });

  describe('0.2 (RIG lenient rule)', () => {
    it('accepts type and id without source', () => {
      const ev = parseStructuredEvent('{"specversion":"0.2","type":"greeting","id":"1"}');
      assert.deepEqual([ev.specversion, ev.type, ev.id], ['0.2', 'greeting', '1']);
      assert.deepEqual(ev.body, { specversion: '0.2', type: 'greeting', id: '1' });
    });
    it('accepts number and boolean type/id, as their JSON text', () => {
      const ev = parseStructuredEvent('{"specversion":"0.2","type":42,"id":1.5}');
      assert.equal(ev.type, '42');
      assert.equal(ev.id, '1.5');
      assert.equal(parseStructuredEvent('{"specversion":"0.2","type":true,"id":false}').id, 'false');
    });
    it('accepts empty strings (RIG only asks for scalars)', () => {
      assert.equal(parseStructuredEvent('{"specversion":"0.2","type":"","id":""}').type, '');
    });
    it('rejects a missing or non-scalar type', () => {
      rejects('{"specversion":"0.2","id":"1"}', /"type"/);
      rejects('{"specversion":"0.2","type":null,"id":"1"}', /"type"/);
      rejects('{"specversion":"0.2","type":{"a":1},"id":"1"}', /"type"/);
      rejects('{"specversion":"0.2","type":["a"],"id":"1"}', /"type"/);
    });
    it('rejects a missing or non-scalar id', () => {
      rejects('{"specversion":"0.2","type":"t"}', /"id"/);
      rejects('{"specversion":"0.2","type":"t","id":null}', /"id"/);
      rejects('{"specversion":"0.2","type":"t","id":[1]}', /"id"/);
    });
    it('requires the specversion as the string "0.2"', () => {
      rejects('{"specversion":0.2,"type":"t","id":"1"}', /unsupported specversion 0.2/);
      rejects('{"specversion":"0.2.0","type":"t","id":"1"}', /unsupported specversion "0.2.0"/);
    });
  });

  describe('0.1', () => {
    it('accepts cloudEventsVersion with eventType and eventID', () => {
      const ev = parseStructuredEvent('{"cloudEventsVersion":"0.1","eventType":"greeting","eventID":7}');
      assert.deepEqual([ev.specversion, ev.type, ev.id], ['0.1', 'greeting', '7']);
    });
    it('rejects missing or non-scalar eventType / eventID', () => {
      rejects('{"cloudEventsVersion":"0.1","eventID":"1"}', /"eventType"/);
      rejects('{"cloudEventsVersion":"0.1","eventType":"t"}', /"eventID"/);
      rejects('{"cloudEventsVersion":"0.1","eventType":{},"eventID":"1"}', /"eventType"/);
      rejects('{"cloudEventsVersion":"0.1","type":"t","id":"1"}', /"eventType"/);
    });
    it('rejects other cloudEventsVersion values', () => {
      rejects('{"cloudEventsVersion":"0.2","eventType":"t","eventID":"1"}', /unsupported cloudEventsVersion "0.2"/);
    });
    it('lets specversion win when both are present', () => {
      assert.equal(parseStructuredEvent('{"cloudEventsVersion":"0.1","specversion":"0.2","type":"a","id":"1","eventType":"b","eventID":"2"}').type, 'a');
    });
  });

  for (const version of ['1.0', '0.3'] as const) {
    describe(version, () => {
      const base = { specversion: version, id: 'abc', source: '/s', type: 'greeting' };
      it('accepts id, source and type as non-empty strings', () => {
        const ev = parseStructuredEvent(JSON.stringify(base));
        assert.deepEqual([ev.specversion, ev.type, ev.id], [version, 'greeting', 'abc']);
      });
      for (const attr of ['id', 'source', 'type'] as const) {
        it(`rejects a missing, empty or non-string ${attr}`, () => {
          const { [attr]: _omit, ...without } = base;
          rejects(JSON.stringify(without), new RegExp(`"${attr}"`));
          rejects(JSON.stringify({ ...base, [attr]: '' }), new RegExp(`"${attr}"`));
          rejects(JSON.stringify({ ...base, [attr]: 1 }), new RegExp(`"${attr}"`));
        });
      }
    });
  }

  it('rejects unknown or missing versions', () => {
    rejects('{"specversion":"2.0","type":"t","id":"1","source":"s"}', /unsupported specversion "2.0"/);
    rejects('{"type":"t","id":"1","source":"s"}', /missing "specversion"/);
    rejects(`{"specversion":"${'x'.repeat(100)}","type":"t","id":"1"}`, /\.\.\. \(supported/);
  });

  it('keeps the JSON text byte-for-byte, with whitespace and unknown attributes', () => {
    const text = ' {\n  "specversion" : "0.2",\t"type":"greeting",\r\n "id":"1",\n "additional top-level property": {"x": [1, 2.50]},\n "data": "\\u00bbAlice\\u00ab"\n}\n';
    const ev = parseStructuredEvent(text);
    assert.equal(ev.json, text);
    assert.deepEqual(ev.body['additional top-level property'], { x: [1, 2.5] });
    assert.equal(ev.body['data'], '»Alice«');
  });

  it('specversionOf and checkCloudEvent work on parsed objects', () => {
    assert.equal(specversionOf({ specversion: '1.0' }), '1.0');
    assert.equal(specversionOf({ cloudEventsVersion: '0.1' }), '0.1');
    assert.equal(specversionOf({ specversion: '0.1' }), undefined);
    assert.equal(specversionOf({}), undefined);
    assert.deepEqual(checkCloudEvent({ specversion: '0.2', type: 't', id: 1 }), { ok: true, specversion: '0.2', type: 't', id: '1' });
    assert.equal(checkCloudEvent({ specversion: '0.2' }).ok, false);
  });
});
