// Figures for reports: Vega-Lite specs, compiled to Vega and rendered to SVG headlessly in Node
// (`renderer: 'none'`, no canvas), then rasterised to PNG with resvg.
//
// Fonts: the SVG names the generic family `sans-serif`. resvg draws no text at all when it finds no
// font (silently), so the PNG path loads the system fonts and, when one of the common sans fonts
// listed in FONT_CANDIDATES is installed (Debian: fonts-dejavu-core), also loads that file and maps
// `sans-serif` to it, so that output does not depend on fontconfig's choice. If no font file can be
// found anywhere, a warning is emitted once and PNGs come out without text (SVGs are unaffected;
// browsers use their own fonts). Pass `fontFiles` to `renderPng` to supply fonts explicitly.
//
// Vega lays text out with estimated widths (no canvas in Node), so long labels can sit a few pixels
// off; titles and axis labels are still placed correctly.

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import type { ResvgRenderOptions } from '@resvg/resvg-js';
import { histogram } from '../metrics/analysis.js';

export type { TopLevelSpec };

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/** Above this many columns (or rows), heatmaps draw no per-cell axis labels. */
export const MAX_LABELLED = 64;
/** Convenience heatmaps average blocks of cells beyond this many cells (SVG size, render time). */
export const MAX_CELLS = 65536;

// ---------------------------------------------------------------------------------------------
// Specs

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

// ---------------------------------------------------------------------------------------------
// Convenience heatmaps for the CSG analyses

function checkLen(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new RangeError(`${what}: expected ${expected} values, got ${actual}`);
}

function filterTitle(n: number): string {
  return n > MAX_LABELLED ? `filter (${n})` : 'filter';
}

