/**
 * Line charts as inline SVG, for the training report: a page that opens from disk with no scripts or libraries,
 * on a dark background. Every chart of a report shares one x range (kimg), so phase markers line up down the page.
 * Pure: a spec in, markup out.
 */
import { escapeHtml } from './html.ts';

export interface Point {
  x: number;
  /** null: no value here (a diverged step, a metric not defined at this resolution); the line breaks. */
  y: number | null;
}

export interface Series {
  label: string;
  color: string;
  points: readonly Point[];
  /** faint: thin and translucent, context behind the main lines (SWD per level). */
  style?: 'solid' | 'dashed' | 'faint';
  /** A dot per point, with its value on hover: for sparse measurements, where each point is an event. */
  dots?: boolean;
}

/** A vertical line across every chart: a phase change, or a guard rollback. */
export interface XMarker {
  x: number;
  kind: 'phase' | 'collapse';
  label: string;
  /** Shown on hover. */
  detail: string;
}

/** A shaded span of x: fade-ins, where the picture blends two resolutions. */
export interface XBand {
  from: number;
  to: number;
  detail: string;
}

export interface RefLine {
  y: number;
  label: string;
  color: string;
}

export interface ChartSpec {
  /** Unique in the page (clip paths are looked up by it). */
  id: string;
  title: string;
  /** One line under the title: how to read the chart. */
  note?: string;
  series: readonly Series[];
  xDomain: readonly [number, number];
  xLabel: string;
  markers?: readonly XMarker[];
  /** Names what runs from the left edge until the first marker (the first phase, which no event starts). */
  startLabel?: string;
  bands?: readonly XBand[];
  refs?: readonly RefLine[];
  /** Fixed y range; otherwise fitted to the data. */
  yDomain?: readonly [number, number];
  /** Fit y to the 1st–99th percentile, so early spikes do not flatten the rest of the run. */
  clipOutliers?: boolean;
  height?: number;
  /** Shown instead of an empty plot. */
  empty?: string;
}

const WIDTH = 920;
const MARGIN = { left: 58, right: 20, top: 38, bottom: 30 };
const LABEL_ROWS = [15, 30];
/** Average advance of an 11 px label character, to keep marker labels apart without measuring text. */
const CHAR_WIDTH = 6.3;
const DOTS_UP_TO = 160;

export const CHART_COLORS = {
  grid: '#262a36',
  axis: '#3a3f4f',
  tick: '#8b90a3',
  phase: '#6b7186',
  collapse: '#ff5d6c',
  band: 'rgba(160, 170, 255, 0.055)',
  background: '#14161d',
} as const;

/** Bucket means: at most `max` points, each the mean x and the mean of the non-null y's of consecutive points. */
export function bucketMeans(points: readonly Point[], max: number): Point[] {
  if (points.length <= max) return points.slice();
  const out: Point[] = [];
  const size = points.length / max;
  for (let b = 0; b < max; b++) {
    const from = Math.floor(b * size);
    const to = Math.floor((b + 1) * size);
    let sx = 0;
    let sy = 0;
    let ny = 0;
    for (let i = from; i < to; i++) {
      const p = points[i]!;
      sx += p.x;
      if (p.y !== null && Number.isFinite(p.y)) {
        sy += p.y;
        ny++;
      }
    }
    out.push({ x: sx / (to - from), y: ny > 0 ? sy / ny : null });
  }
  return out;
}

/** Round steps (1, 2, 5 × 10ⁿ) covering [lo, hi] in about `target` intervals. */
export function niceTicks(lo: number, hi: number, target = 5): { ticks: number[]; step: number } {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const ticks: number[] = [];
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i++) ticks.push(cleanFloat(i * step));
  return { ticks, step };
}

/** Tick text with as many decimals as the step needs: 0.05 → "0.05", 2000 → "2k". */
export function tickLabel(v: number, step: number): string {
  if (Math.abs(step) >= 1000 && Math.abs(v) >= 1000) return `${cleanFloat(v / 1000)}k`;
  const decimals = Math.min(6, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals);
}

