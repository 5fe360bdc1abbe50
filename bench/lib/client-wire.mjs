// What the raw-socket load clients (bench/clients/) read and write on the wire, shared so that
// they agree with each other and with the publisher (lib/publisher.mjs) on the format.

/** Digits of the publish timestamp (microseconds, zero-padded) every benchmark event carries. */
export const TS_DIGITS = 16;

/** The decimal number of `n` ASCII digits at `at` (no allocation: called once per delivery). */
export function readDigits(buf, at, n = TS_DIGITS) {
  let v = 0;
  for (let j = 0; j < n; j++) v = v * 10 + (buf[at + j] - 48);
  return v;
}

/** A client-to-server WebSocket text frame (clients must mask; an all-zero key leaves the payload as is). */
export function maskedText(text) {
  const payload = Buffer.from(text, 'utf8');
  const n = payload.length;
  const hdr = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const frame = Buffer.alloc(hdr + 4 + n);
  frame[0] = 0x81;
  if (n < 126) frame[1] = 0x80 | n;
  else if (n < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(n), 2);
  }
  payload.copy(frame, hdr + 4);
  return frame;
}