function identity(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
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

function blockLabels(labels: string[], blocks: [number, number][]): string[] {
  return blocks.map(([a, b]) => (b - a === 1 ? labels[a]! : `${labels[a]}..${labels[b - 1]}`));
}

/**
 * Gate G ([K][C] row-major, or K rows of C) as classes (y) x filters (x), filters in `order`
 * (default: index order; pass `orderByAssignment(gateAssignment(G, K, C), ...)` to see the blocks).
 * Color domain fixed to [0, 1]. More than MAX_CELLS cells: columns are block-averaged.
 */
export function gateHeatmap(G: ArrayLike<number> | ArrayLike<ArrayLike<number>>, K: number, C: number, classNames: string[], order?: ArrayLike<number>): TopLevelSpec {
  checkLen('gateHeatmap class names', classNames.length, C);
  const flat = new Float64Array(K * C);
  if (G.length > 0 && typeof G[0] !== 'number') {
    const rowsG = G as ArrayLike<ArrayLike<number>>;
    checkLen('gateHeatmap gate rows', rowsG.length, K);
    for (let k = 0; k < K; k++) { checkLen(`gateHeatmap gate row ${k}`, rowsG[k]!.length, C); for (let c = 0; c < C; c++) flat[k * C + c] = rowsG[k]![c]!; }
  } else {
    checkLen('gateHeatmap gate', G.length, K * C);
    for (let i = 0; i < K * C; i++) flat[i] = (G as ArrayLike<number>)[i]!;
  }
  const ord = order ?? identity(K);
  const values = classNames.map((_, c) => Array.from(ord, (k) => flat[k * C + c]!));
  return reducedHeatmap(values, classNames, Array.from(ord, (k) => `f${k}`), {
    title: 'Class-specific gate', xTitle: filterTitle(ord.length), yTitle: 'class', domain: [0, 1], colorTitle: 'gate',
  }, false);
}

/** MI matrix M ([C][K] row-major) as classes x filters, filters in `assignmentOrder`. */
export function miMatrixHeatmap(M: ArrayLike<number>, C: number, K: number, classNames: string[], assignmentOrder?: ArrayLike<number>): TopLevelSpec {
  checkLen('miMatrixHeatmap', M.length, C * K);
  checkLen('miMatrixHeatmap class names', classNames.length, C);
  const ord = assignmentOrder ?? identity(K);
  const values = classNames.map((_, c) => Array.from(ord, (k) => M[c * K + k]!));
  return reducedHeatmap(values, classNames, Array.from(ord, (k) => `f${k}`), {
    title: 'Mutual information (filter, class)', xTitle: filterTitle(ord.length), yTitle: 'class', colorTitle: 'MI (nats)', colorScheme: 'viridis',
  }, false);
}

/**
 * Filter-filter correlation R ([K][K] row-major) with rows and columns in `order`, diverging colors
 * on [-1, 1]. Large K is block-averaged to at most sqrt(MAX_CELLS) (256) blocks per side.
 */
export function correlationHeatmap(R: ArrayLike<number>, K: number, order?: ArrayLike<number>): TopLevelSpec {
  checkLen('correlationHeatmap', R.length, K * K);
  const ord = order ?? identity(K);
  const values = Array.from(ord, (i) => Array.from(ord, (j) => R[i * K + j]!));
  const labels = Array.from(ord, (k) => `f${k}`);
  const spec = reducedHeatmap(values, labels, labels, {
    title: 'Filter correlation (GAP features)', xTitle: filterTitle(ord.length), yTitle: filterTitle(ord.length), colorTitle: 'Pearson r',
    colorScheme: 'redblue', reverseScheme: true, domain: [-1, 1],
  }, true);
  return spec;
}

type HeatmapText = Omit<HeatmapOptions, 'values' | 'rowLabels' | 'colLabels'>;

function reducedHeatmap(values: number[][], rowLabels: string[], colLabels: string[], text: HeatmapText, square: boolean): TopLevelSpec {
  const rows = values.length, cols = rows ? values[0]!.length : 0;
  let rb = 1, cb = 1;
  if (rows * cols > MAX_CELLS) {
    if (square) { rb = cb = Math.ceil(Math.max(rows, cols) / Math.floor(Math.sqrt(MAX_CELLS))); }
    else cb = Math.ceil((rows * cols) / MAX_CELLS);
  }
  let opts: HeatmapOptions = { ...text, values, rowLabels, colLabels };
  if (rb > 1 || cb > 1) {
    const b = blockMean(values, rb, cb);
    const note = square ? `${rb}x${cb} blocks` : `blocks of ${cb} filters`;
    opts = { ...text, title: `${text.title} (means over ${note})`, values: b.values, rowLabels: blockLabels(rowLabels, b.rowBlocks), colLabels: blockLabels(colLabels, b.colBlocks) };
  }
  if (square) {
    const side = heatmapExtent(opts.colLabels.length, opts.colLabels.length <= MAX_LABELLED);
    opts.width = opts.height = Math.min(side, 1000);
  } else {
    opts.width = heatmapExtent(cols, cols <= MAX_LABELLED);
  }
  return heatmapSpec(opts);
}

/** Histogram of per-filter class specificity (`specificity()` values, in [1/C, 1]). */
export function specificityHistogram(spec: ArrayLike<number>, bins = 20): TopLevelSpec {
  const h = histogram(spec, bins, 0, 1);
  return histogramSpec({ ...h, title: 'Filter class specificity', xTitle: 'max_c MI / sum_c MI', yTitle: 'filters' });
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** Compiles a Vega-Lite spec to Vega, collecting Vega-Lite's warnings instead of printing them. */
export function compileSpec(spec: TopLevelSpec): { vega: vega.Spec; warnings: string[] } {
  const warnings: string[] = [];
  const logger = vega.logger(vega.Warn, undefined, (_m, level, args) => { warnings.push(`${level} ${args.map(String).join(' ')}`); });
  const out = compile(spec, { logger });
  return { vega: out.spec as vega.Spec, warnings };
}

/** Renders a Vega-Lite spec to an SVG string, headlessly. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { vega: vg } = compileSpec(spec);
  const view = new vega.View(vega.parse(vg), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const FONT_CANDIDATES: { family: string; files: string[] }[] = [
  { family: 'DejaVu Sans', files: ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf', '/usr/share/fonts/TTF/DejaVuSans.ttf', '/usr/share/fonts/TTF/DejaVuSans-Bold.ttf', '/usr/share/fonts/dejavu/DejaVuSans.ttf', '/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf'] },
  { family: 'Liberation Sans', files: ['/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf', '/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf'] },
  { family: 'Arial', files: ['/System/Library/Fonts/Supplemental/Arial.ttf', 'C:\\Windows\\Fonts\\arial.ttf', 'C:\\Windows\\Fonts\\arialbd.ttf'] },
  { family: 'Helvetica', files: ['/System/Library/Fonts/Helvetica.ttc'] },
];

function hasAnyFontFile(dir: string, depth = 0): boolean {
  if (depth > 4 || !existsSync(dir)) return false;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isFile() && /\.(ttf|otf|ttc|otc)$/i.test(e.name)) return true;
      if (e.isDirectory() && hasAnyFontFile(join(dir, e.name), depth + 1)) return true;
    }
  } catch { /* unreadable: treat as empty */ }
  return false;
}

