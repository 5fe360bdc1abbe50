/**
 * An event as a shard holds it while fanning out: the record's JSON bytes plus the renderings the
 * transports need, each produced at most once per shard however many connections receive it
 * (SSE frame for SSE streams, text for long-poll bodies; WebSockets send the bytes as they are).
 */
import { renderSseFrame } from '../shared/cloudevents/sse-frame.js';

export class ShardEvent {
  private frame: Buffer | undefined;
  private str: string | undefined;

  constructor(
    readonly type: string,
    /** UTF-8 JSON bytes; may be a view into a transferred batch buffer. */
    readonly json: Uint8Array,
  ) {}

  static fromJson(type: string, json: string): ShardEvent {
    const e = new ShardEvent(type, Buffer.from(json, 'utf8'));
    e.str = json;
    return e;
  }

  sseFrame(): Buffer {
    return (this.frame ??= renderSseFrame(this.type, this.text()));
  }

  text(): string {
    return (this.str ??= Buffer.from(this.json.buffer, this.json.byteOffset, this.json.byteLength).toString('utf8'));
  }
}
