/**
 * Grouped horizontal bar charts as standalone SVG text: one group per category (a phase such as
 * "burst-20"), one bar per series (a server), the value printed at the end of each bar. No
 * dependencies, so a chart can be written wherever a result is.
 */

const PALETTE = { gateway: '#1f77b4', node: '#7f7f7f', nchan: '#2ca02c', centrifuge: '#d62728', 'nginx-proxy': '#2ca02c', direct: '#9467bd' };
const FALLBACK = ['#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function formatValue(v) {
  if (!Number.isFinite(v)) return 'n/a';
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(0)} k`;
  if (Math.abs(v) >= 100) return Math.round(v).toString();
  return (Math.round(v * 100) / 100).toString();
}

/**
 * `categories`: labels of the groups; `series`: [{ name, values: number[] (one per category, NaN =
 * not measured) }]. `unit` is appended to the axis title. Returns SVG text.
 */
export function barChart({ title, subtitle = '', unit = '', categories, series }) {
  const barH = 16;
  const gap = 4;
  const groupGap = 14;
  const left = 150;
  const width = 760;
  const plotW = width - left - 90;
  const top = subtitle ? 62 : 46;
  const groupH = series.length * (barH + gap) + groupGap;
  const legendH = 24;
  const height = top + categories.length * groupH + legendH + 20;
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values.filter(Number.isFinite)));
  const color = (name, i) => PALETTE[name] ?? FALLBACK[i % FALLBACK.length];
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);
  if (subtitle) out.push(`<text x="${width / 2}" y="40" text-anchor="middle" fill="#555">${esc(subtitle)}</text>`);
  categories.forEach((cat, ci) => {
    const y0 = top + ci * groupH;
    const midY = y0 + (series.length * (barH + gap)) / 2;
    out.push(`<text x="${left - 8}" y="${midY + 4}" text-anchor="end" font-weight="bold">${esc(cat)}</text>`);
    series.forEach((s, si) => {
      const v = s.values[ci];
      const y = y0 + si * (barH + gap);
      const w = Number.isFinite(v) ? Math.max(1, (v / max) * plotW) : 0;
      if (Number.isFinite(v)) out.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color(s.name, si)}"/>`);
      out.push(`<text x="${left + w + 4}" y="${y + barH - 4}" fill="#222">${esc(Number.isFinite(v) ? formatValue(v) : 'not measured')}</text>`);
    });
  });
  const axisY = top + categories.length * groupH - groupGap / 2;
  out.push(`<line x1="${left}" y1="${top - 6}" x2="${left}" y2="${axisY}" stroke="#444"/>`);
  out.push(`<text x="${left + plotW / 2}" y="${axisY + 16}" text-anchor="middle" fill="#555">${esc(unit)}</text>`);
  let lx = left;
  const ly = axisY + 34;
  series.forEach((s, si) => {
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${color(s.name, si)}"/>`);
    out.push(`<text x="${lx + 16}" y="${ly}">${esc(s.name)}</text>`);
    lx += 24 + s.name.length * 7.5;
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
