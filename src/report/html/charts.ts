// The page's Vega-Lite specs beyond the analysis figures (figures.ts): training curves per path, the
// multi-run comparison and ROC curves read generically from a JSON document. Same builders as the
// PNG figures (specs.ts), so the page and the files show the same charts.
import type { EpochMetrics } from '../../csg/run_dir.js';
import { barSpec, lineSpec, type LineSeries, type TopLevelSpec } from '../specs.js';
import type { RocSeries } from '../roc.js';

export interface TitledSpec { title: string; spec: TopLevelSpec }

/** A line chart over epochs for the page: whole-number epoch ticks, the legend below (two charts fit side by side). */
function epochChart(spec: TopLevelSpec): TopLevelSpec {
  const s = spec as any;
  s.encoding.x.axis = { ...(s.encoding.x.axis ?? {}), tickMinStep: 1, format: 'd' };
  s.config = { ...(s.config ?? {}), legend: { orient: 'bottom', direction: 'vertical', labelLimit: 360 } };
  return spec;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** One series per training path present ('std', 'csg'), of one metrics field. */
function byPath(metrics: EpochMetrics[], label: string, value: (m: EpochMetrics) => number | null | undefined, only?: 'std' | 'csg'): LineSeries[] {
  const out: LineSeries[] = [];
  for (const path of ['std', 'csg'] as const) {
    if (only && path !== only) continue;
    const rows = metrics.filter((m) => m.path === path && finite(value(m)));
    if (rows.length) out.push({ name: `${label} (${path} epochs)`, x: rows.map((m) => m.epoch), y: rows.map((m) => value(m) as number) });
  }
  return out;
}

/** Loss, cross-entropy, gate penalty, accuracies, density and learning rates over the epochs; charts without data are left out. */
export function trainingCurveSpecs(metrics: EpochMetrics[]): TitledSpec[] {
  const out: TitledSpec[] = [];
  const add = (title: string, series: LineSeries[], yTitle: string, extra: { zero?: boolean; logY?: boolean } = {}) => {
    if (series.some((s) => s.x.length)) out.push({ title, spec: epochChart(lineSpec({ series, title, xTitle: 'epoch', yTitle, ...extra })) });
  };
  add('Training loss', byPath(metrics, 'loss', (m) => m.train_loss), 'loss');
  add('Cross-entropy', byPath(metrics, 'CE', (m) => m.train_ce), 'cross-entropy');
  if (metrics.some((m) => m.path === 'csg')) add('Gate penalty', byPath(metrics, 'penalty', (m) => m.train_reg, 'csg'), 'lambda * hinge');
  add('Accuracy', [...byPath(metrics, 'train', (m) => m.train_acc), ...byPath(metrics, 'validation', (m) => m.val_acc)], 'accuracy');
  const dens = metrics.filter((m) => finite(m.density));
  if (dens.length) add('Gate density', [{ name: 'density', x: dens.map((m) => m.epoch), y: dens.map((m) => m.density as number) }], 'mean G', { zero: true });
  const keys = [...new Set(metrics.flatMap((m) => Object.keys(m.lr ?? {})))];
  const lrs: LineSeries[] = keys.map((k) => {
    const rows = metrics.filter((m) => finite(m.lr?.[k]));
    return { name: `lr ${k}`, x: rows.map((m) => m.epoch), y: rows.map((m) => m.lr[k]!) };
  });
  const positive = lrs.every((s) => Array.from(s.y).every((v) => v > 0));
  add('Learning rates', lrs, 'learning rate', { logY: positive });
  return out;
}

export interface ComparedRun {
  name: string;
  accuracy: number | null;
  mis: number | null;
  meanSpecificity: number | null;
  density: number | null;
  metrics: EpochMetrics[];
}

/** Bars of accuracy, MIS and mean specificity per run, and validation accuracy of every run over the epochs. */
export function comparisonSpecs(runs: ComparedRun[]): TitledSpec[] {
  const labels = runs.map((r) => r.name);
  const bar = (title: string, values: (number | null)[], yTitle: string): TitledSpec =>
    ({ title, spec: barSpec({ labels, values: values.map((v) => v ?? NaN), title, yTitle }) });
  const out = [
    bar('Accuracy', runs.map((r) => r.accuracy), 'accuracy'),
    bar('MIS', runs.map((r) => r.mis), 'MIS (nats)'),
    bar('Mean filter specificity', runs.map((r) => r.meanSpecificity), 'mean specificity'),
  ];
  const series = runs.filter((r) => r.metrics.length).map((r) => ({ name: r.name, x: r.metrics.map((m) => m.epoch), y: r.metrics.map((m) => m.val_acc) }));
  if (series.length) out.push({ title: 'Validation accuracy', spec: epochChart(lineSpec({ series, title: 'Validation accuracy', xTitle: 'epoch', yTitle: 'accuracy' })) });
  return out;
}

/** At most `max` indices of 0..n-1, evenly spaced, first and last kept (a curve drawn at page size needs no more). */
function thin(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  return [...new Set(Array.from({ length: max }, (_, j) => Math.round((j * (n - 1)) / (max - 1))))];
}

/** ROC curves in charts of at most `perChart` curves each. */
export function rocSpecs(curves: RocSeries[], perChart = 10, maxPoints = 400): TitledSpec[] {
  const out: TitledSpec[] = [];
  for (let i = 0; i < curves.length; i += perChart) {
    const part = curves.slice(i, i + perChart);
    const title = curves.length > perChart ? `ROC (${i + 1}-${i + part.length} of ${curves.length})` : 'ROC';
    const series = part.map((c) => {
      const keep = thin(c.fpr.length, maxPoints);
      return { name: c.auc == null ? c.name : `${c.name} (AUROC ${c.auc.toFixed(3)})`, x: keep.map((i) => c.fpr[i]!), y: keep.map((i) => c.tpr[i]!) };
    });
    const spec = lineSpec({ series, title, xTitle: 'false positive rate', yTitle: 'true positive rate', zero: true }) as any;
    spec.config = { legend: { orient: 'bottom', direction: 'vertical', labelLimit: 480 } };
    out.push({ title, spec });
  }
  return out;
}
