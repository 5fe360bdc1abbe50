// What every property-based test of a parser shares: the run count, junk generators and the one
// property ("fails only with the module's own error type").
import assert from 'node:assert/strict';
import fc from 'fast-check';

/**
 * Runs per property. Small enough that the whole fuzz folder stays well under 30 s on a shared
 * 2-core machine; FUZZ_RUNS raises it for a longer hunt (FUZZ_RUNS=20000 node --test ...).
 */
export const RUNS = Number(process.env['FUZZ_RUNS'] ?? 300);

export const params = { numRuns: RUNS };

/** Strings of any code point, lone surrogates included (what a broken client may send). */
export const anyString = (maxLength = 200) => fc.string({ unit: 'binary', maxLength });

/** Printable-ASCII strings, where most of the parsers' syntax lives. */
export const asciiString = (maxLength = 200) => fc.string({ unit: 'binary-ascii', maxLength });

/** Strings drawn from a parser's own alphabet, so the generator hits its syntax often. */
export const stringOf = (chars: string, maxLength = 100) =>
  fc.string({ unit: fc.constantFrom(...chars.split('')), maxLength });

export const bytes = (maxLength = 300) => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));

/** Any JSON value, including deep nesting and odd keys such as "__proto__". */
export const json = fc.jsonValue({ maxDepth: 6 });

/** Runs `fn`; anything thrown must be an instance of `allowed` (and nothing else). */
export function failsOnlyWith<T>(allowed: abstract new (...a: never[]) => unknown, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    assert.ok(e instanceof allowed, `threw ${String((e as Error)?.name)}: ${String((e as Error)?.message)}`);
    return undefined;
  }
}

/** Flips one bit of a string's character at `pos` (ASCII-safe for base64url texts). */
export function flipChar(s: string, pos: number, bit: number): string {
  const i = pos % s.length;
  const c = String.fromCharCode(s.charCodeAt(i) ^ (1 << (bit % 7)));
  return s.slice(0, i) + c + s.slice(i + 1);
}

/** JSON text nested `depth` levels deep (arrays or objects), as a client can send within the body limit. */
export const deepJson = fc
  .tuple(fc.integer({ min: 1, max: 30000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => `${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`);
