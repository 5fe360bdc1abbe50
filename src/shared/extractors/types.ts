/** One configured field of an event type (EXTRACTORS), ordered by `stable_field_index`. */
export interface ExtractorField {
  readonly name: string;
  readonly stableFieldIndex: number;
  /** Decoded RFC 6901 reference tokens of `event.json_pointer`. */
  readonly eventPointer: readonly string[];
  /** Decoded tokens of `jwt.json_pointer`, if configured. */
  readonly jwtPointer?: readonly string[];
}

/** event type -> its fields, sorted by stableFieldIndex. Types without fields are absent. */
export type ExtractorConfig = ReadonlyMap<string, readonly ExtractorField[]>;
