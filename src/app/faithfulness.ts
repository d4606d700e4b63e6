// The faithfulness figures of explainers' maps batch by batch, for `csgnet explain` and `localize --metrics`:
// the options resolved once (recorded in the JSON as they were used), one accumulator per method.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { CsgBackbone } from '../models/types.js';
import {
  FaithfulnessAccumulator, ROAD_PERCENTILES, checkFaithfulnessMetrics, evaluateFaithfulness, type CausalBaseline, type FaithfulnessMetric,
  type FaithfulnessOptions, type FaithfulnessSummary,
} from '../metrics/faithfulness/index.js';
import type { ByClass } from '../metrics/localization/per_class.js';
import type { FaithfulnessSettings } from '../csg/results.js';

export interface FaithfulnessRequest {
  metrics: readonly string[];
  /** Deletion and insertion steps (default: the image height, one row of pixels per step as RISE). */
  steps?: number;
  deletionBaseline?: CausalBaseline;
  insertionBaseline?: CausalBaseline;
  /** ROAD's imputation noise (default pytorch-grad-cam's 0.01). */
  roadNoise?: number;
  /** torch.manualSeed before the first batch (default 0). */
  seed?: number;
}

/** Per-method accumulators of the figures over batches. */
export class FaithfulnessRun {
  readonly settings: FaithfulnessSettings;
  private readonly options: FaithfulnessOptions;
  private readonly metrics: FaithfulnessMetric[];
  private readonly acc = new Map<string, FaithfulnessAccumulator>();

  constructor(req: FaithfulnessRequest, height: number) {
    this.metrics = checkFaithfulnessMetrics(req.metrics);
    if (!this.metrics.length) throw new Error('--metrics: no metric named (known: deletion, insertion, road, confidence)');
    const steps = req.steps ?? height, has = (m: FaithfulnessMetric) => this.metrics.includes(m);
    const noise = req.roadNoise ?? 0.01;
    this.options = {
      deletion: { baseline: req.deletionBaseline ?? 'mean', steps },
      insertion: { baseline: req.insertionBaseline ?? 'blur', steps },
      road: { percentiles: ROAD_PERCENTILES, noise },
    };
    this.settings = {
      metrics: this.metrics,
      deletion: has('deletion') ? { baseline: this.options.deletion!.baseline!, steps } : null,
      insertion: has('insertion') ? { baseline: this.options.insertion!.baseline!, steps } : null,
      road: has('road') ? { percentiles: [...ROAD_PERCENTILES], noise } : null,
      seed: req.seed ?? 0,
    };
    torch.manualSeed(this.settings.seed);
  }

  /** Scores one batch of one method's class maps [N, H, W] (targets: the classes they explain). */
  add(method: string, model: CsgBackbone, x: Tensor, maps: Tensor, targets: Tensor): void {
    let a = this.acc.get(method);
    if (!a) this.acc.set(method, a = new FaithfulnessAccumulator());
    a.add(evaluateFaithfulness((t) => model.call(t), x, maps, targets, this.metrics, this.options));
  }

  summarize(method: string, labels: ArrayLike<number>, numClasses: number): ByClass<FaithfulnessSummary> {
    return this.acc.get(method)!.summarize(labels, numClasses);
  }
}