export function renderChart(spec: ChartSpec): string {
  const legend = spec.series.filter((s) => s.points.some((p) => p.y !== null)).map(legendItem).join('');
  const head =
    `<figcaption><span class="chart-title">${escapeHtml(spec.title)}</span>` +
    (spec.note ? `<span class="chart-note">${escapeHtml(spec.note)}</span>` : '') +
    `<span class="legend">${legend}</span></figcaption>`;
  const values = yValues(spec.series);
  if (values.length === 0) {
    return `<figure class="chart" id="${escapeHtml(spec.id)}">${head}<div class="chart-empty">${escapeHtml(spec.empty ?? 'nothing logged yet')}</div></figure>`;
  }
  return `<figure class="chart" id="${escapeHtml(spec.id)}">${head}${svg(spec, values)}</figure>`;
}

function svg(spec: ChartSpec, values: number[]): string {
  const height = spec.height ?? 230;
  const plot = { x0: MARGIN.left, x1: WIDTH - MARGIN.right, y0: MARGIN.top, y1: height - MARGIN.bottom };
  const [xLo, xHi] = spec.xDomain[1] > spec.xDomain[0] ? spec.xDomain : [spec.xDomain[0], spec.xDomain[0] + 1];
  const xs = niceTicks(xLo, xHi, 8);
  const y = yScale(spec, values);
  const sx = (v: number) => plot.x0 + ((v - xLo) / (xHi - xLo)) * (plot.x1 - plot.x0);
  const sy = (v: number) => plot.y1 - ((v - y.lo) / (y.hi - y.lo)) * (plot.y1 - plot.y0);
  const clip = `${escapeHtml(spec.id)}-clip`;
  const parts: string[] = [];
  parts.push(`<defs><clipPath id="${clip}"><rect x="${plot.x0}" y="${plot.y0 - 1}" width="${plot.x1 - plot.x0}" height="${plot.y1 - plot.y0 + 2}"/></clipPath></defs>`);
  parts.push(`<rect x="${plot.x0}" y="${plot.y0}" width="${plot.x1 - plot.x0}" height="${plot.y1 - plot.y0}" fill="${CHART_COLORS.background}"/>`);
  for (const b of spec.bands ?? []) {
    const a = Math.max(plot.x0, sx(b.from));
    const z = Math.min(plot.x1, sx(b.to));
    if (z > a) parts.push(`<rect class="band" x="${r1(a)}" y="${plot.y0}" width="${r1(z - a)}" height="${plot.y1 - plot.y0}" fill="${CHART_COLORS.band}"><title>${escapeHtml(b.detail)}</title></rect>`);
  }
  // Grid and ticks.
  for (const t of y.ticks) {
    const py = r1(sy(t));
    parts.push(`<line x1="${plot.x0}" x2="${plot.x1}" y1="${py}" y2="${py}" stroke="${CHART_COLORS.grid}"/>`);
    parts.push(`<text class="tick" x="${plot.x0 - 8}" y="${py}" text-anchor="end" dominant-baseline="middle">${escapeHtml(tickLabel(t, y.step))}</text>`);
  }
  for (const t of xs.ticks) {
    if (t < xLo || t > xHi) continue;
    const px = r1(sx(t));
    parts.push(`<line x1="${px}" x2="${px}" y1="${plot.y1}" y2="${plot.y1 + 5}" stroke="${CHART_COLORS.axis}"/>`);
    parts.push(`<text class="tick" x="${px}" y="${plot.y1 + 18}" text-anchor="middle">${escapeHtml(tickLabel(t, xs.step))}</text>`);
  }
  parts.push(`<text class="axis-label" x="4" y="${plot.y1 + 18}">${escapeHtml(spec.xLabel)}</text>`);
  parts.push(`<line x1="${plot.x0}" x2="${plot.x1}" y1="${plot.y1}" y2="${plot.y1}" stroke="${CHART_COLORS.axis}"/>`);
  for (const ref of spec.refs ?? []) {
    const py = r1(sy(ref.y));
    parts.push(`<line x1="${plot.x0}" x2="${plot.x1}" y1="${py}" y2="${py}" stroke="${escapeHtml(ref.color)}" stroke-dasharray="6 4" opacity="0.8"/>`);
    parts.push(`<text class="ref-label" x="${plot.x1 - 4}" y="${py - 5}" text-anchor="end" fill="${escapeHtml(ref.color)}">${escapeHtml(ref.label)}</text>`);
  }
  parts.push(markerLines(spec.markers ?? [], spec.startLabel, sx, plot));
  // Faint lines first, so the main ones stay on top.
  const ordered = [...spec.series].sort((a, b) => Number(b.style === 'faint') - Number(a.style === 'faint'));
  parts.push(`<g clip-path="url(#${clip})">${ordered.map((s) => seriesMarkup(s, sx, sy)).join('')}</g>`);
  if (y.clipped) parts.push(`<text class="clipped" x="${plot.x0 + 6}" y="${plot.y0 + 13}">outliers beyond the range are cut off</text>`);
  return `<svg class="chart-svg" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escapeHtml(spec.title)}">${parts.join('')}</svg>`;
}

