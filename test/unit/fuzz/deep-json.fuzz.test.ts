// Deeply nested JSON wherever a client's JSON is parsed and then walked or re-serialised: the
// answer is a result or the module's own error, never a stack overflow (RangeError).
import { test } from 'node:test';
import fc from 'fast-check';
import { parseHttpEvent } from '../../../src/shared/cloudevents/http-binding.js';
import { parseStructuredEvent } from '../../../src/shared/cloudevents/structured.js';
import { GatewayError } from '../../../src/shared/errors.js';
import { validateApi } from '../../../src/shared/apis/validate.js';
import { KafkaDecodeError, decodeKafkaRecord } from '../../../src/main/kafka/decode.js';
import { deepJson, failsOnlyWith } from './fuzz.js';

const runs = { numRuns: 25 };
const attrs = ['specversion', 'id', 'source', 'type', 'data', 'time', 'ext'] as const;

test('structured events with a deeply nested attribute', () => {
  fc.assert(
    fc.property(deepJson, fc.constantFrom(...attrs), (deep, attr) => {
      const ev: Record<string, string> = { specversion: '"1.0"', id: '"1"', source: '"s"', type: '"t"' };
      ev[attr] = deep;
      const text = `{${Object.entries(ev).map(([k, v]) => `"${k}":${v}`).join(',')}}`;
      failsOnlyWith(GatewayError, () => parseStructuredEvent(text));
    }),
    runs,
  );
});

test('binary-mode events with a deeply nested extension header or body', () => {
  fc.assert(
    fc.property(deepJson, fc.boolean(), (deep, inHeader) => {
      const headers: Array<[string, string]> = [['ce-specversion', '1.0'], ['ce-id', '1'], ['ce-source', 's'], ['ce-type', 't']];
      if (inHeader) headers.push(['ce-ext', deep.slice(0, 16384)]);
      const body = Buffer.from(inHeader ? '{}' : deep);
      failsOnlyWith(GatewayError, () => parseHttpEvent({ contentType: 'application/json', headers, body }));
    }),
    runs,
  );
});

test('API definitions with deeply nested values', () => {
  fc.assert(
    fc.property(deepJson, fc.constantFrom('id', 'name', 'proxy', 'version_data', 'auth', 'other'), (deep, key) => {
      const api = JSON.parse(`{"id":"a","name":"n","${key}":${deep}}`);
      validateApi(api);
    }),
    runs,
  );
});

test('Kafka records with deeply nested JSON (structured value, binary data, extension header)', () => {
  fc.assert(
    fc.property(deepJson, fc.constantFrom('value', 'data', 'header'), (deep, where) => {
      const value =
        where === 'value' ? Buffer.from(`{"specversion":"1.0","id":"1","source":"s","type":"t","x":${deep}}`) : Buffer.from(where === 'data' ? deep : '{}');
      const headers: Record<string, Buffer> = {};
      if (where !== 'value') {
        Object.assign(headers, { ce_specversion: Buffer.from('1.0'), ce_id: Buffer.from('1'), ce_source: Buffer.from('s'), ce_type: Buffer.from('t'), 'content-type': Buffer.from('application/json') });
        if (where === 'header') headers['ce_ext'] = Buffer.from(deep);
      }
      failsOnlyWith(KafkaDecodeError, () => decodeKafkaRecord({ value, headers }));
    }),
    runs,
  );
});
