// API definitions (internal API) and Kafka records: any input gives a result or the module's error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { apiListProblem, errorMapJson, validateApi } from '../../../src/shared/apis/validate.js';
import type { JsonObject } from '../../../src/shared/apis/types.js';
import { KafkaDecodeError, decodeKafkaRecord } from '../../../src/main/kafka/decode.js';
import { anyString, bytes, failsOnlyWith, json, params } from './fuzz.js';

const endpoint = fc.record(
  {
    id: fc.oneof(fc.string({ maxLength: 10 }), json),
    path: fc.oneof(fc.constantFrom('/a', '/a/{id}', '/{x}/{x}', '', '/(', '/a/:b'), anyString(30), json),
    path_regex: fc.oneof(fc.constantFrom('/a/(.*)', '(', '^/x$', '(a+)+$', '\\\\'), anyString(30)),
    method: fc.oneof(fc.constantFrom('GET', 'POST', 'get', 'BREW', ''), json),
    secured: fc.oneof(fc.boolean(), json),
    target: fc.oneof(fc.constantFrom('http', 'kafka', 'nats'), json),
    topic: json,
    response_from: fc.oneof(fc.constantFrom('http', 'http_async', 'kafka'), json),
  },
  { requiredKeys: [] },
);
const api = fc.record(
  {
    id: fc.oneof(fc.string({ maxLength: 10 }), json),
    name: fc.oneof(fc.string({ maxLength: 10 }), json),
    auth_type: fc.oneof(fc.constantFrom('jwt', 'none'), json),
    auth: fc.oneof(fc.record({ use_header: fc.boolean(), header_name: fc.string(), use_query: json }, { requiredKeys: [] }), json),
    proxy: fc.oneof(fc.record({ target_url: fc.oneof(fc.constantFrom('http://localhost', 'nope', 'http://[::1]:99999'), json), port: json, use_env: json }, { requiredKeys: [] }), json),
    version_data: fc.oneof(fc.record({ default: fc.record({ endpoints: fc.oneof(fc.array(endpoint, { maxLength: 3 }), json) }, { requiredKeys: [] }) }, { requiredKeys: [] }), json),
    versioned: json,
    active: json,
  },
  { requiredKeys: [] },
);

test('API definitions: any object validates to ok or an error map that serialises, never a throw', () => {
  fc.assert(
    fc.property(fc.oneof(api, fc.dictionary(fc.string({ maxLength: 8 }), json)), (def) => {
      const errors = validateApi(def as JsonObject);
      if (errors !== undefined) assert.equal(typeof JSON.parse(errorMapJson(errors)), 'object');
    }),
    params,
  );
  fc.assert(fc.property(fc.oneof(fc.array(api, { maxLength: 3 }), json), (list) => void apiListProblem(list)), params);
});

const headerValue = fc.oneof(bytes(40), anyString(40), fc.constantFrom('1.0', '0.2', 'application/json', 'application/cloudevents+json', 'avro/binary'));
const headerName = fc.oneof(fc.constantFrom('ce_specversion', 'ce_type', 'ce_id', 'ce_source', 'ce_data', 'content-type', 'ce_contenttype', 'ce_datacontenttype', 'ce___proto__', 'ce_'), anyString(12));

test('Kafka records: any value and headers decode to a CloudEvent or a KafkaDecodeError', () => {
  const value = fc.oneof(
    bytes(300),
    json.map((v) => Buffer.from(JSON.stringify(v))),
    fc.record({ specversion: fc.constantFrom('1.0', '0.2', 1), id: json, source: json, type: json, data: json }, { requiredKeys: [] }).map((v) => Buffer.from(JSON.stringify(v))),
    fc.constant(null),
  );
  const headers = fc.dictionary(headerName, fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 })), { maxKeys: 8 });
  fc.assert(
    fc.property(value, headers, (v, h) => {
      failsOnlyWith(KafkaDecodeError, () => decodeKafkaRecord({ value: v, headers: h }));
    }),
    params,
  );
});
