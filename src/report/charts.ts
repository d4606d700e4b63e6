// Figures for reports, re-exported from where they live:
//   specs.ts    generic Vega-Lite specs (heatmap, histogram, bars, lines) and blockMean
//   figures.ts  the CSG analysis figures (gate, MI matrix, correlation, specificity)
//   fonts.ts    which font files the PNG renderer loads
//   render.ts   compile, render to SVG / PNG, writeFigure (atomic files)
export {
  MAX_LABELLED, heatmapExtent, heatmapSpec, histogramSpec, barSpec, lineSpec, blockMean,
  type TopLevelSpec, type HeatmapOptions, type HistogramOptions, type BarOptions, type LineSeries, type LineOptions,
} from './specs.js';
export { MAX_CELLS, gateHeatmap, miMatrixHeatmap, correlationHeatmap, specificityHistogram } from './figures.js';
export { fontInfo, type FontInfo } from './fonts.js';
export { compileSpec, renderSvg, renderPng, writeFigure } from './render.js';
