// ActivMap (method.md section 5): every filter's map A_k, upsampled to the input size. Binarizing at the
// per-filter thresholds (activationThresholds in filter_stats.ts, by the metric's rule) is the metric's job.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { Explainer, type Explanation } from './base.js';

export class ActivMap extends Explainer {
  readonly name = 'activmap';

  protected compute(x: Tensor, labels: Tensor | undefined): Explanation {
    const { features, logits } = this.forward(x);
    const targets = this.targets(logits, labels);
    const [N, K] = features.shape;
    const filters = torch.arange(0, K, 1, { dtype: 'int64', device: features.device }).unsqueeze(0).expand([N, K]).contiguous();
    return { maps: this.upsample(features, x), targets, filters };
  }
}
