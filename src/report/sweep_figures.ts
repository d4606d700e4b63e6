// Sweep figures, one point per setting with its 95 % intervals as error bars on both axes:
// - accuracy against MIS (means over seeds) with the Pareto front (no other setting has both a higher
//   MIS and a higher accuracy) as a line;
// - the paired CSG - STD differences (same seed), Δ accuracy against Δ MIS, with zero lines: a point
//   right of the vertical line gains MIS, one whose bar crosses the horizontal line costs no accuracy
//   that the seeds can tell apart from noise.
// The axes frame the points, not the intervals: with 2-3 seeds a t interval can be ten times the spread
// of the means, and an interval that leaves the frame is drawn to its edge (the tooltip has it whole).
// Points within a few pixels share one label (lambda=0.01 rho=0.05|0.1|0.2). Pure data in, Vega-Lite spec out; render.ts draws it.
import type { TopLevelSpec } from './specs.js';

/** One setting: x and y with their interval ends. */
export interface IntervalPoint {
  label: string;
  x: number; xLo: number; xHi: number;
  y: number; yLo: number; yHi: number;
  /** Runs (seeds, or pairs) behind the point. */
  n: number;
  /** Colour group (e.g. the strategy); default the label. */
  group?: string;
  /** Text drawn next to the point (default the label). */
  short?: string;
}

export interface ParetoPoint {
  label: string;
  mis: number; misLo: number; misHi: number;
  accuracy: number; accLo: number; accHi: number;
  n: number;
  onFront: boolean;
  group?: string;
  short?: string;
}

interface Axis { title: string; format: string; zeroLine?: boolean }

/** The points' extent, padded by half of it each side (at least `minPad`), and including 0 when asked. */
export function frame(values: readonly number[], minPad: number, withZero = false): [number, number] {
  const v = withZero ? [...values, 0] : [...values];
  let lo = Math.min(...v), hi = Math.max(...v);
  const pad = Math.max((hi - lo) / 2, minPad);
  lo -= pad; hi += pad;
  return [lo, hi];
}

/** 'lambda=0.01 rho=0.05', 'lambda=0.01 rho=0.1' -> 'lambda=0.01 rho=0.05|0.1' (labels that differ in one key), else joined with ' / '. */
export function joinLabels(labels: readonly string[]): string {
  if (labels.length === 1) return labels[0]!;
  const parts = labels.map((l) => l.split(' ').map((t) => t.split('=')));
  const keys = parts[0]!.map((t) => t[0]);
  const sameKeys = parts.every((p) => p.length === keys.length && p.every((t, i) => t.length === 2 && t[0] === keys[i]));
  if (sameKeys) {
    const differing = keys.map((_, i) => new Set(parts.map((p) => p[i]![1])).size > 1);
    if (differing.filter(Boolean).length === 1) {
      return keys.map((k, i) => `${k}=${differing[i] ? [...new Set(parts.map((p) => p[i]![1]))].join('|') : parts[0]![i]![1]}`).join(' ');
    }
  }
  return labels.join(' / ');
}

/** One label per cluster of points closer than ~10 px on the plot (the first point carries it). */
function sharedLabels(points: readonly IntervalPoint[], xDomain: [number, number], yDomain: [number, number]): Map<number, string> {
  const px = (p: IntervalPoint) => [(p.x - xDomain[0]) / (xDomain[1] - xDomain[0]) * WIDTH, (p.y - yDomain[0]) / (yDomain[1] - yDomain[0]) * HEIGHT];
  const clusters: { at: number[]; members: number[] }[] = [];
  points.forEach((p, i) => {
    const [x, y] = px(p);
    const near = clusters.find((c) => Math.abs(c.at[0]! - x!) < 10 && Math.abs(c.at[1]! - y!) < 10);
    if (near) near.members.push(i);
    else clusters.push({ at: [x!, y!], members: [i] });
  });
  return new Map(clusters.map((c) => [c.members[0]!, joinLabels(c.members.map((i) => points[i]!.short ?? points[i]!.label))]));
}

const WIDTH = 480, HEIGHT = 320;

