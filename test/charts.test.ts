import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  heatmapSpec, histogramSpec, barSpec, lineSpec, gateHeatmap, miMatrixHeatmap, correlationHeatmap,
  specificityHistogram, compileSpec, renderSvg, renderPng, writeFigure, fontInfo, blockMean, MAX_CELLS,
} from '../src/report/charts.js';
import type { TopLevelSpec } from '../src/report/charts.js';
import { gateAssignment, orderByAssignment } from '../src/metrics/analysis.js';

/** Number of items drawn by the rect mark(s) of the plot (not legend gradients or backgrounds). */
function countRectMarks(svg: string): number {
  let n = 0;
  const re = /<g class="mark-rect role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/g;
  for (let m = re.exec(svg); m; m = re.exec(svg)) n += (m[1]!.match(/<path /g) ?? []).length;
  return n;
}

function pngSize(buf: Buffer): { width: number; height: number } {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(buf.toString('latin1', 12, 16), 'IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]* width="([\d.]+)" height="([\d.]+)"/.exec(svg);
  assert.ok(m, 'svg has width and height');
  return { width: Number(m[1]), height: Number(m[2]) };
}

function noWarnings(spec: TopLevelSpec, what: string): void {
  const { vega, warnings } = compileSpec(spec);
  assert.ok(vega && typeof vega === 'object', `${what}: compiled`);
  assert.deepEqual(warnings, [], `${what}: Vega-Lite warnings`);
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

function randomGate(K: number, C: number, seed = 1): Float64Array {
  const r = rng(seed);
  const G = new Float64Array(K * C);
  for (let k = 0; k < K; k++) {
    let max = 0;
    for (let c = 0; c < C; c++) { G[k * C + c] = r() ** 4; max = Math.max(max, G[k * C + c]!); }
    for (let c = 0; c < C; c++) G[k * C + c]! /= max;
  }
  return G;
}

const classes = (C: number): string[] => Array.from({ length: C }, (_, c) => `class ${c}`);

test('all specs compile without Vega-Lite warnings', () => {
  const K = 32, C = 5;
  const G = randomGate(K, C);
  const order = orderByAssignment(gateAssignment(G, K, C));
  noWarnings(heatmapSpec({ values: [[1, 2], [3, NaN]], rowLabels: ['a', 'b'], colLabels: ['x', 'y'], title: 't', xTitle: 'x', yTitle: 'y', domain: [0, 4], colorScheme: 'magma' }), 'heatmap');
  noWarnings(histogramSpec({ edges: [0, 0.5, 1], counts: [3, 4], title: 'h', xTitle: 'v' }), 'histogram');
  noWarnings(barSpec({ labels: classes(C), values: [1, 2, 3, 4, 5], title: 'b', yTitle: 'filters' }), 'bar');
  noWarnings(lineSpec({ series: [{ name: 'train', x: [0, 1, 2], y: [2, 1, 0.5] }, { name: 'val', x: [0, 1, 2], y: [2.2, NaN, 0.9] }], title: 'loss', xTitle: 'epoch', yTitle: 'loss' }), 'line');
  noWarnings(lineSpec({ series: [{ name: 'lr', x: [0, 1], y: [0.1, 0.01] }], title: 'lr', xTitle: 'epoch', yTitle: 'lr', logY: true }), 'line log');
  noWarnings(gateHeatmap(G, K, C, classes(C), order), 'gate');
  noWarnings(miMatrixHeatmap(new Float64Array(C * K).fill(0.1), C, K, classes(C), order), 'mi');
  noWarnings(correlationHeatmap(new Float64Array(K * K).fill(0.2), K, order), 'corr');
  noWarnings(specificityHistogram([0.2, 0.5, 1, 1]), 'specificity');
  assert.throws(() => heatmapSpec({ values: [[1, 2]], rowLabels: ['a'], colLabels: ['x'], title: '', xTitle: '', yTitle: '' }), RangeError);
  assert.throws(() => histogramSpec({ edges: [0, 1], counts: [1, 2], title: '', xTitle: '' }), RangeError);
});

test('small heatmap: one rect per cell, labels, tooltip, order kept', async () => {
  const values = [[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], [0.9, 1.0, 0.0, 0.25]];
  const spec = heatmapSpec({ values, rowLabels: ['cat', 'dog', 'cat'], colLabels: ['f3', 'f0', 'f2', 'f1'], title: 'Gate', xTitle: 'filter', yTitle: 'class' });
  const svg = await renderSvg(spec);
  assert.equal(countRectMarks(svg), 12);
  for (const t of ['Gate', 'f3', 'f0', 'f2', 'f1', 'cat', 'dog', 'filter', 'class']) assert.ok(svg.includes(`>${t}</text>`), `text ${t}`);
  // aria labels carry the tooltip fields of small heatmaps: the first drawn column is f3
  assert.ok(svg.includes('aria-label="cat, f3: 0.1000"'), 'aria description of cell (cat, f3)');
  // a NaN cell draws nothing
  const holey = await renderSvg(heatmapSpec({ values: [[1, NaN], [3, 4]], rowLabels: ['a', 'b'], colLabels: ['x', 'y'], title: 't', xTitle: 'x', yTitle: 'y' }));
  assert.equal(countRectMarks(holey), 3);
});

test('wide heatmap (K=200): no per-filter labels, width capped sensibly', async () => {
  const K = 200, C = 4;
  const G = randomGate(K, C, 7);
  const spec = gateHeatmap(G, K, C, classes(C), orderByAssignment(gateAssignment(G, K, C))) as { width: number; height: number };
  assert.equal(spec.width, 800);
  const svg = await renderSvg(spec as TopLevelSpec);
  assert.equal(countRectMarks(svg), K * C);
  assert.ok(!/>f\d+<\/text>/.test(svg), 'no filter labels');
  assert.ok(svg.includes('>class 3</text>'), 'class labels kept');
});

test('large inputs are sized and reduced: K=2048', () => {
  const K = 2048, C = 10;
  const G = randomGate(K, C, 3);
  const gate = gateHeatmap(G, K, C, classes(C)) as unknown as { width: number; data: { values: unknown[] } };
  assert.equal(gate.width, 1600);
  assert.equal(gate.data.values.length, K * C); // 20480 <= MAX_CELLS: one cell per (class, filter)
  const R = new Float64Array(K * K);
  for (let i = 0; i < K; i++) R[i * K + i] = 1;
  const corr = correlationHeatmap(R, K) as unknown as { width: number; height: number; title: string; data: { values: { v: number }[] } };
  assert.ok(corr.data.values.length <= MAX_CELLS);
  assert.equal(corr.data.values.length, 256 * 256);
  assert.match(corr.title, /8x8 blocks/);
  assert.equal(corr.data.values[0]!.v, 8 / 64); // block mean of the identity's 8x8 diagonal block
  assert.ok(corr.width <= 1000 && corr.width === corr.height);
  const wide = gateHeatmap(randomGate(2048, 100, 5), 2048, 100, classes(100)) as unknown as { title: string; data: { values: unknown[] } };
  assert.ok(wide.data.values.length <= MAX_CELLS);
  assert.match(wide.title, /blocks of 4 filters/);
  const b = blockMean([[1, 2, 3], [4, NaN, 6]], 2, 2);
  assert.deepEqual(b.values, [[7 / 3, 4.5]]);
  assert.deepEqual(b.colBlocks, [[0, 2], [2, 3]]);
});

test('writeFigure writes SVG and PNG atomically with plausible dimensions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'csgnet-charts-'));
  try {
    const out = await writeFigure(join(dir, 'sub'), 'bars', barSpec({ labels: classes(4), values: [3, 1, 4, 1], title: 'Related filters', yTitle: 'filters' }));
    assert.equal(out.svg, join(dir, 'sub', 'bars.svg'));
    const svg = readFileSync(out.svg, 'utf8');
    assert.ok(svg.startsWith('<svg'));
    const png = readFileSync(out.png);
    const p = pngSize(png), s = svgSize(svg);
    assert.equal(p.width, Math.round(2 * s.width));
    assert.equal(p.height, Math.round(2 * s.height));
    assert.ok(p.width > 300 && p.height > 300, `png ${p.width}x${p.height}`);
    assert.deepEqual(readdirSync(join(dir, 'sub')).sort(), ['bars.png', 'bars.svg']);
    await assert.rejects(writeFigure(dir, '../x', barSpec({ labels: ['a'], values: [1], title: '', yTitle: '' })));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('PNG text is rendered (fonts available)', async (t) => {
  const fi = fontInfo();
  if (!fi.anyFont) { t.skip('no font files on this machine: PNG text cannot render'); return; }
  // a chart whose only near-black pixels are text (bars are blue, axis lines grey)
  const svg = await renderSvg(barSpec({ labels: ['alpha', 'beta'], values: [1, 2], title: 'TITLE TEXT', yTitle: 'count' }));
  const { data, info } = await sharp(renderPng(svg, 2)).raw().toBuffer({ resolveWithObject: true });
  let dark = 0;
  for (let i = 0; i < data.length; i += info.channels) if (data[i]! < 60 && data[i + 1]! < 60 && data[i + 2]! < 60) dark++;
  assert.ok(dark > 200, `only ${dark} dark (text) pixels; fonts: ${JSON.stringify(fi)}`);
});

// How long this takes is measured by `npm run bench charts` (src/bench/charts.ts), not asserted here.
test('a 64x10 gate heatmap renders every cell to SVG and PNG', async () => {
  const K = 64, C = 10;
  const G = randomGate(K, C, 11);
  const svg = await renderSvg(gateHeatmap(G, K, C, classes(C), orderByAssignment(gateAssignment(G, K, C))));
  const png = renderPng(svg);
  assert.ok(svg.startsWith('<svg') && svg.trimEnd().endsWith('</svg>'), 'a complete SVG document');
  assert.equal(countRectMarks(svg), K * C);
  assert.ok(svg.includes('>f0</text>'), '64 filters still labelled');
  assert.ok(svg.includes('>class 9</text>'), 'every class labelled');
  assert.ok(png.length > 1000, `png of ${png.length} bytes`);
  const p = pngSize(png), s = svgSize(svg);
  assert.ok(p.width > 600 && p.height > 200, `png ${p.width}x${p.height}`);
  assert.deepEqual([p.width, p.height], [Math.round(2 * s.width), Math.round(2 * s.height)], 'PNG at twice the SVG size');
});
