// Generic Vega-Lite specs: heatmap, histogram, bars, lines. Pure data in, spec out; render.ts draws them.
import type { TopLevelSpec } from 'vega-lite';

export type { TopLevelSpec };

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/** Above this many columns (or rows), heatmaps draw no per-cell axis labels. */
export const MAX_LABELLED = 64;

export interface HeatmapOptions {
  /** rows x cols; NaN / non-finite cells are left empty. */
  values: ArrayLike<number>[];
  rowLabels: string[];
  colLabels: string[];
  title: string;
  xTitle: string;
  yTitle: string;
  /** Any Vega scheme name; default 'viridis'. */
  colorScheme?: string;
  /** Color domain [lo, hi]; values outside are clamped. Default: the data extent. */
  domain?: [number, number];
  /** Legend title; default 'value'. */
  colorTitle?: string;
  width?: number;
  height?: number;
  /** Reverse the color scheme. */
  reverseScheme?: boolean;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

/** Default plot extent for n cells along one axis (pixels). */
export function heatmapExtent(n: number, labelled: boolean, minPx = 300): number {
  return labelled ? clamp(n * 12, minPx, 1600) : clamp(n * 4, minPx, 1600);
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function indexAxis(title: string, labels: string[], n: number, vertical: boolean): Record<string, unknown> {
  if (n > MAX_LABELLED) return { title, labels: false, ticks: false, domain: false };
  return {
    title,
    // the field is the integer index; labels come from the array, so duplicates and any order work
    labelExpr: `${JSON.stringify(labels)}[datum.value]`,
    labelLimit: 140,
    ...(vertical ? {} : { labelAngle: n > 12 ? -90 : 0 }),
  };
}

/**
 * A heatmap: one rect per cell, quantitative color, tooltip with both labels and the value.
 * Columns run along x (left to right in the given order), rows along y (top to bottom).
 * Axis labels are drawn only for up to MAX_LABELLED rows / columns.
 */
export function heatmapSpec(o: HeatmapOptions): TopLevelSpec {
  const rows = o.values.length;
  const cols = rows > 0 ? o.values[0]!.length : 0;
  if (o.rowLabels.length !== rows) throw new RangeError(`heatmapSpec: ${o.rowLabels.length} row labels for ${rows} rows`);
  if (o.colLabels.length !== cols) throw new RangeError(`heatmapSpec: ${o.colLabels.length} column labels for ${cols} columns`);
  const data: Record<string, unknown>[] = [];
  for (let r = 0; r < rows; r++) {
    const row = o.values[r]!;
    if (row.length !== cols) throw new RangeError(`heatmapSpec: row ${r} has ${row.length} values, expected ${cols}`);
    for (let c = 0; c < cols; c++) data.push({ r, c, v: finiteOrNull(row[c]!), row: o.rowLabels[r], col: o.colLabels[c] });
  }
  const width = o.width ?? heatmapExtent(cols, cols <= MAX_LABELLED);
  const height = o.height ?? (rows <= MAX_LABELLED ? clamp(rows * 16, 100, 1024) : heatmapExtent(rows, false));
  const scale: Record<string, unknown> = { scheme: o.colorScheme ?? 'viridis' };
  if (o.domain) { scale.domain = o.domain; scale.clamp = true; }
  if (o.reverseScheme) scale.reverse = true;
  const index = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  const aria = rows * cols <= 4096;
  return {
    $schema: SCHEMA,
    title: o.title,
    width,
    height,
    data: { values: data },
    // per-cell aria labels (screen readers) would dominate the SVG of a large heatmap
    ...(aria ? { transform: [{ calculate: `datum.row + ', ' + datum.col + ': ' + (isValid(datum.v) ? format(datum.v, '.4f') : 'n/a')`, as: 'desc' }] } : {}),
    mark: { type: 'rect', aria },
    encoding: {
      ...(aria ? { description: { field: 'desc', type: 'nominal' } } : {}),
      x: { field: 'c', type: 'ordinal', scale: { domain: index(cols), paddingInner: 0, paddingOuter: 0 }, axis: indexAxis(o.xTitle, o.colLabels, cols, false) },
      y: { field: 'r', type: 'ordinal', scale: { domain: index(rows), paddingInner: 0, paddingOuter: 0 }, axis: indexAxis(o.yTitle, o.rowLabels, rows, true) },
      color: { field: 'v', type: 'quantitative', title: o.colorTitle ?? 'value', scale },
      tooltip: [
        { field: 'row', type: 'nominal', title: o.yTitle },
        { field: 'col', type: 'nominal', title: o.xTitle },
        { field: 'v', type: 'quantitative', title: o.colorTitle ?? 'value', format: '.4f' },
      ],
    },
    config: { view: { stroke: null }, axis: { labelFontSize: 9 } },
  } as TopLevelSpec;
}

export interface HistogramOptions {
  edges: ArrayLike<number>;
  counts: ArrayLike<number>;
  title: string;
  xTitle: string;
  yTitle?: string;
}

/** Bars over precomputed bins (e.g. `histogram()` of src/metrics/analysis.ts). */
export function histogramSpec(o: HistogramOptions): TopLevelSpec {
  if (o.edges.length !== o.counts.length + 1) throw new RangeError(`histogramSpec: ${o.edges.length} edges for ${o.counts.length} bins`);
  const data = Array.from({ length: o.counts.length }, (_, i) => ({ lo: o.edges[i]!, hi: o.edges[i + 1]!, count: o.counts[i]! }));
  return {
    $schema: SCHEMA,
    title: o.title,
    width: 400,
    height: 240,
    data: { values: data },
    mark: { type: 'bar', binSpacing: 1 },
    encoding: {
      x: { field: 'lo', type: 'quantitative', bin: 'binned', title: o.xTitle, scale: { domain: [o.edges[0]!, o.edges[o.edges.length - 1]!] } },
      x2: { field: 'hi' },
      y: { field: 'count', type: 'quantitative', title: o.yTitle ?? 'count' },
      tooltip: [
        { field: 'lo', type: 'quantitative', title: 'from', format: '.3f' },
        { field: 'hi', type: 'quantitative', title: 'to', format: '.3f' },
        { field: 'count', type: 'quantitative', title: 'count' },
      ],
    },
  } as TopLevelSpec;
}

export interface BarOptions {
  labels: string[];
  values: ArrayLike<number>;
  title: string;
  yTitle: string;
  xTitle?: string;
}

/** One bar per label, in the given order (e.g. related filters per class). */
export function barSpec(o: BarOptions): TopLevelSpec {
  if (o.labels.length !== o.values.length) throw new RangeError(`barSpec: ${o.labels.length} labels for ${o.values.length} values`);
  const n = o.labels.length;
  const data = o.labels.map((label, i) => ({ i, label, value: finiteOrNull(o.values[i]!) }));
  return {
    $schema: SCHEMA,
    title: o.title,
    width: clamp(n * 24, 200, 1600),
    height: 240,
    data: { values: data },
    mark: 'bar',
    encoding: {
      x: {
        field: 'i', type: 'ordinal', title: o.xTitle ?? null,
        scale: { domain: Array.from({ length: n }, (_, i) => i) },
        axis: n > 200 ? { labels: false, ticks: false } : { labelExpr: `${JSON.stringify(o.labels)}[datum.value]`, labelAngle: n > 8 ? -45 : 0, labelLimit: 120 },
      },
      y: { field: 'value', type: 'quantitative', title: o.yTitle },
      tooltip: [{ field: 'label', type: 'nominal', title: o.xTitle ?? 'label' }, { field: 'value', type: 'quantitative', title: o.yTitle }],
    },
  } as TopLevelSpec;
}

export interface LineSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

export interface LineOptions {
  series: LineSeries[];
  title: string;
  xTitle: string;
  yTitle: string;
  /** Start the y scale at zero; default false (loss curves). */
  zero?: boolean;
  /** Logarithmic y scale. */
  logY?: boolean;
}

/** One line per series (training curves); non-finite y values break the line. */
export function lineSpec(o: LineOptions): TopLevelSpec {
  const data: Record<string, unknown>[] = [];
  let points = 0;
  for (const s of o.series) {
    if (s.x.length !== s.y.length) throw new RangeError(`lineSpec: series '${s.name}' has ${s.x.length} x and ${s.y.length} y values`);
    for (let i = 0; i < s.x.length; i++) data.push({ series: s.name, x: s.x[i]!, y: finiteOrNull(s.y[i]!) });
    points = Math.max(points, s.x.length);
  }
  return {
    $schema: SCHEMA,
    title: o.title,
    width: 480,
    height: 280,
    data: { values: data },
    mark: { type: 'line', point: points <= 60, interpolate: 'linear' },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: o.xTitle },
      y: { field: 'y', type: 'quantitative', title: o.yTitle, scale: o.logY ? { type: 'log' } : { zero: o.zero ?? false } },
      color: { field: 'series', type: 'nominal', title: null, sort: o.series.map((s) => s.name) },
      tooltip: [
        { field: 'series', type: 'nominal' },
        { field: 'x', type: 'quantitative', title: o.xTitle },
        { field: 'y', type: 'quantitative', title: o.yTitle, format: '.4g' },
      ],
    },
  } as TopLevelSpec;
}

/**
 * Block means: rows grouped `rb` at a time and columns `cb` at a time (last block may be short),
 * non-finite cells ignored. Returns the smaller matrix and the [start, end) ranges of each block.
 */
export function blockMean(values: ArrayLike<number>[], rb: number, cb: number): { values: number[][]; rowBlocks: [number, number][]; colBlocks: [number, number][] } {
  const rows = values.length, cols = rows ? values[0]!.length : 0;
  const ranges = (n: number, b: number): [number, number][] => Array.from({ length: Math.ceil(n / b) }, (_, i) => [i * b, Math.min(n, (i + 1) * b)] as [number, number]);
  const rowBlocks = ranges(rows, rb), colBlocks = ranges(cols, cb);
  const out = rowBlocks.map(([r0, r1]) => colBlocks.map(([c0, c1]) => {
    let s = 0, n = 0;
    for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) { const v = values[r]![c]!; if (Number.isFinite(v)) { s += v; n++; } }
    return n ? s / n : NaN;
  }));
  return { values: out, rowBlocks, colBlocks };
}
