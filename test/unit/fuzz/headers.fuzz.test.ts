// Header and path parsers: Authorization, the reply headers of /v3/responses, JSON pointers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bearerTokens, parseAuthorization } from '../../../src/shared/http/authorization.js';
import { parseReplyHeaders } from '../../../src/shared/replies/reply-headers.js';
import { parsePointer, resolvePointer } from '../../../src/shared/extractors/pointer.js';
import { anyString, asciiString, failsOnlyWith, json, params, stringOf } from './fuzz.js';

test('Authorization: any header values give credentials with non-empty tokens or schemes, never a throw', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(anyString(100), stringOf('Bearer  ,abc.', 60)), { maxLength: 4 }), (values) => {
      for (const c of parseAuthorization(values)) {
        assert.equal(typeof c.scheme, 'string');
        assert.equal(c.scheme, c.scheme.toLowerCase());
        assert.equal(typeof c.token, 'string');
      }
      bearerTokens(values);
    }),
    params,
  );
});

test('Authorization: bearer tokens round-trip through "Bearer <token>" lists', () => {
  const token = stringOf('ABCabc0123456789-_.', 40).filter((t) => t !== '');
  fc.assert(
    fc.property(fc.array(token, { minLength: 1, maxLength: 4 }), (tokens) => {
      assert.deepEqual(bearerTokens([tokens.map((t) => `Bearer ${t}`).join(', ')]), tokens);
    }),
    params,
  );
});

test('reply headers: any header list gives ok with a 100..599 status or a reasoned error', () => {
  const name = fc.oneof(fc.constantFrom('rig-correlation', 'rig-response-code', 'RIG-Response-Code', 'content-type', 'content-length', 'host'), asciiString(20));
  const value = fc.oneof(fc.constantFrom('200', '99', '600', '-1', '2e2', ' 201 ', '0x1F', '', '١٢٣'), anyString(40));
  fc.assert(
    fc.property(fc.array(fc.tuple(name, value), { maxLength: 8 }), (headers) => {
      const r = parseReplyHeaders(headers);
      if (r.ok) {
        assert.ok(Number.isInteger(r.status) && r.status >= 100 && r.status <= 599, String(r.status));
        for (const [k, v] of r.headers) assert.ok(!/[\r\n\0]/.test(k + v), 'no control characters forwarded');
      } else {
        assert.ok(r.message.length > 0);
      }
    }),
    params,
  );
});

test('JSON pointers: any text parses or fails with a plain Error; resolving never throws; escaping round-trips', () => {
  fc.assert(
    fc.property(fc.oneof(anyString(60), stringOf('/~01a', 30)), json, (p, doc) => {
      const tokens = failsOnlyWith(Error, () => parsePointer(p));
      if (tokens !== undefined) resolvePointer(doc, tokens);
    }),
    params,
  );
  fc.assert(
    fc.property(fc.array(anyString(10), { maxLength: 5 }), (tokens) => {
      const pointer = tokens.map((t) => `/${t.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
      assert.deepEqual(parsePointer(pointer), tokens);
    }),
    params,
  );
});
