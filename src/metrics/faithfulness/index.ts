// Faithfulness metrics of class maps [N, H, W]: does removing what a map calls relevant change the model's
// output? Deletion and insertion AUC (RISE), ROAD (pytorch-grad-cam's road.py) and the confidence change
// of the image multiplied by its map (pytorch-grad-cam's cam_mult_image.py, Chattopadhyay et al.). Each is
// batched over images and runs without gradients; evaluateFaithfulness runs the ones asked for on a batch,
// FaithfulnessAccumulator gathers per-image figures over batches and summarizes them per class and overall.
import type { Tensor } from '../../torch/index.js';
import { byClass, meanInOrder, type ByClass } from '../localization/per_class.js';
import { causalMetric, type CausalOptions } from './causal.js';
import { road, type RoadOptions } from './road.js';
import { confidenceChange } from './confidence.js';
import type { Classifier } from './common.js';
import { FAITHFULNESS_FIGURES, FAITHFULNESS_METRICS, type FaithfulnessFigure, type FaithfulnessMetric, type FaithfulnessSummary } from './names.js';

export { type Classifier, minMaxScale, targetProbs } from './common.js';
export { CAUSAL_BASELINES, causalMetric, deletion, insertion, relevanceRanks, riseKernel, type CausalBaseline, type CausalOptions, type CausalResult } from './causal.js';
export { ROAD_PERCENTILES, noisyLinearImpute, road, type RoadOptions, type RoadResult } from './road.js';
export { confidenceChange, type ConfidenceResult } from './confidence.js';
export { numpyPercentile } from './percentile.js';
export * from './names.js';

export interface FaithfulnessOptions {
  deletion?: CausalOptions;
  insertion?: CausalOptions;
  road?: RoadOptions;
}

/** Throws unless every name is a known metric (the flag named in the message). */
export function checkFaithfulnessMetrics(metrics: readonly string[], flag = '--metrics'): FaithfulnessMetric[] {
  for (const m of metrics) {
    if (!(FAITHFULNESS_METRICS as readonly string[]).includes(m)) throw new Error(`${flag}: unknown metric '${m}' (known: ${FAITHFULNESS_METRICS.join(', ')})`);
  }
  return [...new Set(metrics)] as FaithfulnessMetric[];
}

/** Per-image figures of a batch for the metrics asked for. */
export function evaluateFaithfulness(model: Classifier, x: Tensor, maps: Tensor, targets: Tensor, metrics: readonly FaithfulnessMetric[],
  o: FaithfulnessOptions = {}): Partial<Record<FaithfulnessFigure, Float64Array>> {
  const out: Partial<Record<FaithfulnessFigure, Float64Array>> = {};
  if (metrics.includes('deletion')) out.deletionAuc = causalMetric('deletion', model, x, maps, targets, o.deletion).auc;
  if (metrics.includes('insertion')) out.insertionAuc = causalMetric('insertion', model, x, maps, targets, o.insertion).auc;
  if (metrics.includes('road')) {
    const r = road(model, x, maps, targets, o.road);
    Object.assign(out, { roadMorf: r.morf, roadLerf: r.lerf, roadCombined: r.combined });
  }
  if (metrics.includes('confidence')) {
    const c = confidenceChange(model, x, maps, targets);
    Object.assign(out, { averageDrop: c.averageDrop, increaseInConfidence: c.increase, dropInConfidence: c.drop });
  }
  return out;
}

/** Per-image figures gathered batch by batch (in image order), summarized per class and overall. */
export class FaithfulnessAccumulator {
  private readonly records: FaithfulnessSummary[] = [];

  add(figures: Partial<Record<FaithfulnessFigure, Float64Array>>): void {
    const keys = Object.keys(figures) as FaithfulnessFigure[];
    const n = keys.length ? figures[keys[0]!]!.length : 0;
    for (let i = 0; i < n; i++) this.records.push(Object.fromEntries(keys.map((k) => [k, figures[k]![i]!])));
  }

  get length(): number { return this.records.length; }

  /** Means per figure over all images and over each class of `labels` [N]. */
  summarize(labels: ArrayLike<number>, numClasses: number): ByClass<FaithfulnessSummary> {
    return byClass(this.records, labels, numClasses, (rs) => {
      const keys = (Object.keys(FAITHFULNESS_FIGURES) as FaithfulnessFigure[]).filter((k) => rs.length && k in rs[0]!);
      return Object.fromEntries(keys.map((k) => [k, meanInOrder(rs.map((r) => r[k]!))]));
    });
  }
}
