/** A CloudEvent accepted by an ingress, ready to be routed. */
export type SpecVersion = '0.1' | '0.2' | '0.3' | '1.0';

export interface CloudEvent {
  /** Routing type and SSE `event:` name: `type` (0.2+) or `eventType` (0.1); non-strings as their JSON text. */
  readonly type: string;
  /** `id` (0.2+) or `eventID` (0.1) as a string (non-strings as their JSON text). */
  readonly id: string;
  readonly specversion: SpecVersion;
  /** The event's JSON text exactly as it is delivered to clients (for structured mode: the submitted bytes). */
  readonly json: string;
  /** The parsed event, used for extraction. Never sent across threads. */
  readonly body: Record<string, unknown>;
}