interface YScale {
  lo: number;
  hi: number;
  ticks: number[];
  step: number;
  /** Some values lie outside [lo, hi]. */
  clipped: boolean;
}

function yScale(spec: ChartSpec, values: number[]): YScale {
  let lo: number;
  let hi: number;
  if (spec.yDomain) {
    [lo, hi] = spec.yDomain;
  } else {
    const sorted = [...values].sort((a, b) => a - b);
    lo = spec.clipOutliers ? quantile(sorted, 0.01) : sorted[0]!;
    hi = spec.clipOutliers ? quantile(sorted, 0.99) : sorted[sorted.length - 1]!;
    for (const ref of spec.refs ?? []) [lo, hi] = [Math.min(lo, ref.y), Math.max(hi, ref.y)];
    const pad = (hi - lo) * 0.06 || Math.abs(hi) * 0.1 || 1;
    // Counts and rates never go below zero: neither does their axis.
    [lo, hi] = [lo >= 0 ? Math.max(0, lo - pad) : lo - pad, hi + pad];
  }
  const { ticks, step } = niceTicks(lo, hi, 4);
  if (!spec.yDomain) {
    lo = cleanFloat(Math.floor(lo / step + 1e-9) * step);
    hi = cleanFloat(Math.ceil(hi / step - 1e-9) * step);
    if (!ticks.includes(lo)) ticks.unshift(lo);
    if (!ticks.includes(hi)) ticks.push(hi);
  }
  const clipped = values.some((v) => v < lo || v > hi);
  return { lo, hi, ticks: ticks.filter((t) => t >= lo - step * 1e-6 && t <= hi + step * 1e-6), step, clipped };
}

