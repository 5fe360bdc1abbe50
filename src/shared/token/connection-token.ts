/**
 * Connection tokens and correlation IDs (spec 4.7): opaque, URL-safe strings naming where a
 * connection or a proxied request lives (node, shard, which run of that shard, and its number), so
 * that any node sharing the secret (NODE_COOKIE) can route a later request about it straight to the
 * owner, and nobody without the secret can forge or alter one.
 *
 * Layout: base64url( IV (12) ‖ tag (16) ‖ AES-256-GCM ciphertext ), no padding. Plaintext:
 *   byte 0      version (high nibble) | kind (low nibble)
 *   byte 1      shard
 *   bytes 2-5   incarnation (uint32, big endian)
 *   bytes 6-11  id (uint48, big endian)
 *   bytes 12-   nodeId, UTF-8 (its length is the rest of the authenticated plaintext)
 * That is 54 + ~4/3 · len(nodeId) characters: 59 for a 4-character node id.
 *
 * Byte compatibility with RIG's Erlang-term tokens is not needed: a token is only ever read by the
 * cluster that issued it.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomFillSync } from 'node:crypto';

export interface TokenPayload {
  kind: 'connection' | 'correlation';
  nodeId: string;
  /** 0..255 */
  shard: number;
  /** Random uint32 chosen when a shard starts, so tokens issued by an earlier run are recognised as stale. */
  incarnation: number;
  /** Connection or request number within the incarnation, 0..2^48-1. */
  id: number;
}

export interface TokenCodec {
  encode(p: TokenPayload): string;
  /** The payload, or null for anything this cluster did not issue. Never throws. */
  decode(token: string): TokenPayload | null;
}

const VERSION = 1;
const KINDS = ['connection', 'correlation'] as const;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FIXED_BYTES = 12;
const MAX_NODE_ID_BYTES = 64;
const MIN_TOKEN_BYTES = IV_BYTES + TAG_BYTES + FIXED_BYTES + 1;
const MAX_TOKEN_BYTES = IV_BYTES + TAG_BYTES + FIXED_BYTES + MAX_NODE_ID_BYTES;
// Longest accepted text: the unpadded encoding plus up to two "=" kept by clients that pad.
const MAX_TOKEN_CHARS = Math.ceil((MAX_TOKEN_BYTES * 4) / 3) + 2;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const UINT48_LIMIT = 2 ** 48;

// Fixed labels bind the derived key to this one purpose: the same NODE_COOKIE may later key other things.
const HKDF_SALT = 'rig-gateway/token-key/v1';
const HKDF_INFO = 'connection and correlation tokens, AES-256-GCM';

export function createTokenCodec(secret: string): TokenCodec {
  const key = Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, HKDF_INFO, 32));
  const nextIv = ivSource();

  function encode(p: TokenPayload): string {
    const kind = KINDS.indexOf(p.kind);
    const node = Buffer.from(p.nodeId, 'utf8');
    if (kind < 0) throw new RangeError(`token kind must be one of ${KINDS.join(', ')}`);
    if (!isInt(p.shard, 0, 255)) throw new RangeError('token shard must be an integer 0..255');
    if (!isInt(p.incarnation, 0, 0xffffffff)) throw new RangeError('token incarnation must be a uint32');
    if (!isInt(p.id, 0, UINT48_LIMIT - 1)) throw new RangeError('token id must be an integer 0..2^48-1');
    if (node.length < 1 || node.length > MAX_NODE_ID_BYTES) throw new RangeError('token nodeId must be 1..64 UTF-8 bytes');

    const plain = Buffer.allocUnsafe(FIXED_BYTES + node.length);
    plain[0] = (VERSION << 4) | kind;
    plain[1] = p.shard;
    plain.writeUInt32BE(p.incarnation, 2);
    plain.writeUIntBE(p.id, 6, 6);
    node.copy(plain, FIXED_BYTES);

    const out = Buffer.allocUnsafe(IV_BYTES + TAG_BYTES + plain.length);
    nextIv(out);
    const cipher = createCipheriv('aes-256-gcm', key, out.subarray(0, IV_BYTES));
    const body = cipher.update(plain);
    cipher.final(); // GCM is a stream mode: final() yields no bytes, only completes the tag.
    cipher.getAuthTag().copy(out, IV_BYTES);
    body.copy(out, IV_BYTES + TAG_BYTES);
    return out.toString('base64url');
  }

  function decode(token: string): TokenPayload | null {
    try {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) return null;
      const text = stripPadding(token);
      if (text === null || !BASE64URL.test(text)) return null;
      const raw = Buffer.from(text, 'base64url');
      // Reject non-canonical spellings (unused low bits set in the last character) so that every
      // change to the text, not just every change to the bytes, is a different, rejected token.
      if (raw.length < MIN_TOKEN_BYTES || raw.length > MAX_TOKEN_BYTES || raw.toString('base64url') !== text) return null;

      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const plain = decipher.update(raw.subarray(IV_BYTES + TAG_BYTES));
      decipher.final(); // throws when the tag does not match

      if (plain[0]! >> 4 !== VERSION) return null;
      const kind = KINDS[plain[0]! & 0x0f];
      if (kind === undefined) return null;
      return {
        kind,
        nodeId: plain.toString('utf8', FIXED_BYTES),
        shard: plain[1]!,
        incarnation: plain.readUInt32BE(2),
        id: plain.readUIntBE(6, 6),
      };
    } catch {
      return null;
    }
  }

  return { encode, decode };
}

function isInt(n: number, min: number, max: number): boolean {
  return Number.isInteger(n) && n >= min && n <= max;
}

/** RIG issued padded base64url tokens and clients may keep the "=": accept exactly the standard padding. */
function stripPadding(token: string): string | null {
  let end = token.length;
  while (end > 0 && token.charCodeAt(end - 1) === 61 /* = */) end--;
  if (end === token.length) return token;
  if (token.length - end > 2 || token.length % 4 !== 0) return null;
  return token.slice(0, end);
}

/**
 * Random IVs drawn from a pooled buffer: one randomFillSync per 256 tokens instead of one per
 * token keeps encode cheap during reconnect storms. 96-bit random IVs make a repeat negligible for
 * any number of tokens a cluster will issue under one secret.
 */
function ivSource(): (into: Buffer) => void {
  const pool = Buffer.allocUnsafe(IV_BYTES * 256);
  let offset = pool.length;
  return (into) => {
    if (offset === pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    pool.copy(into, 0, offset, offset + IV_BYTES);
    offset += IV_BYTES;
  };
}
