/** A subscription as RIG defines it: OR across `oneOf` entries, AND across the fields of one entry. */
export interface Subscription {
  readonly eventType: string;
  /** Constraint objects exactly as given (values are arbitrary JSON; `null` means wildcard). */
  readonly oneOf: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

/** A scalar field value extracted from an event; `null` = not found / not a scalar. */
export type FieldValue = string | number | boolean | null;