function markerLines(markers: readonly XMarker[], startLabel: string | undefined, sx: (v: number) => number, plot: { x0: number; x1: number; y0: number; y1: number }): string {
  const out: string[] = [];
  // Spans taken in each row of labels: a label goes in the first row where it overlaps none.
  const rows: [number, number][][] = LABEL_ROWS.map(() => []);
  const place = (from: number, to: number) => {
    const row = rows.findIndex((spans) => spans.every(([a, b]) => to + 6 < a || from > b + 6));
    if (row >= 0) rows[row]!.push([from, to]);
    return row;
  };
  if (startLabel) {
    place(plot.x0 + 4, plot.x0 + 4 + startLabel.length * CHAR_WIDTH);
    out.push(`<text class="marker-label phase" x="${plot.x0 + 4}" y="${LABEL_ROWS[0]}">${escapeHtml(startLabel)}</text>`);
  }
  for (const m of [...markers].sort((a, b) => a.x - b.x)) {
    const px = r1(Math.min(plot.x1, Math.max(plot.x0, sx(m.x))));
    const collapse = m.kind === 'collapse';
    const color = collapse ? CHART_COLORS.collapse : CHART_COLORS.phase;
    const title = `<title>${escapeHtml(m.detail)}</title>`;
    out.push(
      `<line class="${collapse ? 'collapse-marker' : 'phase-marker'}" x1="${px}" x2="${px}" y1="${plot.y0}" y2="${plot.y1}" stroke="${color}"` +
        `${collapse ? ' stroke-width="1.5"' : ' stroke-dasharray="3 3"'}>${title}</line>`,
    );
    if (collapse) {
      // Inside the plot beside its triangle, not in the rows above: a rollback must not lose its label to phases.
      const rightward = px + 9 + m.label.length * CHAR_WIDTH <= plot.x1;
      out.push(`<path d="M${px - 5} ${plot.y0}h10l-5 7z" fill="${color}">${title}</path>`);
      out.push(
        `<text class="marker-label collapse" x="${px + (rightward ? 8 : -8)}" y="${plot.y0 + 14}" text-anchor="${rightward ? 'start' : 'end'}">${escapeHtml(m.label)}${title}</text>`,
      );
      continue;
    }
    const width = m.label.length * CHAR_WIDTH;
    const rightward = px + 4 + width <= plot.x1 + MARGIN.right;
    const [from, to] = rightward ? [px + 4, px + 4 + width] : [px - 4 - width, px - 4];
    const row = place(from, to);
    if (row < 0) continue; // no room: the line still says it, and its tooltip
    out.push(
      `<text class="marker-label ${m.kind}" x="${px + (rightward ? 4 : -4)}" y="${LABEL_ROWS[row]}" text-anchor="${rightward ? 'start' : 'end'}">${escapeHtml(m.label)}${title}</text>`,
    );
  }
  return out.join('');
}

function seriesMarkup(s: Series, sx: (v: number) => number, sy: (v: number) => number): string {
  let d = '';
  let pen = false;
  for (const p of s.points) {
    if (p.y === null || !Number.isFinite(p.y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${r1(sx(p.x))} ${r1(sy(p.y))}`;
    pen = true;
  }
  const color = escapeHtml(s.color);
  const stroke =
    s.style === 'faint' ? `stroke-width="1.2" opacity="0.45"` : s.style === 'dashed' ? `stroke-width="1.8" stroke-dasharray="6 4"` : `stroke-width="1.8"`;
  let out = d ? `<path d="${d}" fill="none" stroke="${color}" ${stroke} stroke-linejoin="round" stroke-linecap="round"/>` : '';
  const shown = s.points.filter((p): p is { x: number; y: number } => p.y !== null && Number.isFinite(p.y));
  if (s.dots && shown.length <= DOTS_UP_TO) {
    const radius = s.style === 'faint' ? 2 : 3;
    const opacity = s.style === 'faint' ? ' opacity="0.6"' : '';
    out += shown
      .map((p) => `<circle cx="${r1(sx(p.x))}" cy="${r1(sy(p.y))}" r="${radius}" fill="${color}" stroke="${CHART_COLORS.background}" stroke-width="1"${opacity}><title>${escapeHtml(`${s.label}: ${round4(p.y)} at ${round4(p.x)} kimg`)}</title></circle>`)
      .join('');
  }
  return out;
}

function legendItem(s: Series): string {
  const border = s.style === 'dashed' ? 'dashed' : 'solid';
  const opacity = s.style === 'faint' ? ';opacity:0.55' : '';
  return `<span class="legend-item"><span class="swatch" style="border-top:3px ${border} ${escapeHtml(s.color)}${opacity}"></span>${escapeHtml(s.label)}</span>`;
}

function yValues(series: readonly Series[]): number[] {
  return series.flatMap((s) => s.points.flatMap((p) => (p.y !== null && Number.isFinite(p.y) ? [p.y] : [])));
}

function quantile(sorted: readonly number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}

const r1 = (v: number) => Math.round(v * 10) / 10;
const round4 = (v: number) => Number(v.toPrecision(4));
/** 0.30000000000000004 → 0.3: tick values are multiples of a round step. */
const cleanFloat = (v: number) => Number(v.toPrecision(12));