function intervalScatter(points: readonly IntervalPoint[], xAxis: Axis, yAxis: Axis, title: string,
  extra: { shapeField?: string; shapes?: [string, string][]; line?: object[]; fields?: Record<string, unknown>[] } = {}): TopLevelSpec {
  const xDomain = frame(points.map((p) => p.x), 0.002, xAxis.zeroLine);
  const yDomain = frame(points.map((p) => p.y), 0.002, yAxis.zeroLine);
  const labels = sharedLabels(points, xDomain, yDomain);
  // The bars are drawn to the frame's edge (x0/x1, y0/y1): far-off coordinates do not survive every SVG renderer's clipping.
  const inside = (v: number, [lo, hi]: [number, number]) => Math.min(hi, Math.max(lo, v));
  const values = points.map((p, i) => ({ ...p, ...(extra.fields?.[i] ?? {}), group: p.group ?? p.label, text: labels.get(i) ?? '',
    x0: inside(p.xLo, xDomain), x1: inside(p.xHi, xDomain), y0: inside(p.yLo, yDomain), y1: inside(p.yHi, yDomain) }));
  const x = { field: 'x', type: 'quantitative', title: xAxis.title, scale: { domain: xDomain, zero: false, nice: false } };
  const y = { field: 'y', type: 'quantitative', title: yAxis.title, scale: { domain: yDomain, zero: false, nice: false } };
  const oneGroup = new Set(values.map((v) => v.group)).size === 1;
  const color = { field: 'group', type: 'nominal', title: null, ...(oneGroup ? { legend: null } : {}) };
  const tooltip = [
    { field: 'label', type: 'nominal', title: 'setting' }, { field: 'n', type: 'quantitative', title: 'seeds' },
    { field: 'x', type: 'quantitative', title: xAxis.title, format: xAxis.format }, { field: 'xLo', type: 'quantitative', title: `${xAxis.title} CI low`, format: xAxis.format },
    { field: 'xHi', type: 'quantitative', title: `${xAxis.title} CI high`, format: xAxis.format },
    { field: 'y', type: 'quantitative', title: yAxis.title, format: yAxis.format }, { field: 'yLo', type: 'quantitative', title: `${yAxis.title} CI low`, format: yAxis.format },
    { field: 'yHi', type: 'quantitative', title: `${yAxis.title} CI high`, format: yAxis.format },
  ];
  const zero = (channel: 'x' | 'y') => ({ data: { values: [{ v: 0 }] }, mark: { type: 'rule', color: '#888', strokeDash: [2, 2] },
    encoding: { [channel]: { field: 'v', type: 'quantitative', scale: { domain: channel === 'x' ? xDomain : yDomain, zero: false, nice: false } } } });
  const shape = extra.shapeField
    ? { field: extra.shapeField, type: 'nominal', title: null, scale: { domain: extra.shapes!.map((s) => s[0]), range: extra.shapes!.map((s) => s[1]) } }
    : undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: WIDTH,
    height: HEIGHT,
    layer: [
      ...(xAxis.zeroLine ? [zero('x')] : []),
      ...(yAxis.zeroLine ? [zero('y')] : []),
      { data: { values }, mark: { type: 'rule', opacity: 0.6 }, encoding: { x: { ...x, field: 'x0' }, x2: { field: 'x1' }, y, color } },
      { data: { values }, mark: { type: 'rule', opacity: 0.6 }, encoding: { x, y: { ...y, field: 'y0' }, y2: { field: 'y1' }, color } },
      ...(extra.line ?? []).map((l) => ({ ...l, encoding: { x, y, order: { field: 'order', type: 'quantitative' } } })),
      { data: { values }, mark: { type: 'point', filled: true, size: 60 }, encoding: { x, y, color, ...(shape ? { shape } : {}), tooltip } },
      // Which setting each point is, readable in the PNG too (the tooltip only works in the SVG).
      { data: { values }, mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 9, color: '#444', clip: true }, encoding: { x, y, text: { field: 'text', type: 'nominal' } } },
    ],
  } as TopLevelSpec;
}

export function paretoSpec(points: readonly ParetoPoint[], title = 'Accuracy vs MIS (mean and 95 % CI over seeds)'): TopLevelSpec {
  const asInterval = (p: ParetoPoint): IntervalPoint => ({ label: p.label, group: p.group, short: p.short, n: p.n, x: p.mis, xLo: p.misLo, xHi: p.misHi, y: p.accuracy, yLo: p.accLo, yHi: p.accHi });
  const front = points.filter((p) => p.onFront).sort((a, b) => a.mis - b.mis).map((p, order) => ({ x: p.mis, y: p.accuracy, order }));
  return intervalScatter(points.map(asInterval), { title: 'MIS', format: '.4f' }, { title: 'accuracy', format: '.4f' }, title, {
    shapeField: 'front', shapes: [['Pareto front', 'diamond'], ['dominated', 'circle']],
    fields: points.map((p) => ({ front: p.onFront ? 'Pareto front' : 'dominated' })),
    line: [{ data: { values: front }, mark: { type: 'line', color: 'black', strokeDash: [4, 3] } }],
  });
}

/** Δ accuracy against Δ MIS (CSG - STD, paired by seed), one point per CSG setting. */
export function pairedSpec(points: readonly IntervalPoint[], title = 'CSG - STD paired by seed (mean and 95 % CI)'): TopLevelSpec {
  return intervalScatter(points, { title: 'Δ MIS', format: '.4f', zeroLine: true }, { title: 'Δ accuracy', format: '.4f', zeroLine: true }, title);
}
