// Sweep figures: accuracy against MIS, one point per setting (mean over seeds) with its 95 % intervals as
// error bars on both axes, and the Pareto front (no other setting has both a higher MIS and a higher
// accuracy) as a line. Pure data in, Vega-Lite spec out; render.ts draws it.
import type { TopLevelSpec } from './specs.js';

export interface ParetoPoint {
  label: string;
  mis: number; misLo: number; misHi: number;
  accuracy: number; accLo: number; accHi: number;
  /** Runs (seeds) behind the point. */
  n: number;
  onFront: boolean;
  /** Colour group (e.g. the strategy); default the label. */
  group?: string;
  /** Text drawn next to the point (default the label). */
  short?: string;
}

export function paretoSpec(points: readonly ParetoPoint[], title = 'Accuracy vs MIS (mean and 95 % CI over seeds)'): TopLevelSpec {
  const values = points.map((p) => ({ ...p, group: p.group ?? p.label, short: p.short ?? p.label, front: p.onFront ? 'Pareto front' : 'dominated' }));
  const front = values.filter((p) => p.onFront).sort((a, b) => a.mis - b.mis).map((p, i) => ({ ...p, order: i }));
  const x = { field: 'mis', type: 'quantitative', title: 'MIS', scale: { zero: false } };
  const y = { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { zero: false } };
  const tooltip = [
    { field: 'label', type: 'nominal', title: 'setting' }, { field: 'n', type: 'quantitative', title: 'seeds' },
    { field: 'mis', type: 'quantitative', title: 'MIS', format: '.4f' }, { field: 'accuracy', type: 'quantitative', title: 'accuracy', format: '.4f' },
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 480,
    height: 320,
    layer: [
      { data: { values }, mark: { type: 'rule', opacity: 0.6 }, encoding: { x: { ...x, field: 'misLo' }, x2: { field: 'misHi' }, y, color: { field: 'group', type: 'nominal', title: null } } },
      { data: { values }, mark: { type: 'rule', opacity: 0.6 }, encoding: { x, y: { ...y, field: 'accLo' }, y2: { field: 'accHi' }, color: { field: 'group', type: 'nominal', title: null } } },
      { data: { values: front }, mark: { type: 'line', color: 'black', strokeDash: [4, 3] }, encoding: { x, y, order: { field: 'order', type: 'quantitative' } } },
      { data: { values }, mark: { type: 'point', filled: true, size: 60 },
        encoding: { x, y, color: { field: 'group', type: 'nominal', title: null }, shape: { field: 'front', type: 'nominal', title: null, scale: { domain: ['Pareto front', 'dominated'], range: ['diamond', 'circle'] } }, tooltip } },
      // Which setting each point is, readable in the PNG too (the tooltip only works in the SVG).
      { data: { values }, mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 9, color: '#444' }, encoding: { x, y, text: { field: 'short', type: 'nominal' } } },
    ],
  } as TopLevelSpec;
}
