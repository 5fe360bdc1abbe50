import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createTokenCodec, type TokenPayload } from '../../../../src/shared/token/connection-token.js';

const codec = createTokenCodec('cluster-secret');
const sample: TokenPayload = { kind: 'connection', nodeId: 'gw-1', shard: 3, incarnation: 0xdeadbeef, id: 42 };
const URL_SAFE = /^[A-Za-z0-9_-]+$/;

test('round trip keeps every field, for both kinds and the extreme values', () => {
  const payloads: TokenPayload[] = [
    sample,
    { kind: 'correlation', nodeId: 'n', shard: 0, incarnation: 0, id: 0 },
    { kind: 'connection', nodeId: 'x'.repeat(64), shard: 255, incarnation: 0xffffffff, id: 2 ** 48 - 1 },
    { kind: 'correlation', nodeId: 'pod-7f9c.rig_gateway', shard: 17, incarnation: 123456789, id: 2 ** 32 + 5 },
  ];
  for (const p of payloads) assert.deepEqual(codec.decode(codec.encode(p)), p);
});

test('tokens are URL-safe, unpadded, short, and differ every time', () => {
  const a = codec.encode(sample);
  const b = codec.encode(sample);
  assert.match(a, URL_SAFE);
  assert.notEqual(a, b, 'random IV: the same payload never gives the same token');
  assert.ok(a.length < 60, `${a.length} chars for a 4-character node id`);
});

test('a token with base64 padding, as RIG clients may keep it, is accepted', () => {
  // Some node id lengths need no padding; pick ones that need one and two "=".
  for (const nodeId of ['gw-1', 'gw-12', 'gw-123']) {
    const token = codec.encode({ ...sample, nodeId });
    const pad = (4 - (token.length % 4)) % 4;
    assert.deepEqual(codec.decode(token + '='.repeat(pad)), { ...sample, nodeId });
    // Only the standard amount of padding is a spelling of the same token.
    for (let wrong = 1; wrong <= 3; wrong++) {
      if (wrong !== pad) assert.equal(codec.decode(token + '='.repeat(wrong)), null, `${wrong} "=" where ${pad} belong`);
    }
  }
  const pads = ['gw-1', 'gw-12', 'gw-123'].map((nodeId) => (4 - (codec.encode({ ...sample, nodeId }).length % 4)) % 4);
  assert.deepEqual(new Set(pads), new Set([0, 1, 2]));
});

test('every single-character change is rejected', () => {
  const token = codec.encode(sample);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < token.length; i++) {
    for (const c of alphabet) {
      if (c === token[i]) continue;
      const tampered = token.slice(0, i) + c + token.slice(i + 1);
      assert.equal(codec.decode(tampered), null, `position ${i} -> ${c}`);
    }
  }
});

test('every single-byte change is rejected', () => {
  const raw = Buffer.from(codec.encode(sample), 'base64url');
  for (let i = 0; i < raw.length; i++) {
    for (const delta of [1, 0x80, 0xff]) {
      const copy = Buffer.from(raw);
      copy[i] = (copy[i]! ^ delta) & 0xff;
      assert.equal(codec.decode(copy.toString('base64url')), null, `byte ${i} ^ ${delta}`);
    }
  }
});

test('truncated or extended tokens are rejected', () => {
  const token = codec.encode(sample);
  for (let n = 0; n < token.length; n++) assert.equal(codec.decode(token.slice(0, n)), null);
  assert.equal(codec.decode(token + 'A'), null);
  assert.equal(codec.decode(token + 'AAAA'), null);
});

test('a token from a cluster with another secret is rejected', () => {
  assert.equal(createTokenCodec('other-secret').decode(codec.encode(sample)), null);
  assert.deepEqual(createTokenCodec('cluster-secret').decode(codec.encode(sample)), sample, 'same secret, other instance');
});

test('garbage of any size never throws and decodes to null', () => {
  for (let len = 0; len <= 300; len++) {
    const bytes = randomBytes(len);
    for (const text of [bytes.toString('base64url'), bytes.toString('base64'), bytes.toString('latin1'), bytes.toString('hex')]) {
      assert.equal(codec.decode(text), null);
    }
  }
  for (const junk of ['', '=', '==', '====', '\u0000', '%2F', 'a/b?c#d', 'é'.repeat(50), 'A'.repeat(100000)]) {
    assert.equal(codec.decode(junk), null);
  }
  assert.equal(codec.decode(undefined as unknown as string), null);
  assert.equal(codec.decode(42 as unknown as string), null);
});

test('encode refuses payloads that do not fit the format', () => {
  const bad: Partial<TokenPayload>[] = [
    { shard: 256 },
    { shard: -1 },
    { shard: 1.5 },
    { incarnation: 2 ** 32 },
    { id: 2 ** 48 },
    { id: -1 },
    { nodeId: '' },
    { nodeId: 'x'.repeat(65) },
    { kind: 'other' as TokenPayload['kind'] },
  ];
  for (const patch of bad) assert.throws(() => codec.encode({ ...sample, ...patch }), RangeError, JSON.stringify(patch));
});

test('encode is fast enough for reconnect storms', () => {
  const start = process.hrtime.bigint();
  for (let i = 0; i < 10_000; i++) codec.encode({ ...sample, id: i });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  assert.ok(ms < 2000, `10k encodes took ${ms.toFixed(0)} ms`);
});
