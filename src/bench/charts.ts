// Times figure rendering (Vega-Lite -> SVG -> PNG) of gate heatmaps, the largest figures `csgnet analyze`
// draws: 64 filters x 10 classes (ResNet-20, every cell drawn) and 2048 x 10 (ResNet-50, block means).
// Moved here from test/charts.test.ts, which only checks that rendering works.
import { performance } from 'node:perf_hooks';
import { gateHeatmap, renderSvg, renderPng } from '../report/charts.js';
import { gateAssignment, orderByAssignment } from '../metrics/analysis.js';
import { Rng } from '../data/rng.js';

export interface ChartsBenchResult {
  bench: 'charts'; filters: number; classes: number; repeats: number;
  /** Median over repeats, after one warm-up rendering. */
  svg_ms: number; png_ms: number; total_ms: number; svg_bytes: number; png_bytes: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A gate G [K, C] with rows scaled to a maximum of 1, like a projected gate. */
function randomGate(K: number, C: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const G = new Float64Array(K * C);
  for (let k = 0; k < K; k++) {
    let max = 0;
    for (let c = 0; c < C; c++) { G[k * C + c] = rng.float() ** 4; max = Math.max(max, G[k * C + c]!); }
    for (let c = 0; c < C; c++) G[k * C + c]! /= max || 1;
  }
  return G;
}

export async function benchCharts(o: { filters: number; classes: number; repeats: number }): Promise<ChartsBenchResult> {
  const { filters: K, classes: C } = o;
  const G = randomGate(K, C, 11);
  const spec = gateHeatmap(G, K, C, Array.from({ length: C }, (_, c) => `class ${c}`), orderByAssignment(gateAssignment(G, K, C)));
  const svgMs: number[] = [], pngMs: number[] = [];
  let svg = '';
  let png: Buffer = Buffer.alloc(0);
  for (let i = 0; i <= o.repeats; i++) {
    const t0 = performance.now();
    svg = await renderSvg(spec);
    const t1 = performance.now();
    png = renderPng(svg);
    const t2 = performance.now();
    if (i > 0) { svgMs.push(t1 - t0); pngMs.push(t2 - t1); } // i = 0 warms up
  }
  const total = svgMs.map((s, i) => s + pngMs[i]!);
  return { bench: 'charts', filters: K, classes: C, repeats: o.repeats, svg_ms: median(svgMs), png_ms: median(pngMs), total_ms: median(total),
    svg_bytes: Buffer.byteLength(svg), png_bytes: png.length };
}
