// Rendering: Vega-Lite specs compiled to Vega and rendered to SVG headlessly in Node
// (`renderer: 'none'`, no canvas), then rasterized to PNG with resvg (fonts: fonts.ts); writeFigure
// writes both files with the one atomic writer (util/atomic.ts).
//
// Vega lays text out with estimated widths (no canvas in Node), so long labels can sit a few pixels
// off; titles and axis labels are still placed correctly.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import type { ResvgRenderOptions } from '@resvg/resvg-js';
import { writeFileAtomic } from '../util/atomic.js';
import { fontInfo } from './fonts.js';
import type { TopLevelSpec } from './specs.js';

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

let warnedNoFont = false;

/**
 * Rasterizes an SVG to PNG at `scale` times its size (default 2, for sharp text). `fontFiles` adds
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

/** Renders `spec` and writes `dir/name.svg` and `dir/name.png`, each atomically (writeFileAtomic). */
export async function writeFigure(dir: string, name: string, spec: TopLevelSpec, scale = 2): Promise<{ svg: string; png: string }> {
  if (!name || /[\\/]/.test(name) || name === '.' || name === '..') throw new Error(`writeFigure: bad figure name '${name}'`);
  mkdirSync(dir, { recursive: true });
  const svgText = await renderSvg(spec);
  const png = renderPng(svgText, scale);
  const paths = { svg: join(dir, `${name}.svg`), png: join(dir, `${name}.png`) };
  writeFileAtomic(paths.svg, svgText);
  writeFileAtomic(paths.png, png);
  return paths;
}
