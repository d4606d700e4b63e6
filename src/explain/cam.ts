// CAM (Zhou et al. 2016) as method.md section 5 defines it: sum_k fc.weight[y, k] * A_k, no bias, no ReLU.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { Explainer, type Explanation } from './base.js';

export class Cam extends Explainer {
  readonly name = 'cam';

  protected compute(x: Tensor, labels: Tensor | undefined): Explanation {
    const { features, logits } = this.forward(x);
    const targets = this.targets(logits, labels);
    const w = torch.noGrad(() => this.model.fc.weight.indexSelect(0, targets));   // [N, K]
    return { maps: this.upsample(this.weightedSum(features, w), x).squeeze(1), targets };
  }
}
