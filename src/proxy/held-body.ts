/**
 * A request body kept for later, while a secured route waits for JWKS keys before it knows
 * whether the request may pass (./proxy.ts).
 *
 * uWS delivers body pieces only to an onData handler registered before the request handler
 * returns; pieces arriving without one are lost. So the waiting request registers this holder at
 * once and pauses the client's socket: what is held is at most what uWS had already read (one
 * receive buffer), never a whole large upload. When the request goes on, the target reads the body
 * from the holder exactly as it would from the response (same onData/pause/resume), first the held
 * pieces, then the live ones.
 */
import type { HttpResponse } from '../shared/uws.js';

/** Where a target reads the request body: the uWS response itself, or a HeldBody. */
export interface BodySource {
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): unknown;
  pause(): void;
  resume(): void;
  /** Called by a reader that answers without reading the body (HeldBody must then let the socket go on). */
  release?(): void;
}

export class HeldBody implements BodySource {
  private readonly held: ArrayBuffer[] = [];
  private complete = false;
  private handler: ((chunk: ArrayBuffer, isLast: boolean) => void) | undefined;
  /** The reader paused the body (it cannot take more yet). */
  private readerPaused = false;
  private settled = false;

  /** Must be called synchronously in the uWS handler. */
  constructor(private readonly res: HttpResponse) {
    res.onData((chunk, isLast) => {
      if (this.handler) return this.handler(chunk, isLast);
      if (this.settled) return; // nobody reads it: dropped
      // uWS reuses the chunk's memory once this callback returns: copy.
      this.held.push(chunk.slice(0));
      if (isLast) this.complete = true;
    });
    res.pause();
  }

  /** The reader: gets the held pieces now, the rest as it arrives. */
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): void {
    this.settled = true;
    const held = this.held.splice(0);
    if (held.length === 0 && this.complete) handler(new ArrayBuffer(0), true);
    held.forEach((chunk, i) => handler(chunk, this.complete && i === held.length - 1));
    this.handler = handler;
    if (!this.complete && !this.readerPaused) this.res.resume();
  }

  pause(): void {
    this.readerPaused = true;
    this.res.pause();
  }

  resume(): void {
    this.readerPaused = false;
    this.res.resume();
  }

  /**
   * The request was answered without reading its body (a 401, a method without body): drop what
   * is held and let the socket go on, so the connection is not left paused.
   */
  release(): void {
    if (this.settled) return;
    this.settled = true;
    this.held.length = 0;
    this.res.resume();
  }
}
