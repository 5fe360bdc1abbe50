// CloudEvents over HTTP, structured and binary mode: whatever the client sends, the parser answers
// a CloudEvent or a GatewayError, and a valid structured event keeps its attributes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseHttpEvent } from '../../../src/shared/cloudevents/http-binding.js';
import { parseStructuredEvent } from '../../../src/shared/cloudevents/structured.js';
import { GatewayError } from '../../../src/shared/errors.js';
import { anyString, asciiString, bytes, failsOnlyWith, json, params } from './fuzz.js';

const contentTypes = fc.oneof(
  fc.constantFrom(
    undefined, '', 'application/json', 'application/cloudevents+json', 'application/cloudevents',
    'application/cloudevents-batch+json', 'application/cloudevents+avro', 'text/plain', 'application/json; charset=utf-8',
    'APPLICATION/JSON', ' application/cloudevents+json ;x=y', 'application/octet-stream', ';', 'text/xml',
  ),
  asciiString(40),
);
const ceHeaderName = fc.oneof(
  fc.constantFrom('ce-specversion', 'ce-type', 'ce-source', 'ce-id', 'ce-time', 'ce-data', 'ce-data_base64', 'ce-', 'ce-__proto__', 'ce-rig', 'ce-datacontenttype', 'content-type'),
  asciiString(20).map((s) => `ce-${s.toLowerCase()}`),
);
const ceHeaderValue = fc.oneof(fc.constantFrom('1.0', '0.2', '0.3', '2.0', '', '{"a":1}', '[1,2', 'null', '"x"'), anyString(60));
const headers = fc.array(fc.tuple(ceHeaderName, ceHeaderValue), { maxLength: 12 });

const validEvent = fc.record({
  specversion: fc.constant('1.0'),
  id: fc.string({ minLength: 1, maxLength: 20 }),
  source: fc.string({ minLength: 1, maxLength: 20 }),
  type: fc.string({ minLength: 1, maxLength: 20 }),
  data: json,
});

const bodies = fc.oneof(
  bytes(),
  json.map((v) => Buffer.from(JSON.stringify(v))),
  validEvent.map((v) => Buffer.from(JSON.stringify(v))),
  // Deep nesting: the body limit allows ~500k levels of "[".
  fc.integer({ min: 1, max: 20000 }).map((n) => Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`)),
  fc.integer({ min: 1, max: 20000 }).map((n) => Buffer.from(`{"specversion":"1.0","id":"1","source":"s","type":"t","data":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`)),
);

test('parseHttpEvent: any content type, ce-* headers and body give a CloudEvent or a GatewayError', () => {
  fc.assert(
    fc.property(contentTypes, headers, bodies, (contentType, hs, body) => {
      const withType = contentType === undefined ? hs : [...hs, ['content-type', contentType] as [string, string]];
      failsOnlyWith(GatewayError, () => parseHttpEvent({ contentType, headers: withType, body }));
    }),
    params,
  );
});

test('parseHttpEvent: failures are 4xx', () => {
  fc.assert(
    fc.property(contentTypes, headers, bodies, (contentType, hs, body) => {
      try {
        parseHttpEvent({ contentType, headers: hs, body });
      } catch (e) {
        assert.ok(e instanceof GatewayError && e.status >= 400 && e.status < 500, String(e));
      }
    }),
    params,
  );
});

test('parseStructuredEvent: any text gives a CloudEvent or a GatewayError; a valid event keeps its attributes', () => {
  fc.assert(fc.property(anyString(300), (text) => void failsOnlyWith(GatewayError, () => parseStructuredEvent(text))), params);
  fc.assert(
    fc.property(validEvent, (ev) => {
      const parsed = parseStructuredEvent(JSON.stringify(ev));
      assert.equal(parsed.type, ev.type);
      assert.equal(parsed.id, ev.id);
      assert.equal(parsed.body['source'], ev.source);
    }),
    params,
  );
});

test('binary mode: a valid event with a JSON body round-trips type, id and source', () => {
  fc.assert(
    fc.property(validEvent, (ev) => {
      const hs: Array<[string, string]> = [['ce-specversion', '1.0'], ['ce-id', ev.id], ['ce-source', ev.source], ['ce-type', ev.type]];
      const parsed = parseHttpEvent({ contentType: 'application/json', headers: hs, body: Buffer.from(JSON.stringify(ev.data)) });
      assert.equal(parsed.type, ev.type);
      assert.equal(parsed.id, ev.id);
      assert.equal(parsed.body['source'], ev.source);
    }),
    params,
  );
});
