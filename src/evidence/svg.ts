/**
 * Small inline SVG charts for the evidence report: no scripts, no external resources, so the HTML
 * stays one self-contained file and prints the same in any browser or PDF.
 */

export interface Series {
  label: string;
  points: { x: number; y: number }[];
}

export interface Band {
  from: number;
  to: number;
  label: string;
}

const WIDTH = 520;
const HEIGHT = 220;
const PAD = { left: 48, right: 12, top: 12, bottom: 36 };
const COLOURS = ['#1f5fa8', '#c0392b', '#2e8b57', '#8e44ad', '#d35400', '#555'];

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(1));

/** Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten), about `count` of them. */
function ticks(from: number, to: number, count: number): number[] {
  const rough = (to - from) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? rough;
  const first = Math.ceil(from / step - 1e-9) * step;
  const out: number[] = [];
  for (let v = first; v <= to + 1e-9; v += step) out.push(Math.round(v * 1e6) / 1e6);
  return out;
}

interface Frame {
  x: (v: number) => number;
  y: (v: number) => number;
  axes: string;
}

function frame(xRange: [number, number], yRange: [number, number], xLabel: string, yLabel: string, xTicks: number[], yTicks: number[], bands: Band[] = []): Frame {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (v: number) => PAD.left + ((v - xRange[0]) / (xRange[1] - xRange[0])) * plotW;
  const y = (v: number) => PAD.top + plotH - ((v - yRange[0]) / (yRange[1] - yRange[0])) * plotH;
  const parts: string[] = [];
  for (const band of bands) {
    const from = x(Math.max(band.from, xRange[0]));
    const to = x(Math.min(band.to, xRange[1]));
    parts.push(`<rect x="${from.toFixed(1)}" y="${PAD.top}" width="${(to - from).toFixed(1)}" height="${plotH}" fill="#e8f3e8"/>`);
    parts.push(`<text x="${((from + to) / 2).toFixed(1)}" y="${PAD.top + 12}" font-size="10" text-anchor="middle" fill="#2e6b2e">${escapeXml(band.label)}</text>`);
  }
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  for (const t of xTicks) parts.push(`<text x="${x(t).toFixed(1)}" y="${HEIGHT - PAD.bottom + 14}" font-size="10" text-anchor="middle">${fmt(t)}</text>`);
  for (const t of yTicks) {
    parts.push(`<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${(y(t) + 3).toFixed(1)}" font-size="10" text-anchor="end">${fmt(t)}</text>`);
  }
  parts.push(`<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 6}" font-size="11" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  parts.push(`<text x="12" y="${PAD.top + plotH / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${PAD.top + plotH / 2})">${escapeXml(yLabel)}</text>`);
  return { x, y, axes: parts.join('') };
}

function svg(title: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeXml(title)}"><title>${escapeXml(title)}</title>${body}</svg>`;
}

/** A line chart of one or more series, with optional shaded bands (such as a standard's accept region). */
export function lineChart(options: { title: string; xLabel: string; yLabel: string; series: Series[]; yRange: [number, number]; bands?: Band[] }): string {
  const xs = options.series.flatMap((s) => s.points.map((p) => p.x));
  const xRange: [number, number] = [Math.min(...xs), Math.max(...xs)];
  const f = frame(xRange, options.yRange, options.xLabel, options.yLabel, ticks(xRange[0], xRange[1], 5), ticks(options.yRange[0], options.yRange[1], 4), options.bands);
  const lines = options.series.map((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const path = s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${f.x(p.x).toFixed(1)},${f.y(p.y).toFixed(1)}`).join(' ');
    const dots = s.points.map((p) => `<circle cx="${f.x(p.x).toFixed(1)}" cy="${f.y(p.y).toFixed(1)}" r="2.5" fill="${colour}"/>`).join('');
    return `<path d="${path}" fill="none" stroke="${colour}" stroke-width="1.5"/>${dots}`;
  });
  return svg(options.title, f.axes + lines.join(''));
}

/** Bars per labelled value, with a dashed limit line. */
export function barChart(options: { title: string; xLabel: string; yLabel: string; labels: string[]; values: number[]; limit: number; limitLabel: string }): string {
  const top = Math.max(options.limit * 1.5, ...options.values);
  const n = options.values.length;
  const f = frame([0, n], [0, top], options.xLabel, options.yLabel, [], ticks(0, top, 4));
  const slot = (f.x(1) - f.x(0)) * 0.8;
  const bars = options.values.map((v, i) => {
    const x0 = f.x(i) + slot * 0.125;
    const height = f.y(0) - f.y(v);
    const bar = `<rect x="${x0.toFixed(1)}" y="${f.y(v).toFixed(1)}" width="${slot.toFixed(1)}" height="${Math.max(height, 0.5).toFixed(1)}" fill="${v > options.limit ? '#c0392b' : '#1f5fa8'}"/>`;
    const label = `<text x="${(x0 + slot / 2).toFixed(1)}" y="${HEIGHT - PAD.bottom + 12}" font-size="9" text-anchor="middle">${escapeXml(options.labels[i] ?? '')}</text>`;
    return bar + label;
  });
  const limitY = f.y(options.limit).toFixed(1);
  const limit = `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${limitY}" y2="${limitY}" stroke="#c0392b" stroke-dasharray="4 3"/><text x="${WIDTH - PAD.right - 4}" y="${Number(limitY) - 4}" font-size="10" text-anchor="end" fill="#c0392b">${escapeXml(options.limitLabel)}</text>`;
  return svg(options.title, f.axes + bars.join('') + limit);
}
