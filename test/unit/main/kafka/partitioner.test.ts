import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PartitionerArgs } from 'kafkajs';
import { createPartitioner, murmur3Partition, murmur3x86_32 } from '../../../../src/main/kafka/partitioner.js';

const utf8 = (s: string) => Buffer.from(s, 'utf8');

test('murmur3_x86_32 matches the published reference vectors', () => {
  // [input, seed, expected unsigned hash]: the usual SMHasher-derived vectors, every tail length
  // (0..3 bytes after the 4-byte blocks) and non-ASCII input.
  const vectors: Array<[string, number, number]> = [
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['hello', 0, 0x248bfa47],
    ['hello, world', 0, 0x149bbb7f],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
    ['a', 0, 0x3c2569b2],
    ['ab', 0, 0x9bbfd75f],
    ['abc', 0, 0xb3dd93fa],
    ['abcd', 0, 0x43ed676a],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['ümlaut-€', 0, 0x4764e805],
  ];
  for (const [input, seed, expected] of vectors) {
    assert.equal(murmur3x86_32(utf8(input), seed), expected, `murmur3_x86_32(${JSON.stringify(input)}, ${seed.toString(16)})`);
  }
  assert.equal(murmur3x86_32(utf8('hello')), 0x248bfa47, 'seed 0 by default');
});

/** partitionMetadata of `n` partitions, all with a leader unless listed in `leaderless`. */
function meta(n: number, leaderless: number[] = []): PartitionerArgs['partitionMetadata'] {
  return Array.from({ length: n }, (_, i) => ({
    partitionId: i, leader: leaderless.includes(i) ? -1 : 0, partitionErrorCode: 0, replicas: [0], isr: [0],
  }));
}

function place(name: 'murmur2' | 'murmur3', key: string | Buffer | null | undefined, n: number, partition?: number): number {
  const partitioner = createPartitioner(name)();
  return partitioner({ topic: 't', partitionMetadata: meta(n), message: { key, value: 'v', ...(partition !== undefined && { partition }) } });
}

test('murmur3: partition = murmur3_x86_32(key bytes, 0) mod partitionCount (RIG 3.0)', () => {
  for (const n of [1, 2, 6, 7, 97]) {
    for (const key of ['user-1', 'partition', 'hello', 'ümlaut-€', 'a']) {
      const expected = murmur3x86_32(utf8(key)) % n;
      assert.equal(place('murmur3', key, n), expected, `${key} of ${n}`);
      assert.equal(place('murmur3', utf8(key), n), expected, 'a Buffer key hashes the same bytes');
      assert.equal(murmur3Partition(utf8(key), n), expected);
    }
  }
  // 'partition' hashes to 0x811dbdd3, above 2^31: the unsigned value decides (RIG's hash is unsigned).
  assert.equal(place('murmur3', 'partition', 6), 0x811dbdd3 % 6);
});

test('murmur2: keys land where Kafka\'s Java client puts them: toPositive(murmur2(key)) mod n', () => {
  // Utils.murmur2 of kafka-clients (the first four are the vectors of Kafka's own UtilsTest).
  const java: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['abc', 479470107],
    ['user-1', 1404122828],
    ['partition', 1683102466],
    ['ümlaut-€', -202957179],
    ['', 275646681],
  ];
  for (const n of [1, 6, 7, 97, 1000]) {
    for (const [key, hash] of java) {
      assert.equal(place('murmur2', key, n), (hash & 0x7fffffff) % n, `${JSON.stringify(key)} of ${n}`);
    }
  }
});

test('an explicit partition is kept; keyless records go to random partitions that have a leader', () => {
  for (const name of ['murmur2', 'murmur3'] as const) {
    assert.equal(place(name, 'user-1', 6, 4), 4);
    for (const key of [null, undefined]) {
      const seen = new Set<number>();
      for (let i = 0; i < 400; i++) seen.add(place(name, key, 6));
      assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4, 5], `${name}, key ${key}: every partition is used`);
    }
    const partitioner = createPartitioner(name)();
    for (let i = 0; i < 200; i++) {
      const p = partitioner({ topic: 't', partitionMetadata: meta(4, [0, 2]), message: { key: null, value: 'v' } });
      assert.ok(p === 1 || p === 3, `${name}: partition ${p} has no leader`);
    }
  }
  // RIG treated an empty key as none; the Java client hashes it.
  const seen = new Set<number>();
  for (let i = 0; i < 400; i++) seen.add(place('murmur3', '', 6));
  assert.equal(seen.size, 6, 'murmur3: an empty key is random');
  assert.equal(place('murmur2', '', 6), (275646681 & 0x7fffffff) % 6, 'murmur2: an empty key is hashed');
});