export interface FontInfo {
  /** Family mapped to `sans-serif`, when a known font file was found. */
  family?: string;
  /** Font files loaded explicitly (besides the system fonts). */
  files: string[];
  /** false when no font file was found at all: PNGs will have no text. */
  anyFont: boolean;
}

let fontCache: FontInfo | undefined;
let warnedNoFont = false;

/** Which fonts the PNG renderer will use (probed once). */
export function fontInfo(): FontInfo {
  if (fontCache) return fontCache;
  for (const cand of FONT_CANDIDATES) {
    const files = cand.files.filter((f) => existsSync(f));
    if (files.length) return (fontCache = { family: cand.family, files, anyFont: true });
  }
  const dirs = ['/usr/share/fonts', '/usr/local/share/fonts', join(homedir(), '.fonts'), join(homedir(), '.local/share/fonts'), '/System/Library/Fonts', '/Library/Fonts', 'C:\\Windows\\Fonts'];
  return (fontCache = { files: [], anyFont: dirs.some((d) => hasAnyFontFile(d)) });
}

/**
 * Rasterises an SVG to PNG at `scale` times its size (default 2, for sharp text). `fontFiles` adds
 * font files (e.g. a bundled .ttf) to those found on the system.
 */
export function renderPng(svg: string, scale = 2, fontFiles: string[] = []): Buffer {
  if (!(scale > 0)) throw new RangeError(`renderPng: scale must be positive, got ${scale}`);
  const fi = fontInfo();
  if (!fi.anyFont && fontFiles.length === 0 && !warnedNoFont) {
    warnedNoFont = true;
    process.emitWarning('csgnet charts: no font files found; PNG figures will have no text (install fonts-dejavu-core, or pass fontFiles to renderPng)');
  }
  const font: NonNullable<ResvgRenderOptions['font']> = { loadSystemFonts: true, fontFiles: [...fi.files, ...fontFiles] };
  if (fi.family) { font.sansSerifFamily = fi.family; font.defaultFontFamily = fi.family; }
  const resvg = new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, font, background: 'white' });
  return resvg.render().asPng();
}

function writeAtomic(path: string, data: string | Buffer): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Renders `spec` and writes `dir/name.svg` and `dir/name.png` (each via a temp file + rename). */
export async function writeFigure(dir: string, name: string, spec: TopLevelSpec, scale = 2): Promise<{ svg: string; png: string }> {
  if (!name || /[\\/]/.test(name) || name === '.' || name === '..') throw new Error(`writeFigure: bad figure name '${name}'`);
  mkdirSync(dir, { recursive: true });
  const svgText = await renderSvg(spec);
  const png = renderPng(svgText, scale);
  const paths = { svg: join(dir, `${name}.svg`), png: join(dir, `${name}.png`) };
  writeAtomic(paths.svg, svgText);
  writeAtomic(paths.png, png);
  return paths;
}
