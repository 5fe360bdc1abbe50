/**
 * Which partition a record the gateway produces goes to (KAFKA_PARTITIONER, docs/kafka.md,
 * "Partitioner"). Consumers that need per-key order, and producers in other languages writing the
 * same keys, only agree with the gateway if both pick partitions the same way:
 *
 * - murmur2: Kafka's Java client: toPositive(murmur2(keyBytes)) mod partitionCount. kafkajs 2.x's
 *   DefaultPartitioner computes exactly that (it was its JavaCompatiblePartitioner before 2.0), so
 *   keyed records are handed to it.
 * - murmur3: RIG 3.0's: murmur3_x86_32(keyBytes, seed 0) mod partitionCount. RIG took abs() of the
 *   hash, but its hash is unsigned, so the unsigned value is what counts.
 *
 * A record without a key goes to a random partition (RIG; the Java client's sticky partitioner is
 * random per batch too). RIG also treated an empty key as none; the Java client hashes it, so
 * murmur2 does as well. A record with an explicit partition keeps it.
 */
import { Partitioners } from 'kafkajs';
import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';

export type PartitionerName = 'murmur2' | 'murmur3';

/** kafkajs's `createPartitioner` option for KAFKA_PARTITIONER. */
export function createPartitioner(name: PartitionerName): ICustomPartitioner {
  return () => {
    const java = Partitioners.DefaultPartitioner();
    return (args: PartitionerArgs): number => {
      const { message, partitionMetadata } = args;
      if (message.partition !== null && message.partition !== undefined) return message.partition;
      const key = message.key;
      if (key !== null && key !== undefined) {
        if (name === 'murmur2') return java(args);
        const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
        if (bytes.length > 0) return murmur3Partition(bytes, partitionMetadata.length);
      }
      return randomPartition(partitionMetadata);
    };
  };
}

/** RIG's partition for a key: murmur3_x86_32(key, 0) mod partitionCount. */
export function murmur3Partition(key: Uint8Array, partitionCount: number): number {
  return murmur3x86_32(key, 0) % partitionCount;
}

/** A random partition among those with a leader (all of them if none has one right now). */
function randomPartition(partitions: PartitionerArgs['partitionMetadata']): number {
  const available = partitions.filter((p) => p.leader >= 0);
  const from = available.length > 0 ? available : partitions;
  return from[Math.floor(Math.random() * from.length)]!.partitionId;
}

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/**
 * MurmurHash3, x86 32-bit variant, as an unsigned 32-bit integer: blocks of 4 little-endian bytes,
 * then the 1..3 tail bytes, then the length and the final avalanche (fmix32). Math.imul keeps the
 * 32-bit multiplications exact; `>>> 0` turns the result unsigned.
 */
export function murmur3x86_32(data: Uint8Array, seed = 0): number {
  const len = data.length;
  const blocks = len & ~3;
  let h = seed | 0;
  for (let i = 0; i < blocks; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = len & 3;
  if (tail > 0) {
    let k = data[blocks]!;
    if (tail >= 2) k ^= data[blocks + 1]! << 8;
    if (tail === 3) k ^= data[blocks + 2]! << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
