/**
 * Pieces the scenario descriptors (bench/scenarios/*.mjs) share: where the orchestrators are,
 * which targets serve which transport, and the helpers that turn orchestrator results into
 * summary tables (medians over repetitions, ratios to the gateway).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { round } from './common.mjs';

export { round };

const BENCH = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const FANOUT = join(BENCH, 'fanout.mjs');
export const KAFKA = join(BENCH, 'kafka-fanout.mjs');

export const FANOUT_TARGETS = { ws: ['gateway', 'node', 'nchan', 'centrifuge'], sse: ['gateway', 'node', 'nchan'] };

/** The profile's targets that serve `transport`, as a --targets value. */
export function targetsFor(p, transport) {
  return (p.targets ?? FANOUT_TARGETS[transport]).filter((t) => FANOUT_TARGETS[transport].includes(t)).join(',');
}

export function duration(p) {
  return p.duration ? ['--duration', String(p.duration)] : [];
}

export const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');

/** Median of the finite numbers, with the spread "min–max" when there are several. */
export function medianOf(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return { median: NaN, text: 'n/a' };
  const m = v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  return { median: m, text: v.length > 1 ? `${fmt(m)} (${fmt(v[0])}–${fmt(v.at(-1))})` : fmt(m) };
}

/** run[target] of every repetition of one invocation. */
export function byTarget(reps) {
  const out = {};
  for (const rep of reps) for (const run of rep.runs) (out[run.server] ??= []).push(run);
  return out;
}

export function ratioText(gw, other, higherIsBetter) {
  if (!Number.isFinite(gw) || !Number.isFinite(other) || other === 0) return 'n/a';
  const r = gw / other;
  return `${round(r, 2)}×${higherIsBetter ? '' : ' (lower is better)'}`;
}

