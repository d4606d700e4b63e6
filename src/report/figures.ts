// The CSG analysis figures (gate, MI matrix, filter correlation, specificity) as Vega-Lite specs,
// block-averaged when they would be too large to draw.
import { histogram } from '../metrics/analysis.js';
import { MAX_LABELLED, blockMean, heatmapExtent, heatmapSpec, histogramSpec, type HeatmapOptions, type TopLevelSpec } from './specs.js';

/** Convenience heatmaps average blocks of cells beyond this many cells (SVG size, render time). */
export const MAX_CELLS = 65536;

function checkLen(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new RangeError(`${what}: expected ${expected} values, got ${actual}`);
}

function filterTitle(n: number): string {
  return n > MAX_LABELLED ? `filter (${n})` : 'filter';
}

function identity(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
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
