/**
 * Extracts an event's configured field values once, where the event enters the gateway (the shard
 * that received the POST, or main for the internal API), so routing (interest keys)
 * and every shard's matching work from the same small array instead of re-walking the event.
 *
 * Extraction into `/data/...` works whenever `data` is a JSON object, with or without a
 * `contenttype` attribute: RIG skipped it when `contenttype` was present (#391, spec 13 item 8).
 */

import type { FieldValue } from '../subscriptions/types.js';
import { resolvePointer } from './pointer.js';
import type { ExtractorConfig } from './types.js';

/**
 * One value per configured field of `eventType`, in field order; `undefined` when the type has no
 * configured fields. Anything that is not a string, number or boolean (absent, `null`, object,
 * array) becomes `null`, which only wildcard constraints match.
 */
export function extractFieldValues(
  cfg: ExtractorConfig,
  eventType: string,
  event: Record<string, unknown>,
): FieldValue[] | undefined {
  const fields = cfg.get(eventType);
  if (fields === undefined || fields.length === 0) return undefined;
  const values: FieldValue[] = new Array<FieldValue>(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const v = resolvePointer(event, fields[i]!.eventPointer);
    const t = typeof v;
    values[i] = t === 'string' || t === 'number' || t === 'boolean' ? (v as FieldValue) : null;
  }
  return values;
}
