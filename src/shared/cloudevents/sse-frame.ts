/**
 * Server-Sent Events framing as RIG writes it: `event: <type>` plus the event JSON on `data:`
 * lines, no `id:`/`retry:`. A frame is rendered once per event per shard and then written to every
 * matching connection, so the common case (single-line JSON, clean name) takes no regex.
 *
 * The event name comes from the submitted event's `type`, i.e. from outside: a CR, LF or NUL in it
 * would let a sender inject SSE fields or whole events (CWE-93), so those become spaces.
 */

export const SSE_HEARTBEAT: Buffer = Buffer.from(': heartbeat\n\n');

export function renderSseFrame(eventName: string, json: string): Buffer {
  const name = sanitizeName(eventName);
  if (json.indexOf('\n') === -1 && json.indexOf('\r') === -1) {
    return Buffer.from(`event: ${name}\ndata: ${json}\n\n`);
  }
  return Buffer.from(`event: ${name}\ndata: ${json.split(/\r\n|\r|\n/).join('\ndata: ')}\n\n`);
}

function sanitizeName(name: string): string {
  if (name.indexOf('\n') === -1 && name.indexOf('\r') === -1 && name.indexOf('\0') === -1) return name;
  return name.replace(/[\r\n\0]/g, ' ');
}
