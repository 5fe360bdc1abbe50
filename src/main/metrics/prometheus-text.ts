/**
 * Prometheus text exposition format 0.0.4: per metric family a `# HELP` and a `# TYPE` line, then
 * its samples `name{label="value",...} value`. Families are written in the order given, samples of
 * a family sorted by their labels, so two scrapes list the same series in the same place.
 * Label values are escaped as the format requires (backslash, double quote, line feed); HELP text
 * escapes backslash and line feed.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge';

export interface Sample {
  /** Label name/value pairs in output order; names must be valid Prometheus label names. */
  readonly labels?: ReadonlyArray<readonly [string, string]>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: readonly Sample[];
}

export function renderPrometheusText(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    const series = family.samples.map((s) => [renderLabels(s.labels), formatValue(s.value)] as const);
    series.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [labels, value] of series) lines.push(`${family.name}${labels} ${value}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function renderLabels(labels: Sample['labels']): string {
  if (!labels || labels.length === 0) return '';
  return `{${labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

export function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function escapeHelp(v: string): string {
  return v.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
