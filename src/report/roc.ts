// ROC curves as a Vega-Lite spec: one panel per setting (attack, eps), one curve per detector.
import type { TopLevelSpec } from './specs.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/**
 * A ROC curve as drawn (the one type of the figures, the HTML report and adversarial.json's curves): its legend
 * name, its points, and its AUROC where the legend shows it. metrics/detection.ts RocCurve is the computed curve.
 */
export interface RocSeries { name: string; fpr: ArrayLike<number>; tpr: ArrayLike<number>; auc?: number | null }
export interface RocPanel { title: string; curves: RocSeries[] }

/**
 * The ROC as the upper step function read on a regular false-positive-rate grid (points + 1 values):
 * tpr(f) = the largest TPR at an FPR <= f. Keeps figures and JSON small whatever the sample count.
 */
export function thinRoc(fpr: ArrayLike<number>, tpr: ArrayLike<number>, points = 100): { fpr: number[]; tpr: number[] } {
  if (fpr.length !== tpr.length || fpr.length === 0) throw new RangeError(`thinRoc: ${fpr.length} FPR and ${tpr.length} TPR values`);
  const outF: number[] = [], outT: number[] = [];
  let j = 0, best = 0;
  for (let g = 0; g <= points; g++) {
    const f = g / points;
    // fpr is non-decreasing along a ROC curve
    while (j < fpr.length && fpr[j]! <= f + 1e-12) { best = Math.max(best, tpr[j]!); j++; }
    outF.push(f); outT.push(best);
  }
  return { fpr: outF, tpr: outT };
}

/** Faceted ROC chart, `columns` panels per row; detectors keep their order in the legend. */
export function rocSpec(panels: RocPanel[], o: { title?: string; columns?: number } = {}): TopLevelSpec {
  if (panels.length === 0) throw new RangeError('rocSpec: no panels');
  const data: Record<string, unknown>[] = [];
  const names: string[] = [];
  panels.forEach((p, pi) => {
    for (const c of p.curves) {
      if (c.fpr.length !== c.tpr.length) throw new RangeError(`rocSpec: curve '${c.name}' of '${p.title}' has ${c.fpr.length} FPR and ${c.tpr.length} TPR values`);
      if (!names.includes(c.name)) names.push(c.name);
      for (let i = 0; i < c.fpr.length; i++) data.push({ panel: p.title, pi, detector: c.name, i, fpr: c.fpr[i]!, tpr: c.tpr[i]! });
    }
  });
  return {
    $schema: SCHEMA,
    title: o.title ?? 'ROC of the adversarial detectors',
    data: { values: data },
    columns: Math.min(o.columns ?? 4, panels.length),
    facet: { field: 'panel', type: 'nominal', title: null, sort: { field: 'pi', op: 'min' } },
    spec: {
      width: 180,
      height: 180,
      mark: { type: 'line', interpolate: 'linear', strokeWidth: 1.5 },
      encoding: {
        x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } },
        y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } },
        order: { field: 'i', type: 'quantitative' },
        color: { field: 'detector', type: 'nominal', title: 'detector', sort: names },
        tooltip: [
          { field: 'detector', type: 'nominal' },
          { field: 'fpr', type: 'quantitative', format: '.3f' },
          { field: 'tpr', type: 'quantitative', format: '.3f' },
        ],
      },
    },
  } as TopLevelSpec;
}
