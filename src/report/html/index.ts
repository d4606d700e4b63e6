// The self-contained HTML report (csgnet report): page.ts builds the page from ReportData (types.ts).
export { renderReportHtml, shortNames } from './page.js';
export { vegaAssets, VEGA_BUILDS } from './assets.js';
export { esc, jsonForScript, dataUri } from './escape.js';
export { trainingCurveSpecs, comparisonSpecs, rocSpecs, type TitledSpec } from './charts.js';
export { overlayRgb, hstack, heatColor } from './overlay.js';
export type * from './types.js';
